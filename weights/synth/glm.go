package synth

import (
	"fmt"

	"github.com/valueexploration/valueexp/weights"
)

// isGLM reports whether arch is GLM-4: "chatglm" (GLM-4-9B-chat, the
// layout of llama.cpp b4748's converter) or "glm4" (GLM-4-9B-0414).
func isGLM(arch string) bool { return arch == "chatglm" || arch == "glm4" }

// glmToy gives a toy shape GLM-4's features: q/k/v biases, an untied head,
// rope over the first half of each head, and the rope base and epsilon of
// GLM-4-9B-chat's Hugging Face config.
func glmToy(s Shape) Shape {
	s.RopeTheta, s.NormEps, s.Tied, s.AttnBias = 10000, 1.5625e-7, false, true
	return s
}

// glmLayerTensors appends the tensors of GLM layer l as llama.cpp's
// converters write them: chatglm's q, k and v fused in attn_qkv (weight
// and bias), glm4's separate with biases; both with the gate and up
// projections fused in ffn_up (2*ffn rows, gate first) and no ffn_gate;
// glm4 with post_attention_norm and post_ffw_norm.
func (p *Plan) glmLayerTensors(ts []TensorSpec, l int) []TensorSpec {
	s, mix := p.Shape, p.Mix
	H, F := s.Hidden, s.FFN
	qDim, kvDim := s.Heads*s.HeadDim, s.KVHeads*s.HeadDim
	b := fmt.Sprintf("blk.%d.", l)
	vector := func(name string, n int, mean, std float32) {
		ts = append(ts, TensorSpec{Name: b + name, Shape: []int{n}, DType: weights.F32, mean: mean, std: std})
	}
	matrix := func(role string, rows, cols int) {
		dt := mix.matrixType(role, l, s.Layers, cols, false)
		ts = append(ts, TensorSpec{Name: b + role + ".weight", Shape: []int{rows, cols}, DType: dt, std: proj(cols)})
	}
	vector("attn_norm.weight", H, 1, 0.1)
	if s.Arch == "chatglm" {
		matrix("attn_qkv", qDim+2*kvDim, H)
		vector("attn_qkv.bias", qDim+2*kvDim, 0, 0.1)
	} else {
		matrix("attn_q", qDim, H)
		matrix("attn_k", kvDim, H)
		matrix("attn_v", kvDim, H)
		vector("attn_q.bias", qDim, 0, 0.1)
		vector("attn_k.bias", kvDim, 0, 0.1)
		vector("attn_v.bias", kvDim, 0, 0.1)
	}
	matrix("attn_output", H, qDim)
	if s.Arch == "glm4" {
		vector("post_attention_norm.weight", H, 1, 0.1)
	}
	vector("ffn_norm.weight", H, 1, 0.1)
	matrix("ffn_up", 2*F, H)
	matrix("ffn_down", H, F)
	if s.Arch == "glm4" {
		vector("post_ffw_norm.weight", H, 1, 0.1)
	}
	return ts
}

// glmKV returns the GLM keys llama.cpp's converter writes: the rotated
// dimensions (half of each head) and no BOS token added to prompts.
func glmKV(s Shape) []weights.KV {
	if !isGLM(s.Arch) {
		return nil
	}
	return []weights.KV{{Key: s.Arch + ".rope.dimension_count", Value: uint32(s.HeadDim / 2)}}
}
