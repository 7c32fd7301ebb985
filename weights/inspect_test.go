package weights

import (
	"bytes"
	"encoding/json"
	"math"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/valueexploration/valueexp/internal/shareddata"
	"github.com/valueexploration/valueexp/weights/safetensors"
)

// TestDescribeAgreesWithReadme describes every reference model in both
// formats and checks the report against the README table (readmeModels).
func TestDescribeAgreesWithReadme(t *testing.T) {
	for _, want := range readmeModels {
		for _, format := range []string{"gguf", "safetensors"} {
			t.Run(want.dir+"/"+format, func(t *testing.T) {
				path := shareddata.Path(t, "refdata", "models", want.dir, "hf")
				if format == "gguf" {
					path = shareddata.Path(t, "refdata", "models", want.dir, want.gguf)
				}
				m, err := Open(path)
				if err != nil {
					t.Fatal(err)
				}
				defer m.Close()
				r := Describe(m)
				// The JSON form is what tools read, so check that one.
				b, err := json.Marshal(r)
				if err != nil {
					t.Fatal(err)
				}
				var got Report
				if err := json.Unmarshal(b, &got); err != nil {
					t.Fatal(err)
				}
				c := got.Config
				for _, f := range []struct {
					name      string
					got, want any
				}{
					{"format", got.Format, format},
					{"path", got.Path, path},
					{"arch", c.Arch, want.arch},
					{"hidden", c.HiddenSize, want.hidden},
					{"layers", c.Layers, want.layers},
					{"heads", c.Heads, want.heads},
					{"kv heads", c.KVHeads, want.kvHeads},
					{"head dim", c.HeadDim, want.headDim},
					{"ffn", c.FFNSize, want.ffn},
					{"vocab", c.VocabSize, want.vocab},
					{"theta", c.RopeTheta, want.theta},
					{"bias", c.AttnBias, want.bias},
					{"qk norm", c.QKNorm, want.qkNorm},
				} {
					if f.got != f.want {
						t.Errorf("%s = %v, want %v", f.name, f.got, f.want)
					}
				}
				if math.Abs(c.NormEps-want.eps) > 1e-12 {
					t.Errorf("eps = %g, want %g", c.NormEps, want.eps)
				}
				// stories260K's GGUF keeps a copy of the embeddings as
				// output.weight (README §3), so it is untied there.
				tied, params := want.tied, want.params
				if want.dir == "stories260K" {
					// README gives "260K"; the HF folder omits lm_head.
					params = 260032
					if format == "gguf" {
						tied, params = false, 260032+512*64
					}
				}
				if c.TiedEmbeddings != tied {
					t.Errorf("tied = %v, want %v", c.TiedEmbeddings, tied)
				}
				if got.Params != params {
					t.Errorf("params = %d, want %d", got.Params, params)
				}
				st, err := os.Stat(path)
				if err != nil {
					t.Fatal(err)
				}
				wantSize := st.Size()
				if format == "safetensors" {
					if st, err = os.Stat(filepath.Join(path, "model.safetensors")); err != nil {
						t.Fatal(err)
					}
					wantSize = st.Size()
				}
				if got.FileSize != wantSize {
					t.Errorf("file size %d, want %d", got.FileSize, wantSize)
				}
				// README §3: every GGUF holds the 512-token SPM vocab
				// ("llama"); the HF folders ship no tokenizer files.
				wantTok := TokenizerReport{Kind: "none"}
				if format == "gguf" {
					wantTok = TokenizerReport{Kind: "gguf", Model: "llama", Tokens: 512}
				}
				if got.Tokenizer != wantTok {
					t.Errorf("tokenizer %+v, want %+v", got.Tokenizer, wantTok)
				}
				if got.ChatTemplate {
					t.Error("chat template reported, the reference models have none")
				}
				var sum int64
				var count int
				for _, tr := range got.Tensors {
					sum += tr.Bytes
					if tr.Permuted != (format == "gguf" && want.arch == "llama" && (strings.HasSuffix(tr.Name, "attn_q.weight") || strings.HasSuffix(tr.Name, "attn_k.weight"))) {
						t.Errorf("tensor %s: permuted = %v", tr.Name, tr.Permuted)
					}
					if format == "safetensors" && tr.FileName == "" {
						t.Errorf("tensor %s: no HF file name", tr.Name)
					}
				}
				for _, n := range got.DTypeCounts {
					count += n
				}
				if count != len(got.Tensors) || len(got.Tensors) != len(m.Tensors) {
					t.Errorf("dtype counts %v for %d tensors", got.DTypeCounts, len(got.Tensors))
				}
				if sum > got.FileSize || sum < got.FileSize*9/10 {
					t.Errorf("tensor bytes %d for a %d-byte file", sum, got.FileSize)
				}
			})
		}
	}
}

// TestDescribeQuantizedMix checks the dtype counts against README §4, which
// lists what llama-quantize produced for llama-tiny-Q4_K_M: Q5_0 for 20
// tensors, Q8_0 for 3, and the 7 norms stay F32.
func TestDescribeQuantizedMix(t *testing.T) {
	m, err := Open(shareddata.Path(t, "refdata", "models", "llama-tiny", "llama-tiny-Q4_K_M.gguf"))
	if err != nil {
		t.Fatal(err)
	}
	defer m.Close()
	r := Describe(m)
	want := map[string]int{"Q5_0": 20, "Q8_0": 3, "F32": 7}
	if len(r.DTypeCounts) != len(want) {
		t.Errorf("dtype counts %v, want %v", r.DTypeCounts, want)
	}
	for d, n := range want {
		if r.DTypeCounts[d] != n {
			t.Errorf("dtype counts %v, want %v", r.DTypeCounts, want)
		}
	}
	for _, tr := range r.Tensors {
		if (tr.Name == "output.weight" || tr.Name == "blk.2.attn_v.weight" || tr.Name == "blk.2.ffn_down.weight") != (tr.DType == "Q8_0") {
			t.Errorf("tensor %s is %s; README names output, blk.2.attn_v and blk.2.ffn_down as the Q8_0 ones", tr.Name, tr.DType)
		}
	}
}

func TestDescribeTokenizerAndTemplate(t *testing.T) {
	s := tinyLlama()
	t.Run("gguf", func(t *testing.T) {
		kv := append(s.ggufKV(), KV{"tokenizer.ggml.pre", "qwen2"}, KV{"tokenizer.chat_template", "{{ messages }}"})
		kv = setKV(kv, "tokenizer.ggml.model", "gpt2")
		m, err := Open(writeFile(t, t.TempDir(), "m.gguf", ggufBytes(t, kv, s.ggufTensors())))
		if err != nil {
			t.Fatal(err)
		}
		defer m.Close()
		r := Describe(m)
		if want := (TokenizerReport{Kind: "gguf", Model: "gpt2", Pre: "qwen2", Tokens: 16}); r.Tokenizer != want || !r.ChatTemplate || r.GGUFVersion != 3 {
			t.Errorf("tokenizer %+v template %v version %d, want %+v, true, 3", r.Tokenizer, r.ChatTemplate, r.GGUFVersion, want)
		}
	})
	for _, c := range []struct {
		name     string
		files    map[string]string
		kind     string
		template bool
		note     string
	}{
		{"bare", nil, "none", false, ""},
		{"tokenizer.json, template string", map[string]string{"tokenizer.json": "{}", "tokenizer_config.json": `{"chat_template": "{{ x }}"}`}, "tokenizer.json", true, ""},
		{"named templates", map[string]string{"tokenizer.json": "{}", "tokenizer_config.json": `{"chat_template": [{"name": "default", "template": "t"}]}`}, "tokenizer.json", true, ""},
		{"empty template", map[string]string{"tokenizer_config.json": `{"chat_template": ""}`}, "none", false, ""},
		{"no template key", map[string]string{"tokenizer_config.json": `{"bos_token": "<s>"}`}, "none", false, ""},
		{"jinja file", map[string]string{"tokenizer.model": "x", "chat_template.jinja": "{{ x }}"}, "tokenizer.model", true, ""},
		{"broken tokenizer_config", map[string]string{"tokenizer_config.json": `{"chat_template": `}, "none", false, "tokenizer_config.json: bad JSON"},
		{"template a number", map[string]string{"tokenizer_config.json": `{"chat_template": 5}`}, "none", false, "neither a string nor a list"},
	} {
		t.Run(c.name, func(t *testing.T) {
			dir := writeHFFolder(t, s.hfConfig(), s.hfTensors())
			for name, body := range c.files {
				writeFile(t, dir, name, []byte(body))
			}
			m, err := Open(dir)
			if err != nil {
				t.Fatal(err)
			}
			defer m.Close()
			r := Describe(m)
			if r.Tokenizer.Kind != c.kind || r.ChatTemplate != c.template {
				t.Errorf("tokenizer %q template %v, want %q %v", r.Tokenizer.Kind, r.ChatTemplate, c.kind, c.template)
			}
			if note := strings.Join(r.Notes, "; "); (c.note == "") != (note == "") || !strings.Contains(note, c.note) {
				t.Errorf("notes %q, want %q", note, c.note)
			}
		})
	}
}

func TestDescribeShardedAndText(t *testing.T) {
	m, err := Open(writeSharded(t, func(map[string]string, map[string][]safetensors.Tensor) {}))
	if err != nil {
		t.Fatal(err)
	}
	defer m.Close()
	r := Describe(m)
	var buf bytes.Buffer
	if err := r.WriteText(&buf); err != nil {
		t.Fatal(err)
	}
	text := buf.String()
	for _, want := range []string{
		"format:            safetensors\n",
		"heads / kv heads:  2 / 1\n",
		"parameters:        " + groupDigits(m.Params()) + "\n",
		"rms norm eps:      1e-05\n",
		"output head:       untied (output.weight)\n",
		"dtypes:            F32 21\n",
		"\n21 tensors:\n",
		"blk.1.ffn_up.weight       F32    [16 8]  512    model.layers.1.mlp.up_proj.weight in model-00002-of-00002.safetensors\n",
	} {
		if !strings.Contains(text, want) {
			t.Errorf("text lacks %q:\n%s", want, text)
		}
	}
}

func TestGroupDigits(t *testing.T) {
	for n, want := range map[int64]string{0: "0", 7: "7", 999: "999", 1000: "1,000", 1443072: "1,443,072", -1234567: "-1,234,567"} {
		if got := groupDigits(n); got != want {
			t.Errorf("groupDigits(%d) = %q, want %q", n, got, want)
		}
	}
}
