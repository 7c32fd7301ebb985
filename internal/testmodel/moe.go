package testmodel

import (
	"encoding/json"
	"fmt"
	"math"
	"math/rand/v2"
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

// isMoE reports whether the spec is a mixture-of-experts model.
func (s Spec) isMoE() bool {
	return s.Arch == "qwen2moe" || s.Arch == "qwen3moe" || s.Arch == "mixtral"
}

// writeMoE is Write for the mixture-of-experts models: a GGUF laid out as
// llama.cpp's converter writes them (3-D expert tensors; Mixtral as a llama
// file with experts), and its Hugging Face folder (MoEToHF). Qwen2-MoE gets
// q/k/v biases and a shared expert of width SharedFFN (default 2·FFN),
// Qwen3-MoE q/k norms. The router's weights are drawn wider than the other
// projections so that routing decisions are far from ties.
func writeMoE(t testing.TB, s Spec) (ggufPath, hfDir string) {
	t.Helper()
	rng := rand.New(rand.NewPCG(s.Seed, 11))
	normal := func(n int, mean, std float64) []float32 {
		v := make([]float32, n)
		for i := range v {
			v[i] = float32(mean + rng.NormFloat64()*std)
		}
		return v
	}
	used, shared := s.Used, s.SharedFFN
	if used == 0 {
		used = 2
	}
	if s.Arch == "qwen2moe" && shared == 0 {
		shared = 2 * s.FFN
	}
	H, F, E := s.Hidden, s.FFN, s.Experts
	q, kv := s.Heads*s.HeadDim, s.KV*s.HeadDim
	in := 1 / math.Sqrt(float64(H))
	var gt []*weights.Tensor
	add := func(name string, shape []int, data []float32) {
		gt = append(gt, &weights.Tensor{Name: name, DType: weights.F32, Shape: shape, Data: weights.Float32Bytes(data)})
	}
	add("token_embd.weight", []int{s.Vocab, H}, normal(s.Vocab*H, 0, 0.5))
	add("output_norm.weight", []int{H}, normal(H, 1, 0.1))
	add("output.weight", []int{s.Vocab, H}, normal(s.Vocab*H, 0, in))
	for l := 0; l < s.Layers; l++ {
		p := fmt.Sprintf("blk.%d.", l)
		add(p+"attn_norm.weight", []int{H}, normal(H, 1, 0.1))
		add(p+"attn_q.weight", []int{q, H}, normal(q*H, 0, in))
		add(p+"attn_k.weight", []int{kv, H}, normal(kv*H, 0, in))
		add(p+"attn_v.weight", []int{kv, H}, normal(kv*H, 0, in))
		if s.Arch == "qwen2moe" {
			add(p+"attn_q.bias", []int{q}, normal(q, 0, 0.1))
			add(p+"attn_k.bias", []int{kv}, normal(kv, 0, 0.1))
			add(p+"attn_v.bias", []int{kv}, normal(kv, 0, 0.1))
		}
		if s.Arch == "qwen3moe" {
			add(p+"attn_q_norm.weight", []int{s.HeadDim}, normal(s.HeadDim, 1, 0.1))
			add(p+"attn_k_norm.weight", []int{s.HeadDim}, normal(s.HeadDim, 1, 0.1))
		}
		add(p+"attn_output.weight", []int{H, q}, normal(H*q, 0, 1/math.Sqrt(float64(q))))
		add(p+"ffn_norm.weight", []int{H}, normal(H, 1, 0.1))
		add(p+"ffn_gate_inp.weight", []int{E, H}, normal(E*H, 0, 4*in))
		add(p+"ffn_gate_exps.weight", []int{E, F, H}, normal(E*F*H, 0, in))
		add(p+"ffn_up_exps.weight", []int{E, F, H}, normal(E*F*H, 0, in))
		add(p+"ffn_down_exps.weight", []int{E, H, F}, normal(E*H*F, 0, 1/math.Sqrt(float64(F))))
		if shared > 0 {
			add(p+"ffn_gate_inp_shexp.weight", []int{H}, normal(H, 0, in))
			add(p+"ffn_gate_shexp.weight", []int{shared, H}, normal(shared*H, 0, in))
			add(p+"ffn_up_shexp.weight", []int{shared, H}, normal(shared*H, 0, in))
			add(p+"ffn_down_shexp.weight", []int{H, shared}, normal(H*shared, 0, 1/math.Sqrt(float64(shared))))
		}
	}
	a := s.Arch
	if a == "mixtral" {
		a = "llama" // llama.cpp's converter writes Mixtral as llama with experts
	}
	kvs := []weights.KV{
		{Key: "general.architecture", Value: a},
		{Key: a + ".embedding_length", Value: uint32(H)},
		{Key: a + ".block_count", Value: uint32(s.Layers)},
		{Key: a + ".attention.head_count", Value: uint32(s.Heads)},
		{Key: a + ".attention.head_count_kv", Value: uint32(s.KV)},
		{Key: a + ".attention.key_length", Value: uint32(s.HeadDim)},
		{Key: a + ".feed_forward_length", Value: uint32(F)},
		{Key: a + ".context_length", Value: uint32(256)},
		{Key: a + ".rope.freq_base", Value: float32(10000)},
		{Key: a + ".attention.layer_norm_rms_epsilon", Value: float32(1e-5)},
		{Key: a + ".expert_count", Value: uint32(E)},
		{Key: a + ".expert_used_count", Value: uint32(used)},
		{Key: "tokenizer.ggml.bos_token_id", Value: uint32(1)},
		{Key: "tokenizer.ggml.eos_token_id", Value: uint32(2)},
	}
	if a != "llama" {
		kvs = append(kvs, weights.KV{Key: a + ".expert_feed_forward_length", Value: uint32(F)})
	}
	if shared > 0 {
		kvs = append(kvs, weights.KV{Key: a + ".expert_shared_feed_forward_length", Value: uint32(shared)})
	}
	ggufPath = filepath.Join(t.TempDir(), "model.gguf")
	g, err := os.Create(ggufPath)
	if err != nil {
		t.Fatal(err)
	}
	if err := weights.WriteGGUF(g, kvs, gt); err != nil {
		t.Fatal(err)
	}
	if err := g.Close(); err != nil {
		t.Fatal(err)
	}
	return ggufPath, MoEToHF(t, ggufPath)
}
