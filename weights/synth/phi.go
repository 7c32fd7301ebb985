package synth

import (
	"fmt"
	"math"

	"github.com/valueexploration/valueexp/weights"
)

// Phi-3 files (architecture "phi3") hold the layout of llama.cpp's Phi-3
// converter: fused attn_qkv ([q + 2·kv, hidden]) and ffn_up ([2·ffn,
// hidden], gate rows first) tensors, an untied output head (llama.cpp b4748
// requires it), and LongRoPE's factors as rope_factors_short.weight and
// rope_factors_long.weight with "phi3.rope.scaling.attn_factor" and
// "phi3.rope.scaling.original_context_length".

// phiToyWindow is the sliding window of the toy Phi-3 shapes: short enough
// that a test sequence of a dozen tokens crosses it.
const phiToyWindow = 5

// phiToy gives a toy shape Phi-3.5's features: an untied head, the rope
// base and epsilon of the real model, a short sliding window, and LongRoPE
// over a context four times its original 512 positions, so that llama.cpp
// picks the short factors for contexts up to 512 and the long ones above.
func phiToy(s Shape) Shape {
	s.RopeTheta, s.NormEps, s.Window = 10000, 1e-5, phiToyWindow
	s.Context = 2048
	s.RopeScaling = weights.RopeScaling{Type: "longrope", OriginalMaxPositions: 512}
	return s
}

// longRopeFactors returns the synthetic LongRoPE factors of s (not a real
// model's): per rotated pair, short factors rising from 1 to 1.5 and long
// ones from 1 to the context extension, both smooth in the pair index as
// the real ones are.
func longRopeFactors(s Shape, long bool) []float32 {
	n := s.ropeDim() / 2
	ext := float64(s.Context) / float64(s.RopeScaling.OriginalMaxPositions)
	out := make([]float32, n)
	for j := range out {
		x := float64(j) / float64(max(n-1, 1))
		if long {
			out[j] = float32(1 + (ext-1)*math.Pow(x, 1.5))
		} else {
			out[j] = float32(1 + 0.5*x*x)
		}
	}
	return out
}

// phiVocab adds the control token "<|endoftext|>" of Phi-3's vocabulary:
// llama.cpp marks it when it loads a model whose name says Phi-3, and fails
// to load one that lacks it.
func phiVocab(v *Vocab) {
	v.Tokens = append(v.Tokens, "<|endoftext|>")
	v.Scores = append(v.Scores, 0)
	v.Types = append(v.Types, tokenControl)
}

// ropeDim is the number of rotated dimensions per head.
func (s Shape) ropeDim() int {
	if s.RopeDim > 0 {
		return s.RopeDim
	}
	return s.HeadDim
}

// phiTensors lays out a phi3 file.
func (p *Plan) phiTensors() []TensorSpec {
	s, mix := p.Shape, p.Mix
	H, F, V := s.Hidden, s.FFN, s.Vocab
	qDim, kvDim := s.Heads*s.HeadDim, s.KVHeads*s.HeadDim
	var ts []TensorSpec
	vector := func(name string, n int, mean, std float32) {
		ts = append(ts, TensorSpec{Name: name, Shape: []int{n}, DType: weights.F32, mean: mean, std: std})
	}
	matrix := func(name, role string, layer, rows, cols int, std float32, head bool) {
		dt := mix.matrixType(role, layer, s.Layers, cols, head)
		ts = append(ts, TensorSpec{Name: name, Shape: []int{rows, cols}, DType: dt, std: std})
	}
	proj := func(fanIn int) float32 { return float32(1 / math.Sqrt(float64(fanIn))) }

	matrix("token_embd.weight", "token_embd", -1, V, H, 0.02, s.Tied)
	if s.RopeScaling.Type == "longrope" {
		ts = append(ts,
			TensorSpec{Name: "rope_factors_long.weight", Shape: []int{s.ropeDim() / 2}, DType: weights.F32, init: initRopeLong},
			TensorSpec{Name: "rope_factors_short.weight", Shape: []int{s.ropeDim() / 2}, DType: weights.F32, init: initRopeShort})
	}
	vector("output_norm.weight", H, 1, 0.1)
	if !s.Tied {
		matrix("output.weight", "output", -1, V, H, proj(H), true)
	}
	for l := 0; l < s.Layers; l++ {
		b := fmt.Sprintf("blk.%d.", l)
		vector(b+"attn_norm.weight", H, 1, 0.1)
		matrix(b+"attn_qkv.weight", "attn_qkv", l, qDim+2*kvDim, H, proj(H), false)
		matrix(b+"attn_output.weight", "attn_output", l, H, qDim, proj(qDim), false)
		vector(b+"ffn_norm.weight", H, 1, 0.1)
		matrix(b+"ffn_up.weight", "ffn_up", l, 2*F, H, proj(H), false)
		matrix(b+"ffn_down.weight", "ffn_down", l, H, F, proj(F), false)
	}
	return ts
}

// phiKV returns the Phi-3 keys llama.cpp's converter writes: the rotated
// dimensions, the sliding window, and LongRoPE's original context and
// attention factor. Other architectures get none.
func phiKV(s Shape) []weights.KV {
	if s.Arch != "phi3" {
		return nil
	}
	a := s.Arch + "."
	kv := []weights.KV{
		{Key: a + "rope.dimension_count", Value: uint32(s.ropeDim())},
		{Key: a + "attention.sliding_window", Value: uint32(s.Window)},
	}
	if rs := s.RopeScaling; rs.Type == "longrope" {
		ext := float64(s.Context) / float64(rs.OriginalMaxPositions)
		attn := 1.0
		if ext > 1 {
			attn = math.Sqrt(1 + math.Log(ext)/math.Log(float64(rs.OriginalMaxPositions)))
		}
		kv = append(kv,
			weights.KV{Key: a + "rope.scaling.original_context_length", Value: uint32(rs.OriginalMaxPositions)},
			weights.KV{Key: a + "rope.scaling.attn_factor", Value: float32(attn)})
	}
	return kv
}
