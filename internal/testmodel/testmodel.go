// Package testmodel writes small random-weight models for tests: the same
// weights as a Hugging Face folder and as a GGUF, so tests can check the
// engine on every architecture without reference files.
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

// Spec describes a tiny random model.
type Spec struct {
	Arch        string // llama, mistral, qwen2, qwen3, gemma2, gemma3, phi3, chatglm, glm4
	Layers      int
	Hidden, FFN int
	Heads, KV   int
	HeadDim     int
	Vocab       int
	Window      int // sliding window (0: none)
	Seed        uint64
	// Experts, Used (top-k) and SharedFFN describe a mixture-of-experts
	// model (qwen2moe, qwen3moe, mixtral), whose experts have width FFN.
	Experts, Used, SharedFFN int
}

func (s Spec) bias() bool { return s.Arch == "qwen2" }

func (s Spec) qkNorm() bool { return s.Arch == "qwen3" }

// Write writes the same random weights twice: as a Hugging Face
// folder (config.json + model.safetensors) and as a GGUF (with the q/k row
// permutation llama-family converters apply). It returns both paths.
func Write(t testing.TB, s Spec) (ggufPath, hfDir string) {
	t.Helper()
	if s.isGemma() {
		return writeGemma(t, s)
	}
	if s.Arch == "phi3" {
		return writePhi(t, s)
	}
	if s.isGLM() {
		return writeGLM(t, s)
	}
	if s.isMoE() {
		return writeMoE(t, s)
	}
	rng := rand.New(rand.NewPCG(s.Seed, 7))
	normal := func(n int, std float64) []float32 {
		v := make([]float32, n)
		for i := range v {
			v[i] = float32(rng.NormFloat64() * std)
		}
		return v
	}
	ones := func(n int) []float32 {
		v := normal(n, 0.1)
		for i := range v {
			v[i]++
		}
		return v
	}
	type tensor struct {
		hf, gguf string
		shape    []int
		data     []float32
		permute  int // heads, for q/k rows permuted in GGUF llama
	}
	var ts []tensor
	add := func(hf, gguf string, shape []int, data []float32, permute int) {
		ts = append(ts, tensor{hf, gguf, shape, data, permute})
	}
	add("model.embed_tokens.weight", "token_embd.weight", []int{s.Vocab, s.Hidden}, normal(s.Vocab*s.Hidden, 0.5), 0)
	add("model.norm.weight", "output_norm.weight", []int{s.Hidden}, ones(s.Hidden), 0)
	llamaLike := s.Arch == "llama" || s.Arch == "mistral"
	perm := func(h int) int {
		if llamaLike {
			return h
		}
		return 0
	}
	for l := 0; l < s.Layers; l++ {
		hp, gp := fmt.Sprintf("model.layers.%d.", l), fmt.Sprintf("blk.%d.", l)
		q, kv := s.Heads*s.HeadDim, s.KV*s.HeadDim
		in := 1 / math.Sqrt(float64(s.Hidden))
		add(hp+"input_layernorm.weight", gp+"attn_norm.weight", []int{s.Hidden}, ones(s.Hidden), 0)
		add(hp+"self_attn.q_proj.weight", gp+"attn_q.weight", []int{q, s.Hidden}, normal(q*s.Hidden, in), perm(s.Heads))
		add(hp+"self_attn.k_proj.weight", gp+"attn_k.weight", []int{kv, s.Hidden}, normal(kv*s.Hidden, in), perm(s.KV))
		add(hp+"self_attn.v_proj.weight", gp+"attn_v.weight", []int{kv, s.Hidden}, normal(kv*s.Hidden, in), 0)
		if s.bias() {
			add(hp+"self_attn.q_proj.bias", gp+"attn_q.bias", []int{q}, normal(q, 0.1), 0)
			add(hp+"self_attn.k_proj.bias", gp+"attn_k.bias", []int{kv}, normal(kv, 0.1), 0)
			add(hp+"self_attn.v_proj.bias", gp+"attn_v.bias", []int{kv}, normal(kv, 0.1), 0)
		}
		if s.qkNorm() {
			add(hp+"self_attn.q_norm.weight", gp+"attn_q_norm.weight", []int{s.HeadDim}, ones(s.HeadDim), 0)
			add(hp+"self_attn.k_norm.weight", gp+"attn_k_norm.weight", []int{s.HeadDim}, ones(s.HeadDim), 0)
		}
		add(hp+"self_attn.o_proj.weight", gp+"attn_output.weight", []int{s.Hidden, q}, normal(s.Hidden*q, 1/math.Sqrt(float64(q))), 0)
		add(hp+"post_attention_layernorm.weight", gp+"ffn_norm.weight", []int{s.Hidden}, ones(s.Hidden), 0)
		add(hp+"mlp.gate_proj.weight", gp+"ffn_gate.weight", []int{s.FFN, s.Hidden}, normal(s.FFN*s.Hidden, in), 0)
		add(hp+"mlp.up_proj.weight", gp+"ffn_up.weight", []int{s.FFN, s.Hidden}, normal(s.FFN*s.Hidden, in), 0)
		add(hp+"mlp.down_proj.weight", gp+"ffn_down.weight", []int{s.Hidden, s.FFN}, normal(s.Hidden*s.FFN, 1/math.Sqrt(float64(s.FFN))), 0)
	}
	add("lm_head.weight", "output.weight", []int{s.Vocab, s.Hidden}, normal(s.Vocab*s.Hidden, 1/math.Sqrt(float64(s.Hidden))), 0)

	dir := t.TempDir()
	hfDir = filepath.Join(dir, "hf")
	if err := os.Mkdir(hfDir, 0o755); err != nil {
		t.Fatal(err)
	}
	cfg := map[string]any{
		"model_type": s.Arch, "hidden_size": s.Hidden, "num_hidden_layers": s.Layers,
		"num_attention_heads": s.Heads, "num_key_value_heads": s.KV, "head_dim": s.HeadDim,
		"intermediate_size": s.FFN, "vocab_size": s.Vocab, "max_position_embeddings": 256,
		"rope_theta": 10000.0, "rms_norm_eps": 1e-5, "tie_word_embeddings": false,
		"bos_token_id": 1, "eos_token_id": 2, "hidden_act": "silu",
	}
	if s.Window > 0 {
		cfg["sliding_window"] = s.Window
	}
	cb, _ := json.Marshal(cfg)
	if err := os.WriteFile(filepath.Join(hfDir, "config.json"), cb, 0o644); err != nil {
		t.Fatal(err)
	}
	var st []safetensors.Tensor
	var gt []*weights.Tensor
	for _, x := range ts {
		st = append(st, safetensors.Tensor{Name: x.hf, DType: "F32", Shape: x.shape, Data: safetensors.Float32Bytes(x.data)})
		data := x.data
		if x.permute > 0 { // HF -> GGUF: row h*D+2i <- h*D+i, row h*D+2i+1 <- h*D+D/2+i
			cols := x.shape[1]
			data = make([]float32, len(x.data))
			for h := 0; h < x.permute; h++ {
				for i := 0; i < s.HeadDim/2; i++ {
					copy(data[(h*s.HeadDim+2*i)*cols:(h*s.HeadDim+2*i+1)*cols], x.data[(h*s.HeadDim+i)*cols:(h*s.HeadDim+i+1)*cols])
					copy(data[(h*s.HeadDim+2*i+1)*cols:(h*s.HeadDim+2*i+2)*cols], x.data[(h*s.HeadDim+s.HeadDim/2+i)*cols:(h*s.HeadDim+s.HeadDim/2+i+1)*cols])
				}
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

	garch := s.Arch
	if s.Arch == "mistral" {
		garch = "llama" // llama.cpp's converters write Mistral as llama
	}
	kv := []weights.KV{
		{Key: "general.architecture", Value: garch},
		{Key: garch + ".embedding_length", Value: uint32(s.Hidden)},
		{Key: garch + ".block_count", Value: uint32(s.Layers)},
		{Key: garch + ".attention.head_count", Value: uint32(s.Heads)},
		{Key: garch + ".attention.head_count_kv", Value: uint32(s.KV)},
		{Key: garch + ".attention.key_length", Value: uint32(s.HeadDim)},
		{Key: garch + ".feed_forward_length", Value: uint32(s.FFN)},
		{Key: garch + ".context_length", Value: uint32(256)},
		{Key: garch + ".rope.freq_base", Value: float32(10000)},
		{Key: garch + ".attention.layer_norm_rms_epsilon", Value: float32(1e-5)},
		{Key: "tokenizer.ggml.bos_token_id", Value: uint32(1)},
		{Key: "tokenizer.ggml.eos_token_id", Value: uint32(2)},
	}
	if s.Window > 0 {
		kv = append(kv, weights.KV{Key: garch + ".attention.sliding_window", Value: uint32(s.Window)})
	}
	ggufPath = filepath.Join(dir, "model.gguf")
	g, err := os.Create(ggufPath)
	if err != nil {
		t.Fatal(err)
	}
	if err := weights.WriteGGUF(g, kv, gt); err != nil {
		t.Fatal(err)
	}
	g.Close()
	return ggufPath, hfDir
}
