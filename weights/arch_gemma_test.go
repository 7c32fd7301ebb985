package weights

import (
	"bytes"
	"math"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// The config.json files of google/gemma-2-2b, google/gemma-3-1b-it and (its
// text part) google/gemma-3-4b-it, as published.
const (
	gemma2Config = `{"architectures":["Gemma2ForCausalLM"],"attention_bias":false,"attention_dropout":0.0,
"attn_logit_softcapping":50.0,"bos_token_id":2,"cache_implementation":"hybrid","eos_token_id":1,
"final_logit_softcapping":30.0,"head_dim":256,"hidden_act":"gelu_pytorch_tanh","hidden_activation":"gelu_pytorch_tanh",
"hidden_size":2304,"initializer_range":0.02,"intermediate_size":9216,"max_position_embeddings":8192,"model_type":"gemma2",
"num_attention_heads":8,"num_hidden_layers":26,"num_key_value_heads":4,"pad_token_id":0,"query_pre_attn_scalar":256,
"rms_norm_eps":1e-06,"rope_theta":10000.0,"sliding_window":4096,"torch_dtype":"float32","use_cache":true,"vocab_size":256000}`
	gemma3Config = `{"architectures":["Gemma3ForCausalLM"],"attention_bias":false,"attention_dropout":0.0,
"attn_logit_softcapping":null,"bos_token_id":2,"cache_implementation":"hybrid","eos_token_id":[1,106],
"final_logit_softcapping":null,"head_dim":256,"hidden_activation":"gelu_pytorch_tanh","hidden_size":1152,
"initializer_range":0.02,"intermediate_size":6912,"max_position_embeddings":32768,"model_type":"gemma3_text",
"num_attention_heads":4,"num_hidden_layers":26,"num_key_value_heads":1,"pad_token_id":0,"query_pre_attn_scalar":256,
"rms_norm_eps":1e-06,"rope_local_base_freq":10000,"rope_scaling":null,"rope_theta":1000000,"sliding_window":512,
"sliding_window_pattern":6,"torch_dtype":"bfloat16","use_cache":true,"vocab_size":262144}`
	gemma3MultimodalConfig = `{"architectures":["Gemma3ForConditionalGeneration"],"boi_token_index":255999,
"eoi_token_index":256000,"eos_token_id":[1,106],"image_token_index":262144,"initializer_range":0.02,
"mm_tokens_per_image":256,"model_type":"gemma3","text_config":{"hidden_size":2560,"intermediate_size":10240,
"model_type":"gemma3_text","num_hidden_layers":34,"rope_scaling":{"factor":8.0,"rope_type":"linear"},
"sliding_window":1024},"torch_dtype":"bfloat16","vision_config":{"hidden_size":1152,"model_type":"siglip_vision_model"}}`
)

func TestGemmaHFConfig(t *testing.T) {
	for _, c := range []struct {
		name, json string
		want       Config
	}{
		{"gemma-2-2b", gemma2Config, Config{Arch: "gemma2", HiddenSize: 2304, Layers: 26, Heads: 8, KVHeads: 4, HeadDim: 256,
			FFNSize: 9216, VocabSize: 256000, ContextLength: 8192, RopeTheta: 10000, RopeDim: 256, NormEps: 1e-6,
			TiedEmbeddings: true, SlidingWindow: 4096, FFNAct: "gelu_tanh", PostNorms: true, EmbedScale: 48,
			AttnScale: 1.0 / 16, AttnSoftcap: 50, FinalSoftcap: 30, SlidingPattern: 2, BOS: 2, EOS: []int{1}}},
		{"gemma-3-1b-it", gemma3Config, Config{Arch: "gemma3", HiddenSize: 1152, Layers: 26, Heads: 4, KVHeads: 1, HeadDim: 256,
			FFNSize: 6912, VocabSize: 262144, ContextLength: 32768, RopeTheta: 1e6, RopeDim: 256, NormEps: 1e-6,
			TiedEmbeddings: true, QKNorm: true, SlidingWindow: 512, FFNAct: "gelu_tanh", PostNorms: true,
			EmbedScale: math.Sqrt(1152), AttnScale: 1.0 / 16, SlidingPattern: 6, RopeThetaLocal: 10000, BOS: 2, EOS: []int{1, 106}}},
		// Gemma3TextConfig's defaults fill what the text_config leaves out.
		{"gemma-3-4b-it", gemma3MultimodalConfig, Config{Arch: "gemma3", HiddenSize: 2560, Layers: 34, Heads: 8, KVHeads: 4, HeadDim: 256,
			FFNSize: 10240, VocabSize: 262208, ContextLength: 131072, RopeTheta: 1e6, RopeDim: 256, NormEps: 1e-6,
			RopeScaling: RopeScaling{Type: "linear", Factor: 8}, TiedEmbeddings: true, QKNorm: true, SlidingWindow: 1024,
			FFNAct: "gelu_tanh", PostNorms: true, EmbedScale: math.Sqrt(2560), AttnScale: 1.0 / 16, SlidingPattern: 6,
			RopeThetaLocal: 10000, BOS: 2, EOS: []int{1, 106}}},
	} {
		t.Run(c.name, func(t *testing.T) {
			got, err := ParseHFConfig([]byte(c.json), "config.json")
			require.NoError(t, err)
			assert.Equal(t, c.want, got)
		})
	}
}

func TestGemmaSlidingLayers(t *testing.T) {
	sliding := func(c Config, n int) (s []bool) {
		for l := 0; l < n; l++ {
			s = append(s, c.IsSliding(l))
		}
		return s
	}
	g2, err := ParseHFConfig([]byte(gemma2Config), "config.json")
	require.NoError(t, err)
	assert.Equal(t, []bool{true, false, true, false}, sliding(g2, 4))
	g3, err := ParseHFConfig([]byte(gemma3Config), "config.json")
	require.NoError(t, err)
	assert.Equal(t, []bool{true, true, true, true, true, false, true}, sliding(g3, 7))
	assert.Equal(t, []bool{false, false}, sliding(Config{}, 2), "no window, no sliding layer")
	assert.Equal(t, []bool{true, true}, sliding(Config{SlidingWindow: 3}, 2), "mistral: every layer")
}

func TestGemmaLayerTypes(t *testing.T) {
	for _, c := range []struct {
		types   []string
		pattern int
		allFull bool
		err     bool
	}{
		{[]string{"sliding_attention", "full_attention", "sliding_attention", "full_attention"}, 2, false, false},
		{[]string{"sliding_attention", "sliding_attention", "full_attention", "sliding_attention"}, 3, false, false},
		{[]string{"sliding_attention", "sliding_attention"}, 1, false, false},
		{[]string{"full_attention", "full_attention"}, 0, true, false},
		{[]string{"sliding_attention", "full_attention", "full_attention"}, 0, false, true},
		{[]string{"full_attention", "sliding_attention"}, 0, false, true},
		{[]string{"sliding_attention", "chunked_attention"}, 0, false, true},
	} {
		p, allFull, err := patternOf(c.types)
		if c.err {
			assert.Error(t, err, "%v", c.types)
			continue
		}
		require.NoError(t, err, "%v", c.types)
		assert.Equal(t, c.pattern, p, "%v", c.types)
		assert.Equal(t, c.allFull, allFull, "%v", c.types)
	}
}

func TestGemmaConfigErrors(t *testing.T) {
	for _, c := range []struct{ json, want string }{
		{`{"model_type":"gemma2","hidden_activation":"relu","hidden_size":64,"num_hidden_layers":1,"num_attention_heads":2,"intermediate_size":64,"vocab_size":10}`, "hidden_activation"},
		{`{"model_type":"gemma2","query_pre_attn_scalar":-1,"hidden_size":64,"num_hidden_layers":1,"num_attention_heads":2,"intermediate_size":64,"vocab_size":10}`, "query_pre_attn_scalar"},
		{`{"model_type":"gemma3_text","layer_types":["full_attention","sliding_attention"],"hidden_size":64,"num_hidden_layers":2,"num_attention_heads":2,"intermediate_size":64,"vocab_size":10}`, "layer_types"},
		{`{"model_type":"gemma3","text_config":[1]}`, "text_config"},
	} {
		_, err := ParseHFConfig([]byte(c.json), "config.json")
		require.Error(t, err, c.json)
		assert.Contains(t, err.Error(), c.want)
	}
}

func TestGemmaNames(t *testing.T) {
	for _, c := range []struct{ arch, hf, want string }{
		{"gemma2", "model.layers.3.post_attention_layernorm.weight", "blk.3.post_attention_norm.weight"},
		{"gemma2", "model.layers.3.pre_feedforward_layernorm.weight", "blk.3.ffn_norm.weight"},
		{"gemma2", "model.layers.3.post_feedforward_layernorm.weight", "blk.3.post_ffw_norm.weight"},
		{"gemma2", "model.layers.3.input_layernorm.weight", "blk.3.attn_norm.weight"},
		{"gemma3", "language_model.model.layers.0.self_attn.q_norm.weight", "blk.0.attn_q_norm.weight"},
		{"gemma3", "model.language_model.embed_tokens.weight", "token_embd.weight"},
		{"qwen2", "model.layers.3.post_attention_layernorm.weight", "blk.3.ffn_norm.weight"},
	} {
		got, ok := canonicalFor(c.arch, c.hf)
		assert.True(t, ok, c.hf)
		assert.Equal(t, c.want, got, c.hf)
	}
	assert.True(t, skipHFTensor("gemma3", "vision_tower.vision_model.embeddings.patch_embedding.weight"))
	assert.False(t, skipHFTensor("gemma2", "vision_tower.x"))
}

// TestGemmaGGUFConfig reads the keys llama.cpp writes for Gemma 2 and 3 and
// what it derives from the architecture, and refuses a soft-cap that is not
// a number, naming the key.
func TestGemmaGGUFConfig(t *testing.T) {
	base := func(arch string, layers int, extra ...KV) *GGUF {
		kv := []KV{
			{"general.architecture", arch}, {arch + ".embedding_length", uint32(4608)}, {arch + ".block_count", uint32(layers)},
			{arch + ".attention.head_count", uint32(32)}, {arch + ".attention.head_count_kv", uint32(16)},
			{arch + ".attention.key_length", uint32(128)}, {arch + ".feed_forward_length", uint32(36864)},
		}
		var buf bytes.Buffer
		require.NoError(t, WriteGGUF(&buf, append(kv, extra...), nil))
		g, err := ParseGGUF(buf.Bytes(), arch+".gguf")
		require.NoError(t, err)
		return g
	}
	c, err := configFromGGUF(base("gemma2", 46, KV{"gemma2.attn_logit_softcapping", float32(40)}), map[string]*Tensor{})
	// No vocabulary: validateConfig refuses it, after the Gemma fields are set.
	require.ErrorContains(t, err, "vocab size")
	assert.Equal(t, 1/math.Sqrt(4608.0/32), c.AttnScale, "27B: query scale from hidden/heads")
	assert.Equal(t, []any{40.0, 30.0, 4096, 2, true, "gelu_tanh"}, []any{c.AttnSoftcap, c.FinalSoftcap, c.SlidingWindow, c.SlidingPattern, c.PostNorms, c.FFNAct})
	c, _ = configFromGGUF(base("gemma3", 34, KV{"gemma3.attention.sliding_window", uint32(1024)}), map[string]*Tensor{})
	assert.Equal(t, []any{1 / math.Sqrt(128), 0.0, 0.0, 1024, 6, 10000.0}, []any{c.AttnScale, c.AttnSoftcap, c.FinalSoftcap, c.SlidingWindow, c.SlidingPattern, c.RopeThetaLocal})
	_, err = configFromGGUF(base("gemma2", 26, KV{"gemma2.final_logit_softcapping", "thirty"}), map[string]*Tensor{})
	require.ErrorContains(t, err, `"gemma2.final_logit_softcapping" is not a number`)
}

func TestGemmaBlockOptions(t *testing.T) {
	g2, err := ParseHFConfig([]byte(gemma2Config), "config.json")
	require.NoError(t, err)
	assert.Equal(t, "gelu_tanh feed-forward, post-attention and post-FFN norms, embeddings x 48, score scale 0.0625, "+
		"soft-caps 50 (scores) / 30 (logits), 1 global layer in 2", blockOptions(g2))
	assert.Equal(t, "", blockOptions(Config{Arch: "llama", SlidingWindow: 4096}))
}
