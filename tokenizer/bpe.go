package tokenizer

import (
	"strings"
	"unicode/utf8"
)

// GPT-2's byte-level alphabet: every byte is spelled by one printable rune so
// that vocabularies never hold raw control or partial UTF-8 bytes. Printable
// Latin-1 bytes stand for themselves; the other 68 map to U+0100 onwards.
var byteToRune, runeToByte = byteLevelTables()

func byteLevelTables() ([256]rune, map[rune]byte) {
	var b2r [256]rune
	r2b := make(map[rune]byte, 256)
	n := rune(0)
	for b := 0; b < 256; b++ {
		if (b >= 0x21 && b <= 0x7E) || (b >= 0xA1 && b <= 0xAC) || (b >= 0xAE && b <= 0xFF) {
			b2r[b] = rune(b)
		} else {
			b2r[b] = 256 + n
			n++
		}
		r2b[b2r[b]] = byte(b)
	}
	return b2r, r2b
}

// byteEncode spells the bytes of s in the byte-level alphabet.
func byteEncode(dst []byte, s string) []byte {
	for i := 0; i < len(s); i++ {
		dst = utf8.AppendRune(dst, byteToRune[s[i]])
	}
	return dst
}

// mergeKey packs a pair of token ids into a map key.
func mergeKey(a, b int32) uint64 { return uint64(uint32(a))<<32 | uint64(uint32(b)) }

// bpeSymbol is one piece of a word during merging: bytes [start, end) of
// the word and the token id they spell (-1 if none).
type bpeSymbol struct {
	start, end int
	id         int32
	prev, next int
}

// bpeCandidate is a possible merge of symbols left and left's successor,
// valid while both still hold the ids recorded here.
type bpeCandidate struct {
	rank      uint32
	left      int32
	lid, rid  int32
	mergedID  int32
	rightSlot int32
}

// candHeap is a binary min-heap ordered by rank, then leftmost position: the
// merge order of Hugging Face tokenizers and llama.cpp.
type candHeap []bpeCandidate

func (h candHeap) less(i, j int) bool {
	if h[i].rank != h[j].rank {
		return h[i].rank < h[j].rank
	}
	return h[i].left < h[j].left
}

func (h *candHeap) push(c bpeCandidate) {
	*h = append(*h, c)
	s := *h
	i := len(s) - 1
	for i > 0 {
		p := (i - 1) / 2
		if !s.less(i, p) {
			break
		}
		s[i], s[p] = s[p], s[i]
		i = p
	}
}

func (h *candHeap) pop() bpeCandidate {
	s := *h
	top := s[0]
	last := len(s) - 1
	s[0] = s[last]
	s = s[:last]
	i := 0
	for {
		l := 2*i + 1
		if l >= len(s) {
			break
		}
		m := l
		if r := l + 1; r < len(s) && s.less(r, l) {
			m = r
		}
		if !s.less(m, i) {
			break
		}
		s[i], s[m] = s[m], s[i]
		i = m
	}
	*h = s
	return top
}

// maxCachedWord bounds the words kept in the cache; longer ones are rare and
// would pin large inputs in memory.
const maxCachedWord = 64

// bpeWord appends the ids of one pre-tokenized word (already byte-encoded for
// byte-level vocabularies). sc is the merge scratch, shared by all the words
// of one Encode call so that merging allocates nothing per word.
func (t *Tokenizer) bpeWord(word string, out []int32, sc *mergeScratch) []int32 {
	if t.ignoreMerges {
		if id, ok := t.ids[word]; ok {
			return append(out, id)
		}
	}
	cacheable := len(word) <= maxCachedWord
	if cacheable {
		t.cacheMu.RLock()
		ids, ok := t.cache[word]
		t.cacheMu.RUnlock()
		if ok {
			return append(out, ids...)
		}
	}
	n0 := len(out)
	if cacheable {
		out = t.bpeMergeScratch(word, out, sc)
	} else {
		out, _ = t.chunked(word, out, runeLen, func(w string, out []int32) []int32 { return t.bpeMergeScratch(w, out, sc) })
	}
	if cacheable {
		ids := append([]int32(nil), out[n0:]...)
		t.cacheMu.Lock()
		if len(t.cache) >= maxCacheEntries {
			clear(t.cache)
		}
		t.cache[strings.Clone(word)] = ids // word may point into the caller's text
		t.cacheMu.Unlock()
	}
	return out
}

// bpeWordBytes is bpeWord for a word held in a scratch buffer; the cache is
// searched without copying it.
func (t *Tokenizer) bpeWordBytes(word []byte, out []int32, sc *mergeScratch) []int32 {
	if len(word) <= maxCachedWord {
		t.cacheMu.RLock()
		ids, ok := t.cache[string(word)]
		t.cacheMu.RUnlock()
		if ok {
			return append(out, ids...)
		}
	}
	return t.bpeWord(string(word), out, sc)
}

// mergeScratch is the working memory of one merge, reused across the chunks
// of a long word so that their total allocation stays that of one chunk.
type mergeScratch struct {
	syms []bpeSymbol
	heap candHeap
	spm  []spmSymbol
	sh   spmHeap
}

func (t *Tokenizer) bpeMerge(word string, out []int32) []int32 {
	return t.bpeMergeScratch(word, out, &mergeScratch{})
}

func (t *Tokenizer) bpeMergeScratch(word string, out []int32, sc *mergeScratch) []int32 {
	syms := sc.syms[:0]
	if cap(syms) < len(word) {
		syms = make([]bpeSymbol, 0, len(word))
	}
	for i := 0; i < len(word); {
		_, n := utf8.DecodeRuneInString(word[i:])
		id, ok := t.ids[word[i:i+n]]
		if !ok {
			id = -1
		}
		if !ok && t.byteFallback {
			// Hugging Face byte fallback: the character becomes its UTF-8
			// bytes as <0xNN> tokens, or one unknown token if any is missing.
			all := true
			for k := i; k < i+n; k++ {
				if t.byteTok[word[k]] < 0 {
					all = false
				}
			}
			if all {
				for k := i; k < i+n; k++ {
					syms = append(syms, bpeSymbol{start: k, end: k + 1, id: t.byteTok[word[k]]})
				}
				i += n
				continue
			}
		}
		syms = append(syms, bpeSymbol{start: i, end: i + n, id: id})
		i += n
	}
	for i := range syms {
		syms[i].prev = i - 1
		syms[i].next = i + 1
	}
	if len(syms) > 0 {
		syms[len(syms)-1].next = -1
	}

	h := sc.heap[:0]
	try := func(l int) {
		if l < 0 {
			return
		}
		r := syms[l].next
		if r < 0 || syms[l].id < 0 || syms[r].id < 0 {
			return
		}
		v, ok := t.merges[mergeKey(syms[l].id, syms[r].id)]
		if !ok {
			return
		}
		h.push(bpeCandidate{rank: uint32(v >> 32), left: int32(l), lid: syms[l].id, rid: syms[r].id, mergedID: int32(uint32(v)), rightSlot: int32(r)})
	}
	for i := 0; i+1 < len(syms); i++ {
		try(i)
	}
	for len(h) > 0 {
		c := h.pop()
		l, r := int(c.left), int(c.rightSlot)
		if syms[l].start < 0 || syms[r].start < 0 || syms[l].id != c.lid || syms[l].next != r || syms[r].id != c.rid {
			continue // stale: one side has merged since
		}
		syms[l].end = syms[r].end
		syms[l].id = c.mergedID
		syms[l].next = syms[r].next
		if syms[r].next >= 0 {
			syms[syms[r].next].prev = l
		}
		syms[r].start = -1
		try(syms[l].prev)
		try(l)
	}

	prevUnk := false
	for i := 0; i >= 0 && len(syms) > 0; i = syms[i].next {
		s := syms[i]
		if s.id >= 0 {
			out = append(out, s.id)
			prevUnk = false
			continue
		}
		if t.byteLevel {
			// llama.cpp: a piece that is not a token falls back to the
			// single-byte tokens of its spelling, skipping bytes without one.
			for k := s.start; k < s.end; k++ {
				if id, ok := t.ids[word[k:k+1]]; ok {
					out = append(out, id)
				}
			}
			continue
		}
		if t.unk >= 0 && !(t.fuseUnk && prevUnk) {
			out = append(out, t.unk)
		}
		prevUnk = true
	}
	sc.syms, sc.heap = syms[:0], h[:0]
	return out
}

// spmSymbol is one piece of a fragment during score-driven merging.
type spmSymbol struct {
	start, n   int
	prev, next int
}

type spmCandidate struct {
	score       float32
	left, right int32
	size        int32
}

// spmHeap is a max-heap by score; ties go to the leftmost pair (llama.cpp's
// llm_tokenizer_spm order). Its push and pop repeat candHeap's on purpose: a
// generic heap over both candidate types measured 14–20% slower on
// merge-heavy text (method calls through the generic dictionary).
type spmHeap []spmCandidate

func (h spmHeap) less(i, j int) bool {
	if h[i].score != h[j].score {
		return h[i].score > h[j].score
	}
	return h[i].left < h[j].left
}

func (h *spmHeap) push(c spmCandidate) {
	*h = append(*h, c)
	s := *h
	i := len(s) - 1
	for i > 0 {
		p := (i - 1) / 2
		if !s.less(i, p) {
			break
		}
		s[i], s[p] = s[p], s[i]
		i = p
	}
}

func (h *spmHeap) pop() spmCandidate {
	s := *h
	top := s[0]
	last := len(s) - 1
	s[0] = s[last]
	s = s[:last]
	i := 0
	for {
		l := 2*i + 1
		if l >= len(s) {
			break
		}
		m := l
		if r := l + 1; r < len(s) && s.less(r, l) {
			m = r
		}
		if !s.less(m, i) {
			break
		}
		s[i], s[m] = s[m], s[i]
		i = m
	}
	*h = s
	return top
}

// utf8Len is the sequence length announced by a UTF-8 lead byte (1 for
// continuation bytes), as llama.cpp's unicode_len_utf8.
func utf8Len(b byte) int {
	switch b >> 4 {
	case 0xC, 0xD:
		return 2
	case 0xE:
		return 3
	case 0xF:
		return 4
	}
	return 1
}

// spmEncode appends the ids of text (spaces already replaced by '▁') using
// SentencePiece BPE: repeatedly merge the adjacent pair whose concatenation
// is the highest-scoring vocabulary entry.
func (t *Tokenizer) spmEncode(text string, out []int32) []int32 {
	sc := &mergeScratch{}
	return forEachLine(t.newlineBarrier, text, out, func(line string, out []int32) []int32 {
		// Runs are merged in chunks of bounded length (see defaultMaxChunk),
		// all with the one scratch.
		out, _ = t.chunked(line, out, spmSymLen, func(s string, out []int32) []int32 { return t.spmEncodeRunScratch(s, out, sc) })
		return out
	})
}

// forEachLine runs enc on each line of text and on each newline separately
// when barrier is set: no vocabulary entry joins a newline to anything, so
// no merge can cross one and the result is the same as for the whole text,
// but merging stays local (and fast) on long texts.
func forEachLine(barrier bool, text string, out []int32, enc func(string, []int32) []int32) []int32 {
	if !barrier {
		return enc(text, out)
	}
	for text != "" {
		k := strings.IndexByte(text, '\n')
		if k < 0 {
			return enc(text, out)
		}
		if k > 0 {
			out = enc(text[:k], out)
		}
		out = enc(text[k:k+1], out)
		text = text[k+1:]
	}
	return out
}

func (t *Tokenizer) spmEncodeRun(text string, out []int32) []int32 {
	return t.spmEncodeRunScratch(text, out, &mergeScratch{})
}

func (t *Tokenizer) spmEncodeRunScratch(text string, out []int32, sc *mergeScratch) []int32 {
	syms := sc.spm[:0]
	if cap(syms) < len(text) {
		syms = make([]spmSymbol, 0, len(text))
	}
	for off := 0; off < len(text); {
		n := min(utf8Len(text[off]), len(text)-off)
		syms = append(syms, spmSymbol{start: off, n: n, prev: len(syms) - 1, next: len(syms) + 1})
		off += n
	}
	if len(syms) == 0 {
		return out
	}
	syms[len(syms)-1].next = -1
	h := sc.sh[:0]
	try := func(l, r int) {
		if l < 0 || r < 0 {
			return
		}
		s := text[syms[l].start : syms[l].start+syms[l].n+syms[r].n]
		id, ok := t.ids[s]
		if !ok {
			return
		}
		h.push(spmCandidate{score: t.scores[id], left: int32(l), right: int32(r), size: int32(len(s))})
	}
	for i := 1; i < len(syms); i++ {
		try(i-1, i)
	}
	for len(h) > 0 {
		c := h.pop()
		l, r := &syms[c.left], &syms[c.right]
		if l.n == 0 || r.n == 0 || l.n+r.n != int(c.size) {
			continue
		}
		l.n += r.n
		r.n = 0
		l.next = r.next
		if r.next >= 0 {
			syms[r.next].prev = int(c.left)
		}
		try(l.prev, int(c.left))
		try(int(c.left), l.next)
	}
	for i := 0; i >= 0; i = syms[i].next {
		s := text[syms[i].start : syms[i].start+syms[i].n]
		if id, ok := t.ids[s]; ok {
			out = append(out, id)
			continue
		}
		for k := 0; k < len(s); k++ {
			out = append(out, t.byteToken(s[k]))
		}
	}
	sc.spm, sc.sh = syms[:0], h[:0]
	return out
}

// byteToken is the id spelling one raw byte: <0xNN>, else the byte itself as
// a token, else the unknown token.
func (t *Tokenizer) byteToken(b byte) int32 {
	if id := t.byteTok[b]; id >= 0 {
		return id
	}
	if id, ok := t.ids[string([]byte{b})]; ok {
		return id
	}
	return t.unk
}
