package testmodel

import (
	"encoding/json"
	"fmt"
	"os"
	"path/filepath"
	"regexp"
	"testing"

	"github.com/valueexploration/valueexp/weights"
	"github.com/valueexploration/valueexp/weights/safetensors"
)

// moeHFNames maps GGUF layer tensor names to the Hugging Face names of the
// Qwen MoE models (Mixtral's differ in the feed-forward block, see
// mixtralHFNames), written out here rather than taken from package weights
// so that tests check its mapping.
var moeHFNames = map[string]string{
	"attn_norm.weight":          "input_layernorm.weight",
	"attn_q.weight":             "self_attn.q_proj.weight",
	"attn_k.weight":             "self_attn.k_proj.weight",
	"attn_v.weight":             "self_attn.v_proj.weight",
	"attn_q.bias":               "self_attn.q_proj.bias",
	"attn_k.bias":               "self_attn.k_proj.bias",
	"attn_v.bias":               "self_attn.v_proj.bias",
	"attn_output.weight":        "self_attn.o_proj.weight",
	"attn_q_norm.weight":        "self_attn.q_norm.weight",
	"attn_k_norm.weight":        "self_attn.k_norm.weight",
	"ffn_norm.weight":           "post_attention_layernorm.weight",
	"ffn_gate_inp.weight":       "mlp.gate.weight",
	"ffn_gate_exps.weight":      "mlp.experts.%d.gate_proj.weight",
	"ffn_up_exps.weight":        "mlp.experts.%d.up_proj.weight",
	"ffn_down_exps.weight":      "mlp.experts.%d.down_proj.weight",
	"ffn_gate_shexp.weight":     "mlp.shared_expert.gate_proj.weight",
	"ffn_up_shexp.weight":       "mlp.shared_expert.up_proj.weight",
	"ffn_down_shexp.weight":     "mlp.shared_expert.down_proj.weight",
	"ffn_gate_inp_shexp.weight": "mlp.shared_expert_gate.weight",
}

// mixtralHFNames are Mixtral's feed-forward names.
var mixtralHFNames = map[string]string{
	"ffn_gate_inp.weight":  "block_sparse_moe.gate.weight",
	"ffn_gate_exps.weight": "block_sparse_moe.experts.%d.w1.weight",
	"ffn_up_exps.weight":   "block_sparse_moe.experts.%d.w3.weight",
	"ffn_down_exps.weight": "block_sparse_moe.experts.%d.w2.weight",
}

// MoEToHF writes the F32 mixture-of-experts GGUF at path (a synth qwen2moe,
// qwen3moe or mixtral file) as a Hugging Face folder the way the Hugging
// Face checkpoints store it: one matrix per expert, the shared expert's gate
// as a [1, hidden] linear layer, q/k rows in the Hugging Face order, and the
// config.json of the model's config class. It returns the folder.
func MoEToHF(t testing.TB, path string) string {
	t.Helper()
	w, err := weights.Open(path)
	if err != nil {
		t.Fatal(err)
	}
	defer w.Close()
	c := w.Config
	if c.MoE == nil {
		t.Fatalf("%s: not a mixture-of-experts model", path)
	}
	layerRe := regexp.MustCompile(`^blk\.(\d+)\.(.+)$`)
	var st []safetensors.Tensor
	add := func(name string, shape []int, v []float32) {
		st = append(st, safetensors.Tensor{Name: name, DType: "F32", Shape: shape, Data: safetensors.Float32Bytes(v)})
	}
	for _, name := range w.Names() {
		tn := w.Tensors[name]
		if tn.DType != weights.F32 {
			t.Fatalf("%s: tensor %q is %v, want F32", path, name, tn.DType)
		}
		v, err := tn.Float32()
		if err != nil {
			t.Fatal(err)
		}
		switch name {
		case "token_embd.weight":
			add("model.embed_tokens.weight", tn.Shape, v)
			continue
		case "output_norm.weight":
			add("model.norm.weight", tn.Shape, v)
			continue
		case "output.weight":
			add("lm_head.weight", tn.Shape, v)
			continue
		}
		m := layerRe.FindStringSubmatch(name)
		if m == nil {
			t.Fatalf("%s: unexpected tensor %q", path, name)
		}
		hf, ok := moeHFNames[m[2]]
		if c.Arch == "mixtral" {
			if mx, ok2 := mixtralHFNames[m[2]]; ok2 {
				hf = mx
			}
		}
		if !ok {
			t.Fatalf("%s: unexpected tensor %q", path, name)
		}
		prefix := "model.layers." + m[1] + "."
		switch {
		case len(tn.Shape) == 3:
			per := tn.Shape[1] * tn.Shape[2]
			for e := 0; e < tn.Shape[0]; e++ {
				add(prefix+fmt.Sprintf(hf, e), tn.Shape[1:], v[e*per:(e+1)*per])
			}
		case m[2] == "ffn_gate_inp_shexp.weight":
			add(prefix+hf, []int{1, len(v)}, v)
		default:
			add(prefix+hf, tn.Shape, v)
		}
	}
	cfg := map[string]any{
		"hidden_size": c.HiddenSize, "num_hidden_layers": c.Layers, "num_attention_heads": c.Heads,
		"num_key_value_heads": c.KVHeads, "head_dim": c.HeadDim, "vocab_size": c.VocabSize,
		"max_position_embeddings": c.ContextLength, "rms_norm_eps": c.NormEps, "rope_theta": c.RopeTheta,
		"tie_word_embeddings": c.TiedEmbeddings, "hidden_act": "silu", "bos_token_id": c.BOS,
		"num_experts_per_tok": c.MoE.Used, "norm_topk_prob": c.MoE.NormTopK,
	}
	switch c.Arch {
	case "mixtral":
		cfg["model_type"], cfg["architectures"] = "mixtral", []string{"MixtralForCausalLM"}
		cfg["num_local_experts"], cfg["intermediate_size"] = c.MoE.Experts, c.MoE.FFN
		delete(cfg, "norm_topk_prob")
	case "qwen2moe", "qwen3moe":
		cfg["model_type"] = map[string]string{"qwen2moe": "qwen2_moe", "qwen3moe": "qwen3_moe"}[c.Arch]
		cfg["architectures"] = []string{map[string]string{"qwen2moe": "Qwen2MoeForCausalLM", "qwen3moe": "Qwen3MoeForCausalLM"}[c.Arch]}
		cfg["num_experts"], cfg["moe_intermediate_size"] = c.MoE.Experts, c.MoE.FFN
		cfg["intermediate_size"] = 3 * c.MoE.FFN // the dense width, unused: every layer is sparse
		cfg["decoder_sparse_step"], cfg["mlp_only_layers"] = 1, []int{}
		cfg["use_sliding_window"], cfg["sliding_window"] = false, 4096
		if c.MoE.SharedFFN > 0 {
			cfg["shared_expert_intermediate_size"] = c.MoE.SharedFFN
		}
	}
	if len(c.EOS) > 0 {
		cfg["eos_token_id"] = c.EOS[0]
	}
	dir := filepath.Join(t.TempDir(), c.Arch+"-hf")
	if err := os.Mkdir(dir, 0o755); err != nil {
		t.Fatal(err)
	}
	cb, err := json.Marshal(cfg)
	if err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(filepath.Join(dir, "config.json"), cb, 0o644); err != nil {
		t.Fatal(err)
	}
	f, err := os.Create(filepath.Join(dir, "model.safetensors"))
	if err != nil {
		t.Fatal(err)
	}
	if err := safetensors.Write(f, st, map[string]string{"format": "pt"}); err != nil {
		t.Fatal(err)
	}
	if err := f.Close(); err != nil {
		t.Fatal(err)
	}
	return dir
}
