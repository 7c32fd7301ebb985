package testmodel

import (
	"encoding/json"
	"fmt"
	"math"
	"math/rand/v2"
	"os"
	"path/filepath"
	"testing"

	"github.com/valueexploration/valueexp/weights"
	"github.com/valueexploration/valueexp/weights/safetensors"
)

// isGLM reports whether the spec is a GLM-4 model (chatglm or glm4).
func (s Spec) isGLM() bool { return s.Arch == "chatglm" || s.Arch == "glm4" }

// writeGLM is Write for GLM-4. The Hugging Face folder is
// GlmForCausalLM (model_type "glm", for chatglm) or Glm4ForCausalLM
// ("glm4"): q/k/v with biases, gate and up fused in mlp.gate_up_proj (gate
// first), glm4 with post_self_attn_layernorm and post_mlp_layernorm. The
// GGUF is laid out as llama.cpp's converters write it: chatglm with q, k
// and v fused in attn_qkv (weight and bias), both with the gate and up
// fused in ffn_up, no q/k permutation, rope over half of each head.
func writeGLM(t testing.TB, s Spec) (ggufPath, hfDir string) {
	t.Helper()
	rng := rand.New(rand.NewPCG(s.Seed, 7))
	normal := func(n int, std float64, mean float32) []float32 {
		v := make([]float32, n)
		for i := range v {
			v[i] = mean + float32(rng.NormFloat64()*std)
		}
		return v
	}
	var st []safetensors.Tensor
	var gt []*weights.Tensor
	hf := func(name string, shape []int, data []float32) {
		st = append(st, safetensors.Tensor{Name: name, DType: "F32", Shape: shape, Data: safetensors.Float32Bytes(data)})
	}
	gg := func(name string, shape []int, data []float32) {
		gt = append(gt, &weights.Tensor{Name: name, DType: weights.F32, Shape: shape, Data: weights.Float32Bytes(data)})
	}
	both := func(hfName, ggufName string, shape []int, data []float32) {
		hf(hfName, shape, data)
		gg(ggufName, shape, data)
	}
	H, F := s.Hidden, s.FFN
	q, kv := s.Heads*s.HeadDim, s.KV*s.HeadDim
	in := 1 / math.Sqrt(float64(H))
	both("model.embed_tokens.weight", "token_embd.weight", []int{s.Vocab, H}, normal(s.Vocab*H, 0.5, 0))
	both("model.norm.weight", "output_norm.weight", []int{H}, normal(H, 0.1, 1))
	both("lm_head.weight", "output.weight", []int{s.Vocab, H}, normal(s.Vocab*H, in, 0))
	for l := 0; l < s.Layers; l++ {
		hp, gp := fmt.Sprintf("model.layers.%d.", l), fmt.Sprintf("blk.%d.", l)
		both(hp+"input_layernorm.weight", gp+"attn_norm.weight", []int{H}, normal(H, 0.1, 1))
		qw, kw, vw := normal(q*H, in, 0), normal(kv*H, in, 0), normal(kv*H, in, 0)
		qb, kb, vb := normal(q, 0.1, 0), normal(kv, 0.1, 0), normal(kv, 0.1, 0)
		hf(hp+"self_attn.q_proj.weight", []int{q, H}, qw)
		hf(hp+"self_attn.k_proj.weight", []int{kv, H}, kw)
		hf(hp+"self_attn.v_proj.weight", []int{kv, H}, vw)
		hf(hp+"self_attn.q_proj.bias", []int{q}, qb)
		hf(hp+"self_attn.k_proj.bias", []int{kv}, kb)
		hf(hp+"self_attn.v_proj.bias", []int{kv}, vb)
		if s.Arch == "chatglm" {
			gg(gp+"attn_qkv.weight", []int{q + 2*kv, H}, append(append(qw, kw...), vw...))
			gg(gp+"attn_qkv.bias", []int{q + 2*kv}, append(append(qb, kb...), vb...))
		} else {
			gg(gp+"attn_q.weight", []int{q, H}, qw)
			gg(gp+"attn_k.weight", []int{kv, H}, kw)
			gg(gp+"attn_v.weight", []int{kv, H}, vw)
			gg(gp+"attn_q.bias", []int{q}, qb)
			gg(gp+"attn_k.bias", []int{kv}, kb)
			gg(gp+"attn_v.bias", []int{kv}, vb)
		}
		both(hp+"self_attn.o_proj.weight", gp+"attn_output.weight", []int{H, q}, normal(H*q, 1/math.Sqrt(float64(q)), 0))
		if s.Arch == "glm4" {
			both(hp+"post_self_attn_layernorm.weight", gp+"post_attention_norm.weight", []int{H}, normal(H, 0.1, 1))
		}
		both(hp+"post_attention_layernorm.weight", gp+"ffn_norm.weight", []int{H}, normal(H, 0.1, 1))
		both(hp+"mlp.gate_up_proj.weight", gp+"ffn_up.weight", []int{2 * F, H}, normal(2*F*H, in, 0))
		both(hp+"mlp.down_proj.weight", gp+"ffn_down.weight", []int{H, F}, normal(H*F, 1/math.Sqrt(float64(F)), 0))
		if s.Arch == "glm4" {
			both(hp+"post_mlp_layernorm.weight", gp+"post_ffw_norm.weight", []int{H}, normal(H, 0.1, 1))
		}
	}

	dir := t.TempDir()
	hfDir = filepath.Join(dir, "hf")
	if err := os.Mkdir(hfDir, 0o755); err != nil {
		t.Fatal(err)
	}
	cfg := map[string]any{
		"hidden_size": H, "num_hidden_layers": s.Layers, "num_attention_heads": s.Heads,
		"num_key_value_heads": s.KV, "head_dim": s.HeadDim, "intermediate_size": F, "vocab_size": s.Vocab,
		"max_position_embeddings": 256, "rms_norm_eps": 1e-5, "rope_theta": 10000.0, "attention_bias": true,
		"tie_word_embeddings": false, "hidden_act": "silu", "eos_token_id": []int{2}, "pad_token_id": 0,
		"partial_rotary_factor": 0.5,
	}
	if s.Arch == "chatglm" {
		cfg["model_type"], cfg["architectures"] = "glm", []string{"GlmForCausalLM"}
	} else {
		cfg["model_type"], cfg["architectures"] = "glm4", []string{"Glm4ForCausalLM"}
	}
	cb, _ := json.Marshal(cfg)
	if err := os.WriteFile(filepath.Join(hfDir, "config.json"), cb, 0o644); err != nil {
		t.Fatal(err)
	}
	f, err := os.Create(filepath.Join(hfDir, "model.safetensors"))
	if err != nil {
		t.Fatal(err)
	}
	if err := safetensors.Write(f, st, map[string]string{"format": "pt"}); err != nil {
		t.Fatal(err)
	}
	f.Close()

	a := s.Arch + "."
	kvs := []weights.KV{
		{Key: "general.architecture", Value: s.Arch},
		{Key: a + "embedding_length", Value: uint32(H)},
		{Key: a + "block_count", Value: uint32(s.Layers)},
		{Key: a + "attention.head_count", Value: uint32(s.Heads)},
		{Key: a + "attention.head_count_kv", Value: uint32(s.KV)},
		{Key: a + "feed_forward_length", Value: uint32(F)},
		{Key: a + "context_length", Value: uint32(256)},
		{Key: a + "rope.dimension_count", Value: uint32(s.HeadDim / 2)},
		{Key: a + "rope.freq_base", Value: float32(10000)},
		{Key: a + "attention.layer_norm_rms_epsilon", Value: float32(1e-5)},
		{Key: "tokenizer.ggml.eos_token_id", Value: uint32(2)},
	}
	if s.HeadDim != H/s.Heads {
		kvs = append(kvs, weights.KV{Key: a + "attention.key_length", Value: uint32(s.HeadDim)},
			weights.KV{Key: a + "attention.value_length", Value: uint32(s.HeadDim)})
	}
	ggufPath = filepath.Join(dir, "model.gguf")
	g, err := os.Create(ggufPath)
	if err != nil {
		t.Fatal(err)
	}
	if err := weights.WriteGGUF(g, kvs, gt); err != nil {
		t.Fatal(err)
	}
	g.Close()
	return ggufPath, hfDir
}
