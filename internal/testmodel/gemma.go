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

// isGemma reports whether the spec is a Gemma 2 or Gemma 3 model.
func (s Spec) isGemma() bool { return s.Arch == "gemma2" || s.Arch == "gemma3" }

// writeGemma is Write for Gemma 2 and Gemma 3: post-attention and
// post-feed-forward norms, a tied head, q/k norms for Gemma 3, and the
// norm convention of each format (Hugging Face stores w, the GGUF 1 + w).
// Gemma 2 gets the soft-capping of the real models; both slide over
// s.Window (default 4) on their sliding layers. The Hugging Face config is
// the flat Gemma2ForCausalLM / Gemma3ForCausalLM one.
func writeGemma(t testing.TB, s Spec) (ggufPath, hfDir string) {
	t.Helper()
	rng := rand.New(rand.NewPCG(s.Seed, 7))
	normal := func(n int, std float64) []float32 {
		v := make([]float32, n)
		for i := range v {
			v[i] = float32(rng.NormFloat64() * std)
		}
		return v
	}
	window := s.Window
	if window == 0 {
		window = 4
	}
	type tensor struct {
		hf, gguf string
		shape    []int
		data     []float32
		norm     bool // Hugging Face w, GGUF 1 + w
	}
	var ts []tensor
	add := func(hf, gguf string, shape []int, data []float32, norm bool) {
		ts = append(ts, tensor{hf, gguf, shape, data, norm})
	}
	add("model.embed_tokens.weight", "token_embd.weight", []int{s.Vocab, s.Hidden}, normal(s.Vocab*s.Hidden, 0.5), false)
	add("model.norm.weight", "output_norm.weight", []int{s.Hidden}, normal(s.Hidden, 0.1), true)
	q, kv := s.Heads*s.HeadDim, s.KV*s.HeadDim
	in := 1 / math.Sqrt(float64(s.Hidden))
	for l := 0; l < s.Layers; l++ {
		hp, gp := fmt.Sprintf("model.layers.%d.", l), fmt.Sprintf("blk.%d.", l)
		add(hp+"input_layernorm.weight", gp+"attn_norm.weight", []int{s.Hidden}, normal(s.Hidden, 0.1), true)
		add(hp+"self_attn.q_proj.weight", gp+"attn_q.weight", []int{q, s.Hidden}, normal(q*s.Hidden, in), false)
		add(hp+"self_attn.k_proj.weight", gp+"attn_k.weight", []int{kv, s.Hidden}, normal(kv*s.Hidden, in), false)
		add(hp+"self_attn.v_proj.weight", gp+"attn_v.weight", []int{kv, s.Hidden}, normal(kv*s.Hidden, in), false)
		if s.Arch == "gemma3" {
			add(hp+"self_attn.q_norm.weight", gp+"attn_q_norm.weight", []int{s.HeadDim}, normal(s.HeadDim, 0.1), true)
			add(hp+"self_attn.k_norm.weight", gp+"attn_k_norm.weight", []int{s.HeadDim}, normal(s.HeadDim, 0.1), true)
		}
		add(hp+"self_attn.o_proj.weight", gp+"attn_output.weight", []int{s.Hidden, q}, normal(s.Hidden*q, 1/math.Sqrt(float64(q))), false)
		add(hp+"post_attention_layernorm.weight", gp+"post_attention_norm.weight", []int{s.Hidden}, normal(s.Hidden, 0.1), true)
		add(hp+"pre_feedforward_layernorm.weight", gp+"ffn_norm.weight", []int{s.Hidden}, normal(s.Hidden, 0.1), true)
		add(hp+"mlp.gate_proj.weight", gp+"ffn_gate.weight", []int{s.FFN, s.Hidden}, normal(s.FFN*s.Hidden, in), false)
		add(hp+"mlp.up_proj.weight", gp+"ffn_up.weight", []int{s.FFN, s.Hidden}, normal(s.FFN*s.Hidden, in), false)
		add(hp+"mlp.down_proj.weight", gp+"ffn_down.weight", []int{s.Hidden, s.FFN}, normal(s.Hidden*s.FFN, 1/math.Sqrt(float64(s.FFN))), false)
		add(hp+"post_feedforward_layernorm.weight", gp+"post_ffw_norm.weight", []int{s.Hidden}, normal(s.Hidden, 0.1), true)
	}

	dir := t.TempDir()
	hfDir = filepath.Join(dir, "hf")
	if err := os.Mkdir(hfDir, 0o755); err != nil {
		t.Fatal(err)
	}
	cfg := map[string]any{
		"hidden_size": s.Hidden, "num_hidden_layers": s.Layers, "num_attention_heads": s.Heads,
		"num_key_value_heads": s.KV, "head_dim": s.HeadDim, "intermediate_size": s.FFN, "vocab_size": s.Vocab,
		"max_position_embeddings": 256, "rms_norm_eps": 1e-6, "bos_token_id": 1, "eos_token_id": 2,
		"hidden_activation": "gelu_pytorch_tanh", "query_pre_attn_scalar": s.HeadDim, "sliding_window": window,
	}
	theta := 10000.0
	if s.Arch == "gemma2" {
		cfg["model_type"], cfg["architectures"] = "gemma2", []string{"Gemma2ForCausalLM"}
		cfg["attn_logit_softcapping"], cfg["final_logit_softcapping"] = 50.0, 30.0
	} else {
		theta = 1e6
		cfg["model_type"], cfg["architectures"] = "gemma3_text", []string{"Gemma3ForCausalLM"}
		cfg["rope_local_base_freq"], cfg["sliding_window_pattern"] = 10000.0, 6
	}
	cfg["rope_theta"] = theta
	cb, _ := json.Marshal(cfg)
	if err := os.WriteFile(filepath.Join(hfDir, "config.json"), cb, 0o644); err != nil {
		t.Fatal(err)
	}
	var st []safetensors.Tensor
	var gt []*weights.Tensor
	for _, x := range ts {
		st = append(st, safetensors.Tensor{Name: x.hf, DType: "F32", Shape: x.shape, Data: safetensors.Float32Bytes(x.data)})
		data := x.data
		if x.norm {
			data = make([]float32, len(x.data))
			for i, v := range x.data {
				data[i] = float32(1 + v)
			}
		}
		gt = append(gt, &weights.Tensor{Name: x.gguf, DType: weights.F32, Shape: x.shape, Data: weights.Float32Bytes(data)})
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
		{Key: a + "embedding_length", Value: uint32(s.Hidden)},
		{Key: a + "block_count", Value: uint32(s.Layers)},
		{Key: a + "attention.head_count", Value: uint32(s.Heads)},
		{Key: a + "attention.head_count_kv", Value: uint32(s.KV)},
		{Key: a + "attention.key_length", Value: uint32(s.HeadDim)},
		{Key: a + "attention.value_length", Value: uint32(s.HeadDim)},
		{Key: a + "feed_forward_length", Value: uint32(s.FFN)},
		{Key: a + "context_length", Value: uint32(256)},
		{Key: a + "rope.freq_base", Value: float32(theta)},
		{Key: a + "attention.layer_norm_rms_epsilon", Value: float32(1e-6)},
		{Key: a + "attention.sliding_window", Value: uint32(window)},
		{Key: "tokenizer.ggml.bos_token_id", Value: uint32(1)},
		{Key: "tokenizer.ggml.eos_token_id", Value: uint32(2)},
	}
	if s.Arch == "gemma2" {
		kvs = append(kvs,
			weights.KV{Key: a + "attn_logit_softcapping", Value: float32(50)},
			weights.KV{Key: a + "final_logit_softcapping", Value: float32(30)})
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
