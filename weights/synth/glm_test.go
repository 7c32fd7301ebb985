package synth

import (
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// TestGLMTensorNames checks the GLM plans against the tensors llama.cpp's
// loaders ask for: b4748's chatglm loader takes attn_qkv (weight and bias)
// and ffn_up of 2*ffn rows with no ffn_gate; the later glm4 loader takes
// separate q/k/v with biases and the post norms post_attention_norm and
// post_ffw_norm. Both have an untied output head, and the converter's
// rope.dimension_count is half a head.
func TestGLMTensorNames(t *testing.T) {
	for _, c := range []struct {
		arch  string
		layer []string
	}{
		{"chatglm", []string{"attn_norm.weight", "attn_qkv.weight", "attn_qkv.bias", "attn_output.weight",
			"ffn_norm.weight", "ffn_up.weight", "ffn_down.weight"}},
		{"glm4", []string{"attn_norm.weight", "attn_q.weight", "attn_k.weight", "attn_v.weight", "attn_q.bias",
			"attn_k.bias", "attn_v.bias", "attn_output.weight", "post_attention_norm.weight", "ffn_norm.weight",
			"ffn_up.weight", "ffn_down.weight", "post_ffw_norm.weight"}},
	} {
		shape, err := LookupShape("tiny")
		require.NoError(t, err)
		shape, err = shape.WithArch(c.arch)
		require.NoError(t, err)
		p, err := NewPlan(Options{Shape: shape, Mix: MixQ4_K, Layers: 1})
		require.NoError(t, err)
		got := map[string][]int{}
		for _, ts := range p.Tensors {
			got[ts.Name] = ts.Shape
		}
		want := []string{"token_embd.weight", "output_norm.weight", "output.weight"}
		for _, n := range c.layer {
			want = append(want, "blk.0."+n)
		}
		var names []string
		for n := range got {
			names = append(names, n)
		}
		assert.ElementsMatch(t, want, names, c.arch)
		assert.Equal(t, []int{2 * 384, 128}, got["blk.0.ffn_up.weight"], "gate and up fused")
		if c.arch == "chatglm" {
			assert.Equal(t, []int{128 + 2*64, 128}, got["blk.0.attn_qkv.weight"])
		}
		keys := map[string]any{}
		for _, kv := range p.KV {
			keys[kv.Key] = kv.Value
		}
		assert.Equal(t, uint32(16), keys[c.arch+".rope.dimension_count"])
		assert.Equal(t, false, keys["tokenizer.ggml.add_bos_token"], "GLM GGUFs add no BOS")
	}
}

// TestGLMShapes checks the glm-4-9b shape's two layouts and the toy
// shapes' GLM features, and that chatglm refuses a q width other than the
// hidden size (llama.cpp sizes attn_qkv by it).
func TestGLMShapes(t *testing.T) {
	s, err := LookupShape("glm-4-9b")
	require.NoError(t, err)
	for _, arch := range []string{"", "chatglm", "glm4"} {
		got, err := s.WithArch(arch)
		require.NoError(t, err, arch)
		want := arch
		if want == "" {
			want = "chatglm"
		}
		assert.Equal(t, want, got.Arch)
	}
	_, err = s.WithArch("llama")
	assert.Error(t, err)
	tiny, err := LookupShape("tiny")
	require.NoError(t, err)
	g, err := tiny.WithArch("glm4")
	require.NoError(t, err)
	assert.True(t, g.AttnBias)
	assert.False(t, g.Tied)
	g.Heads = 2
	_, err = NewPlan(Options{Shape: g, Mix: MixF32})
	require.NoError(t, err, "glm4 may have q narrower than hidden")
	g.Arch = "chatglm"
	_, err = NewPlan(Options{Shape: g, Mix: MixF32})
	assert.ErrorContains(t, err, "chatglm needs heads*head_dim = hidden")
}
