package engine

import (
	"context"
	"fmt"
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"testing"

	"github.com/stretchr/testify/require"

	"github.com/valueexploration/valueexp/hooks"
	"github.com/valueexploration/valueexp/weights"
	"github.com/valueexploration/valueexp/weights/safetensors"
	"github.com/valueexploration/valueexp/weights/synth"
)

// phiRefs are the Phi-3 reference dumps in testdata/phi3 (README.md there
// says how each was made with llama.cpp b4748): the random-weight model is
// rewritten here by writePhiSynth, byte for byte the file the dump was made
// from, and run with the context length llama.cpp was given (which picks
// LongRoPE's short or long factors).
var phiRefs = []struct {
	file, variant string
	ctx           int
}{
	{"phi3-tiny-short.llamacpp.safetensors", "longrope", 256}, // -c 256: short factors
	{"phi3-tiny-long.llamacpp.safetensors", "longrope", 1024}, // -c 1024: long factors
	{"phi3-tiny-partial.llamacpp.safetensors", "partial", 256},
}

// writePhiSynth writes a Phi-3 reference model (synth shape tiny, F32, seed
// 1) to dir: variant "longrope" is the toy as synth makes it (LongRoPE over
// 4x its 512 original positions, a window of 5); "partial" rotates 24 of
// each head's 32 dimensions, without rope scaling (llama.cpp b4748 reads
// LongRoPE factors only for fully rotated heads).
func writePhiSynth(t testing.TB, dir, variant string) string {
	return writeRefSynth(t, dir, "phi3-"+variant+".gguf", "phi3", 0, func(s *synth.Shape) {
		if variant == "partial" {
			s.RopeDim, s.RopeScaling = 24, weights.RopeScaling{}
		}
	})
}

// TestWritePhiReferenceModels writes the reference models to the folder
// named by VALUEEXP_WRITE_PHI_REFS, for llama.cpp to run (see
// testdata/phi3/README.md); without it, it is skipped.
func TestWritePhiReferenceModels(t *testing.T) {
	dir := os.Getenv("VALUEEXP_WRITE_PHI_REFS")
	if dir == "" {
		t.Skip("VALUEEXP_WRITE_PHI_REFS not set: nothing to write")
	}
	for _, v := range []string{"longrope", "partial"} {
		t.Log(writePhiSynth(t, dir, v))
	}
	t.Log(writeYarnSynth(t, dir))
}

// phiHFNames maps GGUF layer tensor names to Phi-3's Hugging Face ones,
// written out here (not taken from package weights) so the test checks the
// mapping. The fused tensors are rebuilt from the split views.
var phiHFNames = map[string]string{
	"attn_norm.weight":   "input_layernorm.weight",
	"attn_output.weight": "self_attn.o_proj.weight",
	"ffn_norm.weight":    "post_attention_layernorm.weight",
	"ffn_down.weight":    "mlp.down_proj.weight",
}

// phiToHF writes the F32 Phi-3 GGUF at path as a Hugging Face folder:
// fused qkv_proj and gate_up_proj, the LongRoPE factors in rope_scaling and
// the original context beside it, as Phi-3.5's config.json has them.
func phiToHF(t *testing.T, path string) string {
	t.Helper()
	w, err := weights.Open(path)
	require.NoError(t, err)
	defer w.Close()
	c := w.Config
	layerRe := regexp.MustCompile(`^blk\.(\d+)\.(.+)$`)
	var st []safetensors.Tensor
	add := func(name string, shape []int, parts ...string) {
		var data []byte
		for _, p := range parts {
			tn := w.Tensors[p]
			require.NotNil(t, tn, p)
			require.Equal(t, weights.F32, tn.DType, p)
			data = append(data, tn.Data...)
		}
		st = append(st, safetensors.Tensor{Name: name, DType: "F32", Shape: shape, Data: data})
	}
	add("model.embed_tokens.weight", w.Tensors["token_embd.weight"].Shape, "token_embd.weight")
	add("model.norm.weight", w.Tensors["output_norm.weight"].Shape, "output_norm.weight")
	add("lm_head.weight", w.Tensors["output.weight"].Shape, "output.weight")
	q, kv := c.Heads*c.HeadDim, c.KVHeads*c.HeadDim
	for l := 0; l < c.Layers; l++ {
		b, h := fmt.Sprintf("blk.%d.", l), fmt.Sprintf("model.layers.%d.", l)
		add(h+"self_attn.qkv_proj.weight", []int{q + 2*kv, c.HiddenSize}, b+"attn_q.weight", b+"attn_k.weight", b+"attn_v.weight")
		add(h+"mlp.gate_up_proj.weight", []int{2 * c.FFNSize, c.HiddenSize}, b+"ffn_gate.weight", b+"ffn_up.weight")
	}
	for _, name := range w.Names() {
		m := layerRe.FindStringSubmatch(name)
		if m == nil {
			continue
		}
		if hf, ok := phiHFNames[m[2]]; ok {
			add("model.layers."+m[1]+"."+hf, w.Tensors[name].Shape, name)
		}
	}
	cfg := map[string]any{
		"model_type": "phi3", "architectures": []string{"Phi3ForCausalLM"},
		"hidden_size": c.HiddenSize, "num_hidden_layers": c.Layers, "num_attention_heads": c.Heads,
		"num_key_value_heads": c.KVHeads, "intermediate_size": c.FFNSize, "vocab_size": c.VocabSize,
		"max_position_embeddings": c.ContextLength, "rms_norm_eps": c.NormEps, "rope_theta": c.RopeTheta,
		"sliding_window": c.SlidingWindow, "hidden_act": "silu", "tie_word_embeddings": false,
		"bos_token_id": 1, "eos_token_id": 2, "attention_bias": false, "rope_scaling": nil,
	}
	if c.RopeDim != c.HeadDim {
		cfg["partial_rotary_factor"] = float64(c.RopeDim) / float64(c.HeadDim)
	}
	if rs := c.RopeScaling; rs.Type == "longrope" {
		cfg["original_max_position_embeddings"] = rs.OriginalMaxPositions
		cfg["rope_scaling"] = map[string]any{"type": "longrope", "short_factor": rs.ShortFactor, "long_factor": rs.LongFactor}
	}
	return writeHFFolder(t, filepath.Join(t.TempDir(), "phi3-hf"), cfg, st)
}

// TestPhi3MatchesLlamaCpp runs the Phi-3 reference models, from the GGUF
// and from the Hugging Face folder, on the reference prompt and compares
// the logits and every layer's mlp.hook_act (SiLU of the gate) and
// mlp.hook_pre (the gate) with llama.cpp's: F32 within 1e-5 of max|ref|,
// and the two files bit-identical. The short- and long-factor dumps come
// from one model run with two context lengths.
func TestPhi3MatchesLlamaCpp(t *testing.T) {
	const tol = 1e-5
	dir := t.TempDir()
	for _, rc := range phiRefs {
		t.Run(rc.file, func(t *testing.T) {
			b, err := os.ReadFile(filepath.Join("testdata", "phi3", rc.file))
			require.NoError(t, err)
			ref, err := safetensors.Parse(b)
			require.NoError(t, err)
			r := refs{ref}
			toks := r.tokens(t, "tokens")
			gguf := filepath.Join(dir, "phi3-"+rc.variant+".gguf")
			if _, err := os.Stat(gguf); err != nil {
				gguf = writePhiSynth(t, dir, rc.variant)
			}
			var first []float32
			for _, path := range []string{gguf, phiToHF(t, gguf)} {
				m, err := Load(path, Options{Threads: 2, ContextLength: rc.ctx})
				require.NoError(t, err)
				defer m.Close()
				require.Equal(t, "phi3", m.Config.Arch)
				hk := hooks.New(m.Config.Layers)
				got := capture{}
				require.NoError(t, hk.Observe("blocks.*.mlp.hook_act", got))
				require.NoError(t, hk.Observe("blocks.*.mlp.hook_pre", got))
				out, err := m.Forward(context.Background(), []Input{{Seq: m.NewSequence(), Tokens: toks, Logits: AllLogits}}, RunOptions{Hooks: hk})
				require.NoError(t, err)
				if first == nil {
					first = out[0]
				} else {
					bitsEqual(t, "Hugging Face folder vs GGUF logits", out[0], first)
				}
				// llama.cpp computes only the last row of the logits and of
				// the last layer: compare the rows the reference has.
				tail := func(x []float32, want []float32) []float32 { return x[len(x)-len(want):] }
				want := r.floats(t, "logits")
				e := relErr(tail(out[0], want), want)
				t.Logf("%s: logits rel err %.2e", filepath.Base(path), e)
				if e > tol {
					t.Errorf("%s logits: relative error %.2e > %.0e", path, e, tol)
				}
				worst := 0.0
				for l := 0; l < m.Config.Layers; l++ {
					for _, site := range []struct{ ref, hook string }{{"act", "hook_act"}, {"pre", "hook_pre"}} {
						want := r.floats(t, fmt.Sprintf("%s.%d", site.ref, l))
						e := relErr(tail(got[fmt.Sprintf("blocks.%d.mlp.%s", l, site.hook)], want), want)
						worst = max(worst, e)
						if e > tol {
							t.Errorf("%s layer %d %s: relative error %.2e > %.0e", path, l, site.hook, e, tol)
						}
					}
				}
				t.Logf("%s: hook_act and hook_pre of %d layers, worst rel err %.2e", filepath.Base(path), m.Config.Layers, worst)
			}
		})
	}
}

// TestLongRopeFactorsMatter checks that the short- and long-factor
// references differ (the context length changes the rotation), so that
// matching both is a test of the choice.
func TestLongRopeFactorsMatter(t *testing.T) {
	var logits [2][]float32
	for i, f := range []string{"phi3-tiny-short.llamacpp.safetensors", "phi3-tiny-long.llamacpp.safetensors"} {
		b, err := os.ReadFile(filepath.Join("testdata", "phi3", f))
		require.NoError(t, err)
		ref, err := safetensors.Parse(b)
		require.NoError(t, err)
		logits[i] = refs{ref}.floats(t, "logits")
	}
	require.Greater(t, relErr(logits[0], logits[1]), 1e-3)
}

// TestLongRopeShortContextLimit checks that a model running LongRoPE's
// short factors refuses a sequence longer than the original context,
// naming the limit and the option that lifts it, and that with a longer
// context length (the long factors) the same sequence runs.
func TestLongRopeShortContextLimit(t *testing.T) {
	path := writePhiSynth(t, t.TempDir(), "longrope")
	toks := randTokens(3, 513, 2000) // the toy's original context is 512
	m, err := Load(path, Options{Threads: 2})
	require.NoError(t, err)
	defer m.Close()
	_, err = m.Forward(context.Background(), []Input{{Seq: m.NewSequence(), Tokens: toks}}, RunOptions{})
	require.Error(t, err)
	for _, s := range []string{"513 tokens", "512 positions", "ContextLength", "-c above 512"} {
		require.True(t, strings.Contains(err.Error(), s), "%q lacks %q", err, s)
	}
	seq := m.NewSequence()
	_, err = m.Forward(context.Background(), []Input{{Seq: seq, Tokens: toks[:512]}}, RunOptions{})
	require.NoError(t, err, "512 tokens fit the original context")
	_, err = m.Forward(context.Background(), []Input{{Seq: seq, Tokens: toks[512:]}}, RunOptions{})
	require.Error(t, err, "decoding past the original context")

	long, err := Load(path, Options{Threads: 2, ContextLength: 1024})
	require.NoError(t, err)
	defer long.Close()
	_, err = long.Forward(context.Background(), []Input{{Seq: long.NewSequence(), Tokens: toks}}, RunOptions{})
	require.NoError(t, err)
}
