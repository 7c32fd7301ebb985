package kernels

import (
	"encoding/binary"
	"math"

	"github.com/x448/float16"
)

// f16 converts the little-endian half at b[0:2] to float32 (exact).
func f16(b []byte) float32 {
	return float16.Frombits(binary.LittleEndian.Uint16(b)).Float32()
}

// putF16 stores v rounded to the nearest half (ties to even), as F16C's
// VCVTPS2PH and ggml's GGML_FP32_TO_FP16 do.
func putF16(b []byte, v float32) {
	binary.LittleEndian.PutUint16(b, float16.Fromfloat32(v).Bits())
}

func dotF16Generic(w []byte, x []float32) float32 {
	w = w[:2*len(x)]
	var s0, s1 float32
	i := 0
	for ; i+2 <= len(x); i += 2 {
		s0 += float32(f16(w[2*i:]) * x[i])
		s1 += float32(f16(w[2*i+2:]) * x[i+1])
	}
	if i < len(x) {
		s0 += float32(f16(w[2*i:]) * x[i])
	}
	return s0 + s1
}

// bf16 widens the little-endian bfloat16 at b[0:2]: its bits are the top
// half of a float32's.
func bf16(b []byte) float32 {
	return math.Float32frombits(uint32(binary.LittleEndian.Uint16(b)) << 16)
}

func dotBF16Generic(w []byte, x []float32) float32 {
	w = w[:2*len(x)]
	var s0, s1 float32
	i := 0
	for ; i+2 <= len(x); i += 2 {
		s0 += float32(bf16(w[2*i:]) * x[i])
		s1 += float32(bf16(w[2*i+2:]) * x[i+1])
	}
	if i < len(x) {
		s0 += float32(bf16(w[2*i:]) * x[i])
	}
	return s0 + s1
}
