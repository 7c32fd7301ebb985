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

// Phi-3.5-mini-instruct's LongRoPE factors (config.json rope_scaling).
var (
	phi35ShortFactor = []float64{
		1.0, 1.0199999809265137, 1.0299999713897705, 1.0299999713897705, 1.0499999523162842, 1.0499999523162842,
		1.0499999523162842, 1.0499999523162842, 1.0499999523162842, 1.0699999332427979, 1.0999999046325684, 1.1099998950958252,
		1.1599998474121094, 1.1599998474121094, 1.1699998378753662, 1.2899998426437378, 1.339999794960022, 1.679999828338623,
		1.7899998426437378, 1.8199998140335083, 1.8499997854232788, 1.8799997568130493, 1.9099997282028198, 1.9399996995925903,
		1.9899996519088745, 2.0199997425079346, 2.0199997425079346, 2.0199997425079346, 2.0199997425079346, 2.0199997425079346,
		2.0199997425079346, 2.0299997329711914, 2.0299997329711914, 2.0299997329711914, 2.0299997329711914, 2.0299997329711914,
		2.0299997329711914, 2.0299997329711914, 2.0299997329711914, 2.0299997329711914, 2.0799996852874756, 2.0899996757507324,
		2.189999580383301, 2.2199995517730713, 2.5899994373321533, 2.729999542236328, 2.749999523162842, 2.8399994373321533,
	}
	phi35LongFactor = []float64{
		1.0800000429153442, 1.1100000143051147, 1.1399999856948853, 1.340000033378601, 1.5899999141693115, 1.600000023841858,
		1.6200000047683716, 2.620000123977661, 3.2300000190734863, 3.2300000190734863, 4.789999961853027, 7.400000095367432,
		7.700000286102295, 9.09000015258789, 12.199999809265137, 17.670000076293945, 24.46000099182129, 28.57000160217285,
		30.420001983642578, 30.840002059936523, 32.590003967285156, 32.93000411987305, 42.320003509521484, 44.96000289916992,
		50.340003967285156, 50.45000457763672, 57.55000305175781, 57.93000411987305, 58.21000289916992, 60.1400032043457,
		62.61000442504883, 62.62000274658203, 62.71000289916992, 63.1400032043457, 63.1400032043457, 63.77000427246094,
		63.93000411987305, 63.96000289916992, 63.970001220703125, 64.02999877929688, 64.06999969482422, 64.08000183105469,
		64.12000274658203, 64.41000366210938, 64.4800033569336, 64.51000213623047, 64.52999877929688, 64.83999633789062,
	}
)

// longRopeFactors returns the LongRoPE factors of s: the shape's own when it
// has them (phi-3.5-mini), else synthetic ones: per rotated pair, short
// factors rising from 1 to 1.5 and long ones from 1 to the context
// extension, both smooth in the pair index as the real ones are.
func longRopeFactors(s Shape, long bool) []float32 {
	n := s.ropeDim() / 2
	if own := s.RopeScaling.ShortFactor; long {
		own = s.RopeScaling.LongFactor
		if len(own) == n {
			return toF32(own)
		}
	} else if len(own) == n {
		return toF32(own)
	}
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

// toF32 rounds v to float32.
func toF32(v []float64) []float32 {
	out := make([]float32, len(v))
	for i, x := range v {
		out[i] = float32(x)
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
