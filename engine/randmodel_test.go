package engine

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

// randSpec describes a tiny random model for invariant tests.
type randSpec struct {
	arch          string // llama, mistral, qwen2, qwen3
	layers        int
	hidden, ffn   int
	heads, kv, hd int
	vocab         int
	window        int
	seed          uint64
}

func (s randSpec) bias() bool   { return s.arch == "qwen2" }
func (s randSpec) qkNorm() bool { return s.arch == "qwen3" }

// writeRandomModel writes the same random weights twice: as a Hugging Face
// folder (config.json + model.safetensors) and as a GGUF (with the q/k row
// permutation llama-family converters apply). It returns both paths.
func writeRandomModel(t testing.TB, s randSpec) (ggufPath, hfDir string) {
	t.Helper()
	rng := rand.New(rand.NewPCG(s.seed, 7))
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
	add("model.embed_tokens.weight", "token_embd.weight", []int{s.vocab, s.hidden}, normal(s.vocab*s.hidden, 0.5), 0)
	add("model.norm.weight", "output_norm.weight", []int{s.hidden}, ones(s.hidden), 0)
	llamaLike := s.arch == "llama" || s.arch == "mistral"
	perm := func(h int) int {
		if llamaLike {
			return h
		}
		return 0
	}
	for l := 0; l < s.layers; l++ {
		hp, gp := fmt.Sprintf("model.layers.%d.", l), fmt.Sprintf("blk.%d.", l)
		q, kv := s.heads*s.hd, s.kv*s.hd
		in := 1 / math.Sqrt(float64(s.hidden))
		add(hp+"input_layernorm.weight", gp+"attn_norm.weight", []int{s.hidden}, ones(s.hidden), 0)
		add(hp+"self_attn.q_proj.weight", gp+"attn_q.weight", []int{q, s.hidden}, normal(q*s.hidden, in), perm(s.heads))
		add(hp+"self_attn.k_proj.weight", gp+"attn_k.weight", []int{kv, s.hidden}, normal(kv*s.hidden, in), perm(s.kv))
		add(hp+"self_attn.v_proj.weight", gp+"attn_v.weight", []int{kv, s.hidden}, normal(kv*s.hidden, in), 0)
		if s.bias() {
			add(hp+"self_attn.q_proj.bias", gp+"attn_q.bias", []int{q}, normal(q, 0.1), 0)
			add(hp+"self_attn.k_proj.bias", gp+"attn_k.bias", []int{kv}, normal(kv, 0.1), 0)
			add(hp+"self_attn.v_proj.bias", gp+"attn_v.bias", []int{kv}, normal(kv, 0.1), 0)
		}
		if s.qkNorm() {
			add(hp+"self_attn.q_norm.weight", gp+"attn_q_norm.weight", []int{s.hd}, ones(s.hd), 0)
			add(hp+"self_attn.k_norm.weight", gp+"attn_k_norm.weight", []int{s.hd}, ones(s.hd), 0)
		}
		add(hp+"self_attn.o_proj.weight", gp+"attn_output.weight", []int{s.hidden, q}, normal(s.hidden*q, 1/math.Sqrt(float64(q))), 0)
		add(hp+"post_attention_layernorm.weight", gp+"ffn_norm.weight", []int{s.hidden}, ones(s.hidden), 0)
		add(hp+"mlp.gate_proj.weight", gp+"ffn_gate.weight", []int{s.ffn, s.hidden}, normal(s.ffn*s.hidden, in), 0)
		add(hp+"mlp.up_proj.weight", gp+"ffn_up.weight", []int{s.ffn, s.hidden}, normal(s.ffn*s.hidden, in), 0)
		add(hp+"mlp.down_proj.weight", gp+"ffn_down.weight", []int{s.hidden, s.ffn}, normal(s.hidden*s.ffn, 1/math.Sqrt(float64(s.ffn))), 0)
	}
	add("lm_head.weight", "output.weight", []int{s.vocab, s.hidden}, normal(s.vocab*s.hidden, 1/math.Sqrt(float64(s.hidden))), 0)

	dir := t.TempDir()
	hfDir = filepath.Join(dir, "hf")
	if err := os.Mkdir(hfDir, 0o755); err != nil {
		t.Fatal(err)
	}
	cfg := map[string]any{
		"model_type": s.arch, "hidden_size": s.hidden, "num_hidden_layers": s.layers,
		"num_attention_heads": s.heads, "num_key_value_heads": s.kv, "head_dim": s.hd,
		"intermediate_size": s.ffn, "vocab_size": s.vocab, "max_position_embeddings": 256,
		"rope_theta": 10000.0, "rms_norm_eps": 1e-5, "tie_word_embeddings": false,
		"bos_token_id": 1, "eos_token_id": 2, "hidden_act": "silu",
	}
	if s.window > 0 {
		cfg["sliding_window"] = s.window
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
				for i := 0; i < s.hd/2; i++ {
					copy(data[(h*s.hd+2*i)*cols:(h*s.hd+2*i+1)*cols], x.data[(h*s.hd+i)*cols:(h*s.hd+i+1)*cols])
					copy(data[(h*s.hd+2*i+1)*cols:(h*s.hd+2*i+2)*cols], x.data[(h*s.hd+s.hd/2+i)*cols:(h*s.hd+s.hd/2+i+1)*cols])
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

	garch := s.arch
	if s.arch == "mistral" {
		garch = "llama" // llama.cpp's converters write Mistral as llama
	}
	kv := []weights.KV{
		{Key: "general.architecture", Value: garch},
		{Key: garch + ".embedding_length", Value: uint32(s.hidden)},
		{Key: garch + ".block_count", Value: uint32(s.layers)},
		{Key: garch + ".attention.head_count", Value: uint32(s.heads)},
		{Key: garch + ".attention.head_count_kv", Value: uint32(s.kv)},
		{Key: garch + ".attention.key_length", Value: uint32(s.hd)},
		{Key: garch + ".feed_forward_length", Value: uint32(s.ffn)},
		{Key: garch + ".context_length", Value: uint32(256)},
		{Key: garch + ".rope.freq_base", Value: float32(10000)},
		{Key: garch + ".attention.layer_norm_rms_epsilon", Value: float32(1e-5)},
		{Key: "tokenizer.ggml.bos_token_id", Value: uint32(1)},
		{Key: "tokenizer.ggml.eos_token_id", Value: uint32(2)},
	}
	if s.window > 0 {
		kv = append(kv, weights.KV{Key: garch + ".attention.sliding_window", Value: uint32(s.window)})
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

var randSpecs = []randSpec{
	{arch: "llama", layers: 2, hidden: 64, ffn: 96, heads: 4, kv: 2, hd: 16, vocab: 80, seed: 1},
	{arch: "mistral", layers: 2, hidden: 64, ffn: 96, heads: 4, kv: 1, hd: 16, vocab: 80, window: 5, seed: 2},
	{arch: "qwen2", layers: 2, hidden: 64, ffn: 96, heads: 4, kv: 2, hd: 16, vocab: 80, seed: 3},
	{arch: "qwen3", layers: 2, hidden: 64, ffn: 96, heads: 4, kv: 2, hd: 24, vocab: 80, seed: 4},
}
