package tokenizer

import (
	"fmt"
	"strings"
	"testing"
)

// Linear time in the input: these benchmarks report ns per input byte for
// inputs of 1 KB, 32 KB and 1 MB made of the patterns that made tokenizers
// quadratic elsewhere (long white-space runs, CJK punctuation runs, one long
// word). The figure must stay flat as the input grows. Run with
//
//	go test ./tokenizer -run '^$' -bench 'Linear' -benchtime 3x
//
// BenchmarkPreTokenizeLinear covers every rule set of preTokenizer (one
// representative name per set, listed in preTokenizerSets);
// BenchmarkEncodeLinear runs whole encodes for one reference vocabulary of
// each algorithm (SPM, BPE byte-level, BPE with byte fallback, WordPiece).

// preTokenizerSets names one pre-tokenizer for each distinct rule set of
// preTokenizer; TestPreTokenizerSetsCoverEveryName checks that no name is
// left out.
var preTokenizerSets = []string{"default", "llama3", "qwen2", "gpt-2", "falcon", "starcoder", "deepseek-coder", "deepseek-llm"}

// linearInputs are the adversarial patterns, each built to exactly n bytes
// (rounded down to whole characters).
var linearInputs = []struct {
	name string
	make func(n int) string
}{
	{"spaces+1", func(n int) string { return strings.Repeat(" ", n-1) + "1" }},
	{"ideographic-spaces+1", func(n int) string { return strings.Repeat("\u3000", (n-1)/3) + "1" }},
	{"newlines+spaces", func(n int) string { return strings.Repeat("\n ", n/2) }},
	{"cjk-punct", func(n int) string { return strings.Repeat("。，", n/6) }},
	{"long-word", func(n int) string { return strings.Repeat("abcdefghij", n/10) }},
	{"one-letter-word", func(n int) string { return strings.Repeat("a", n) }},
	{"digits", func(n int) string { return strings.Repeat("1234567890", n/10) }},
	{"combining-marks", func(n int) string { return "e" + strings.Repeat("\u0316\u0301", (n-1)/4) }},
	{"invalid-bytes", func(n int) string { return strings.Repeat("\xff\xe4\xbd", n/3) }},
}

var linearSizes = []int{1 << 10, 32 << 10, 1 << 20}

// reportPerByte adds "ns/byte" (wall clock) and "cpu-ns/byte" (process CPU
// time, GC included), the steadier figure on a loaded machine.
func reportPerByte(b *testing.B, n int) func() {
	start := cpuTime()
	return func() {
		per := float64(b.N) * float64(n)
		b.ReportMetric(float64(b.Elapsed().Nanoseconds())/per, "ns/byte")
		b.ReportMetric(float64((cpuTime()-start).Nanoseconds())/per, "cpu-ns/byte")
	}
}

func BenchmarkPreTokenizeLinear(b *testing.B) {
	for _, name := range preTokenizerSets {
		rules, _, err := preTokenizer(name)
		if err != nil {
			b.Fatal(err)
		}
		for _, in := range linearInputs {
			for _, n := range linearSizes {
				s := in.make(n)
				r := []rune(s)
				b.Run(fmt.Sprintf("%s/%s/%dB", name, in.name, n), func(b *testing.B) {
					b.SetBytes(int64(len(s)))
					defer reportPerByte(b, len(s))()
					for i := 0; i < b.N; i++ {
						splitWords(r, rules, func(span) {})
					}
				})
			}
		}
	}
}

func BenchmarkEncodeLinear(b *testing.B) {
	vocabs := []struct {
		name string
		src  []string
	}{
		{"spm/llama-spm", []string{"refdata", "tokenizers", "ggml-vocab-llama-spm.gguf"}},
		{"wpm/bert-bge", []string{"refdata", "tokenizers", "ggml-vocab-bert-bge.gguf"}},
		{"bpe/gpt-2", []string{"refdata", "tokenizers", "ggml-vocab-gpt-2.gguf"}},
		{"bpe/deepseek-llm", []string{"refdata", "tokenizers", "ggml-vocab-deepseek-llm.gguf"}},
		{"bpe/qwen3-hf", []string{"refdata", "tokenizers", "hf-qwen3"}},
		{"bpe-fallback/llama2-hf", []string{"refdata", "tokenizers", "hf-lenml-llama2"}},
	}
	for _, v := range vocabs {
		tk := loadRef(b, v.src...)
		for _, in := range linearInputs {
			for _, n := range linearSizes {
				s := in.make(n)
				b.Run(fmt.Sprintf("%s/%s/%dB", v.name, in.name, n), func(b *testing.B) {
					b.SetBytes(int64(len(s)))
					defer reportPerByte(b, len(s))()
					for i := 0; i < b.N; i++ {
						tk.Encode(s, EncodeOptions{})
					}
				})
			}
		}
	}
}

// TestPreTokenizerSetsCoverEveryName checks that every name preTokenizer
// accepts uses the same rules as one of preTokenizerSets, so the linearity
// benchmark covers them all: the rule sets are compared by their splits of a
// text that exercises every rule.
func TestPreTokenizerSetsCoverEveryName(t *testing.T) {
	names := []string{"", "default", "llama3", "llama-v3", "llama-bpe", "falcon3", "pixtral", "dbrx", "smaug-bpe", "chatglm-bpe", "glm4",
		"qwen2", "deepseek-r1-qwen", "stablelm2", "megrez",
		"gpt-2", "phi-2", "jina-es", "jina-de", "jina-v1-en", "jina-v2-es", "jina-v2-de", "jina-v2-code", "roberta-bpe", "mpt", "olmo", "jais", "gigachat", "exaone4",
		"falcon", "starcoder", "refact", "command-r", "smollm", "codeshell", "exaone", "minerva-7b", "deepseek-coder", "deepseek-llm"}
	probe := []rune("Hello world's 1234567 $+<=>^~| `x` 。，你好 \u3000\u3000 \n\n  x  ")
	sig := func(name string) string {
		rules, _, err := preTokenizer(name)
		if err != nil {
			t.Fatalf("%q: %v", name, err)
		}
		var pieces []span
		splitWords(probe, rules, func(s span) { pieces = append(pieces, s) })
		return fmt.Sprint(pieces)
	}
	sets := map[string]string{}
	for _, n := range preTokenizerSets {
		sets[sig(n)] = n
	}
	if len(sets) != len(preTokenizerSets) {
		t.Fatalf("the probe does not tell the %d rule sets apart (%d signatures)", len(preTokenizerSets), len(sets))
	}
	for _, n := range names {
		if _, ok := sets[sig(n)]; !ok {
			t.Errorf("pre-tokenizer %q matches none of the benchmarked rule sets", n)
		}
	}
}
