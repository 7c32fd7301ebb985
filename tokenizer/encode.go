package tokenizer

import (
	"strings"
	"unicode/utf8"
)

// fragment is either raw text (id < 0) or an already matched special token.
type fragment struct {
	text string
	id   int32
}

// asciiSpace is C isspace, which llama.cpp uses to strip around tokens that
// carry the lstrip/rstrip attributes.
func asciiSpace(c byte) bool {
	return c == ' ' || c == '\t' || c == '\n' || c == '\v' || c == '\f' || c == '\r'
}

// partition splits text around special tokens, longest token first, so
// that they are never split by the tokenizer proper.
func (t *Tokenizer) partition(text string, parseSpecial bool) []fragment {
	frags := []fragment{{text: text, id: -1}}
	for _, sid := range t.specials {
		a := t.attrs[sid]
		if !parseSpecial && a&(attrControl|attrUnknown) != 0 {
			continue
		}
		tok := t.tokens[sid]
		var next []fragment
		changed := false
		for _, f := range frags {
			if f.id >= 0 || !strings.Contains(f.text, tok) {
				next = append(next, f)
				continue
			}
			changed = true
			rest := f.text
			for {
				k := strings.Index(rest, tok)
				if k < 0 {
					if rest != "" {
						next = append(next, fragment{text: rest, id: -1})
					}
					break
				}
				left := rest[:k]
				if a&attrLStrip != 0 {
					for len(left) > 0 && asciiSpace(left[len(left)-1]) {
						left = left[:len(left)-1]
					}
				}
				if left != "" {
					next = append(next, fragment{text: left, id: -1})
				}
				next = append(next, fragment{id: sid})
				rest = rest[k+len(tok):]
				if a&attrRStrip != 0 {
					for len(rest) > 0 && asciiSpace(rest[0]) {
						rest = rest[1:]
					}
				}
			}
		}
		if changed {
			frags = next
		}
	}
	return frags
}

// Encode returns the token ids of text.
//
// Time is linear in len(text) for a given vocabulary, and memory is
// bounded by the text: one call allocates in total at most 32 bytes per
// byte of text plus 8 MiB of merge scratch (TestEncodeLongWordMemory
// measures at most 22 bytes per byte on 4 MiB single words and on 4 MiB of
// distinct words), besides the shared word cache, which holds at most
// 65536 words of up to 64 bytes. Words longer than 16 KiB are merged in
// chunks, cut where no vocabulary entry can span the cut whenever such a
// point exists, so that their ids equal the unchunked ones; see
// defaultMaxChunk for the rare exception.
func (t *Tokenizer) Encode(text string, opts EncodeOptions) []int32 {
	out := make([]int32, 0, len(text)/3+4)
	if opts.AddSpecial {
		out = append(out, t.prefix...)
	}
	if text != "" {
		for _, f := range t.partition(text, opts.ParseSpecial) {
			if f.id >= 0 {
				out = append(out, f.id)
				continue
			}
			out = t.encodeText(f.text, out)
		}
	}
	if opts.AddSpecial {
		out = append(out, t.suffix...)
	}
	return out
}

// encodeText tokenizes one fragment that holds no special token.
func (t *Tokenizer) encodeText(s string, out []int32) []int32 {
	if t.nfc {
		s = nfc(s)
	}
	switch t.kind {
	case KindSPM:
		if t.addSpacePrefix {
			s = " " + s
		}
		if t.spaceMarker {
			s = strings.ReplaceAll(s, " ", "▁")
		}
		return t.spmEncode(s, out)
	case KindWPM:
		return t.wpmEncode(s, out)
	}
	if t.spaceMarker {
		if t.addSpacePrefix {
			s = " " + s
		}
		s = strings.ReplaceAll(s, " ", "▁")
	}
	sc := &mergeScratch{}
	if len(t.pre) == 0 {
		return forEachLine(t.newlineBarrier, s, out, func(w string, out []int32) []int32 { return t.bpeWord(w, out, sc) })
	}
	r := []rune(s)
	var buf []byte
	// Pieces arrive in order and cover the text, so the byte offset of
	// each is found by decoding its runes again from where the last one
	// ended (an invalid byte is one RuneError of width 1 in both decodings).
	off := 0
	splitWords(r, t.pre, func(w span) {
		start := off
		for k := w.start; k < w.end; k++ {
			_, n := utf8.DecodeRuneInString(s[off:])
			off += n
		}
		word := s[start:off]
		switch {
		case t.byteLevel && len(word) > maxCachedWord:
			// Spelled straight into a string: no scratch copy to convert.
			var b strings.Builder
			b.Grow(2 * len(word))
			for i := 0; i < len(word); i++ {
				b.WriteRune(byteToRune[word[i]])
			}
			out = t.bpeWord(b.String(), out, sc)
		case t.byteLevel:
			buf = byteEncode(buf[:0], word)
			out = t.bpeWordBytes(buf, out, sc)
		default:
			out = t.bpeWord(word, out, sc)
		}
	})
	return out
}

// piece returns the bytes that id stands for in decoded text; control
// tokens stand for nothing.
func (t *Tokenizer) piece(id int32) string {
	if id < 0 || int(id) >= len(t.tokens) {
		return ""
	}
	if t.pieces != nil {
		return t.pieces[id]
	}
	return t.computePiece(id)
}

func (t *Tokenizer) computePiece(id int32) string {
	a := t.attrs[id]
	s := t.tokens[id]
	switch {
	case a&attrControl != 0:
		return ""
	case a&attrByte != 0 && t.byteTok[hexOf(s)] == id:
		return string([]byte{hexOf(s)})
	case a&(attrUserDefined|attrUnknown) != 0:
		return s
	}
	switch {
	case t.byteLevel:
		return byteDecode(s)
	case t.kind == KindWPM:
		if strings.HasPrefix(s, "▁") {
			return " " + s[len("▁"):]
		}
		return s
	case t.spaceMarker:
		if t.byteFallback && t.byteTok[hexOf(s)] == id && len(s) == 6 {
			return string([]byte{hexOf(s)})
		}
		return strings.ReplaceAll(s, "▁", " ")
	}
	return s
}

func hexOf(s string) byte {
	if len(s) == 6 {
		if b, ok := parseHexByte(s[3:5]); ok {
			return b
		}
	}
	return 0
}

// byteDecode maps a byte-level spelling back to bytes; runes outside the
// alphabet are kept as they are.
func byteDecode(s string) string {
	b := make([]byte, 0, len(s))
	for _, r := range s {
		if c, ok := runeToByte[r]; ok {
			b = append(b, c)
		} else {
			b = utf8.AppendRune(b, r)
		}
	}
	return string(b)
}

// Decode returns the text of ids. Control tokens (BOS, EOS, chat markers)
// are left out, and the space a SentencePiece vocabulary puts in front of
// the text is removed, so Decode(Encode(s)) == s for valid UTF-8 s. The
// result is always valid UTF-8: bytes that do not form characters (a
// model can generate any byte token in any order) are replaced by U+FFFD
// exactly as StreamDecoder replaces them, so streamed and decoded text
// agree byte for byte.
func (t *Tokenizer) Decode(ids []int32) string {
	var raw []byte
	first := true
	for _, id := range ids {
		p := t.piece(id)
		if p == "" {
			continue
		}
		if first {
			p = t.trimFirstPiece(p)
			first = false
		}
		raw = append(raw, p...)
	}
	if utf8.Valid(raw) {
		return string(raw)
	}
	out, _ := appendValidUTF8(make([]byte, 0, len(raw)+8), raw, true)
	return string(out)
}
