package weights

import (
	"bytes"
	"encoding/binary"
	"fmt"
	"strings"
	"testing"
)

// TestParseHFConfigVariants reads config.json snippets shaped like the
// published configs of the supported families and checks the fields that
// differ between them.
func TestParseHFConfigVariants(t *testing.T) {
	for _, c := range []struct {
		name, json string
		check      func(Config) string
	}{
		{"llama-3.1 (llama3 rope scaling, eos list)", `{"model_type":"llama","hidden_size":4096,"num_hidden_layers":32,"num_attention_heads":32,
			"num_key_value_heads":8,"intermediate_size":14336,"vocab_size":128256,"max_position_embeddings":131072,"rope_theta":500000.0,
			"rope_scaling":{"factor":8.0,"low_freq_factor":1.0,"high_freq_factor":4.0,"original_max_position_embeddings":8192,"rope_type":"llama3"},
			"rms_norm_eps":1e-05,"tie_word_embeddings":false,"bos_token_id":128000,"eos_token_id":[128001,128008,128009],"hidden_act":"silu"}`,
			func(c Config) string {
				return fields(c.RopeScaling.Type, c.RopeScaling.Factor, c.RopeScaling.LowFreqFactor, c.RopeScaling.HighFreqFactor,
					c.RopeScaling.OriginalMaxPositions, c.HeadDim, c.KVHeads, c.EOS, c.BOS, c.TiedEmbeddings, c.AttnBias, c.SlidingWindow)
			}},
		{"mistral-7b-v0.1 (sliding window)", `{"model_type":"mistral","hidden_size":4096,"num_hidden_layers":32,"num_attention_heads":32,
			"num_key_value_heads":8,"intermediate_size":14336,"vocab_size":32000,"rope_theta":10000.0,"sliding_window":4096,"rms_norm_eps":1e-05,
			"bos_token_id":1,"eos_token_id":2}`,
			func(c Config) string { return fields(c.Arch, c.SlidingWindow, c.HeadDim, c.RopeScaling.Type == "") }},
		{"qwen2.5 (window listed but unused, biases implied, tied)", `{"model_type":"qwen2","hidden_size":896,"num_hidden_layers":24,
			"num_attention_heads":14,"num_key_value_heads":2,"intermediate_size":4864,"vocab_size":151936,"rope_theta":1000000.0,
			"sliding_window":32768,"use_sliding_window":false,"rms_norm_eps":1e-06,"tie_word_embeddings":true,"bos_token_id":151643,"eos_token_id":151645}`,
			func(c Config) string {
				return fields(c.SlidingWindow, c.AttnBias, c.TiedEmbeddings, c.HeadDim, c.EOS)
			}},
		{"qwen3 (explicit head_dim, q/k norm)", `{"model_type":"qwen3","hidden_size":1024,"num_hidden_layers":28,"num_attention_heads":16,
			"num_key_value_heads":8,"head_dim":128,"intermediate_size":3072,"vocab_size":151936,"rope_theta":1000000,"rms_norm_eps":1e-06,
			"attention_bias":false,"tie_word_embeddings":true,"eos_token_id":151645}`,
			func(c Config) string { return fields(c.HeadDim, c.QKNorm, c.AttnBias, c.RopeDim) }},
		{"linear rope scaling, old key", `{"model_type":"llama","hidden_size":64,"num_hidden_layers":1,"num_attention_heads":4,
			"intermediate_size":128,"vocab_size":100,"rope_scaling":{"type":"linear","factor":2.0}}`,
			func(c Config) string { return fields(c.RopeScaling.Type, c.RopeScaling.Factor, c.KVHeads, c.BOS) }},
	} {
		cfg, err := ParseHFConfig([]byte(c.json), "config.json")
		if err != nil {
			t.Errorf("%s: %v", c.name, err)
			continue
		}
		got := c.check(cfg)
		want := map[string]string{
			"llama-3.1 (llama3 rope scaling, eos list)":                "llama3 8 1 4 8192 128 8 [128001 128008 128009] 128000 false false 0",
			"mistral-7b-v0.1 (sliding window)":                         "mistral 4096 128 true",
			"qwen2.5 (window listed but unused, biases implied, tied)": "0 true true 64 [151645]",
			"qwen3 (explicit head_dim, q/k norm)":                      "128 true false 128",
			"linear rope scaling, old key":                             "linear 2 4 -1",
		}[c.name]
		if got != want {
			t.Errorf("%s: got %s, want %s", c.name, got, want)
		}
	}
}

// fields joins values with single spaces.
func fields(v ...any) string { return strings.TrimSuffix(fmt.Sprintln(v...), "\n") }

// TestGGUFVersion2 checks that a version-2 file (the same little-endian
// layout with 64-bit counts) opens like version 3.
func TestGGUFVersion2(t *testing.T) {
	var buf bytes.Buffer
	kv := []KV{{"general.architecture", "llama"}, {"general.name", "v2"}}
	ts := []*Tensor{{Name: "a", DType: F32, Shape: []int{2, 2}, Data: Float32Bytes([]float32{1, 2, 3, 4})}}
	if err := WriteGGUF(&buf, kv, ts); err != nil {
		t.Fatal(err)
	}
	b := buf.Bytes()
	binary.LittleEndian.PutUint32(b[4:], 2)
	g, err := ParseGGUF(b, "v2.gguf")
	if err != nil {
		t.Fatal(err)
	}
	if name, _ := g.String("general.name"); g.Version != 2 || name != "v2" || len(g.Tensors) != 1 {
		t.Errorf("version %d name %q tensors %d", g.Version, name, len(g.Tensors))
	}
}
