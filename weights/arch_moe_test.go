package weights

import (
	"bytes"
	"strings"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// The config.json files of Qwen/Qwen3-30B-A3B, mistralai/Mixtral-8x7B-v0.1 and
// Qwen/Qwen1.5-MoE-A2.7B, as published (keys the loader does not read left
// out).
const (
	qwen3MoEConfig = `{"architectures":["Qwen3MoeForCausalLM"],"attention_bias":false,"bos_token_id":151643,
"decoder_sparse_step":1,"eos_token_id":151645,"head_dim":128,"hidden_act":"silu","hidden_size":2048,
"intermediate_size":6144,"max_position_embeddings":40960,"max_window_layers":48,"mlp_only_layers":[],
"model_type":"qwen3_moe","moe_intermediate_size":768,"norm_topk_prob":true,"num_attention_heads":32,
"num_experts":128,"num_experts_per_tok":8,"num_hidden_layers":48,"num_key_value_heads":4,
"output_router_logits":false,"rms_norm_eps":1e-06,"rope_scaling":null,"rope_theta":1000000.0,
"router_aux_loss_coef":0.001,"sliding_window":null,"tie_word_embeddings":false,"torch_dtype":"bfloat16",
"use_cache":true,"use_sliding_window":false,"vocab_size":151936}`
	mixtralConfig = `{"architectures":["MixtralForCausalLM"],"bos_token_id":1,"eos_token_id":2,"hidden_act":"silu",
"hidden_size":4096,"intermediate_size":14336,"max_position_embeddings":32768,"model_type":"mixtral",
"num_attention_heads":32,"num_experts_per_tok":2,"num_hidden_layers":32,"num_key_value_heads":8,
"num_local_experts":8,"output_router_logits":false,"rms_norm_eps":1e-05,"rope_theta":1000000.0,
"router_aux_loss_coef":0.02,"sliding_window":null,"tie_word_embeddings":false,"torch_dtype":"bfloat16","vocab_size":32000}`
	qwen2MoEConfig = `{"architectures":["Qwen2MoeForCausalLM"],"bos_token_id":151643,"decoder_sparse_step":1,
"eos_token_id":151643,"hidden_act":"silu","hidden_size":2048,"intermediate_size":5632,"max_position_embeddings":8192,
"max_window_layers":21,"model_type":"qwen2_moe","moe_intermediate_size":1408,"norm_topk_prob":false,
"num_attention_heads":16,"num_experts":60,"num_experts_per_tok":4,"num_hidden_layers":24,"num_key_value_heads":16,
"rms_norm_eps":1e-06,"rope_theta":1000000.0,"shared_expert_intermediate_size":5632,"sliding_window":32768,
"tie_word_embeddings":false,"torch_dtype":"bfloat16","use_sliding_window":false,"vocab_size":151936}`
)

func TestMoEHFConfig(t *testing.T) {
	for _, tc := range []struct {
		name, json string
		arch       string
		moe        MoEConfig
		ffn        int
		qkNorm     bool
		bias       bool
	}{
		{"Qwen3-30B-A3B", qwen3MoEConfig, "qwen3moe", MoEConfig{Experts: 128, Used: 8, FFN: 768, NormTopK: true}, 768, true, false},
		{"Mixtral-8x7B", mixtralConfig, "mixtral", MoEConfig{Experts: 8, Used: 2, FFN: 14336, NormTopK: true}, 14336, false, false},
		{"Qwen1.5-MoE-A2.7B", qwen2MoEConfig, "qwen2moe", MoEConfig{Experts: 60, Used: 4, FFN: 1408, SharedFFN: 5632}, 1408, false, true},
	} {
		t.Run(tc.name, func(t *testing.T) {
			c, err := ParseHFConfig([]byte(tc.json), "config.json")
			require.NoError(t, err)
			assert.Equal(t, tc.arch, c.Arch)
			require.NotNil(t, c.MoE)
			assert.Equal(t, tc.moe, *c.MoE)
			assert.Equal(t, tc.ffn, c.FFNSize)
			assert.Equal(t, tc.qkNorm, c.QKNorm)
			assert.Equal(t, tc.bias, c.AttnBias)
			assert.Equal(t, 0, c.SlidingWindow)
			assert.False(t, c.TiedEmbeddings)
		})
	}
}

func TestMoEHFConfigErrors(t *testing.T) {
	for _, tc := range []struct{ edit, want string }{
		{`"decoder_sparse_step":1`, `"decoder_sparse_step":2`},
		{`"mlp_only_layers":[]`, `"mlp_only_layers":[0,3]`},
		{`"num_experts_per_tok":8`, `"num_experts_per_tok":129`},
		{`"num_experts":128`, `"num_experts":0`},
		{`"moe_intermediate_size":768`, `"moe_intermediate_size":-1`},
	} {
		b := strings.Replace(qwen3MoEConfig, tc.edit, tc.want, 1)
		require.NotEqual(t, qwen3MoEConfig, b)
		_, err := ParseHFConfig([]byte(b), "config.json")
		require.Error(t, err, tc.want)
		t.Logf("%s: %v", tc.want, err)
	}
}

func TestMoECanonicalNames(t *testing.T) {
	for _, tc := range []struct{ arch, hf, want string }{
		{"qwen3moe", "model.layers.3.mlp.gate.weight", "blk.3.ffn_gate_inp.weight"},
		{"qwen3moe", "model.layers.3.mlp.experts.17.gate_proj.weight", "blk.3.ffn_gate.17.weight"},
		{"qwen3moe", "model.layers.3.mlp.experts.0.up_proj.weight", "blk.3.ffn_up.0.weight"},
		{"qwen3moe", "model.layers.3.mlp.experts.127.down_proj.weight", "blk.3.ffn_down.127.weight"},
		{"qwen2moe", "model.layers.0.mlp.shared_expert.gate_proj.weight", "blk.0.ffn_gate_shexp.weight"},
		{"qwen2moe", "model.layers.0.mlp.shared_expert.down_proj.weight", "blk.0.ffn_down_shexp.weight"},
		{"qwen2moe", "model.layers.0.mlp.shared_expert_gate.weight", "blk.0.ffn_gate_inp_shexp.weight"},
		{"mixtral", "model.layers.31.block_sparse_moe.gate.weight", "blk.31.ffn_gate_inp.weight"},
		{"mixtral", "model.layers.31.block_sparse_moe.experts.7.w1.weight", "blk.31.ffn_gate.7.weight"},
		{"mixtral", "model.layers.31.block_sparse_moe.experts.7.w3.weight", "blk.31.ffn_up.7.weight"},
		{"mixtral", "model.layers.31.block_sparse_moe.experts.7.w2.weight", "blk.31.ffn_down.7.weight"},
		{"mixtral", "model.layers.1.self_attn.q_proj.weight", "blk.1.attn_q.weight"},
		{"qwen3moe", "model.layers.1.post_attention_layernorm.weight", "blk.1.ffn_norm.weight"},
	} {
		got, ok := canonicalFor(tc.arch, tc.hf)
		assert.True(t, ok, tc.hf)
		assert.Equal(t, tc.want, got, tc.hf)
	}
	// A dense model does not read expert names.
	_, ok := canonicalFor("qwen3", "model.layers.3.mlp.experts.17.gate_proj.weight")
	assert.False(t, ok)
}

// moeGGUF writes a tiny qwen3moe GGUF with the given metadata edits.
func moeGGUFBytes(t testing.TB, edit func([]KV) []KV) []byte {
	t.Helper()
	H, F, E, V := 8, 4, 3, 16
	a := "qwen3moe."
	kv := []KV{
		{Key: "general.architecture", Value: "qwen3moe"},
		{Key: a + "embedding_length", Value: uint32(H)}, {Key: a + "block_count", Value: uint32(1)},
		{Key: a + "attention.head_count", Value: uint32(2)}, {Key: a + "attention.head_count_kv", Value: uint32(1)},
		{Key: a + "feed_forward_length", Value: uint32(12)}, {Key: a + "expert_feed_forward_length", Value: uint32(F)},
		{Key: a + "expert_count", Value: uint32(E)}, {Key: a + "expert_used_count", Value: uint32(2)},
	}
	if edit != nil {
		kv = edit(kv)
	}
	f32 := func(name string, shape ...int) *Tensor {
		n := 1
		for _, d := range shape {
			n *= d
		}
		return &Tensor{Name: name, DType: F32, Shape: shape, Data: make([]byte, 4*n)}
	}
	ts := []*Tensor{
		f32("token_embd.weight", V, H), f32("output_norm.weight", H),
		f32("blk.0.attn_norm.weight", H), f32("blk.0.attn_q.weight", H, H), f32("blk.0.attn_k.weight", H/2, H),
		f32("blk.0.attn_v.weight", H/2, H), f32("blk.0.attn_output.weight", H, H),
		f32("blk.0.attn_q_norm.weight", H/2), f32("blk.0.attn_k_norm.weight", H/2),
		f32("blk.0.ffn_norm.weight", H), f32("blk.0.ffn_gate_inp.weight", E, H),
		f32("blk.0.ffn_gate_exps.weight", E, F, H), f32("blk.0.ffn_up_exps.weight", E, F, H), f32("blk.0.ffn_down_exps.weight", E, H, F),
	}
	var buf bytes.Buffer
	require.NoError(t, WriteGGUF(&buf, kv, ts))
	return buf.Bytes()
}

func TestMoEGGUF(t *testing.T) {
	open := func(b []byte) (*Model, error) {
		g, err := ParseGGUF(b, "m.gguf")
		if err != nil {
			return nil, err
		}
		return modelFromGGUF(g, "m.gguf")
	}
	m, err := open(moeGGUFBytes(t, nil))
	require.NoError(t, err)
	assert.Equal(t, &MoEConfig{Experts: 3, Used: 2, FFN: 4, NormTopK: true}, m.Config.MoE)
	assert.Equal(t, 4, m.Config.FFNSize)
	ups, err := m.ExpertTensors(0, "ffn_up")
	require.NoError(t, err)
	require.Len(t, ups, 3)
	assert.Equal(t, []int{4, 8}, ups[2].Shape)
	full := m.Tensors["blk.0.ffn_up_exps.weight"].Data
	assert.Equal(t, &full[2*4*8*4], &ups[2].Data[0], "expert 2 is a view of the 3-D tensor, not a copy")

	for _, tc := range []struct {
		name string
		edit func([]KV) []KV
		want string
	}{
		{"used > experts", func(kv []KV) []KV { return setKV(kv, "qwen3moe.expert_used_count", uint32(4)) }, "experts used per token"},
		{"no expert count", func(kv []KV) []KV { return setKV(kv, "qwen3moe.expert_count", nil) }, `"qwen3moe.expert_count" missing`},
		{"no used count", func(kv []KV) []KV { return setKV(kv, "qwen3moe.expert_used_count", nil) }, `"qwen3moe.expert_used_count" missing`},
		{"expert count a string", func(kv []KV) []KV { return setKV(kv, "qwen3moe.expert_count", "three") }, "not an integer"},
		{"wrong expert width", func(kv []KV) []KV { return setKV(kv, "qwen3moe.expert_feed_forward_length", uint32(5)) }, "ffn_gate_exps"},
		{"too many experts", func(kv []KV) []KV { return setKV(kv, "qwen3moe.expert_count", uint32(1<<20)) }, "out of range"},
	} {
		_, err := open(moeGGUFBytes(t, tc.edit))
		require.Error(t, err, tc.name)
		assert.Contains(t, err.Error(), tc.want, tc.name)
	}
}
