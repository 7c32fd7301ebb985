package tokenizer

import (
	"math/rand/v2"
	"os"
	"runtime"
	"slices"
	"strings"
	"testing"

	"github.com/valueexploration/valueexp/internal/shareddata"
)

// TestChunkedMergeMatchesWhole merges long words whole and in chunks of 256
// bytes: whenever every cut was exact (see defaultMaxChunk) the ids must be
// the same, which checks the argument that an exact cut cannot change them.
// Words come from the bilingual reference text with its white space removed
// (as one pre-tokenized word or SentencePiece run) and from random mixes of
// letters, digits, punctuation and CJK.
func TestChunkedMergeMatchesWhole(t *testing.T) {
	raw, err := os.ReadFile(shareddata.Path(t, "refdata", "tokenizers", "bilingual.txt"))
	if err != nil {
		t.Fatal(err)
	}
	var words []string
	for _, line := range strings.Split(string(raw), "\n") {
		if w := strings.Join(strings.Fields(line), ""); len(w) > 300 {
			words = append(words, w)
		}
	}
	words = append(words, strings.Join(strings.Fields(string(raw)), ""))
	rng := rand.New(rand.NewPCG(1, 2))
	alphabet := []rune("abcdefghijklmnopqrstuvwxyzABCXYZ0123456789.,;:!?-_=+/\\\"'()[]{}<>你好世界中国人民价值。，、《》😀éüß\u0301")
	for k := 0; k < 40; k++ {
		n := 300 + rng.IntN(2000)
		var b strings.Builder
		for b.Len() < n {
			b.WriteRune(alphabet[rng.IntN(len(alphabet))])
		}
		words = append(words, b.String())
	}
	for _, v := range []struct {
		name string
		src  []string
	}{
		{"gpt-2", []string{"refdata", "tokenizers", "ggml-vocab-gpt-2.gguf"}},
		{"deepseek-llm", []string{"refdata", "tokenizers", "ggml-vocab-deepseek-llm.gguf"}},
		{"qwen3-hf", []string{"refdata", "tokenizers", "hf-qwen3"}},
		{"llama2-hf", []string{"refdata", "tokenizers", "hf-lenml-llama2"}},
		{"llama-spm", []string{"refdata", "tokenizers", "ggml-vocab-llama-spm.gguf"}},
		{"stories260K", []string{"refdata", "models", "stories260K", "stories260K.gguf"}},
	} {
		t.Run(v.name, func(t *testing.T) {
			tk, err := Load(shareddata.Path(t, v.src...))
			if err != nil {
				t.Fatal(err)
			}
			tk.maxChunk = 256
			exactWords, cuts, inexactCuts := 0, 0, 0
			for _, w := range words {
				var whole, chunked []int32
				var inexact int
				if tk.kind == KindSPM {
					w = strings.ReplaceAll(w, " ", "▁")
					whole = tk.spmEncodeRun(w, nil)
					chunked, inexact = tk.chunked(w, nil, spmSymLen, tk.spmEncodeRun)
				} else {
					if tk.byteLevel {
						w = string(byteEncode(nil, w))
					}
					whole = tk.bpeMerge(w, nil)
					chunked, inexact = tk.chunked(w, nil, runeLen, tk.bpeMerge)
				}
				cuts += (len(w) - 1) / 128 // at least this many cuts were made
				inexactCuts += inexact
				if inexact > 0 {
					continue
				}
				exactWords++
				if !slices.Equal(whole, chunked) {
					t.Errorf("word %.40q… (%d bytes): chunked ids differ from whole\n got %v\nwant %v", w, len(w), chunked, whole)
				}
			}
			t.Logf("%d of %d words cut only at exact points; %d inexact cuts", exactWords, len(words), inexactCuts)
			if exactWords == 0 {
				t.Errorf("no word was cut only at exact points: the test checked nothing")
			}
			// Control: cutting blindly at the limit must change some ids,
			// or the comparison above could not have seen a wrong cut.
			tk.pairs = nil
			blindDiffer := 0
			for _, w := range words {
				var whole, chunked []int32
				if tk.kind == KindSPM {
					whole = tk.spmEncodeRun(w, nil)
					chunked, _ = tk.chunked(w, nil, spmSymLen, tk.spmEncodeRun)
				} else {
					if tk.byteLevel {
						w = string(byteEncode(nil, w))
					}
					whole = tk.bpeMerge(w, nil)
					chunked, _ = tk.chunked(w, nil, runeLen, tk.bpeMerge)
				}
				if !slices.Equal(whole, chunked) {
					blindDiffer++
				}
			}
			if blindDiffer == 0 {
				t.Errorf("blind cuts changed no word's ids: the words do not test the cut rule")
			}
		})
	}
}

// TestChunkingLeavesShortWordsAlone checks that Encode of text whose words
// and runs are at most defaultMaxChunk bytes is the same with chunking
// disabled (a limit larger than any input) and at the default limit.
func TestChunkingLeavesShortWordsAlone(t *testing.T) {
	text := strings.Repeat("x", defaultMaxChunk) + " " + strings.Repeat("你", defaultMaxChunk/3) + " " + strings.Repeat("ab1", 1000)
	for _, src := range [][]string{
		{"refdata", "tokenizers", "ggml-vocab-gpt-2.gguf"},
		{"refdata", "tokenizers", "hf-lenml-llama2"},
	} {
		tk, err := Load(shareddata.Path(t, src...))
		if err != nil {
			t.Fatal(err)
		}
		def := tk.Encode(text, EncodeOptions{})
		tk.maxChunk = 1 << 30
		tk.cache = map[string][]int32{}
		if got := tk.Encode(text, EncodeOptions{}); !slices.Equal(got, def) {
			t.Errorf("%s: ids change with the chunk limit on words within it", src[len(src)-1])
		}
	}
}

// encodeMemoryBound is the per-call allocation bound stated on Encode:
// bytes per input byte, plus a constant for one chunk's working memory.
const (
	encodeBytesPerByte = 32
	encodeConstant     = 8 << 20
)

// TestEncodeLongWordMemory is the regression test for issue 14's 10 MB word
// that took 1.6 GB: a 4 MiB single word must allocate (in total, so the
// peak is lower still) under encodeBytesPerByte per byte plus
// encodeConstant, for every algorithm.
func TestEncodeLongWordMemory(t *testing.T) {
	const n = 4 << 20
	rng := rand.New(rand.NewPCG(3, 4))
	letters := make([]byte, n)
	for i := range letters {
		letters[i] = "abcdefghijklmnopqrstuvwxyz"[rng.IntN(26)]
	}
	// Distinct short words fill the word cache as they go.
	var distinct strings.Builder
	for distinct.Len() < n-16 {
		for k := 0; k < 7; k++ {
			distinct.WriteByte("abcdefghijklmnopqrstuvwxyz"[rng.IntN(26)])
		}
		distinct.WriteByte(' ')
	}
	inputs := map[string]string{
		"distinct-words": distinct.String(),
		"short-lines":    strings.Repeat("ab\n", n/3),
		"letters":        string(letters),
		"cjk":            strings.Repeat("价值观", n/9),
		"spaces":         strings.Repeat(" ", n-1) + "1",
	}
	if testing.Short() {
		t.Skip("encodes 4 MiB several times; skipped in -short")
	}
	for _, src := range [][]string{
		{"refdata", "tokenizers", "ggml-vocab-gpt-2.gguf"},
		{"refdata", "tokenizers", "hf-lenml-llama2"},
		{"refdata", "tokenizers", "ggml-vocab-llama-spm.gguf"},
		{"refdata", "tokenizers", "ggml-vocab-bert-bge.gguf"},
	} {
		tk := loadRef(t, src...)
		for name, s := range inputs {
			var before, after runtime.MemStats
			runtime.GC()
			runtime.ReadMemStats(&before)
			ids := tk.Encode(s, EncodeOptions{})
			runtime.ReadMemStats(&after)
			total := after.TotalAlloc - before.TotalAlloc
			bound := uint64(encodeBytesPerByte*len(s) + encodeConstant)
			t.Logf("%s/%s: %d ids, %.1f bytes allocated per input byte", src[len(src)-1], name, len(ids), float64(total)/float64(len(s)))
			if total > bound {
				t.Errorf("%s/%s: Encode of %d bytes allocated %d bytes, over the bound %d", src[len(src)-1], name, len(s), total, bound)
			}
		}
	}
}
