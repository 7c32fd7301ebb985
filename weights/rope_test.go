package weights

import (
	"math"
	"testing"

	"github.com/stretchr/testify/require"
)

// qwen25YarnConfig is Qwen2.5-7B-Instruct's config.json with the
// rope_scaling block its model card tells users to add for long contexts.
const qwen25YarnConfig = `{
  "architectures": ["Qwen2ForCausalLM"], "attention_dropout": 0.0, "bos_token_id": 151643, "eos_token_id": 151645,
  "hidden_act": "silu", "hidden_size": 3584, "initializer_range": 0.02, "intermediate_size": 18944,
  "max_position_embeddings": 32768, "max_window_layers": 28, "model_type": "qwen2", "num_attention_heads": 28,
  "num_hidden_layers": 28, "num_key_value_heads": 4, "rms_norm_eps": 1e-06, "rope_theta": 1000000.0,
  "sliding_window": 131072, "tie_word_embeddings": false, "torch_dtype": "bfloat16", "transformers_version": "4.43.1",
  "use_cache": true, "use_sliding_window": false, "vocab_size": 152064,
  "rope_scaling": {"factor": 4.0, "original_max_position_embeddings": 32768, "type": "yarn"}
}`

func TestYarnHFConfig(t *testing.T) {
	c, err := ParseHFConfig([]byte(qwen25YarnConfig), "config.json")
	require.NoError(t, err)
	require.Equal(t, RopeScaling{Type: "yarn", Factor: 4, OriginalMaxPositions: 32768}, c.RopeScaling)
	require.Equal(t, 128, c.RopeDim)
	require.Equal(t, 0, c.SlidingWindow)

	// rope_type spelling, betas, and an attention factor, which Hugging Face
	// uses in place of 1 + 0.1·ln(factor) and the config keeps as llama.cpp's
	// multiplier of it.
	other := `{"model_type":"qwen2","hidden_size":64,"num_hidden_layers":1,"num_attention_heads":4,"intermediate_size":96,
		"vocab_size":80,"max_position_embeddings":4096,"rope_scaling":{"rope_type":"yarn","factor":8,"beta_fast":16,"beta_slow":2,"attention_factor":1.5}}`
	c, err = ParseHFConfig([]byte(other), "config.json")
	require.NoError(t, err)
	rs := c.RopeScaling
	require.Equal(t, 4096, rs.OriginalMaxPositions, "defaults to max_position_embeddings")
	require.Equal(t, 16.0, rs.BetaFast)
	require.Equal(t, 2.0, rs.BetaSlow)
	require.InDelta(t, 1.5/(1+0.1*math.Log(8)), rs.AttnFactor, 1e-15)

	for _, bad := range []struct{ scaling, want string }{
		{`{"type":"yarn","factor":40,"mscale":1,"mscale_all_dim":1,"original_max_position_embeddings":4096}`, "mscale"},
		{`{"rope_type":"yarn","factor":32,"truncate":false,"original_max_position_embeddings":4096}`, "truncate false"},
		{`{"type":"yarn","original_max_position_embeddings":4096}`, `rope scaling "yarn" needs a positive finite factor`},
		{`{"type":"yarn","factor":4,"beta_fast":-1}`, "betas -1"},
	} {
		cfg := `{"model_type":"qwen2","hidden_size":64,"num_hidden_layers":1,"num_attention_heads":4,"intermediate_size":96,"vocab_size":80,"rope_scaling":` + bad.scaling + `}`
		_, err := ParseHFConfig([]byte(cfg), "config.json")
		require.ErrorContains(t, err, bad.want, bad.scaling)
	}
}

// TestYarnGGUF checks the YaRN keys of a GGUF file: the original context
// defaults to the training context, as in llama.cpp, and the attention
// factor key is read.
func TestYarnGGUF(t *testing.T) {
	s := tinyLlama()
	for _, c := range []struct {
		kv         []KV
		orig       int
		attnFactor float64
	}{
		{setKV(setKV(s.ggufKV(), "llama.rope.scaling.type", "yarn"), "llama.rope.scaling.factor", float32(4)), 64, 0},
		{setKV(setKV(setKV(setKV(s.ggufKV(), "llama.rope.scaling.type", "yarn"), "llama.rope.scaling.factor", float32(4)),
			"llama.rope.scaling.original_context_length", uint32(32)), "llama.rope.scaling.attn_factor", float32(0.5)), 32, 0.5},
	} {
		m, err := Open(writeFile(t, t.TempDir(), "m.gguf", ggufBytes(t, c.kv, s.ggufTensors())))
		require.NoError(t, err)
		rs := m.Config.RopeScaling
		m.Close()
		require.Equal(t, "yarn", rs.Type)
		require.Equal(t, 4.0, rs.Factor)
		require.Equal(t, c.orig, rs.OriginalMaxPositions)
		require.Equal(t, c.attnFactor, rs.AttnFactor)
	}
}
