package tokenizer

import (
	"fmt"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"

	"github.com/valueexploration/valueexp/internal/memtest"
	"github.com/valueexploration/valueexp/internal/shareddata"
	"github.com/valueexploration/valueexp/weights"
)

// TestParseHFAdversarial feeds tokenizer.json documents built to make the
// reader allocate or recurse without bound; each must fail cleanly (or
// succeed) within the bound stated on ParseHF: 64 bytes per input byte
// plus 16 MiB.
func TestParseHFAdversarial(t *testing.T) {
	bpe := func(vocab, merges, extra string) string {
		return `{"model":{"type":"BPE","vocab":{` + vocab + `},"merges":[` + merges + `]}` + extra + `}`
	}
	nest := func(depth int, inner string) string {
		return strings.Repeat(`{"type":"Sequence","pretokenizers":[`, depth) + inner + strings.Repeat(`]}`, depth)
	}
	var manyMerges strings.Builder
	for i := 0; i < 200000; i++ {
		if i > 0 {
			manyMerges.WriteByte(',')
		}
		fmt.Fprintf(&manyMerges, `"x%d y%d"`, i, i)
	}
	cases := []struct {
		name, js, errPart string // errPart "" means it may succeed
	}{
		{"max-int32-id", bpe(`"a":2147483647`, ``, ``), "outside"},
		{"sparse-id", bpe(`"a":0,"b":16777215`, ``, ``), "sparse"},
		{"negative-id", bpe(`"a":-1`, ``, ``), "outside"},
		{"overflowing-id", bpe(`"a":1e30`, ``, ``), "tokenizer.json"},
		{"huge-added-id", bpe(`"a":0`, ``, `,"added_tokens":[{"id":99999999,"content":"x"}]`), "outside"},
		{"deep-pretokenizer", bpe(`"a":0`, ``, `,"pre_tokenizer":`+nest(9, `{"type":"ByteLevel"}`)), "nested deeper"},
		{"very-deep-pretokenizer", bpe(`"a":0`, ``, `,"pre_tokenizer":`+nest(5000, `{"type":"ByteLevel"}`)), "tokenizer.json"},
		{"many-rules", bpe(`"a":0`, ``, `,"pre_tokenizer":{"type":"Sequence","pretokenizers":[`+strings.TrimSuffix(strings.Repeat(`{"type":"ByteLevel"},`, 100), ",")+`]}`), "pre-tokenizer split rules"},
		{"json-nesting-bomb", `{"model":` + strings.Repeat(`[`, 200000) + strings.Repeat(`]`, 200000) + `}`, "tokenizer.json"},
		{"huge-merges-list", bpe(`"a":0`, manyMerges.String(), ``), ""},
		{"ok-nesting", bpe(`"a":0`, ``, `,"pre_tokenizer":`+nest(3, `{"type":"ByteLevel"}`)), ""},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			var err error
			total := memtest.Measure(func() { _, err = ParseHF([]byte(c.js), nil) }).Total
			if c.errPart != "" {
				if err == nil || !strings.Contains(err.Error(), c.errPart) {
					t.Errorf("err = %v, want one containing %q", err, c.errPart)
				}
			} else if err != nil {
				t.Errorf("err = %v, want success", err)
			}
			if bound := uint64(64*len(c.js) + 16<<20); total > bound {
				t.Errorf("allocated %d bytes for %d input bytes, over the bound %d", total, len(c.js), bound)
			}
		})
	}
}

// TestFromGGUFAdversarial builds GGUF vocabularies that are hostile to the
// tokenizer (the GGUF reader's own limits are tested in package weights):
// ids outside the vocabulary, merges naming unknown tokens, empty and
// duplicate tokens. Each must fail cleanly or load within the bound stated
// on FromGGUF (200 bytes per token, 60 per merge, plus 16 MiB).
func TestFromGGUFAdversarial(t *testing.T) {
	many := make([]string, 100000)
	for i := range many {
		many[i] = fmt.Sprintf("t%d", i)
	}
	manyMerges := make([]string, 300000)
	for i := range manyMerges {
		manyMerges[i] = fmt.Sprintf("u%d v%d", i, i)
	}
	cases := []struct {
		name    string
		kv      map[string]any
		errPart string
	}{
		{"ids-out-of-range", map[string]any{"tokenizer.ggml.model": "llama", "tokenizer.ggml.tokens": []string{"<unk>", "a"},
			"tokenizer.ggml.bos_token_id": uint32(1 << 31), "tokenizer.ggml.eos_token_id": uint32(99)}, ""},
		{"duplicate-token", map[string]any{"tokenizer.ggml.model": "llama", "tokenizer.ggml.tokens": []string{"a", "a"}}, "duplicate"},
		{"merge-without-space", map[string]any{"tokenizer.ggml.model": "gpt2", "tokenizer.ggml.tokens": []string{"a"}, "tokenizer.ggml.merges": []string{"ab"}}, "separator"},
		{"unknown-pre", map[string]any{"tokenizer.ggml.model": "gpt2", "tokenizer.ggml.pre": "evil", "tokenizer.ggml.tokens": []string{"a"}, "tokenizer.ggml.merges": []string{}}, "pre-tokenizer"},
		{"many-tokens-many-merges", map[string]any{"tokenizer.ggml.model": "gpt2", "tokenizer.ggml.tokens": many, "tokenizer.ggml.merges": manyMerges}, ""},
		{"short-scores", map[string]any{"tokenizer.ggml.model": "llama", "tokenizer.ggml.tokens": many, "tokenizer.ggml.scores": []float32{1}}, "scores"},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			g, err := weights.ParseGGUF(minimalGGUF(t, c.kv), "adversarial")
			if err != nil {
				t.Fatal(err)
			}
			var tk *Tokenizer
			total := memtest.Measure(func() { tk, err = FromGGUF(g) }).Total
			if c.errPart != "" {
				if err == nil || !strings.Contains(err.Error(), c.errPart) {
					t.Errorf("err = %v, want one containing %q", err, c.errPart)
				}
			} else if err != nil {
				t.Errorf("err = %v, want success", err)
			} else if c.name == "ids-out-of-range" && (tk.BOS() != 1 || slices.Contains(tk.EOS(), 99)) {
				t.Errorf("ids outside the vocabulary were used: bos %d, eos %v", tk.BOS(), tk.EOS())
			}
			toks, _ := c.kv["tokenizer.ggml.tokens"].([]string)
			merges, _ := c.kv["tokenizer.ggml.merges"].([]string)
			if bound := uint64(200*len(toks) + 60*len(merges) + 16<<20); total > bound {
				t.Errorf("allocated %d bytes for %d tokens and %d merges, over the bound %d", total, len(toks), len(merges), bound)
			}
		})
	}
}

// TestReadersRealFilesWithinBound checks the stated bounds on the reference
// vocabularies too (they measure 6.5 and 18.7 bytes per byte of
// tokenizer.json, and about a quarter of FromGGUF's bound).
func TestReadersRealFilesWithinBound(t *testing.T) {
	for _, d := range []string{"hf-qwen3", "hf-lenml-llama2"} {
		b, err := os.ReadFile(filepath.Join(shareddata.Path(t, "refdata", "tokenizers", d), "tokenizer.json"))
		if err != nil {
			t.Fatal(err)
		}
		total := memtest.Measure(func() { _, err = ParseHF(b, nil) }).Total
		if err != nil {
			t.Fatalf("%s: %v", d, err)
		}
		if bound := uint64(64*len(b) + 16<<20); total > bound {
			t.Errorf("%s: ParseHF allocated %d bytes for %d input bytes, over the bound %d", d, total, len(b), bound)
		}
	}
	for _, f := range []string{"ggml-vocab-gpt-2.gguf", "ggml-vocab-llama-spm.gguf", "ggml-vocab-deepseek-llm.gguf"} {
		g, err := weights.OpenGGUF(shareddata.Path(t, "refdata", "tokenizers", f))
		if err != nil {
			t.Fatal(err)
		}
		toks, _ := g.Strings("tokenizer.ggml.tokens")
		merges, _ := g.Strings("tokenizer.ggml.merges")
		total := memtest.Measure(func() { _, err = FromGGUF(g) }).Total
		if err != nil {
			t.Fatalf("%s: %v", f, err)
		}
		if bound := uint64(200*len(toks) + 60*len(merges) + 16<<20); total > bound {
			t.Errorf("%s: FromGGUF allocated %d bytes, over the bound %d", f, total, bound)
		}
	}
}
