package hooks

import (
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// TestCheck checks registration-time and model-time checks of the built-in
// hooks against a 4-layer model with d_model 8, d_mlp 16, 2 heads of 4
// (1 KV head) and 10 tokens.
func TestCheck(t *testing.T) {
	shape := ModelShape{Layers: 4, DModel: 8, DMLP: 16, Heads: 2, KVHeads: 1, HeadDim: 4, Vocab: 10}
	edit := func(idx map[int][]int32) *NeuronEdit {
		e, err := NewNeuronEdit(OpScale, 2, idx, When{})
		require.NoError(t, err)
		return e
	}
	vec := func(vecs map[int][]float32) *AddVector {
		a, err := NewAddVector(vecs, 1, false, When{})
		require.NoError(t, err)
		return a
	}
	count := func(site Site, layers, dim int) *ActProb {
		c, err := NewActProb(site, layers, dim, 1)
		require.NoError(t, err)
		return c
	}
	for _, c := range []struct {
		name, pattern string
		hook          any
		register      string // error at registration ("" none)
		check         string // error of Check(shape) ("" none)
	}{
		{"edit fits", "blocks.*.mlp.hook_act", edit(map[int][]int32{0: {0, 15}, 3: {7}}), "", ""},
		{"edit at the last column of a head site", "blocks.1.attn.hook_k", edit(map[int][]int32{1: {3}}), "", ""},
		{"edit beyond d_mlp", "blocks.*.mlp.hook_act", edit(map[int][]int32{2: {16}}), "",
			"blocks.2.mlp.hook_act: neuron edit at blocks.2.mlp.hook_act: index 16 is beyond the 16 columns of mlp.hook_act (valid: 0..15)"},
		{"edit beyond the kv width", "blocks.1.attn.hook_v", edit(map[int][]int32{1: {4}}), "", "index 4 is beyond the 4 columns of attn.hook_v"},
		{"edit beyond the vocabulary", "hook_logits", edit(map[int][]int32{-1: {10}}), "", "index 10 is beyond the 10 columns of hook_logits"},
		{"edit for layer 4 only", "blocks.*.mlp.hook_act", edit(map[int][]int32{4: {1}}),
			`pattern "blocks.*.mlp.hook_act": neuron edit has indices for layer 4, but the model has 4 layers (0..3)`, ""},
		{"edit also for layer 7", "blocks.*.mlp.hook_act", edit(map[int][]int32{0: {1}, 7: {1}}), "indices for layer 7", ""},
		{"vector fits", "blocks.2.hook_resid_pre", vec(map[int][]float32{2: make([]float32, 8)}), "", ""},
		{"vector too long", "blocks.2.hook_resid_pre", vec(map[int][]float32{2: make([]float32, 9)}), "",
			"add vector at blocks.2.hook_resid_pre: vector has 9 entries, hook_resid_pre has 8 columns"},
		{"vector for layer 5", "blocks.*.hook_resid_pre", vec(map[int][]float32{1: make([]float32, 8), 5: {1}}),
			"add vector has a vector for layer 5, but the model has 4 layers", ""},
		{"counter fits", "blocks.*.mlp.hook_post", count(SiteMLPPost, 4, 16), "", ""},
		{"counter for fewer layers", "blocks.*.mlp.hook_post", count(SiteMLPPost, 2, 16), "", ""},
		{"counter of d_model at an mlp site", "blocks.*.mlp.hook_post", count(SiteMLPPost, 4, 8), "",
			"actprob at blocks.0.mlp.hook_post has 8 neurons per layer, mlp.hook_post has 16 columns"},
		{"counter for 5 layers", "blocks.*.mlp.hook_post", count(SiteMLPPost, 5, 16), "actprob has 5 layers, the model 4", ""},
	} {
		t.Run(c.name, func(t *testing.T) {
			h := New(shape.Layers)
			var err error
			switch x := c.hook.(type) {
			case Editor:
				err = h.Edit(c.pattern, x)
			case Observer:
				err = h.Observe(c.pattern, x)
			}
			if c.register != "" {
				require.Error(t, err)
				assert.Contains(t, err.Error(), c.register)
				assert.Empty(t, h.Points(), "a failed registration adds nothing")
				return
			}
			require.NoError(t, err)
			err = h.Check(shape)
			if c.check == "" {
				assert.NoError(t, err)
				return
			}
			require.Error(t, err)
			assert.Contains(t, err.Error(), c.check)
		})
	}
	t.Run("a dropped registration error", func(t *testing.T) {
		h := New(shape.Layers)
		require.NoError(t, h.Observe("blocks.0.mlp.hook_act", count(SiteMLPAct, 4, 16)))
		_ = h.Edit("blocks.4.mlp.hook_act", edit(map[int][]int32{4: {1}}))
		require.NoError(t, h.Edit("blocks.3.mlp.hook_act", edit(map[int][]int32{3: {1}})))
		assert.ErrorContains(t, h.Check(shape), "a registration failed, so these hooks are incomplete: hooks: pattern \"blocks.4.mlp.hook_act\": layer 4 out of range")
		h = New(shape.Layers)
		_ = h.Edit("hook_embed", nil)
		assert.ErrorContains(t, h.Check(shape), "nil editor")
	})
	t.Run("layer count", func(t *testing.T) {
		assert.ErrorContains(t, New(3).Check(shape), "built for 3 layers, the model has 4")
		var nilHooks *Hooks
		assert.NoError(t, nilHooks.Check(shape))
	})
}
