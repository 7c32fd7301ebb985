package synth

import (
	"fmt"
	"math"

	"github.com/valueexploration/valueexp/weights"
)

// Mixture-of-experts shapes (qwen2moe, qwen3moe, mixtral): the tensors and
// keys llama.cpp's converter writes. Mixtral is a llama GGUF with experts
// ("llama.expert_count"); the Qwen MoE families have their own
// architecture names.

// isMoE reports whether arch is one of the mixture-of-experts architectures.
func isMoE(arch string) bool { return arch == "qwen2moe" || arch == "qwen3moe" || arch == "mixtral" }

// ggufArch returns the general.architecture a shape's file carries.
func ggufArch(arch string) string {
	if arch == "mixtral" {
		return "llama"
	}
	return arch
}

// moeToy gives a toy shape the features of a mixture-of-experts family:
// 8 experts of width 128 (hidden 128) or 4·HeadDim, 2 per token, and the
// attention of the dense family it extends.
func moeToy(s Shape) Shape {
	s.Experts, s.ExpertsUsed, s.ExpertFFN = 8, 2, s.Hidden
	switch s.Arch {
	case "qwen2moe":
		s.RopeTheta, s.NormEps, s.AttnBias = 1e6, 1e-6, true
		s.SharedFFN = 2 * s.Hidden
	case "qwen3moe":
		s.RopeTheta, s.NormEps, s.QKNorm = 1e6, 1e-6, true
	case "mixtral":
		s.RopeTheta, s.NormEps = 1e6, 1e-5
		s.FFN = s.ExpertFFN // Mixtral's feed_forward_length is the expert width
	}
	return s
}

// moeTensors appends layer b's router, experts (3-D, as llama.cpp's
// converter stores them) and shared expert.
func moeTensors(ts []TensorSpec, s Shape, mix Mix, l int, b string) []TensorSpec {
	H, F, E := s.Hidden, s.ExpertFFN, s.Experts
	proj := func(fanIn int) float32 { return float32(1 / math.Sqrt(float64(fanIn))) }
	matrix := func(name, role string, shape []int, std float32) {
		dt := mix.matrixType(role, l, s.Layers, shape[len(shape)-1], false)
		ts = append(ts, TensorSpec{Name: name, Shape: shape, DType: dt, std: std})
	}
	ts = append(ts, TensorSpec{Name: b + "ffn_norm.weight", Shape: []int{H}, DType: weights.F32, mean: 1, std: 0.1})
	// llama-quantize keeps the router in F32.
	ts = append(ts, TensorSpec{Name: b + "ffn_gate_inp.weight", Shape: []int{E, H}, DType: weights.F32, std: proj(H)})
	matrix(b+"ffn_gate_exps.weight", "ffn_gate", []int{E, F, H}, proj(H))
	matrix(b+"ffn_down_exps.weight", "ffn_down", []int{E, H, F}, proj(F))
	matrix(b+"ffn_up_exps.weight", "ffn_up", []int{E, F, H}, proj(H))
	if S := s.SharedFFN; S > 0 {
		ts = append(ts, TensorSpec{Name: b + "ffn_gate_inp_shexp.weight", Shape: []int{H}, DType: weights.F32, std: proj(H)})
		matrix(b+"ffn_gate_shexp.weight", "ffn_gate", []int{S, H}, proj(H))
		matrix(b+"ffn_down_shexp.weight", "ffn_down", []int{H, S}, proj(S))
		matrix(b+"ffn_up_shexp.weight", "ffn_up", []int{S, H}, proj(H))
	}
	return ts
}

// moeKV returns the expert keys of a mixture-of-experts shape.
func moeKV(s Shape) []weights.KV {
	if !isMoE(s.Arch) {
		return nil
	}
	a := ggufArch(s.Arch) + "."
	kv := []weights.KV{
		{Key: a + "expert_count", Value: uint32(s.Experts)},
		{Key: a + "expert_used_count", Value: uint32(s.ExpertsUsed)},
	}
	if s.Arch != "mixtral" {
		kv = append(kv, weights.KV{Key: a + "expert_feed_forward_length", Value: uint32(s.ExpertFFN)})
	}
	if s.SharedFFN > 0 {
		kv = append(kv, weights.KV{Key: a + "expert_shared_feed_forward_length", Value: uint32(s.SharedFFN)})
	}
	return kv
}

// validateMoE checks the expert fields of a shape.
func (s Shape) validateMoE() error {
	if !isMoE(s.Arch) {
		return nil
	}
	switch {
	case s.Experts <= 0 || s.ExpertsUsed <= 0 || s.ExpertsUsed > s.Experts || s.ExpertFFN <= 0 || s.SharedFFN < 0:
		return fmt.Errorf("synth: shape %s: experts %d, %d used, expert ffn %d, shared %d: want 1 <= used <= experts and positive widths",
			s.Name, s.Experts, s.ExpertsUsed, s.ExpertFFN, s.SharedFFN)
	case s.ExpertFFN%weights.QK != 0 || s.SharedFFN%weights.QK != 0:
		return fmt.Errorf("synth: shape %s: expert widths must be multiples of %d for the block quant types", s.Name, weights.QK)
	}
	return nil
}
