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
)

// gemmaRefs are the Gemma reference dumps in testdata/gemma (README.md
// there says how each was made): the random-weight model is rewritten here
// by synth from its shape and seed, byte for byte the file the dump was
// made from.
var gemmaRefs = []struct {
	arch, file string
	layers     int
}{
	{"gemma2", "gemma2-tiny-26L.llamacpp.safetensors", 26}, // llama.cpp b4748
	{"gemma2", "gemma2-tiny-26L.torch.safetensors", 26},    // testdata/torchref/gemma.py
	{"gemma3", "gemma3-tiny-8L.torch.safetensors", 8},      // testdata/torchref/gemma.py
}

// writeGemmaSynth writes the synth model of a Gemma reference (shape tiny,
// F32, seed 1) and returns its path.
func writeGemmaSynth(t *testing.T, arch string, layers int) string {
	return writeRefSynth(t, t.TempDir(), arch+".gguf", arch, layers, nil)
}

// gemmaHFNames maps GGUF layer tensor names to Hugging Face ones, written
// out here (not taken from package weights) so the test checks the mapping.
var gemmaHFNames = map[string]string{
	"attn_norm.weight":           "input_layernorm.weight",
	"attn_q.weight":              "self_attn.q_proj.weight",
	"attn_k.weight":              "self_attn.k_proj.weight",
	"attn_v.weight":              "self_attn.v_proj.weight",
	"attn_output.weight":         "self_attn.o_proj.weight",
	"attn_q_norm.weight":         "self_attn.q_norm.weight",
	"attn_k_norm.weight":         "self_attn.k_norm.weight",
	"post_attention_norm.weight": "post_attention_layernorm.weight",
	"ffn_norm.weight":            "pre_feedforward_layernorm.weight",
	"post_ffw_norm.weight":       "post_feedforward_layernorm.weight",
	"ffn_gate.weight":            "mlp.gate_proj.weight",
	"ffn_up.weight":              "mlp.up_proj.weight",
	"ffn_down.weight":            "mlp.down_proj.weight",
}

// gemmaToHF writes the F32 Gemma GGUF at path as a Hugging Face folder, the
// way Hugging Face stores it: norm weights w where the GGUF holds 1 + w.
// Gemma 3 is written as a multimodal checkpoint would be (the text config
// nested in text_config, tensors under language_model., a vision tower
// beside them), Gemma 2 flat.
func gemmaToHF(t *testing.T, path string) string {
	t.Helper()
	w, err := weights.Open(path)
	require.NoError(t, err)
	defer w.Close()
	c := w.Config
	prefix := "model."
	if c.Arch == "gemma3" {
		prefix = "language_model.model."
	}
	layerRe := regexp.MustCompile(`^blk\.(\d+)\.(.+)$`)
	var st []safetensors.Tensor
	for _, name := range w.Names() {
		tn := w.Tensors[name]
		require.Equal(t, weights.F32, tn.DType, name)
		v, err := tn.Float32()
		require.NoError(t, err)
		var hf string
		switch name {
		case "token_embd.weight":
			hf = prefix + "embed_tokens.weight"
		case "output_norm.weight":
			hf = prefix + "norm.weight"
		default:
			m := layerRe.FindStringSubmatch(name)
			require.NotNil(t, m, name)
			h, ok := gemmaHFNames[m[2]]
			require.True(t, ok, name)
			hf = prefix + "layers." + m[1] + "." + h
		}
		if strings.HasSuffix(name, "norm.weight") {
			for i := range v {
				v[i] -= 1 // exact for weights in [0.5, 2] (Sterbenz)
			}
		}
		st = append(st, safetensors.Tensor{Name: hf, DType: "F32", Shape: tn.Shape, Data: safetensors.Float32Bytes(v)})
	}
	if c.Arch == "gemma3" {
		// The vision tower of a multimodal checkpoint is skipped.
		for _, name := range []string{"vision_tower.vision_model.post_layernorm.weight", "multi_modal_projector.mm_soft_emb_norm.weight"} {
			st = append(st, safetensors.Tensor{Name: name, DType: "BF16", Shape: []int{4}, Data: make([]byte, 8)})
		}
	}
	text := map[string]any{
		"hidden_size": c.HiddenSize, "num_hidden_layers": c.Layers, "num_attention_heads": c.Heads,
		"num_key_value_heads": c.KVHeads, "head_dim": c.HeadDim, "intermediate_size": c.FFNSize,
		"vocab_size": c.VocabSize, "max_position_embeddings": c.ContextLength, "rms_norm_eps": c.NormEps,
		"rope_theta": c.RopeTheta, "sliding_window": c.SlidingWindow, "query_pre_attn_scalar": c.HeadDim,
		"hidden_activation": "gelu_pytorch_tanh", "tie_word_embeddings": true,
	}
	var cfg map[string]any
	switch c.Arch {
	case "gemma2":
		text["model_type"] = "gemma2"
		text["architectures"] = []string{"Gemma2ForCausalLM"}
		text["hidden_act"] = "gelu_pytorch_tanh"
		text["attn_logit_softcapping"], text["final_logit_softcapping"] = 50.0, 30.0
		text["bos_token_id"], text["eos_token_id"] = 1, 2
		cfg = text
	case "gemma3":
		text["model_type"] = "gemma3_text"
		text["rope_local_base_freq"] = 10000.0
		text["sliding_window_pattern"] = 6
		text["rope_scaling"] = nil
		text["final_logit_softcapping"], text["attn_logit_softcapping"] = nil, nil
		cfg = map[string]any{
			"model_type": "gemma3", "architectures": []string{"Gemma3ForConditionalGeneration"},
			"text_config": text, "vision_config": map[string]any{"model_type": "siglip_vision_model"},
			"bos_token_id": 1, "eos_token_id": []int{2},
		}
	}
	return writeHFFolder(t, filepath.Join(t.TempDir(), c.Arch+"-hf"), cfg, st)
}

// TestGemmaMatchesReferences runs the Gemma 2 and Gemma 3 synth models, from
// the GGUF and from the Hugging Face folder, on the reference prompt and
// compares the logits and every layer's mlp.hook_act (GELU of the gate)
// with llama.cpp's and the PyTorch reference's dumps: F32 within 1e-5 of
// max|ref|, and the two files bit-identical.
func TestGemmaMatchesReferences(t *testing.T) {
	const tol = 1e-5
	for _, rc := range gemmaRefs {
		t.Run(rc.file, func(t *testing.T) {
			b, err := os.ReadFile(filepath.Join("testdata", "gemma", rc.file))
			require.NoError(t, err)
			ref, err := safetensors.Parse(b)
			require.NoError(t, err)
			r := refs{ref}
			toks := r.tokens(t, "tokens")
			gguf := writeGemmaSynth(t, rc.arch, rc.layers)
			var first []float32
			for _, path := range []string{gguf, gemmaToHF(t, gguf)} {
				m := mustLoad(t, path, 2)
				require.Equal(t, rc.arch, m.Config.Arch)
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
				// llama.cpp computes only the last row of the logits and of
				// the last layer: compare the rows the reference has.
				tail := func(x []float32, want []float32) []float32 { return x[len(x)-len(want):] }
				want := r.floats(t, "logits")
				e := relErr(tail(out[0], want), want)
				t.Logf("%s: logits (%d rows) rel err %.2e", filepath.Base(path), len(want)/m.Config.VocabSize, e)
				if e > tol {
					t.Errorf("%s logits: relative error %.2e > %.0e", path, e, tol)
				}
				worst := 0.0
				for l := 0; l < m.Config.Layers; l++ {
					want := r.floats(t, fmt.Sprintf("act.%d", l))
					e := relErr(tail(got[fmt.Sprintf("blocks.%d.mlp.hook_act", l)], want), want)
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
