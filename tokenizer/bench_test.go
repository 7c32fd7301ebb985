package tokenizer

import (
	"os"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/valueexploration/valueexp/internal/shareddata"
)

// Throughput of Encode in MB/s (go test -bench Encode -run XXX ./tokenizer)
// on the 1.8 kB bilingual reference text and on a 1 MB text made of it.
// "warm" reuses the tokenizer, so repeated words come from the word cache;
// "cold" empties the cache before every run.
func BenchmarkEncode(b *testing.B) {
	raw, err := os.ReadFile(shareddata.Path(b, "refdata", "tokenizers", "bilingual.txt"))
	if err != nil {
		b.Fatal(err)
	}
	small := string(raw)
	big := strings.Repeat(small, (1<<20)/len(small)+1)[:1<<20]
	for !strings.HasSuffix(big, "\n") { // cut on a character boundary
		big = big[:len(big)-1]
	}
	vocabs := []struct {
		name string
		src  []string
	}{
		{"qwen3-hf", []string{"refdata", "tokenizers", "hf-qwen3"}},
		{"gpt2-gguf", []string{"refdata", "tokenizers", "ggml-vocab-gpt-2.gguf"}},
		{"deepseek-llm-gguf", []string{"refdata", "tokenizers", "ggml-vocab-deepseek-llm.gguf"}},
		{"llama-spm-gguf", []string{"refdata", "tokenizers", "ggml-vocab-llama-spm.gguf"}},
		{"llama2-hf", []string{"refdata", "tokenizers", "hf-lenml-llama2"}},
	}
	for _, v := range vocabs {
		tk := loadRef(b, v.src...)
		for _, text := range []struct {
			name string
			s    string
		}{{"bilingual", small}, {"1MB", big}} {
			for _, cold := range []bool{false, true} {
				mode := "warm"
				if cold {
					mode = "cold"
				}
				b.Run(v.name+"/"+text.name+"/"+mode, func(b *testing.B) {
					b.SetBytes(int64(len(text.s)))
					defer reportCPURate(b, len(text.s))()
					for i := 0; i < b.N; i++ {
						if cold {
							tk.cacheMu.Lock()
							clear(tk.cache)
							tk.cacheMu.Unlock()
						}
						tk.Encode(text.s, EncodeOptions{})
					}
				})
			}
		}
	}
}

func BenchmarkDecode(b *testing.B) {
	raw, err := os.ReadFile(shareddata.Path(b, "refdata", "tokenizers", "bilingual.txt"))
	if err != nil {
		b.Fatal(err)
	}
	tk := loadRef(b, "refdata", "tokenizers", "hf-qwen3")
	ids := tk.Encode(string(raw), EncodeOptions{})
	b.SetBytes(int64(len(raw)))
	defer reportCPURate(b, len(raw))()
	for i := 0; i < b.N; i++ {
		tk.Decode(ids)
	}
}

// reportCPURate adds a "cpu-MB/s" metric: bytes per second of process CPU
// time (all threads, GC included). On a shared machine wall-clock MB/s
// swings with other load; CPU time does much less.
func reportCPURate(b *testing.B, n int) func() {
	start := cpuTime()
	return func() {
		if d := cpuTime() - start; d > 0 {
			b.ReportMetric(float64(n)*float64(b.N)/1e6/d.Seconds(), "cpu-MB/s")
		}
	}
}

func cpuTime() time.Duration {
	var ru syscall.Rusage
	if syscall.Getrusage(syscall.RUSAGE_SELF, &ru) != nil {
		return 0
	}
	return time.Duration(ru.Utime.Nano() + ru.Stime.Nano())
}
