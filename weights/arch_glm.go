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

// splitFused replaces the fused tensors of a GLM model by row views: a
// layer's attn_qkv (weight and bias) by attn_q, attn_k and attn_v, and an
// ffn_up of 2*ffn rows with no ffn_gate beside it by ffn_gate (the first
// half) and ffn_up (the second). Shapes are checked first; a fused tensor
// of the wrong size is an error naming it. Other architectures are left
// alone.
func splitFused(m *Model) error {
	c := m.Config
	if !isGLM(c.Arch) {
		return nil
	}
	q, kv := c.Heads*c.HeadDim, c.KVHeads*c.HeadDim
	for l := 0; l < c.Layers; l++ {
		p := fmt.Sprintf("blk.%d.", l)
		if _, ok := m.Tensors[p+"attn_norm.weight"]; !ok {
			break // checkShapes names the missing layer, without a pass over millions of claimed ones
		}
		for _, sfx := range []string{"weight", "bias"} {
			name := p + "attn_qkv." + sfx
			t, ok := m.Tensors[name]
			if !ok {
				continue
			}
			parts := []rowPart{{p + "attn_q." + sfx, q}, {p + "attn_k." + sfx, kv}, {p + "attn_v." + sfx, kv}}
			if err := m.splitRows(name, t, parts, sfx == "bias"); err != nil {
				return err
			}
		}
		up, ok := m.Tensors[p+"ffn_up.weight"]
		if _, hasGate := m.Tensors[p+"ffn_gate.weight"]; !ok || hasGate {
			continue
		}
		if len(up.Shape) != 2 || up.Shape[0] != 2*c.FFNSize {
			return fmt.Errorf("tensor %q: shape %v, want [%d %d]: the gate and up projections fused (2 x ffn size %d)",
				m.fileName(p+"ffn_up.weight"), up.Shape, 2*c.FFNSize, c.HiddenSize, c.FFNSize)
		}
		parts := []rowPart{{p + "ffn_gate.weight", c.FFNSize}, {p + "ffn_up.weight", c.FFNSize}}
		if err := m.splitRows(p+"ffn_up.weight", up, parts, false); err != nil {
			return err
		}
	}
	return nil
}

// rowPart is one part of a fused tensor: its canonical name and row count.
type rowPart struct {
	name string
	rows int
}

// splitRows puts the parts of the fused tensor t (canonical name name) in
// m.Tensors as views of consecutive rows (for a vector, consecutive
// elements), and removes t. The parts' file name is the fused tensor's
// with the row range, so errors point into the file.
func (m *Model) splitRows(name string, t *Tensor, parts []rowPart, vector bool) error {
	total := 0
	for _, p := range parts {
		total += p.rows
	}
	file := m.fileName(name)
	if vector {
		if len(t.Shape) != 1 || t.Shape[0] != total {
			return fmt.Errorf("tensor %q: shape %v, want [%d] (q, k and v fused)", file, t.Shape, total)
		}
	} else if len(t.Shape) != 2 || t.Shape[0] != total {
		return fmt.Errorf("tensor %q: shape %v, want %d rows (the fused parts)", file, t.Shape, total)
	}
	if t.RowOrder != nil {
		return fmt.Errorf("tensor %q: a fused tensor cannot have a row order", file)
	}
	rowBytes, elems := t.RowBytes(), 1
	if vector {
		var err error
		if rowBytes, err = t.DType.RowBytes(1); err != nil || t.DType.Quantized() {
			return fmt.Errorf("tensor %q: a fused bias must be F32, F16 or BF16, got %v", file, t.DType)
		}
	} else {
		elems = t.Cols()
	}
	if len(t.Data) != total*rowBytes {
		return fmt.Errorf("tensor %q: %d bytes, want %d", file, len(t.Data), total*rowBytes)
	}
	delete(m.Tensors, name)
	delete(m.FileNames, name)
	off := 0
	for _, p := range parts {
		if _, dup := m.Tensors[p.name]; dup {
			return fmt.Errorf("tensor %q is stored both on its own and inside the fused %q", m.fileName(p.name), file)
		}
		shape := []int{p.rows}
		if !vector {
			shape = []int{p.rows, elems}
		}
		m.Tensors[p.name] = &Tensor{Name: p.name, DType: t.DType, Shape: shape,
			Data: t.Data[off*rowBytes : (off+p.rows)*rowBytes : (off+p.rows)*rowBytes], File: t.File}
		m.FileNames[p.name] = fmt.Sprintf("%s[%d:%d]", file, off, off+p.rows)
		off += p.rows
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
