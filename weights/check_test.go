package weights

import (
	"fmt"
	"math"
	"strings"
	"testing"

	"github.com/valueexploration/valueexp/weights/safetensors"
)

// TestLayerCountAndUnusedTensors: a config that declares fewer layers than
// the file holds, or a file with tensors the config does not account for,
// must be refused at open with the tensors named; known optional tensors
// open fine.
func TestLayerCountAndUnusedTensors(t *testing.T) {
	s := tinyLlama() // 2 layers
	one := s
	one.layers = 1
	withBias := s
	withBias.bias = true
	f32 := func(name string, shape ...int) *Tensor {
		return &Tensor{Name: name, DType: F32, Shape: shape, Data: f32Data(7, shape)}
	}
	ggufCases := []struct {
		name    string
		kv      []KV
		tensors []*Tensor
		want    []string // nil: must open
	}{
		{"block_count below the file's layers", one.ggufKV(), s.ggufTensors(), []string{
			`layers up to 1 but metadata key "llama.block_count" declares 1 layers`,
			"truncated", "blk.1.attn_norm.weight", "blk.1.ffn_down.weight", "9 tensors beyond",
		}},
		{"block_count above the file's layers", setKV(s.ggufKV(), "llama.block_count", uint32(3)), s.ggufTensors(), []string{
			`tensor "blk.2.attn_norm.weight" missing (metadata key "llama.block_count" declares 3 layers, the file holds 2)`,
		}},
		{"attention biases in layer 1 only", s.ggufKV(), nil, nil}, // tensors set below
		{"unknown top-level tensor", s.ggufKV(), append(s.ggufTensors(), f32("v.blk.0.attn_q.weight", 8)), []string{
			`1 tensors that a llama model with this config does not use: v.blk.0.attn_q.weight`,
		}},
		{"expert router", s.ggufKV(), append(s.ggufTensors(), f32("blk.0.ffn_gate_inp.weight", 4, 8)), []string{"blk.0.ffn_gate_inp.weight"}},
		{"rope_freqs is known", s.ggufKV(), append(s.ggufTensors(), f32("rope_freqs.weight", 2)), nil},
	}
	// A GGUF llama file may carry q/k/v biases (llama.cpp loads them when
	// present, and so does the config reader, from layer 0); biases in a
	// later layer only are tensors the config does not account for.
	for _, x := range withBias.ggufTensors() {
		if !strings.HasPrefix(x.Name, "blk.0.") || !strings.HasSuffix(x.Name, ".bias") {
			ggufCases[2].tensors = append(ggufCases[2].tensors, x)
		}
	}
	ggufCases[2].want = []string{"3 tensors that a llama model", "blk.1.attn_k.bias, blk.1.attn_q.bias, blk.1.attn_v.bias"}
	for _, c := range ggufCases {
		t.Run("gguf/"+c.name, func(t *testing.T) {
			path := writeFile(t, t.TempDir(), "m.gguf", ggufBytes(t, c.kv, c.tensors))
			m, err := Open(path)
			wantOpenErr(t, m, err, "gguf: "+path+": ", c.want)
		})
	}

	cfg := func(edit func(map[string]any)) map[string]any {
		c := s.hfConfig()
		edit(c)
		return c
	}
	extra := func(ts ...safetensors.Tensor) []safetensors.Tensor { return append(s.hfTensors(), ts...) }
	st := func(name string, shape ...int) safetensors.Tensor {
		return safetensors.Tensor{Name: name, DType: "F32", Shape: shape, Data: f32Data(9, shape)}
	}
	tied := s
	tied.tied = true
	tiedHF := tied.hfTensors()
	var embed safetensors.Tensor
	for _, x := range tiedHF {
		if x.Name == "model.embed_tokens.weight" {
			embed = x
		}
	}
	sameHead := embed
	sameHead.Name = "lm_head.weight"
	otherHead := st("lm_head.weight", s.vocab, s.hidden)
	hfCases := []struct {
		name    string
		cfg     map[string]any
		tensors []safetensors.Tensor
		want    []string
	}{
		{"num_hidden_layers below the file's layers", cfg(func(c map[string]any) { c["num_hidden_layers"] = 1 }), s.hfTensors(), []string{
			"layers up to 1 but num_hidden_layers in config.json declares 1 layers",
			"model.layers.1.input_layernorm.weight", "model.layers.1.mlp.down_proj.weight",
		}},
		{"num_hidden_layers above the file's layers", cfg(func(c map[string]any) { c["num_hidden_layers"] = 5 }), s.hfTensors(), []string{
			`tensor "blk.2.attn_norm.weight" missing (num_hidden_layers in config.json declares 5 layers, the file holds 2)`,
		}},
		{"vision tower", s.hfConfig(), extra(st("vision_tower.blocks.0.attn.qkv.weight", 4, 4), st("multi_modal_projector.linear_1.weight", 4, 4)), []string{
			"2 tensors that a llama model", "multi_modal_projector.linear_1.weight", "vision_tower.blocks.0.attn.qkv.weight",
		}},
		{"unmapped layer tensor", s.hfConfig(), extra(st("model.layers.0.mlp.experts.0.up_proj.weight", 4, 4)), []string{"model.layers.0.mlp.experts.0.up_proj.weight"}},
		{"bias without attention_bias", s.hfConfig(), extra(st("model.layers.0.self_attn.q_proj.bias", 8)), []string{"model.layers.0.self_attn.q_proj.bias"}},
		{"inv_freq is benign", s.hfConfig(), extra(st("model.layers.0.self_attn.rotary_emb.inv_freq", 2), st("model.layers.1.self_attn.rotary_emb.inv_freq", 2), st("model.rotary_emb.inv_freq", 2)), nil},
		{"inv_freq of an extra layer", s.hfConfig(), extra(st("model.layers.2.self_attn.rotary_emb.inv_freq", 2)), []string{"layers up to 2", "model.layers.2.self_attn.rotary_emb.inv_freq"}},
		{"tied, lm_head a copy of the embedding", tied.hfConfig(), append(tied.hfTensors(), sameHead), nil},
		{"tied, lm_head different", tied.hfConfig(), append(tied.hfTensors(), otherHead), []string{
			`tensor "lm_head.weight" differs from "model.embed_tokens.weight" but the config ties the embeddings`,
		}},
	}
	for _, c := range hfCases {
		t.Run("hf/"+c.name, func(t *testing.T) {
			dir := writeHFFolder(t, c.cfg, c.tensors)
			m, err := Open(dir)
			wantOpenErr(t, m, err, "weights: ", c.want)
			if err != nil && !strings.Contains(err.Error(), dir) {
				t.Errorf("error %q does not name the folder", err)
			}
		})
	}
}

// wantOpenErr checks the result of Open: success when want is nil, else an
// error starting with prefix and containing every string of want.
func wantOpenErr(t *testing.T, m *Model, err error, prefix string, want []string) {
	t.Helper()
	if want == nil {
		if err != nil {
			t.Fatalf("open: %v", err)
		}
		m.Close()
		return
	}
	if err == nil {
		m.Close()
		t.Fatal("opened, want an error")
	}
	msg := err.Error()
	if !strings.HasPrefix(msg, prefix) {
		t.Errorf("error %q does not start with %q", msg, prefix)
	}
	for _, w := range want {
		if !strings.Contains(msg, w) {
			t.Errorf("error %q does not contain %q", msg, w)
		}
	}
}

// TestConfigNumbersValidated: numbers from a file that the engine would
// turn into a silent wrong answer (an infinite rope factor, a negative
// context) are refused at open.
func TestConfigNumbersValidated(t *testing.T) {
	s := tinyLlama()
	for _, c := range []struct {
		name string
		kv   []KV
		want string
	}{
		{"infinite rope scaling factor", setKV(setKV(s.ggufKV(), "llama.rope.scaling.type", "linear"), "llama.rope.scaling.factor", float32(math.Inf(1))), "needs a positive finite factor"},
		{"NaN rope scaling factor", setKV(setKV(s.ggufKV(), "llama.rope.scaling.type", "linear"), "llama.rope.scaling.factor", float32(math.NaN())), "needs a positive finite factor"},
		{"NaN rope theta", setKV(s.ggufKV(), "llama.rope.freq_base", float32(math.NaN())), "rope theta NaN out of range"},
		{"infinite norm epsilon", setKV(s.ggufKV(), "llama.attention.layer_norm_rms_epsilon", float32(math.Inf(1))), "norm epsilon +Inf out of range"},
	} {
		t.Run(c.name, func(t *testing.T) {
			path := writeFile(t, t.TempDir(), "m.gguf", ggufBytes(t, c.kv, s.ggufTensors()))
			m, err := Open(path)
			wantOpenErr(t, m, err, "gguf: "+path+": ", []string{c.want})
		})
	}
	cfg := s.hfConfig()
	cfg["max_position_embeddings"] = -5
	dir := writeHFFolder(t, cfg, s.hfTensors())
	m, err := Open(dir)
	wantOpenErr(t, m, err, "weights: ", []string{"context length -5 and sliding window 0 must not be negative"})
	cfg = s.hfConfig()
	cfg["rope_scaling"] = map[string]any{"rope_type": "llama3", "factor": 8, "low_freq_factor": -1, "high_freq_factor": 4, "original_max_position_embeddings": 8192}
	m, err = Open(writeHFFolder(t, cfg, s.hfTensors()))
	wantOpenErr(t, m, err, "weights: ", []string{"frequency factors -1, 4 must be finite and not negative"})
}

// TestGGUFVocabLargerThanEmbedding: a tokenizer with more tokens than the
// embedding has rows is refused at open, not at the first text that uses a
// token beyond the last row.
func TestGGUFVocabLargerThanEmbedding(t *testing.T) {
	s := tinyLlama() // 16 tokens, 16 embedding rows
	toks := make([]string, 20)
	for i := range toks {
		toks[i] = fmt.Sprintf("t%d", i)
	}
	path := writeFile(t, t.TempDir(), "m.gguf", ggufBytes(t, setKV(s.ggufKV(), "tokenizer.ggml.tokens", toks), s.ggufTensors()))
	m, err := Open(path)
	wantOpenErr(t, m, err, "gguf: "+path+": ", []string{"the tokenizer has 20 tokens (tokenizer.ggml.tokens) but token_embd.weight has only 16 rows"})
	// Fewer tokens than rows (padded embeddings, as Qwen's) are fine.
	path = writeFile(t, t.TempDir(), "m.gguf", ggufBytes(t, setKV(s.ggufKV(), "tokenizer.ggml.tokens", toks[:12]), s.ggufTensors()))
	m, err = Open(path)
	wantOpenErr(t, m, err, "", nil)
}
