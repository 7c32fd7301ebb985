package weights

import (
	"fmt"
)

// Phi-3, Phi-3.5 and Phi-4-mini (architecture "phi3") are llama blocks
// stored differently:
//
//   - q, k and v are one fused matrix (Hugging Face self_attn.qkv_proj,
//     GGUF attn_qkv) of heads·head_dim + 2·kv_heads·head_dim rows, and gate
//     and up are one (mlp.gate_up_proj, GGUF ffn_up with 2·ffn rows, gate
//     first). Open splits both into the usual attn_q/attn_k/attn_v and
//     ffn_gate/ffn_up tensors as row ranges of the mapped file, without
//     copying (splitFused), so the engine and its hook sites see a llama
//     block;
//   - the rope may rotate only part of each head (partial_rotary_factor,
//     Phi-4-mini 0.75, GGUF rope.dimension_count);
//   - the rope may be LongRoPE-scaled (see weights/rope.go);
//   - a sliding window, which llama.cpp takes from
//     "phi3.attention.sliding_window" or, for files written before that key
//     existed, from the model's size (phiGGUF).

// phi3LayerNames maps the fused Hugging Face tensors of a Phi-3 layer to
// their GGUF names; splitFused then splits them.
var phi3LayerNames = map[string]string{
	"self_attn.qkv_proj.weight": "attn_qkv.weight",
	"mlp.gate_up_proj.weight":   "ffn_up.weight",
}

// phiGGUF sets the sliding window of a phi3 GGUF file without
// "phi3.attention.sliding_window" the way llama.cpp b4748 does: 2047 for
// the 4k-context 32- and 40-layer models, 262144 for Phi-3-mini-128k,
// 131072 for Phi-3-medium-128k; other such files are refused, as llama.cpp
// refuses them. A window of 0 (Phi-4) means full attention.
func phiGGUF(g *GGUF, c *Config) error {
	if c.Arch != "phi3" {
		return nil
	}
	key := c.Arch + ".attention.sliding_window"
	if _, ok := g.Get(key); ok {
		return nil // read with the other keys
	}
	switch {
	case (c.Layers == 32 || c.Layers == 40) && c.ContextLength == 4096:
		c.SlidingWindow = 2047
	case c.Layers == 32 && c.KVHeads == 32 && c.ContextLength == 131072:
		c.SlidingWindow = 262144
	case c.Layers == 40 && c.ContextLength == 131072:
		c.SlidingWindow = 131072
	default:
		return fmt.Errorf("metadata key %q missing (llama.cpp requires it for phi3 models other than Phi-3-mini and Phi-3-medium)", key)
	}
	return nil
}
