package weights

import (
	"fmt"
	"math"
	"path/filepath"
	"slices"
	"testing"

	"github.com/valueexploration/valueexp/internal/shareddata"
)

// readmeModels is the hyperparameter table of refdata/README.md §3, typed in
// from the README (an independent source), with the files that hold each model.
var readmeModels = []struct {
	dir, gguf                                           string
	arch                                                string
	hidden, layers, heads, kvHeads, headDim, ffn, vocab int
	theta, eps                                          float64
	tied, bias, qkNorm                                  bool
	params                                              int64
}{
	{"stories260K", "stories260K.gguf", "llama", 64, 5, 8, 4, 8, 172, 512, 10000, 1e-5, true, false, false, 0},
	{"llama-tiny", "llama-tiny.gguf", "llama", 64, 3, 4, 2, 16, 160, 512, 10000, 1e-5, false, false, false, 195008},
	{"qwen2-tiny", "qwen2-tiny.gguf", "qwen2", 64, 3, 4, 2, 16, 160, 512, 1e6, 1e-6, true, true, false, 162624},
	{"qwen3-tiny", "qwen3-tiny.gguf", "qwen3", 64, 3, 4, 2, 32, 160, 512, 1e6, 1e-6, true, false, true, 199296},
	{"llama256", "llama256-F16.gguf", "llama", 256, 2, 4, 2, 64, 512, 512, 10000, 1e-5, false, false, false, 1443072},
}

func TestOpenAgreesWithReadme(t *testing.T) {
	for _, want := range readmeModels {
		for _, path := range []string{
			filepath.Join("refdata", "models", want.dir, want.gguf),
			filepath.Join("refdata", "models", want.dir, "hf"),
		} {
			t.Run(path, func(t *testing.T) {
				m, err := Open(shareddata.Path(t, filepath.SplitList(path)...))
				if err != nil {
					t.Fatal(err)
				}
				defer m.Close()
				c := m.Config
				got := fmt.Sprint(c.Arch, c.HiddenSize, c.Layers, c.Heads, c.KVHeads, c.HeadDim, c.FFNSize, c.VocabSize, c.AttnBias, c.QKNorm)
				exp := fmt.Sprint(want.arch, want.hidden, want.layers, want.heads, want.kvHeads, want.headDim, want.ffn, want.vocab, want.bias, want.qkNorm)
				if got != exp {
					t.Errorf("config %s, want %s", got, exp)
				}
				if c.RopeTheta != want.theta || math.Abs(c.NormEps-want.eps) > 1e-12 {
					t.Errorf("theta %g eps %g, want %g %g", c.RopeTheta, c.NormEps, want.theta, want.eps)
				}
				// stories260K's GGUF keeps a copy of the embeddings as output.weight.
				if c.TiedEmbeddings != want.tied && !(want.dir == "stories260K" && m.Format == "gguf") {
					t.Errorf("tied %v, want %v", c.TiedEmbeddings, want.tied)
				}
				if want.params != 0 && m.Params() != want.params {
					t.Errorf("params %d, want %d", m.Params(), want.params)
				}
				if c.BOS != 1 || len(c.EOS) == 0 || c.EOS[0] != 2 {
					t.Errorf("bos %d eos %v, want 1 [2]", c.BOS, c.EOS)
				}
			})
		}
	}
}

// TestGGUFMatchesHF checks that a GGUF and the Hugging Face folder holding the
// same weights give identical float32 tensors after name mapping, including
// the q/k rows GGUF permutes for llama.
func TestGGUFMatchesHF(t *testing.T) {
	for _, c := range []struct{ dir, gguf string }{
		{"stories260K", "stories260K.gguf"},
		{"llama-tiny", "llama-tiny.gguf"},
		{"qwen2-tiny", "qwen2-tiny.gguf"},
		{"qwen3-tiny", "qwen3-tiny.gguf"},
		{"llama256", "llama256-F16.gguf"},
	} {
		t.Run(c.dir, func(t *testing.T) {
			g, err := Open(shareddata.Path(t, "refdata", "models", c.dir, c.gguf))
			if err != nil {
				t.Fatal(err)
			}
			defer g.Close()
			h, err := Open(shareddata.Path(t, "refdata", "models", c.dir, "hf"))
			if err != nil {
				t.Fatal(err)
			}
			defer h.Close()
			compared := 0
			for _, name := range h.Names() {
				ht := h.Tensors[name]
				gt, ok := g.Tensors[name]
				if !ok {
					t.Errorf("tensor %q in HF folder but not in GGUF", name)
					continue
				}
				if !slices.Equal(ht.Shape, gt.Shape) {
					t.Errorf("tensor %q: shape %v (HF) vs %v (GGUF)", name, ht.Shape, gt.Shape)
					continue
				}
				hv, err := ht.Float32()
				if err != nil {
					t.Fatal(err)
				}
				gv, err := gt.Float32()
				if err != nil {
					t.Fatal(err)
				}
				for i := range hv {
					if math.Float32bits(hv[i]) != math.Float32bits(gv[i]) {
						t.Errorf("tensor %q: element %d differs: HF %g, GGUF %g", name, i, hv[i], gv[i])
						break
					}
				}
				compared++
			}
			if compared < 9 {
				t.Fatalf("only %d tensors compared", compared)
			}
		})
	}
}

func TestQKRowOrderIsReadmeFormula(t *testing.T) {
	// README: GGUF row h*D+2i is HF row h*D+i; GGUF row h*D+2i+1 is HF row h*D+D/2+i.
	const heads, D = 3, 8
	order := qkRowOrder(heads, D)
	for h := 0; h < heads; h++ {
		for i := 0; i < D/2; i++ {
			if order[h*D+i] != int32(h*D+2*i) || order[h*D+D/2+i] != int32(h*D+2*i+1) {
				t.Fatalf("head %d pair %d: order %v", h, i, order[h*D:(h+1)*D])
			}
		}
	}
}
