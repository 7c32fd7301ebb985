package synth

import (
	"fmt"
	"strings"

	"github.com/valueexploration/valueexp/weights"
)

// A Mix chooses each tensor's type the way llama-quantize does for one
// target ("ftype"). Its names are the --dtype values.
type Mix string

// The mixes. Every 1-D tensor (norms, biases, rope_freqs) stays F32 in all
// of them, as in llama.cpp's converters and llama-quantize.
const (
	// MixF32: every matrix F32.
	MixF32 Mix = "f32"
	// MixF16: every matrix F16.
	MixF16 Mix = "f16"
	// MixBF16: every matrix BF16.
	MixBF16 Mix = "bf16"
	// MixQ8_0: every matrix Q8_0.
	MixQ8_0 Mix = "q8_0"
	// MixQ4_0: matrices Q4_0; the output head (token_embd when tied) Q6_K,
	// or Q8_0 when its rows are not a multiple of 256.
	MixQ4_0 Mix = "q4_0"
	// MixQ4_K is llama-quantize's Q4_K_M: matrices Q4_K; the output head
	// (token_embd when tied) Q6_K; attn_v and ffn_down Q6_K in the layers
	// llama.cpp's use_more_bits picks (the first and last eighth and every
	// third layer between). A matrix whose rows are not a multiple of 256
	// falls back as llama-quantize's does: Q4_K to Q5_0, Q6_K to Q8_0.
	MixQ4_K Mix = "q4_k"
	// MixQ6_K: every matrix Q6_K (llama-quantize's Q6_K), or Q8_0 when its
	// rows are not a multiple of 256.
	MixQ6_K Mix = "q6_k"
)

// Mixes lists the mixes in the order the help shows them.
func Mixes() []Mix { return []Mix{MixF32, MixF16, MixBF16, MixQ8_0, MixQ4_0, MixQ4_K, MixQ6_K} }

// ParseMix reads a --dtype value (case-insensitive; "q4_k_m" is MixQ4_K).
func ParseMix(s string) (Mix, error) {
	s = strings.ToLower(s)
	if s == "q4_k_m" {
		return MixQ4_K, nil
	}
	for _, m := range Mixes() {
		if string(m) == s {
			return m, nil
		}
	}
	names := make([]string, 0, 6)
	for _, m := range Mixes() {
		names = append(names, string(m))
	}
	return "", fmt.Errorf("synth: unknown dtype %q (known: %s)", s, strings.Join(names, ", "))
}

// FileType returns llama.cpp's general.file_type number for the mix
// (llama_ftype: ALL_F32 0, MOSTLY_F16 1, MOSTLY_Q4_0 2, MOSTLY_Q8_0 7,
// MOSTLY_Q4_K_M 15, MOSTLY_Q6_K 18, MOSTLY_BF16 32).
func (m Mix) FileType() uint32 {
	switch m {
	case MixF16:
		return 1
	case MixQ4_0:
		return 2
	case MixQ8_0:
		return 7
	case MixQ4_K:
		return 15
	case MixQ6_K:
		return 18
	case MixBF16:
		return 32
	}
	return 0
}

// Label is the type name llama.cpp prints for the mix ("Q4_K - Medium").
func (m Mix) Label() string {
	if m == MixQ4_K {
		return "Q4_K_M"
	}
	return strings.ToUpper(string(m))
}

// useMoreBits is llama-quantize's choice of layers that get a larger type
// in the _M mixes: the first and last eighth, and every third layer between.
func useMoreBits(i, n int) bool {
	return i < n/8 || i >= 7*n/8 || (i-n/8)%3 == 2
}

// matrixType returns the type of a 2-D tensor of a model with nLayers
// layers. role is the tensor name without "blk.N." and ".weight" ("attn_v",
// "token_embd"); layer is -1 for tensors outside the blocks; head is true
// for the tensor that serves as the output head.
func (m Mix) matrixType(role string, layer, nLayers, cols int, head bool) weights.DType {
	var t weights.DType
	switch m {
	case MixF32:
		return weights.F32
	case MixF16:
		return weights.F16
	case MixBF16:
		return weights.BF16
	case MixQ8_0:
		return weights.Q8_0
	case MixQ4_0:
		t = weights.Q4_0
		if head {
			// llama-quantize tests the head's width against the block size
			// of the base type (32) first, then Q6_K's 256 via the fallback.
			t = weights.Q6_K
		}
	case MixQ6_K:
		t = weights.Q6_K
	case MixQ4_K:
		t = weights.Q4_K
		switch {
		case head:
			t = weights.Q6_K
		case (role == "attn_v" || role == "ffn_down") && layer >= 0 && useMoreBits(layer, nLayers):
			t = weights.Q6_K
		case role == "attn_qkv": // fused q/k/v (phi3, GLM)
			t = weights.Q5_K // llama-quantize's Q4_K_M rule for a fused q/k/v
		}
	}
	if cols%weights.QKK != 0 {
		switch t {
		case weights.Q4_K:
			t = weights.Q5_0
		case weights.Q5_K:
			t = weights.Q5_1
		case weights.Q6_K:
			t = weights.Q8_0
		}
	}
	return t
}
