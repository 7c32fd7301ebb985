package tokenizer

import (
	"unicode/utf8"
)

// Long words are merged in chunks. BPE on a word of n bytes needs a symbol
// list and a candidate heap of about 150 bytes per byte and O(n log n) time,
// and its working set stops fitting in any cache: a 10 MB word took 1.6 GB.
// Words (and SentencePiece runs) longer than maxChunk bytes are therefore cut
// into pieces of at most maxChunk bytes, merged one after the other, so the
// merge's working memory is bounded by a constant (about 150 × maxChunk
// bytes, ~2.5 MiB) whatever the input.
//
// A cut is exact when no vocabulary entry spans it: then no merge can
// cross it, and since merges on either side never interact, merging the
// two sides separately applies the same merges in the same relative order
// (rank or score first, then leftmost) as merging the whole. A token
// spanning a cut between bytes w[p-1] and w[p] spells those two bytes next
// to each other, so a cut is exact when that byte pair occurs in no
// vocabulary entry (Tokenizer.pairs) and the symbols on both sides are
// spelled by themselves (not byte-fallback or unknown pieces, whose merges
// and unknown-token fusing follow other rules).
// The cut is searched for in the second half of each chunk; only when none
// of those positions is exact (a run of one letter, a long run of CJK
// characters in a vocabulary that joins them all) is the word cut at the
// chunk limit, and the ids next to such a cut may then differ from the
// reference tokenizer's. Words up to maxChunk bytes are never cut.
const defaultMaxChunk = 16 << 10

// bytePairs is a set of byte pairs: bit b of word a*4+b/64 for pair (a, b).
type bytePairs [256 * 4]uint64

func (s *bytePairs) add(a, b byte)      { s[int(a)*4+int(b)/64] |= 1 << (b % 64) }
func (s *bytePairs) has(a, b byte) bool { return s[int(a)*4+int(b)/64]&(1<<(b%64)) != 0 }

// buildPairs records every pair of adjacent bytes in the vocabulary.
func (t *Tokenizer) buildPairs() {
	t.pairs = new(bytePairs)
	for _, s := range t.tokens {
		for k := 1; k < len(s); k++ {
			t.pairs.add(s[k-1], s[k])
		}
	}
}

// exactCut reports whether text can be cut before byte p (a symbol boundary)
// without changing the merge result (see defaultMaxChunk).
func (t *Tokenizer) exactCut(text string, p int) bool {
	if t.pairs == nil || t.pairs.has(text[p-1], text[p]) {
		return false
	}
	_, n1 := utf8.DecodeLastRuneInString(text[:p])
	_, n2 := utf8.DecodeRuneInString(text[p:])
	_, ok1 := t.ids[text[p-n1:p]]
	_, ok2 := t.ids[text[p:p+n2]]
	return ok1 && ok2
}

// chunked runs enc on text in pieces of at most t.maxChunk bytes, cut at
// symbol boundaries (symLen gives the length of the symbol starting at a
// byte offset), preferring exact cuts. It reports how many cuts were not
// exact, for tests.
func (t *Tokenizer) chunked(text string, out []int32, symLen func(string) int, enc func(string, []int32) []int32) ([]int32, int) {
	limit := t.maxChunk
	if limit <= 0 {
		limit = defaultMaxChunk
	}
	inexact := 0
	for len(text) > limit {
		// Walk the symbols of the first chunk, keeping the last exact cut
		// in its second half and the last boundary within the limit.
		last, exact := 0, 0
		for p := 0; p < len(text); {
			n := max(1, symLen(text[p:]))
			if p+n > limit {
				break
			}
			p += n
			last = p
			if p >= limit/2 && p < len(text) && t.exactCut(text, p) {
				exact = p
			}
		}
		cut := exact
		if cut == 0 {
			cut = last
			if cut == 0 { // a symbol longer than the limit: cannot happen for UTF-8, but never loop
				cut = min(len(text), max(1, symLen(text)))
			}
			inexact++
		}
		out = enc(text[:cut], out)
		text = text[cut:]
	}
	return enc(text, out), inexact
}

// runeLen is the symbol length of BPE words: one decoded rune, an invalid
// byte counting as one.
func runeLen(s string) int {
	_, n := utf8.DecodeRuneInString(s)
	return n
}

// spmSymLen is the symbol length of SentencePiece runs: the length announced
// by the lead byte, as llama.cpp counts it.
func spmSymLen(s string) int { return min(utf8Len(s[0]), len(s)) }
