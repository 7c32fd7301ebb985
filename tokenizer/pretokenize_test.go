package tokenizer

import (
	"fmt"
	"regexp"
	"slices"
	"testing"
	"time"

	"github.com/valueexploration/valueexp/weights"
)

func TestRangeClassMatchesNaiveScan(t *testing.T) {
	for _, body := range []string{"a-cx-zb-d", "A-Za-zµÀ-Ö", "!-/:-~！-／：-～‘-‟　-。", "一-龥ࠀ-一가-퟿", "q", "a-zb"} {
		rs := []rune(body)
		in := func(c rune) bool {
			for i := 0; i < len(rs); i++ {
				if i+2 < len(rs) && rs[i+1] == '-' {
					if c >= rs[i] && c <= rs[i+2] {
						return true
					}
					i += 2
					continue
				}
				if c == rs[i] {
					return true
				}
			}
			return false
		}
		class := rangeClass(body)
		for c := rune(0); c < 0x11000; c++ {
			if class(c) != in(c) {
				t.Fatalf("rangeClass(%q)(%U) = %v", body, c, class(c))
			}
		}
	}
}

// TestSplitTrailingSpaceMatchesRegexp checks the one-pass \s+$ splitter
// against Go's regexp (which can express this rule) on pieces with white
// space in every position.
func TestSplitTrailingSpaceMatchesRegexp(t *testing.T) {
	re := regexp.MustCompile(`\s+$`)
	for _, s := range []string{"", " ", "  ", "a", "a ", " a", " a  ", "a\u3000\u3000", "\u3000a\u3000b \t\n", "ab", "\n\n"} {
		r := []rune(s)
		var got []span
		splitTrailingSpace(r, span{0, len(r)}, func(p span) { got = append(got, p) })
		// Expected pieces from the regexp match, in rune indices.
		var want []span
		if loc := re.FindStringIndex(s); loc != nil {
			k := len([]rune(s[:loc[0]]))
			if k > 0 {
				want = append(want, span{0, k})
			}
			want = append(want, span{k, len(r)})
		} else if len(r) > 0 {
			want = append(want, span{0, len(r)})
		}
		// regexp's \s is ASCII only; for U+3000 compare with the rule
		// spelled out: the trailing run of Unicode white space.
		if s == "a\u3000\u3000" {
			want = []span{{0, 1}, {1, 3}}
		}
		if s == "\u3000a\u3000b \t\n" {
			want = []span{{0, 4}, {4, 7}}
		}
		if !slices.Equal(got, want) {
			t.Errorf("%q: pieces %v, want %v", s, got, want)
		}
	}
}

// TestPreTokenizeScalesLinearly is the regression test for the quadratic
// deepseek-llm rule (100k spaces + "1" took 7 s). It compares time per rune
// at 4 KiB and 128 KiB for every rule set and adversarial pattern: linear
// code keeps the ratio near 1, quadratic code makes it about 32. The
// threshold of 8 leaves room for a noisy shared machine; the figures
// themselves come from BenchmarkPreTokenizeLinear.
func TestPreTokenizeScalesLinearly(t *testing.T) {
	if testing.Short() {
		t.Skip("timing comparison; skipped in -short")
	}
	perRune := func(rules []splitFunc, r []rune) float64 {
		best, total := time.Duration(1<<62), time.Duration(0)
		for k := 0; k < 5 && total < 200*time.Millisecond; k++ {
			start := time.Now()
			splitWords(r, rules, func(span) {})
			d := time.Since(start)
			best, total = min(best, d), total+d
		}
		return float64(best) / float64(len(r))
	}
	for _, name := range preTokenizerSets {
		rules, _, err := preTokenizer(name)
		if err != nil {
			t.Fatal(err)
		}
		for _, in := range linearInputs {
			t.Run(fmt.Sprintf("%s/%s", name, in.name), func(t *testing.T) {
				small, big := []rune(in.make(4<<10)), []rune(in.make(128<<10))
				// On a loaded machine one measurement can be off by a lot;
				// quadratic code fails every attempt, linear code passes
				// one of three.
				var a, b float64
				for attempt := 0; attempt < 3; attempt++ {
					a, b = perRune(rules, small), perRune(rules, big)
					if b <= 8*a || b <= 50 { // 50 ns per rune: not a quadratic run
						return
					}
				}
				t.Errorf("%.1f ns/rune at 128 KiB vs %.1f at 4 KiB: not linear", b, a)
			})
		}
	}
}

// TestDeepseekLatinClass checks the DeepSeek-LLM letter class on the code
// points that Unicode normalisation changes. The class in the model's
// tokenizer.json (and llama.cpp) holds KELVIN SIGN U+212A as the start of
// the range U+212A-U+212D, OHM SIGN U+2126, and Greek compatibility letters
// (U+1F7D, U+1FBE, U+1FD3, U+1FDB ending ranges); NFC turns these into K,
// Ω, ώ, ι, ΐ and Ί. Once normalised, "K-ℭ" spans U+004B-U+212D and takes in
// [\]^_`{|}~ and every script below U+212E, so braces and brackets joined
// letter runs (`{"` became `{` + `"`), and the Greek ranges turned empty.
func TestDeepseekLatinClass(t *testing.T) {
	for _, c := range []struct {
		r    rune
		want bool
	}{
		{'K', true}, {'a', true}, {'z', true}, {'\u212A', true}, {'\u212B', true}, {'\u212D', true},
		{'\u2126', true}, {'\u1F5F', true}, {'\u1F7D', true}, {'\u1FBE', true}, {'\u1FD0', true},
		{'\u1FD3', true}, {'\u1FD6', true}, {'\u1FDB', true}, {'\u03A9', true}, {'\u0416', true},
		{'[', false}, {'\\', false}, {']', false}, {'^', false}, {'_', false}, {'`', false},
		{'{', false}, {'|', false}, {'}', false}, {'~', false}, {'\u00AB', false}, {'\u00D7', false},
		{'\u0628', false}, {'\u05D0', false}, {'\u0915', false}, {'\u201C', false}, {'\u2122', false},
		{'\u212E', false}, {'\u1F7E', false}, {'\u1FBD', false},
	} {
		if got := deepseekLatin(c.r); got != c.want {
			t.Errorf("deepseekLatin(%U) = %v, want %v", c.r, got, c.want)
		}
	}
}

// TestDeepseekLLMSplitsCode checks the DeepSeek-LLM rules on code and JSON;
// the pieces are worked out by hand from the six split patterns.
func TestDeepseekLLMSplitsCode(t *testing.T) {
	rules, _, err := preTokenizer("deepseek-llm")
	if err != nil {
		t.Fatal(err)
	}
	for _, c := range []struct {
		in   string
		want []string
	}{
		{`{"a":[1,2]};`, []string{`{"`, `a`, `":[`, `1`, `,`, `2`, `]};`}},
		{`foo(bar[0]);`, []string{`foo`, `(`, `bar`, `[`, `0`, `]);`}},
		{` {"x_y": ~z}`, []string{` {"`, `x`, `_`, `y`, `":`, ` ~`, `z`, `}`}},
	} {
		r := []rune(c.in)
		var got []string
		splitWords(r, rules, func(s span) { got = append(got, string(r[s.start:s.end])) })
		if !slices.Equal(got, c.want) {
			t.Errorf("split(%q) = %q, want %q", c.in, got, c.want)
		}
	}
}

// TestHFSplitAtSpacesAfterMetaspaceNormalizer checks Gemma 3's layout: the
// normalizer replaces ' ' by '▁', then a Split at " " (MergedWithPrevious)
// finds no space, so the whole text is one word and merges cross '▁'. With
// the merges below, "a b" is a, ▁, b -> "a▁" (rank 0) -> "a▁b" (rank 1): one
// token, id 4. Without the normalizer the Split is refused.
func TestHFSplitAtSpacesAfterMetaspaceNormalizer(t *testing.T) {
	const body = `"model": {"type": "BPE", "vocab": {"a": 0, "▁": 1, "b": 2, "a▁": 3, "a▁b": 4},
		"merges": ["a ▁", "a▁ b"]},
		"pre_tokenizer": {"type": "Split", "pattern": {"String": " "}, "behavior": "MergedWithPrevious", "invert": false}`
	tk, err := ParseHF([]byte(`{"normalizer": {"type": "Replace", "pattern": {"String": " "}, "content": "▁"}, `+body+`}`), nil)
	if err != nil {
		t.Fatal(err)
	}
	for _, c := range []struct {
		in   string
		want []int32
	}{
		{"a b", []int32{4}},
		{"b a", []int32{2, 1, 0}}, // "▁a" is no merge
		{"a  b", []int32{3, 1, 2}},
	} {
		if got := tk.Encode(c.in, EncodeOptions{}); !slices.Equal(got, c.want) {
			t.Errorf("Encode(%q) = %v, want %v", c.in, got, c.want)
		}
	}
	if _, err := ParseHF([]byte(`{`+body+`}`), nil); err == nil {
		t.Error("a Split at spaces without the '▁' normalizer was accepted")
	}
}

// TestChatGLMHasNoDefaultBOS checks llama.cpp's rule for GLM-4 GGUFs (pre
// chatglm-bpe): no BOS unless the file names one, where other gpt2
// vocabularies default to id 11.
func TestChatGLMHasNoDefaultBOS(t *testing.T) {
	tokens := make([]string, 12)
	for i := range tokens {
		tokens[i] = string(rune('a' + i))
	}
	for _, c := range []struct {
		pre     string
		kv      map[string]any
		want    []int32
		wantErr bool
	}{
		{"gpt-2", map[string]any{"tokenizer.ggml.add_bos_token": true}, []int32{11, 0}, false},
		{"chatglm-bpe", map[string]any{}, []int32{0}, false},
		{"chatglm-bpe", map[string]any{"tokenizer.ggml.add_bos_token": true}, nil, true},
		{"chatglm-bpe", map[string]any{"tokenizer.ggml.add_bos_token": true, "tokenizer.ggml.bos_token_id": uint32(3)}, []int32{3, 0}, false},
	} {
		kv := map[string]any{"tokenizer.ggml.model": "gpt2", "tokenizer.ggml.pre": c.pre,
			"tokenizer.ggml.tokens": tokens, "tokenizer.ggml.merges": []string{"a b"}}
		for k, v := range c.kv {
			kv[k] = v
		}
		g, err := weights.ParseGGUF(minimalGGUF(t, kv), "glm")
		if err != nil {
			t.Fatal(err)
		}
		tk, err := FromGGUF(g)
		if c.wantErr {
			if err == nil {
				t.Errorf("%s %v: no error", c.pre, c.kv)
			}
			continue
		}
		if err != nil {
			t.Fatalf("%s %v: %v", c.pre, c.kv, err)
		}
		if got := tk.Encode("a", EncodeOptions{AddSpecial: true}); !slices.Equal(got, c.want) {
			t.Errorf("%s %v: Encode(a) = %v, want %v", c.pre, c.kv, got, c.want)
		}
	}
}
