package engine

import (
	"context"
	"fmt"
	"os"
	"path/filepath"
	"regexp"
	"testing"

	"github.com/stretchr/testify/require"

	"github.com/valueexploration/valueexp/hooks"
	"github.com/valueexploration/valueexp/weights"
	"github.com/valueexploration/valueexp/weights/safetensors"
)

// glmRefs are the GLM-4 reference dumps in testdata/glm (README.md there
// says how each was made): the random-weight model is rewritten here by
// synth from its shape and seed, byte for byte the file the dump was made
// from.
var glmRefs = []struct {
	arch, file string
	layers     int
}{
	{"chatglm", "chatglm-tiny.llamacpp.safetensors", 4}, // llama.cpp b4748
	{"chatglm", "chatglm-tiny.torch.safetensors", 4},    // testdata/torchref/glm.py
	{"glm4", "glm4-tiny.torch.safetensors", 4},          // testdata/torchref/glm.py
}

// writeGLMSynth writes the synth model of a GLM reference (shape tiny,
// F32, seed 1) and returns its path.
func writeGLMSynth(t *testing.T, arch string, layers int) string {
	return writeRefSynth(t, t.TempDir(), arch+".gguf", arch, layers, nil)
}

// glmHFNames maps GGUF layer tensor names to Hugging Face GLM ones, written
// out here (not taken from package weights) so the test checks the
// mapping. ffn_gate and ffn_up are fused into mlp.gate_up_proj.
var glmHFNames = map[string]string{
	"attn_norm.weight":           "input_layernorm.weight",
	"attn_q.weight":              "self_attn.q_proj.weight",
	"attn_k.weight":              "self_attn.k_proj.weight",
	"attn_v.weight":              "self_attn.v_proj.weight",
	"attn_q.bias":                "self_attn.q_proj.bias",
	"attn_k.bias":                "self_attn.k_proj.bias",
	"attn_v.bias":                "self_attn.v_proj.bias",
	"attn_output.weight":         "self_attn.o_proj.weight",
	"post_attention_norm.weight": "post_self_attn_layernorm.weight",
	"ffn_norm.weight":            "post_attention_layernorm.weight",
	"ffn_down.weight":            "mlp.down_proj.weight",
	"post_ffw_norm.weight":       "post_mlp_layernorm.weight",
}

// glmToHF writes the F32 GLM GGUF at path as a Hugging Face folder the way
// transformers stores GLM-4-9B-chat-hf (model_type "glm", no
// partial_rotary_factor: the config class's default 0.5 applies) or
// GLM-4-9B-0414 ("glm4"): q/k/v separate, gate and up fused in
// gate_up_proj, gate first.
func glmToHF(t *testing.T, path string) string {
	t.Helper()
	w, err := weights.Open(path)
	require.NoError(t, err)
	defer w.Close()
	c := w.Config
	layerRe := regexp.MustCompile(`^blk\.(\d+)\.(.+)$`)
	f32 := func(name string) []float32 {
		tn := w.Tensors[name]
		require.Equal(t, weights.F32, tn.DType, name)
		v, err := tn.Float32()
		require.NoError(t, err)
		return v
	}
	var st []safetensors.Tensor
	for _, name := range w.Names() {
		tn := w.Tensors[name]
		var hf string
		v := f32(name)
		shape := tn.Shape
		switch name {
		case "token_embd.weight":
			hf = "model.embed_tokens.weight"
		case "output_norm.weight":
			hf = "model.norm.weight"
		case "output.weight":
			hf = "lm_head.weight"
		default:
			m := layerRe.FindStringSubmatch(name)
			require.NotNil(t, m, name)
			switch m[2] {
			case "ffn_gate.weight":
				continue // written with ffn_up
			case "ffn_up.weight":
				hf = "model.layers." + m[1] + ".mlp.gate_up_proj.weight"
				v = append(f32("blk."+m[1]+".ffn_gate.weight"), v...)
				shape = []int{2 * shape[0], shape[1]}
			default:
				h, ok := glmHFNames[m[2]]
				require.True(t, ok, name)
				hf = "model.layers." + m[1] + "." + h
			}
		}
		st = append(st, safetensors.Tensor{Name: hf, DType: "F32", Shape: shape, Data: safetensors.Float32Bytes(v)})
	}
	cfg := map[string]any{
		"hidden_size": c.HiddenSize, "num_hidden_layers": c.Layers, "num_attention_heads": c.Heads,
		"num_key_value_heads": c.KVHeads, "head_dim": c.HeadDim, "intermediate_size": c.FFNSize,
		"vocab_size": c.VocabSize, "max_position_embeddings": c.ContextLength, "rms_norm_eps": c.NormEps,
		"rope_theta": c.RopeTheta, "attention_bias": true, "hidden_act": "silu", "tie_word_embeddings": false,
		"eos_token_id": []int{2}, "pad_token_id": 0,
	}
	switch c.Arch {
	case "chatglm":
		cfg["model_type"], cfg["architectures"] = "glm", []string{"GlmForCausalLM"}
	case "glm4":
		cfg["model_type"], cfg["architectures"] = "glm4", []string{"Glm4ForCausalLM"}
		cfg["partial_rotary_factor"] = 0.5
	}
	return writeHFFolder(t, filepath.Join(t.TempDir(), c.Arch+"-hf"), cfg, st)
}

// TestGLMMatchesReferences runs the chatglm and glm4 synth models, from the
// GGUF and from the Hugging Face folder, on the reference prompt and
// compares every token's logits and every layer's mlp.hook_act (SiLU of
// the gate half of the fused projection) with llama.cpp's and the PyTorch
// reference's dumps: F32 within 1e-5 of max|ref|, and the two files
// bit-identical.
func TestGLMMatchesReferences(t *testing.T) {
	const tol = 1e-5
	for _, rc := range glmRefs {
		t.Run(rc.file, func(t *testing.T) {
			b, err := os.ReadFile(filepath.Join("testdata", "glm", rc.file))
			require.NoError(t, err)
			ref, err := safetensors.Parse(b)
			require.NoError(t, err)
			r := refs{ref}
			toks := r.tokens(t, "tokens")
			gguf := writeGLMSynth(t, rc.arch, rc.layers)
			var first []float32
			for _, path := range []string{gguf, glmToHF(t, gguf)} {
				m := mustLoad(t, path, 2)
				require.Equal(t, rc.arch, m.Config.Arch)
				require.True(t, m.Config.RopeInterleaved)
				require.Equal(t, m.Config.HeadDim/2, m.Config.RopeDim)
				hk := hooks.New(m.Config.Layers)
				got := capture{}
				require.NoError(t, hk.Observe("blocks.*.mlp.hook_act", got))
				out, err := m.Forward(context.Background(), []Input{{Seq: m.NewSequence(), Tokens: toks, Logits: AllLogits}}, RunOptions{Hooks: hk})
				require.NoError(t, err)
				if first == nil {
					first = out[0]
				} else {
					bitsEqual(t, "Hugging Face folder vs GGUF logits", out[0], first)
				}
				want := r.floats(t, "logits")
				e := relErr(out[0], want)
				t.Logf("%s: logits (%d rows) rel err %.2e", filepath.Base(path), len(want)/m.Config.VocabSize, e)
				if e > tol {
					t.Errorf("%s logits: relative error %.2e > %.0e", path, e, tol)
				}
				worst := 0.0
				for l := 0; l < m.Config.Layers; l++ {
					want := r.floats(t, fmt.Sprintf("act.%d", l))
					e := relErr(got[fmt.Sprintf("blocks.%d.mlp.hook_act", l)], want)
					worst = max(worst, e)
					if e > tol {
						t.Errorf("%s layer %d hook_act: relative error %.2e > %.0e", path, l, e, tol)
					}
				}
				t.Logf("%s: hook_act of %d layers, worst rel err %.2e", filepath.Base(path), m.Config.Layers, worst)
			}
		})
	}
}
