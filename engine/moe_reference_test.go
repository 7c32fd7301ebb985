package engine

import (
	"context"
	"fmt"
	"os"
	"path/filepath"
	"testing"

	"github.com/stretchr/testify/require"

	"github.com/valueexploration/valueexp/hooks"
	"github.com/valueexploration/valueexp/internal/testmodel"
	"github.com/valueexploration/valueexp/weights/safetensors"
)

// moeRefs are the mixture-of-experts reference dumps in testdata/moe
// (README.md there says how each was made); the synth model (shape tiny,
// 4 layers, F32, seed 1) is rewritten by the test byte for byte.
var moeRefs = []struct{ arch, file string }{
	{"qwen2moe", "qwen2moe-tiny-4L.llamacpp.safetensors"}, // llama.cpp b4748
	{"qwen2moe", "qwen2moe-tiny-4L.torch.safetensors"},    // testdata/torchref/moe.py
	{"mixtral", "mixtral-tiny-4L.llamacpp.safetensors"},
	{"mixtral", "mixtral-tiny-4L.torch.safetensors"},
	{"qwen3moe", "qwen3moe-tiny-4L.torch.safetensors"}, // llama.cpp b4748 has no qwen3moe
}

// writeMoESynth writes the synth model of a mixture-of-experts reference.
func writeMoESynth(t testing.TB, arch string, layers int) string {
	return writeRefSynth(t, t.TempDir(), arch+".gguf", arch, layers, nil)
}

// expertRows records, per (layer, expert, position), the row an expert's
// hook_act saw, and the shared expert's rows per (layer, position).
type expertRows struct {
	act    map[[3]int][]float32
	shared map[[2]int][]float32
}

func newExpertRows() *expertRows {
	return &expertRows{act: map[[3]int][]float32{}, shared: map[[2]int][]float32{}}
}

func (x *expertRows) Observe(p hooks.Point, t hooks.Tensor, rows *hooks.Rows) {
	for r := 0; r < t.Rows; r++ {
		row := append([]float32(nil), t.Row(r)...)
		if p.Site == hooks.SiteSharedAct {
			x.shared[[2]int{p.Layer, int(rows.Pos[r])}] = row
			continue
		}
		key := [3]int{p.Layer, p.Expert, int(rows.Pos[r])}
		if _, dup := x.act[key]; dup {
			panic(fmt.Sprintf("%v: position %d seen twice", p, rows.Pos[r]))
		}
		x.act[key] = row
	}
}

// TestMoEMatchesReferences runs the Qwen2-MoE, Qwen3-MoE and Mixtral synth
// models, from the GGUF and from the Hugging Face folder, on the reference
// prompt, and compares the logits, every layer's router logits, the experts
// each token was routed to (through which experts' hook_act saw it), each
// chosen expert's hook_act row and the shared expert's, with llama.cpp's and
// the PyTorch reference's dumps: F32 within 1e-5 of max|ref|, the two files
// bit-identical.
func TestMoEMatchesReferences(t *testing.T) {
	const tol = 1e-5
	for _, rc := range moeRefs {
		t.Run(rc.file, func(t *testing.T) {
			b, err := os.ReadFile(filepath.Join("testdata", "moe", rc.file))
			require.NoError(t, err)
			ref, err := safetensors.Parse(b)
			require.NoError(t, err)
			r := refs{ref}
			toks := r.tokens(t, "tokens")
			n := len(toks)
			gguf := writeMoESynth(t, rc.arch, 4)
			var first []float32
			for _, path := range []string{gguf, testmodel.MoEToHF(t, gguf)} {
				m := mustLoad(t, path, 2)
				c := m.Config
				require.Equal(t, rc.arch, c.Arch)
				require.NotNil(t, c.MoE)
				E, K, F := c.MoE.Experts, c.MoE.Used, c.MoE.FFN
				hk := hooks.New(c.Layers)
				router := capture{}
				ex := newExpertRows()
				require.NoError(t, hk.Observe("blocks.*.mlp.hook_router_logits", router))
				require.NoError(t, hk.Observe("blocks.*.mlp.experts.*.hook_act", ex))
				if c.MoE.SharedFFN > 0 {
					require.NoError(t, hk.Observe("blocks.*.mlp.shared_expert.hook_act", ex))
				}
				out, err := m.Forward(context.Background(), []Input{{Seq: m.NewSequence(), Tokens: toks, Logits: AllLogits}}, RunOptions{Hooks: hk})
				require.NoError(t, err)
				if first == nil {
					first = out[0]
				} else {
					bitsEqual(t, "Hugging Face folder vs GGUF logits", out[0], first)
				}
				// llama.cpp computes only the last row of the logits and
				// of the last layer: compare the rows the reference has.
				tail := func(x, want []float32) []float32 { return x[len(x)-len(want):] }
				want := r.floats(t, "logits")
				e := relErr(tail(out[0], want), want)
				t.Logf("%s: logits (%d rows) rel err %.2e", filepath.Base(path), len(want)/c.VocabSize, e)
				require.LessOrEqual(t, e, tol, "logits")
				worst := 0.0
				for l := 0; l < c.Layers; l++ {
					wr := r.floats(t, fmt.Sprintf("router.%d", l))
					e := relErr(tail(router[fmt.Sprintf("blocks.%d.mlp.hook_router_logits", l)], wr), wr)
					require.LessOrEqual(t, e, tol, "layer %d router logits", l)
					worst = max(worst, e)
					topk := r.tokens(t, fmt.Sprintf("topk.%d", l))
					act := r.floats(t, fmt.Sprintf("act.%d", l))
					rows := len(topk) / K
					for i := 0; i < rows; i++ {
						pos := n - rows + i
						for k := 0; k < K; k++ {
							e := int(topk[i*K+k])
							require.Less(t, e, E)
							got, ok := ex.act[[3]int{l, e, pos}]
							require.True(t, ok, "layer %d position %d: the reference routes to expert %d (rank %d), the engine does not", l, pos, e, k)
							wa := act[(i*K+k)*F : (i*K+k+1)*F]
							e2 := relErr(got, wa)
							require.LessOrEqual(t, e2, tol, "layer %d position %d expert %d hook_act", l, pos, e)
							worst = max(worst, e2)
						}
					}
					routed := 0
					for key := range ex.act {
						if key[0] == l && key[2] >= n-rows {
							routed++
						}
					}
					require.Equal(t, rows*K, routed, "layer %d: rows the experts saw", l)
					if r.has(fmt.Sprintf("shared.%d", l)) {
						ws := r.floats(t, fmt.Sprintf("shared.%d", l))
						S := c.MoE.SharedFFN
						for i := 0; i < len(ws)/S; i++ {
							pos := n - len(ws)/S + i
							e := relErr(ex.shared[[2]int{l, pos}], ws[i*S:(i+1)*S])
							require.LessOrEqual(t, e, tol, "layer %d position %d shared act", l, pos)
							worst = max(worst, e)
						}
					}
				}
				t.Logf("%s: router logits and expert acts of %d layers, worst rel err %.2e", filepath.Base(path), c.Layers, worst)
			}
		})
	}
}
