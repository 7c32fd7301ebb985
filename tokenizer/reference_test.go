package tokenizer

import (
	"bufio"
	"encoding/json"
	"math"
	"os"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"sync"
	"testing"

	"github.com/valueexploration/valueexp/internal/shareddata"
	"github.com/valueexploration/valueexp/weights"
)

// The expected ids in these tests come from outside this package: llama.cpp
// (llama-tokenize, b4748) for the GGUF vocabularies and the Hugging Face
// transformers.js tokenizers for the tokenizer.json files, as recorded in
// ../shared/refdata/tokenizers (see its README, section 7).

type refCase struct {
	Case          string  `json:"case"`
	Text          string  `json:"text"`
	IDs           []int32 `json:"ids"`
	IDsAddSpecial []int32 `json:"ids_add_special"`
	Roundtrip     *bool   `json:"roundtrip"`
}

func readCases(t *testing.T, path string) []refCase {
	t.Helper()
	f, err := os.Open(path)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	var out []refCase
	sc := bufio.NewScanner(f)
	sc.Buffer(make([]byte, 1<<20), 1<<24)
	for sc.Scan() {
		var c refCase
		if err := json.Unmarshal(sc.Bytes(), &c); err != nil {
			t.Fatalf("%s: %v", path, err)
		}
		out = append(out, c)
	}
	return out
}

var (
	tokCacheMu sync.Mutex
	tokCache   = map[string]*Tokenizer{}
)

// loadRef loads (once per test binary) a tokenizer from the shared data.
func loadRef(t testing.TB, parts ...string) *Tokenizer {
	t.Helper()
	p := shareddata.Path(t, parts...)
	tokCacheMu.Lock()
	defer tokCacheMu.Unlock()
	if tk, ok := tokCache[p]; ok {
		return tk
	}
	tk, err := Load(p)
	if err != nil {
		t.Fatal(err)
	}
	tokCache[p] = tk
	return tk
}

// refVocabs maps each expected-ids file to the tokenizer it belongs to.
var refVocabs = []struct {
	name  string
	jsonl string
	src   []string
}{
	{"baichuan", "baichuan", []string{"refdata", "tokenizers", "ggml-vocab-baichuan.gguf"}},
	{"bert-bge", "bert-bge", []string{"refdata", "tokenizers", "ggml-vocab-bert-bge.gguf"}},
	{"deepseek-coder", "deepseek-coder", []string{"refdata", "tokenizers", "ggml-vocab-deepseek-coder.gguf"}},
	{"deepseek-llm", "deepseek-llm", []string{"refdata", "tokenizers", "ggml-vocab-deepseek-llm.gguf"}},
	{"falcon", "falcon", []string{"refdata", "tokenizers", "ggml-vocab-falcon.gguf"}},
	{"gpt-2", "gpt-2", []string{"refdata", "tokenizers", "ggml-vocab-gpt-2.gguf"}},
	{"gpt-neox", "gpt-neox", []string{"refdata", "tokenizers", "ggml-vocab-gpt-neox.gguf"}},
	{"llama-spm", "llama-spm", []string{"refdata", "tokenizers", "ggml-vocab-llama-spm.gguf"}},
	{"mpt", "mpt", []string{"refdata", "tokenizers", "ggml-vocab-mpt.gguf"}},
	{"phi-3", "phi-3", []string{"refdata", "tokenizers", "ggml-vocab-phi-3.gguf"}},
	{"refact", "refact", []string{"refdata", "tokenizers", "ggml-vocab-refact.gguf"}},
	{"starcoder", "starcoder", []string{"refdata", "tokenizers", "ggml-vocab-starcoder.gguf"}},
	{"stories260K", "stories260K", []string{"refdata", "models", "stories260K", "stories260K.gguf"}},
	{"qwen3-npm", "qwen3-npm", []string{"refdata", "tokenizers", "hf-qwen3"}},
	{"qwen3-llamacpp", "qwen3-llamacpp", []string{"refdata", "tokenizers", "hf-qwen3"}},
	{"lenml-llama2-npm", "lenml-llama2-npm", []string{"refdata", "tokenizers", "hf-lenml-llama2"}},
}

func TestBilingualReferenceIDs(t *testing.T) {
	for _, v := range refVocabs {
		t.Run(v.name, func(t *testing.T) {
			tk := loadRef(t, v.src...)
			cases := readCases(t, shareddata.Path(t, "refdata", "tokenizers", v.jsonl+".bilingual.jsonl"))
			if len(cases) != 36 {
				t.Fatalf("%d cases, want 36", len(cases))
			}
			for _, c := range cases {
				got := tk.Encode(c.Text, EncodeOptions{})
				if !slices.Equal(got, c.IDs) {
					t.Errorf("%s: Encode(%q)\n got %v\nwant %v", c.Case, c.Text, got, c.IDs)
				}
				got = tk.Encode(c.Text, EncodeOptions{AddSpecial: true})
				if !slices.Equal(got, c.IDsAddSpecial) {
					t.Errorf("%s: Encode(%q, AddSpecial)\n got %v\nwant %v", c.Case, c.Text, got, c.IDsAddSpecial)
				}
				if v.name == "bert-bge" {
					continue // WordPiece lower-cases and drops unknown words: no round trip
				}
				if dec := tk.Decode(c.IDs); dec != c.Text {
					t.Errorf("%s: Decode(Encode(%q)) = %q", c.Case, c.Text, dec)
				}
				if dec := tk.Decode(c.IDsAddSpecial); dec != c.Text {
					t.Errorf("%s: Decode(Encode(%q, AddSpecial)) = %q", c.Case, c.Text, dec)
				}
			}
		})
	}
}

// TestLlamaCppVocabPairs checks llama.cpp's own test pairs (.inp/.out) for
// every vocabulary whose GGUF is present.
func TestLlamaCppVocabPairs(t *testing.T) {
	dir := shareddata.Path(t, "refdata", "tokenizers")
	inps, err := filepath.Glob(filepath.Join(dir, "ggml-vocab-*.gguf.inp"))
	if err != nil {
		t.Fatal(err)
	}
	tested := 0
	for _, inp := range inps {
		gguf := strings.TrimSuffix(inp, ".inp")
		name := strings.TrimSuffix(strings.TrimPrefix(filepath.Base(gguf), "ggml-vocab-"), ".gguf")
		if _, err := os.Stat(gguf); err != nil {
			continue // the GGUF is not shipped (see the refdata README)
		}
		tested++
		t.Run(name, func(t *testing.T) {
			tk := loadRef(t, "refdata", "tokenizers", filepath.Base(gguf))
			inB, err := os.ReadFile(inp)
			if err != nil {
				t.Fatal(err)
			}
			outB, err := os.ReadFile(gguf + ".out")
			if err != nil {
				t.Fatal(err)
			}
			texts := strings.Split(string(inB), "\n__ggml_vocab_test__\n")
			lines := strings.Split(strings.TrimSuffix(string(outB), "\n"), "\n")
			if texts[len(texts)-1] == "" {
				texts = texts[:len(texts)-1]
			}
			if len(texts) != len(lines) {
				t.Fatalf("%d inputs but %d outputs", len(texts), len(lines))
			}
			for i, text := range texts {
				want := parseIDs(t, lines[i])
				got := tk.Encode(text, EncodeOptions{})
				if !slices.Equal(got, want) {
					t.Errorf("case %d: Encode(%q)\n got %v\nwant %v", i, text, got, want)
				}
			}
		})
	}
	if tested != 10 {
		t.Errorf("tested %d vocabularies with .inp/.out pairs, want 10", tested)
	}
}

// TestQwenTokenizerJSONOnLlamaCppPairs runs llama.cpp's qwen2 and
// deepseek-r1-qwen test pairs through the Qwen3 tokenizer.json: the GGUFs
// are not shipped, but Qwen2/2.5/3 share one BPE vocabulary and merge list
// (refdata README, section 7).
func TestQwenTokenizerJSONOnLlamaCppPairs(t *testing.T) {
	tk := loadRef(t, "refdata", "tokenizers", "hf-qwen3")
	for _, name := range []string{"qwen2", "deepseek-r1-qwen"} {
		t.Run(name, func(t *testing.T) {
			inB, err := os.ReadFile(shareddata.Path(t, "refdata", "tokenizers", "ggml-vocab-"+name+".gguf.inp"))
			if err != nil {
				t.Fatal(err)
			}
			outB, err := os.ReadFile(shareddata.Path(t, "refdata", "tokenizers", "ggml-vocab-"+name+".gguf.out"))
			if err != nil {
				t.Fatal(err)
			}
			texts := strings.Split(string(inB), "\n__ggml_vocab_test__\n")
			lines := strings.Split(strings.TrimSuffix(string(outB), "\n"), "\n")
			if texts[len(texts)-1] == "" {
				texts = texts[:len(texts)-1]
			}
			if len(texts) != len(lines) {
				t.Fatalf("%d inputs but %d outputs", len(texts), len(lines))
			}
			for i, text := range texts {
				want := parseIDs(t, lines[i])
				if got := tk.Encode(text, EncodeOptions{}); !slices.Equal(got, want) {
					t.Errorf("case %d: Encode(%q)\n got %v\nwant %v", i, text, got, want)
				}
			}
		})
	}
}

func parseIDs(t *testing.T, line string) []int32 {
	t.Helper()
	var ids []int32
	for _, f := range strings.Fields(line) {
		v, err := strconv.Atoi(f)
		if err != nil {
			t.Fatalf("bad id %q", f)
		}
		ids = append(ids, int32(v))
	}
	return ids
}

func TestLoadErrors(t *testing.T) {
	for _, c := range []struct {
		name, json string
	}{
		{"not json", "{"},
		{"unigram", `{"model":{"type":"Unigram","vocab":[]}}`},
		{"negative id", `{"model":{"type":"BPE","vocab":{"a":-1},"merges":[]}}`},
		{"bad split", `{"model":{"type":"BPE","vocab":{"a":0},"merges":[]},"pre_tokenizer":{"type":"Split","pattern":{"Regex":"x"},"behavior":"Isolated"}}`},
		{"bad merge", `{"model":{"type":"BPE","vocab":{"a":0},"merges":["ab"]}}`},
	} {
		if _, err := ParseHF([]byte(c.json), nil); err == nil {
			t.Errorf("%s: no error", c.name)
		}
	}
	if _, err := Load(filepath.Join(t.TempDir(), "missing.gguf")); err == nil {
		t.Error("missing file: no error")
	}
	g, err := weights.ParseGGUF(minimalGGUF(t, map[string]any{"tokenizer.ggml.model": "llama"}), "mem")
	if err != nil {
		t.Fatal(err)
	}
	if _, err := FromGGUF(g); err == nil || !strings.Contains(err.Error(), "tokenizer.ggml.tokens") {
		t.Errorf("GGUF without tokens: err = %v", err)
	}
}

// minimalGGUF writes a GGUF v3 header with metadata (strings, string
// arrays, uint32, bool, float32 arrays) and no tensors.
func minimalGGUF(t *testing.T, kv map[string]any) []byte {
	t.Helper()
	var b []byte
	u32 := func(v uint32) { b = append(b, byte(v), byte(v>>8), byte(v>>16), byte(v>>24)) }
	u64 := func(v uint64) { u32(uint32(v)); u32(uint32(v >> 32)) }
	str := func(s string) { u64(uint64(len(s))); b = append(b, s...) }
	b = append(b, "GGUF"...)
	u32(3)
	u64(0)
	u64(uint64(len(kv)))
	for k, v := range kv {
		str(k)
		switch x := v.(type) {
		case string:
			u32(8)
			str(x)
		case []string:
			u32(9)
			u32(8)
			u64(uint64(len(x)))
			for _, s := range x {
				str(s)
			}
		case uint32:
			u32(4)
			u32(x)
		case bool:
			u32(7)
			if x {
				b = append(b, 1)
			} else {
				b = append(b, 0)
			}
		case []float32:
			u32(9)
			u32(6)
			u64(uint64(len(x)))
			for _, f := range x {
				u32(math.Float32bits(f))
			}
		default:
			t.Fatalf("minimalGGUF: unsupported %T", v)
		}
	}
	return b
}

// TestConcurrentEncode shares one tokenizer (and its word cache) between
// goroutines; run with -race.
func TestConcurrentEncode(t *testing.T) {
	tk := loadRef(t, "refdata", "tokenizers", "hf-qwen3")
	cases := readCases(t, shareddata.Path(t, "refdata", "tokenizers", "qwen3-npm.bilingual.jsonl"))
	var wg sync.WaitGroup
	errs := make(chan string, 4*len(cases))
	for g := 0; g < 4; g++ {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for _, c := range cases {
				if got := tk.Encode(c.Text, EncodeOptions{}); !slices.Equal(got, c.IDs) {
					errs <- c.Case
				}
			}
		}()
	}
	wg.Wait()
	close(errs)
	for c := range errs {
		t.Errorf("%s: wrong ids under concurrency", c)
	}
}
