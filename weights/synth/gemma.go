package synth

import "github.com/valueexploration/valueexp/weights"

// isGemma reports whether arch is Gemma 2 or Gemma 3 (text).
func isGemma(arch string) bool { return arch == "gemma2" || arch == "gemma3" }

// gemmaToyWindow is the sliding window of the toy Gemma shapes: short
// enough that a test sequence of a dozen tokens crosses it.
const gemmaToyWindow = 5

// gemmaToy gives a toy shape Gemma's features: a tied head, (for Gemma 3)
// q/k norms, and a short sliding window; the rope bases and epsilon of the
// real models.
func gemmaToy(s Shape) Shape {
	s.NormEps, s.Tied, s.Window = 1e-6, true, gemmaToyWindow
	s.RopeTheta = 10000
	if s.Arch == "gemma3" {
		s.RopeTheta, s.QKNorm = 1e6, true
	}
	return s
}

// gemmaKV returns the Gemma keys llama.cpp's converter writes: the sliding
// window and, for Gemma 2, the soft-capping values of the Hugging Face
// config (50 for attention scores, 30 for logits). Other architectures get
// none.
func gemmaKV(s Shape) []weights.KV {
	if !isGemma(s.Arch) {
		return nil
	}
	a := s.Arch + "."
	kv := []weights.KV{{Key: a + "attention.sliding_window", Value: uint32(s.Window)}}
	if s.Arch == "gemma2" {
		kv = append(kv,
			weights.KV{Key: a + "attn_logit_softcapping", Value: float32(50)},
			weights.KV{Key: a + "final_logit_softcapping", Value: float32(30)})
	}
	return kv
}
