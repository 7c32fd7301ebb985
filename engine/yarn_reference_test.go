package engine

import (
	"context"
	"fmt"
	"math"
	"os"
	"path/filepath"
	"regexp"
	"testing"

	"github.com/stretchr/testify/require"

	"github.com/valueexploration/valueexp/hooks"
	"github.com/valueexploration/valueexp/weights"
	"github.com/valueexploration/valueexp/weights/safetensors"
	"github.com/valueexploration/valueexp/weights/synth"
)

// yarnScaling is the YaRN reference model's rope scaling: Qwen2.5's
// long-context setting (factor 4 over 32768 original positions).
var yarnScaling = weights.RopeScaling{Type: "yarn", Factor: 4, OriginalMaxPositions: 32768}

// writeYarnSynth writes the YaRN reference model to dir: synth's tiny
// qwen2 (F32, seed 1) with yarnScaling.
func writeYarnSynth(t testing.TB, dir string) string {
	return writeRefSynth(t, dir, "qwen2-yarn.gguf", "qwen2", 0, func(s *synth.Shape) { s.RopeScaling = yarnScaling })
}

// qwen2HFNames maps GGUF layer tensor names to Qwen2's Hugging Face ones.
var qwen2HFNames = map[string]string{
	"attn_norm.weight":   "input_layernorm.weight",
	"attn_q.weight":      "self_attn.q_proj.weight",
	"attn_k.weight":      "self_attn.k_proj.weight",
	"attn_v.weight":      "self_attn.v_proj.weight",
	"attn_q.bias":        "self_attn.q_proj.bias",
	"attn_k.bias":        "self_attn.k_proj.bias",
	"attn_v.bias":        "self_attn.v_proj.bias",
	"attn_output.weight": "self_attn.o_proj.weight",
	"ffn_norm.weight":    "post_attention_layernorm.weight",
	"ffn_gate.weight":    "mlp.gate_proj.weight",
	"ffn_up.weight":      "mlp.up_proj.weight",
	"ffn_down.weight":    "mlp.down_proj.weight",
}

// yarnToHF writes the F32 qwen2 GGUF at path as a Hugging Face folder whose
// config carries the rope_scaling block Qwen2.5's model cards tell users to
// add.
func yarnToHF(t *testing.T, path string) string {
	t.Helper()
	w, err := weights.Open(path)
	require.NoError(t, err)
	defer w.Close()
	c := w.Config
	layerRe := regexp.MustCompile(`^blk\.(\d+)\.(.+)$`)
	var st []safetensors.Tensor
	for _, name := range w.Names() {
		tn := w.Tensors[name]
		require.Equal(t, weights.F32, tn.DType, name)
		var hf string
		switch name {
		case "token_embd.weight":
			hf = "model.embed_tokens.weight"
		case "output_norm.weight":
			hf = "model.norm.weight"
		default:
			m := layerRe.FindStringSubmatch(name)
			require.NotNil(t, m, name)
			h, ok := qwen2HFNames[m[2]]
			require.True(t, ok, name)
			hf = "model.layers." + m[1] + "." + h
		}
		st = append(st, safetensors.Tensor{Name: hf, DType: "F32", Shape: tn.Shape, Data: tn.Data})
	}
	cfg := map[string]any{
		"model_type": "qwen2", "architectures": []string{"Qwen2ForCausalLM"},
		"hidden_size": c.HiddenSize, "num_hidden_layers": c.Layers, "num_attention_heads": c.Heads,
		"num_key_value_heads": c.KVHeads, "intermediate_size": c.FFNSize, "vocab_size": c.VocabSize,
		"max_position_embeddings": c.ContextLength, "rms_norm_eps": c.NormEps, "rope_theta": c.RopeTheta,
		"hidden_act": "silu", "tie_word_embeddings": true, "use_sliding_window": false, "bos_token_id": 1, "eos_token_id": 2,
		"rope_scaling": map[string]any{"type": "yarn", "factor": 4.0, "original_max_position_embeddings": 32768},
	}
	return writeHFFolder(t, filepath.Join(t.TempDir(), "qwen2-yarn-hf"), cfg, st)
}

// TestYarnMatchesLlamaCpp runs the YaRN qwen2 reference model from the
// GGUF and from the Hugging Face folder and compares the logits, every
// layer's mlp.hook_act and mlp.hook_pre with llama.cpp b4748's: F32 within
// 1e-5 of max|ref|, the two files bit-identical. It also checks that the
// scaling matters: the same weights without it are far from the reference.
func TestYarnMatchesLlamaCpp(t *testing.T) {
	const tol = 1e-5
	b, err := os.ReadFile(filepath.Join("testdata", "phi3", "qwen2-tiny-yarn.llamacpp.safetensors"))
	require.NoError(t, err)
	ref, err := safetensors.Parse(b)
	require.NoError(t, err)
	r := refs{ref}
	toks := r.tokens(t, "tokens")
	gguf := writeYarnSynth(t, t.TempDir())
	want := r.floats(t, "logits")
	tail := func(x []float32, want []float32) []float32 { return x[len(x)-len(want):] }
	var first []float32
	for _, path := range []string{gguf, yarnToHF(t, gguf)} {
		m := mustLoad(t, path, 2)
		require.Equal(t, "yarn", m.Config.RopeScaling.Type)
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

	w, err := weights.Open(gguf)
	require.NoError(t, err)
	defer w.Close()
	w.Config.RopeScaling = weights.RopeScaling{}
	plain, err := New(w, Options{Threads: 2})
	require.NoError(t, err)
	defer plain.Close()
	if e := relErr(tail(prefill(t, plain, toks), want), want); e < 1e-3 {
		t.Errorf("without YaRN the logits are within %.2e of the reference: the test cannot tell the scaling apart", e)
	}
}

// TestYarnFrequencies checks yarnScale against values worked out by hand
// from the formulas of the YaRN paper for Qwen2.5's setting (theta 1e6,
// factor 4, original context 32768) on 32-dim heads: the correction range
// is pairs [5, 10], pair 0 keeps its frequency, pairs from 10 on are
// divided by 4, pair 7 blends 3/5 kept and 2/5 interpolated, and the
// cosines are scaled by 1 + 0.1·ln 4.
func TestYarnFrequencies(t *testing.T) {
	c := weights.Config{RopeDim: 32, RopeTheta: 1e6, RopeScaling: yarnScaling}
	inv := plainInvFreq(c)
	orig := append([]float64(nil), inv...)
	ms := yarnScale(inv, c)
	require.InDelta(t, 1+0.1*math.Log(4), ms, 1e-15)
	require.Equal(t, orig[0], inv[0])
	require.Equal(t, orig[5], inv[5])
	require.InDelta(t, orig[7]*(0.6+0.4/4), inv[7], 1e-18)
	for j := 10; j < 16; j++ {
		require.InDelta(t, orig[j]/4, inv[j], 1e-18, "pair %d", j)
	}
}
