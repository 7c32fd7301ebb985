package tokenizer

import (
	"sort"
	"unicode"
	"unicode/utf8"
)

// nfdFirst returns the first rune of the canonical decomposition of c, the
// simplified NFD llama.cpp applies in place of stripping accents: a
// precomposed letter loses its accent, but a combining mark written as a
// code point of its own stays in the word (usually making it [UNK]), as in
// llama.cpp and unlike Hugging Face's BertNormalizer.
func nfdFirst(c rune) rune {
	i := sort.Search(len(nfdBase), func(i int) bool { return nfdBase[i][1] >= c })
	if i < len(nfdBase) && nfdBase[i][0] <= c {
		return nfdBase[i][2]
	}
	return c
}

// isChineseChar is the CJK range list of BERT's basic tokenizer (including
// its 0x2B920 typo, which llama.cpp keeps for compatibility).
func isChineseChar(c rune) bool {
	return (c >= 0x4E00 && c <= 0x9FFF) || (c >= 0x3400 && c <= 0x4DBF) ||
		(c >= 0x20000 && c <= 0x2A6DF) || (c >= 0x2A700 && c <= 0x2B73F) ||
		(c >= 0x2B740 && c <= 0x2B81F) || (c >= 0x2B920 && c <= 0x2CEAF) ||
		(c >= 0xF900 && c <= 0xFAFF) || (c >= 0x2F800 && c <= 0x2FA1F)
}

// wpmWords is BERT's basic tokenizer: normalize, then split on white space,
// punctuation, ASCII symbols and CJK characters. Each word is passed to emit
// in a reused buffer that starts with '▁' (llama.cpp's BERT vocabularies
// mark word starts so), so no list of words is built.
func (t *Tokenizer) wpmWords(s string, emit func(word []byte)) {
	cur := []byte("▁")
	flush := func() {
		if len(cur) > len("▁") {
			emit(cur)
			cur = cur[:len("▁")]
		}
	}
	for _, c := range s {
		if t.stripAccents {
			c = nfdFirst(c)
		}
		if isSpace(c) {
			flush()
			continue
		}
		if c == 0 || c == 0xFFFD || unicode.IsControl(c) || unicode.Is(unicode.Cf, c) {
			continue
		}
		if t.lowercase {
			c = unicode.ToLower(c)
		}
		if unicode.IsPunct(c) || (c < 0x7F && unicode.IsSymbol(c)) || isChineseChar(c) {
			flush()
			cur = utf8.AppendRune(cur, c)
			flush()
			continue
		}
		cur = utf8.AppendRune(cur, c)
	}
	flush()
}

// wpmEncode appends the WordPiece ids of s: each word is covered greedily by
// the longest vocabulary entries; a word that cannot be covered becomes
// [UNK]. Memory beyond the ids is one word.
func (t *Tokenizer) wpmEncode(s string, out []int32) []int32 {
	t.wpmWords(s, func(word []byte) {
		n0 := len(out)
		ok := true
		for i := 0; i < len(word); {
			found := false
			for j := min(len(word), i+t.maxTokenLen+1); j > i; j-- {
				if id, hit := t.ids[string(word[i:j])]; hit {
					out = append(out, id)
					i = j
					found = true
					break
				}
			}
			if !found {
				ok = false
				break
			}
		}
		if !ok {
			out = out[:n0]
		}
		if len(out) == n0 {
			out = append(out, t.unk)
		}
	})
	return out
}
