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

// phiOrigContext and phiContext are the random Phi-3 model's LongRoPE
// original and extended contexts: sequences of up to 64 tokens run with
// the short factors (the engine's default context length).
const phiOrigContext, phiContext = 64, 256

// writePhi is Write for Phi-3: fused qkv_proj / attn_qkv and gate_up_proj /
// ffn_up tensors, three quarters of each head rotated (Phi-4-mini's
// partial_rotary_factor), LongRoPE with random factors in [1, 2) and
// [1, 8), an untied head, and the window s.Window when set.
func writePhi(t testing.TB, s Spec) (ggufPath, hfDir string) {
	t.Helper()
	rng := rand.New(rand.NewPCG(s.Seed, 7))
	normal := func(n int, std, mean float64) []float32 {
		v := make([]float32, n)
		for i := range v {
			v[i] = float32(mean + rng.NormFloat64()*std)
		}
		return v
	}
	ropeDim := s.HeadDim * 3 / 4
	factors := func(top float64) []float32 {
		v := make([]float32, ropeDim/2)
		for i := range v {
			v[i] = float32(1 + rng.Float64()*(top-1))
		}
		return v
	}
	short, long := factors(2), factors(8)
	type tensor struct {
		hf, gguf string
		shape    []int
		data     []float32
	}
	var ts []tensor
	add := func(hf, gguf string, shape []int, data []float32) { ts = append(ts, tensor{hf, gguf, shape, data}) }
	q, kv := s.Heads*s.HeadDim, s.KV*s.HeadDim
	in := 1 / math.Sqrt(float64(s.Hidden))
	add("model.embed_tokens.weight", "token_embd.weight", []int{s.Vocab, s.Hidden}, normal(s.Vocab*s.Hidden, 0.5, 0))
	add("model.norm.weight", "output_norm.weight", []int{s.Hidden}, normal(s.Hidden, 0.1, 1))
	for l := 0; l < s.Layers; l++ {
		hp, gp := fmt.Sprintf("model.layers.%d.", l), fmt.Sprintf("blk.%d.", l)
		add(hp+"input_layernorm.weight", gp+"attn_norm.weight", []int{s.Hidden}, normal(s.Hidden, 0.1, 1))
		add(hp+"self_attn.qkv_proj.weight", gp+"attn_qkv.weight", []int{q + 2*kv, s.Hidden}, normal((q+2*kv)*s.Hidden, in, 0))
		add(hp+"self_attn.o_proj.weight", gp+"attn_output.weight", []int{s.Hidden, q}, normal(s.Hidden*q, 1/math.Sqrt(float64(q)), 0))
		add(hp+"post_attention_layernorm.weight", gp+"ffn_norm.weight", []int{s.Hidden}, normal(s.Hidden, 0.1, 1))
		add(hp+"mlp.gate_up_proj.weight", gp+"ffn_up.weight", []int{2 * s.FFN, s.Hidden}, normal(2*s.FFN*s.Hidden, in, 0))
		add(hp+"mlp.down_proj.weight", gp+"ffn_down.weight", []int{s.Hidden, s.FFN}, normal(s.Hidden*s.FFN, 1/math.Sqrt(float64(s.FFN)), 0))
	}
	add("lm_head.weight", "output.weight", []int{s.Vocab, s.Hidden}, normal(s.Vocab*s.Hidden, in, 0))

	dir := t.TempDir()
	hfDir = filepath.Join(dir, "hf")
	if err := os.Mkdir(hfDir, 0o755); err != nil {
		t.Fatal(err)
	}
	f64 := func(v []float32) []float64 {
		out := make([]float64, len(v))
		for i, x := range v {
			out[i] = float64(x)
		}
		return out
	}
	cfg := map[string]any{
		"model_type": "phi3", "architectures": []string{"Phi3ForCausalLM"}, "hidden_size": s.Hidden,
		"num_hidden_layers": s.Layers, "num_attention_heads": s.Heads, "num_key_value_heads": s.KV,
		"intermediate_size": s.FFN, "vocab_size": s.Vocab, "max_position_embeddings": phiContext,
		"original_max_position_embeddings": phiOrigContext, "partial_rotary_factor": 0.75,
		"rope_theta": 10000.0, "rms_norm_eps": 1e-5, "tie_word_embeddings": false, "hidden_act": "silu",
		"bos_token_id": 1, "eos_token_id": 2, "sliding_window": s.Window,
		"rope_scaling": map[string]any{"type": "longrope", "short_factor": f64(short), "long_factor": f64(long)},
	}
	if s.Window == 0 {
		cfg["sliding_window"] = nil
	}
	if s.HeadDim != s.Hidden/s.Heads {
		cfg["head_dim"] = s.HeadDim
	}
	cb, _ := json.Marshal(cfg)
	if err := os.WriteFile(filepath.Join(hfDir, "config.json"), cb, 0o644); err != nil {
		t.Fatal(err)
	}
	var st []safetensors.Tensor
	var gt []*weights.Tensor
	for _, x := range ts {
		st = append(st, safetensors.Tensor{Name: x.hf, DType: "F32", Shape: x.shape, Data: safetensors.Float32Bytes(x.data)})
		gt = append(gt, &weights.Tensor{Name: x.gguf, DType: weights.F32, Shape: x.shape, Data: weights.Float32Bytes(x.data)})
	}
	gt = append(gt,
		&weights.Tensor{Name: "rope_factors_short.weight", DType: weights.F32, Shape: []int{ropeDim / 2}, Data: weights.Float32Bytes(short)},
		&weights.Tensor{Name: "rope_factors_long.weight", DType: weights.F32, Shape: []int{ropeDim / 2}, Data: weights.Float32Bytes(long)})
	sf, err := os.Create(filepath.Join(hfDir, "model.safetensors"))
	if err != nil {
		t.Fatal(err)
	}
	if err := safetensors.Write(sf, st, map[string]string{"format": "pt"}); err != nil {
		t.Fatal(err)
	}
	sf.Close()

	ext := float64(phiContext) / phiOrigContext
	attn := math.Sqrt(1 + math.Log(ext)/math.Log(phiOrigContext))
	a := "phi3."
	kvs := []weights.KV{
		{Key: "general.architecture", Value: "phi3"},
		{Key: a + "embedding_length", Value: uint32(s.Hidden)},
		{Key: a + "block_count", Value: uint32(s.Layers)},
		{Key: a + "attention.head_count", Value: uint32(s.Heads)},
		{Key: a + "attention.head_count_kv", Value: uint32(s.KV)},
		{Key: a + "attention.key_length", Value: uint32(s.HeadDim)},
		{Key: a + "feed_forward_length", Value: uint32(s.FFN)},
		{Key: a + "context_length", Value: uint32(phiContext)},
		{Key: a + "rope.freq_base", Value: float32(10000)},
		{Key: a + "rope.dimension_count", Value: uint32(ropeDim)},
		{Key: a + "rope.scaling.original_context_length", Value: uint32(phiOrigContext)},
		{Key: a + "rope.scaling.attn_factor", Value: float32(attn)},
		{Key: a + "attention.layer_norm_rms_epsilon", Value: float32(1e-5)},
		{Key: a + "attention.sliding_window", Value: uint32(s.Window)},
		{Key: "tokenizer.ggml.bos_token_id", Value: uint32(1)},
		{Key: "tokenizer.ggml.eos_token_id", Value: uint32(2)},
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
