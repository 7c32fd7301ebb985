package weights

import "fmt"

// The GLM-4 family differs from llama only by data:
//
//   - partial rotary embedding in GLM's interleaved layout: only the first
//     RopeDim = head_dim/2 values of each q/k head turn, in adjacent pairs
//     (0,1), (2,3), ... (Config.RopeInterleaved). Hugging Face's GLM code
//     and llama.cpp's "normal" rope mode on the unpermuted GGUF weights
//     compute the same thing, so neither format's q/k rows are permuted;
//   - q, k and v biases (Config.AttnBias), no o bias;
//   - fused tensors: the feed-forward gate and up projections are one
//     matrix of 2*ffn rows, gate first (Hugging Face mlp.gate_up_proj,
//     GGUF ffn_up), and chatglm GGUFs made from the original checkpoints
//     hold q, k and v as one attn_qkv matrix and bias. Open presents them
//     as the separate canonical tensors, row views of the fused ones (no
//     copy: the rows of a matrix are contiguous, whatever its dtype);
//   - GLM-4-0414 ("glm4") normalises the attention and feed-forward
//     outputs before the residual add (Config.PostNorms): Hugging Face
//     post_self_attn_layernorm and post_mlp_layernorm, GGUF
//     post_attention_norm and post_ffw_norm (plain RMSNorm, not Gemma's
//     1 + w). Its post_attention_layernorm is the feed-forward input norm,
//     as in llama.
//
// Architecture names: GLM-4-9B-chat is "chatglm" in GGUF (llama.cpp's
// name) and model_type "glm" in a Hugging Face folder; both open as
// Config.Arch "chatglm". GLM-4-9B-0414 is "glm4" in both.

// isGLM reports whether arch is one of the GLM-4 architectures.
func isGLM(arch string) bool { return arch == "chatglm" || arch == "glm4" }

// glmLayerNames maps the Hugging Face names of a GLM decoder layer that
// differ from llama's. The fused gate_up_proj takes GGUF's name for it,
// ffn_up, and is split by splitFused.
var glmLayerNames = map[string]string{
	"mlp.gate_up_proj.weight":         "ffn_up.weight",
	"post_self_attn_layernorm.weight": "post_attention_norm.weight",
	"post_mlp_layernorm.weight":       "post_ffw_norm.weight",
	"post_attention_layernorm.weight": "ffn_norm.weight",
}

// glmGGUF sets what a GLM GGUF's tensors and architecture imply: the
// interleaved rope, the q/k/v biases (fused or not) and, for glm4, the
// post norms.
func glmGGUF(c *Config, tensors map[string]*Tensor) {
	if !isGLM(c.Arch) {
		return
	}
	c.RopeInterleaved = true
	_, fusedBias := tensors["blk.0.attn_qkv.bias"]
	c.AttnBias = c.AttnBias || fusedBias
	c.PostNorms = c.Arch == "glm4"
}

// glmHF prepares the parse of a GLM config.json (model_type "glm" or
// "glm4"): it names the architecture, fills the defaults of transformers'
// GlmConfig / Glm4Config that real configs leave out (partial_rotary_factor
// 0.5, attention_bias true) and returns a function that sets the GLM
// fields of the parsed Config. For other architectures it returns a no-op.
func glmHF(h *hfConfig) func(*Config) {
	switch h.ModelType {
	case "glm":
		h.ModelType = "chatglm"
	case "glm4":
	default:
		return func(*Config) {}
	}
	if h.PartialRotaryFactor == nil {
		f := 0.5
		h.PartialRotaryFactor = &f
	}
	if h.AttentionBias == nil {
		b := true
		h.AttentionBias = &b
	}
	arch := h.ModelType
	return func(c *Config) {
		c.RopeInterleaved = true
		c.PostNorms = arch == "glm4"
	}
}

// glmPartialRotary checks a GLM config's partial_rotary_factor (after
// glmHF, which names the architecture) before it is turned into a rope
// dimension: a factor outside (0, 1] would make an
// empty or oversized rotation.
func glmPartialRotary(h *hfConfig) error {
	if !isGLM(h.ModelType) || h.PartialRotaryFactor == nil {
		return nil
	}
	f := *h.PartialRotaryFactor
	if !(f > 0 && f <= 1) {
		return fmt.Errorf("partial_rotary_factor %g must be in (0, 1]", f)
	}
	return nil
}

// glmRemoteCode refuses the config.json of the original remote-code
// ChatGLM checkpoints (model_type "chatglm"), whose tensors have other
// names (transformer.encoder.layers.N...), saying what to use instead.
func glmRemoteCode(h *hfConfig) error {
	if h.ModelType != "chatglm" {
		return nil
	}
	return fmt.Errorf("model_type \"chatglm\" is the original remote-code GLM checkpoint (THUDM/glm-4-9b-chat), which is not supported; use its Hugging Face version (THUDM/glm-4-9b-chat-hf, model_type \"glm\") or a GGUF")
}
