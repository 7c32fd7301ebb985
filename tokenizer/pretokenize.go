package tokenizer

import (
	"fmt"
	"sort"
	"unicode"
)

// A pre-tokenizer splits text into words that BPE then encodes one at a time.
// Each family's split rule is a regular expression with lookahead, which Go's
// regexp cannot express, so every rule is coded by hand below. The rules run in
// sequence: each one splits every piece the previous rules produced, and both
// its matches and the text between matches become pieces (llama.cpp's
// unicode_regex_split semantics).
//
// Time and memory are linear in the text: every matcher looks at most at
// the runes it matches plus a bounded lookahead (spaceRun may look over a
// white-space run twice), no rule rescans what it has passed, and the rules
// run as a pipeline (each piece goes through the next rule as soon as it is
// cut), so no list of pieces is ever built.

// span is a half-open range of rune indices.
type span struct{ start, end int }

// splitFunc splits the runes r[s.start:s.end] and passes the pieces, in
// order, to emit.
type splitFunc func(r []rune, s span, emit func(span))

// matcher returns the length of the match that starts at i (0 for none); the
// match may not run past end, which also bounds lookahead.
type matcher func(r []rune, i, end int) int

// isolate turns a matcher into a splitter. Unmatched runes between matches
// form one piece, as the gaps between regex matches do.
func isolate(m matcher) splitFunc {
	return func(r []rune, s span, emit func(span)) {
		gap := s.start
		for i := s.start; i < s.end; {
			n := m(r, i, s.end)
			if n <= 0 {
				i++
				continue
			}
			if gap < i {
				emit(span{gap, i})
			}
			emit(span{i, i + n})
			i += n
			gap = i
		}
		if gap < s.end {
			emit(span{gap, s.end})
		}
	}
}

// Character classes. isSpace is Unicode White_Space (regex \s); the letter
// and number classes are the general categories L and N.
func isSpace(c rune) bool  { return unicode.IsSpace(c) }
func isLetter(c rune) bool { return unicode.IsLetter(c) }
func isNumber(c rune) bool { return unicode.IsNumber(c) }
func isNL(c rune) bool     { return c == '\r' || c == '\n' }

// isAssigned reports whether c has a general category; llama.cpp's
// hand-coded splitters never match unassigned code points as punctuation.
func isAssigned(c rune) bool {
	return unicode.In(c, unicode.L, unicode.M, unicode.N, unicode.P, unicode.S, unicode.Z, unicode.C)
}

// isOther is [^\s\p{L}\p{N}].
func isOther(c rune) bool { return !isSpace(c) && !isLetter(c) && !isNumber(c) }

// isPunct is \p{P} as llama.cpp evaluates it: ASCII punctuation by Python's
// definition, and category P above ASCII.
func isPunct(c rune) bool {
	if c < 128 {
		return asciiPunct(c)
	}
	return !isSpace(c) && unicode.IsPunct(c)
}

func asciiPunct(c rune) bool {
	switch c {
	case '!', '"', '#', '%', '&', '\'', '(', ')', '*', ',', '-', '.', '/', ':', ';', '?', '@', '[', '\\', ']', '_', '{', '}':
		return true
	}
	return false
}

func isASCIIDigit(c rune) bool { return c >= '0' && c <= '9' }

func at(r []rune, i, end int) (rune, bool) {
	if i < end {
		return r[i], true
	}
	return 0, false
}

func runWhile(r []rune, i, end int, pred func(rune) bool) int {
	for i < end && pred(r[i]) {
		i++
	}
	return i
}

// contraction matches 's 't 're 've 'm 'll 'd at i (optionally case-blind).
func contraction(r []rune, i, end int, fold bool) int {
	if r[i] != '\'' || i+1 >= end {
		return 0
	}
	low := func(c rune) rune {
		if fold {
			return unicode.ToLower(c)
		}
		return c
	}
	c1 := low(r[i+1])
	switch c1 {
	case 's', 't', 'm', 'd':
		return 2
	}
	if i+2 < end {
		c2 := low(r[i+2])
		if (c1 == 'r' && c2 == 'e') || (c1 == 'v' && c2 == 'e') || (c1 == 'l' && c2 == 'l') {
			return 3
		}
	}
	return 0
}

// gpt2Match is GPT-2's rule
//
//	's|'t|'re|'ve|'m|'ll|'d| ?\p{L}+| ?\p{N}+| ?[^\s\p{L}\p{N}]+|\s+(?!\S)|\s+
//
// coded as llama.cpp codes it (an unmatched rune is a piece of its own).
func gpt2Match(r []rune, i, end int) int {
	if n := contraction(r, i, end, false); n > 0 {
		return n
	}
	c := r[i]
	j := i
	if c == ' ' {
		j = i + 1
	}
	if c2, ok := at(r, j, end); ok {
		switch {
		case isLetter(c2):
			return runWhile(r, j, end, isLetter) - i
		case isNumber(c2):
			return runWhile(r, j, end, isNumber) - i
		case isOther(c2) && isAssigned(c2):
			return runWhile(r, j, end, func(x rune) bool { return isOther(x) && isAssigned(x) }) - i
		}
	}
	return spaceRun(r, i, end, false)
}

// spaceRun matches \s*[\r\n]+ (when newlines is set), then \s+(?!\S), then
// \s+, and finally a single rune when nothing matches.
func spaceRun(r []rune, i, end int, newlines bool) int {
	j := runWhile(r, i, end, isSpace)
	if newlines {
		last := -1
		for k := i; k < j; k++ {
			if isNL(r[k]) {
				last = k
			}
		}
		if last >= 0 {
			return last + 1 - i
		}
	}
	if j-i > 1 && j < end {
		return j - 1 - i
	}
	if j > i {
		return j - i
	}
	return 1
}

// modernMatch is the rule shared by llama 3 (maxDigits 3) and Qwen2/Qwen3
// (maxDigits 1):
//
//	(?i:'s|'t|'re|'ve|'m|'ll|'d)|[^\r\n\p{L}\p{N}]?\p{L}+|\p{N}{1,maxDigits}|
//	 ?[^\s\p{L}\p{N}]+[\r\n]*|\s*[\r\n]+|\s+(?!\S)|\s+
func modernMatch(maxDigits int) matcher {
	return func(r []rune, i, end int) int {
		if n := contraction(r, i, end, true); n > 0 {
			return n
		}
		c := r[i]
		if !isNL(c) && !isNumber(c) {
			if isLetter(c) {
				return runWhile(r, i, end, isLetter) - i
			}
			if c2, ok := at(r, i+1, end); ok && isLetter(c2) {
				return runWhile(r, i+1, end, isLetter) - i
			}
		}
		if isNumber(c) {
			j := i
			for j < end && j-i < maxDigits && isNumber(r[j]) {
				j++
			}
			return j - i
		}
		j := i
		if c == ' ' {
			j = i + 1
		}
		if c2, ok := at(r, j, end); ok && isOther(c2) {
			j = runWhile(r, j, end, isOther)
			j = runWhile(r, j, end, isNL)
			return j - i
		}
		return spaceRun(r, i, end, true)
	}
}

// runsOf matches [class]+.
func runsOf(pred func(rune) bool) matcher {
	return func(r []rune, i, end int) int { return runWhile(r, i, end, pred) - i }
}

// oneOf matches [class].
func oneOf(pred func(rune) bool) matcher {
	return func(r []rune, i, end int) int {
		if pred(r[i]) {
			return 1
		}
		return 0
	}
}

// optSpaceRun matches \s?[class]+.
func optSpaceRun(pred func(rune) bool) matcher {
	return func(r []rune, i, end int) int {
		if isSpace(r[i]) && i+1 < end && pred(r[i+1]) {
			return runWhile(r, i+1, end, pred) - i
		}
		return runWhile(r, i, end, pred) - i
	}
}

// threeDigits matches [0-9][0-9][0-9].
func threeDigits(r []rune, i, end int) int {
	if i+3 <= end && isASCIIDigit(r[i]) && isASCIIDigit(r[i+1]) && isASCIIDigit(r[i+2]) {
		return 3
	}
	return 0
}

// splitTrailingSpace isolates \s+$: the white space that ends the piece.
// It is a splitter, not a matcher, because as a matcher tried at every
// position it would rescan the rest of a long white-space run each time
// (quadratic in the run's length); scanning back from the end finds the
// same first match in one pass.
func splitTrailingSpace(r []rune, s span, emit func(span)) {
	k := s.end
	for k > s.start && isSpace(r[k-1]) {
		k--
	}
	if k > s.start {
		emit(span{s.start, k})
	}
	if k < s.end {
		emit(span{k, s.end})
	}
}

// rangeClass builds a membership test from a regex character class body
// such as "A-Za-zµÀ-Ö" (literal runes and a-b ranges).
func rangeClass(body string) func(rune) bool {
	rs := []rune(body)
	type rg struct{ lo, hi rune }
	var ranges []rg
	for i := 0; i < len(rs); i++ {
		if i+2 < len(rs) && rs[i+1] == '-' {
			ranges = append(ranges, rg{rs[i], rs[i+2]})
			i += 2
			continue
		}
		ranges = append(ranges, rg{rs[i], rs[i]})
	}
	// Binary search over sorted, disjoint ranges: the DeepSeek classes have
	// about 200 ranges, and a linear scan per rune dominated their
	// pre-tokenizers.
	sort.Slice(ranges, func(i, j int) bool { return ranges[i].lo < ranges[j].lo })
	merged := ranges[:0]
	for _, g := range ranges {
		if n := len(merged); n > 0 && g.lo <= merged[n-1].hi+1 {
			merged[n-1].hi = max(merged[n-1].hi, g.hi)
			continue
		}
		merged = append(merged, g)
	}
	return func(c rune) bool {
		i := sort.Search(len(merged), func(i int) bool { return merged[i].hi >= c })
		return i < len(merged) && merged[i].lo <= c
	}
}

// Character classes of the DeepSeek pre-tokenizers, copied from their
// tokenizer.json split patterns.
var (
	deepseekLatin    = rangeClass("A-Za-zµÀ-ÖØ-öø-ƺƼ-ƿǄ-ʓʕ-ʯͰ-ͳͶͷͻ-ͽͿΆΈ-ΊΌΎ-ΡΣ-ϵϷ-ҁҊ-ԯԱ-ՖႠ-ჅᎠ-Ᏽᏸ-ᏽᲐ-ᲺᲽ-Ჿᴀ-ᴫᵫ-ᵷᵹ-ᶚḀ-ἕἘ-Ἕἠ-ὅὈ-Ὅὐ-ὗὙὛὝὟ-\u1F7Dᾀ-ᾴᾶ-ᾼ\u1FBEῂ-ῄῆ-ῌῐ-\u1FD3ῖ-\u1FDBῠ-Ῥῲ-ῴῶ-ῼℂℇℊ-ℓℕℙ-ℝℤ\u2126ℨ\u212A-ℭℯ-ℴℹℼ-ℿⅅ-ⅉⅎↃↄⰀ-ⱻⱾ-ⳤⳫ-ⳮⳲⳳꙀ-ꙭꚀ-ꚛꜢ-ꝯꝱ-ꞇꞋ-ꞎꭰ-ꮿﬀ-ﬆﬓ-ﬗＡ-Ｚａ-ｚ𐐀-𐑏𐒰-𐓓𐓘-𐓻𐲀-𐲲𐳀-𐳲𑢠-𑣟𞤀-𞥃")
	deepseekPunctRaw = rangeClass("!-/:-~！-／：-～‘-‟　-。")
	deepseekCJK      = rangeClass("一-龥ࠀ-一가-퟿")
)

// deepseekPunct excludes white space, which llama.cpp replaces with a
// vertical tab before its std::wregex sees the text (so U+3000 never matches).
func deepseekPunct(c rune) bool { return !isSpace(c) && deepseekPunctRaw(c) }

func isNL1(c rune) bool { return isNL(c) }

// isPunctExt is [\p{P}\$\+<=>\^~\|] (the default pre-tokenizer).
func isPunctExt(c rune) bool {
	switch c {
	case '$', '+', '<', '=', '>', '^', '~', '|':
		return true
	}
	return isPunct(c)
}

// isPunctExtTick is [\p{P}\$\+<=>\^~\|`] (Falcon).
func isPunctExtTick(c rune) bool { return c == '`' || isPunctExt(c) }

// preTokenizer returns the split rules of a llama.cpp pre-tokenizer name
// (GGUF tokenizer.ggml.pre), and whether whole words skip merging.
func preTokenizer(name string) (rules []splitFunc, ignoreMerges bool, err error) {
	gpt2 := isolate(gpt2Match)
	switch name {
	case "", "default":
		return []splitFunc{isolate(runsOf(isPunctExt)), gpt2, isolate(runsOf(isNumber)), isolate(threeDigits)}, false, nil
	case "llama3", "llama-v3", "llama-bpe", "falcon3", "pixtral", "dbrx", "smaug-bpe", "chatglm-bpe", "glm4":
		return []splitFunc{isolate(modernMatch(3))}, name != "dbrx" && name != "smaug-bpe" && name != "chatglm-bpe" && name != "glm4", nil
	case "qwen2", "deepseek-r1-qwen", "stablelm2", "megrez":
		return []splitFunc{isolate(modernMatch(1))}, false, nil
	case "gpt-2", "phi-2", "jina-es", "jina-de", "jina-v1-en", "jina-v2-es", "jina-v2-de", "jina-v2-code", "roberta-bpe", "mpt", "olmo", "jais", "gigachat", "exaone4":
		return []splitFunc{gpt2}, false, nil
	case "falcon":
		return []splitFunc{isolate(runsOf(isPunctExtTick)), gpt2, isolate(threeDigits)}, false, nil
	case "starcoder", "refact", "command-r", "smollm", "codeshell", "exaone", "minerva-7b":
		return []splitFunc{isolate(oneOf(isNumber)), gpt2}, false, nil
	case "deepseek-coder":
		return []splitFunc{
			isolate(oneOf(isNL1)),
			isolate(optSpaceRun(isLetter)),
			isolate(optSpaceRun(isPunct)),
			isolate(runsOf(deepseekCJK)),
			isolate(oneOf(isNumber)),
		}, false, nil
	case "deepseek-llm":
		return []splitFunc{
			isolate(oneOf(isNL1)),
			isolate(optSpaceRun(deepseekLatin)),
			isolate(optSpaceRun(deepseekPunct)),
			splitTrailingSpace,
			isolate(runsOf(deepseekCJK)),
			isolate(runsOf(isNumber)),
		}, false, nil
	}
	return nil, false, fmt.Errorf("unknown pre-tokenizer %q", name)
}

// splitWords applies rules in sequence to r and passes the final pieces, in
// order, to emit. Each rule's pieces go straight into the next rule, so the
// pieces are never collected: memory stays constant whatever their number.
func splitWords(r []rune, rules []splitFunc, emit func(span)) {
	if len(r) == 0 {
		return
	}
	stages := make([]func(span), len(rules)+1)
	stages[len(rules)] = emit
	for k := len(rules) - 1; k >= 0; k-- {
		rule, next := rules[k], stages[k+1]
		stages[k] = func(s span) { rule(r, s, next) }
	}
	stages[0](span{0, len(r)})
}
