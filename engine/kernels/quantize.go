package kernels

import (
	"encoding/binary"
	"math"
)

// absF32 clears the sign bit, as the vector code does with an and-mask.
func absF32(v float32) float32 {
	return math.Float32frombits(math.Float32bits(v) &^ (1 << 31))
}

// q8Scale returns the fp16-bound scale d = amax/127 and the multiplier
// 127/amax of ggml's AVX2 Q8_0/Q8_1 quantizers for one block.
func q8Scale(x []float32) (d, id float32) {
	var amax float32
	for _, v := range x {
		amax = max(amax, absF32(v))
	}
	d = amax / 127
	if amax != 0 {
		id = 127 / amax
	}
	return d, id
}

// roundQ8 rounds v to the nearest integer, ties to even, as VROUNDPS with
// the nearest mode does; |v| <= 127 here by construction.
func roundQ8(v float32) int8 {
	return int8(math.RoundToEven(float64(v)))
}

func quantizeQ8_0Generic(dst []byte, x []float32) {
	for b := range len(x) / qk {
		xb := x[b*qk : b*qk+qk]
		out := dst[b*bQ8_0 : b*bQ8_0+bQ8_0]
		d, id := q8Scale(xb)
		putF16(out, d)
		for j, v := range xb {
			out[2+j] = byte(roundQ8(float32(v * id)))
		}
	}
}

func quantizeQ8_1Generic(dst []byte, x []float32) {
	for b := range len(x) / qk {
		xb := x[b*qk : b*qk+qk]
		out := dst[b*bQ8_1 : b*bQ8_1+bQ8_1]
		d, id := q8Scale(xb)
		sum := 0
		for j, v := range xb {
			q := roundQ8(float32(v * id))
			out[4+j] = byte(q)
			sum += int(q)
		}
		putF16(out, d)
		putF16(out[2:], float32(sum)*d)
	}
}

// nearestInt is ggml's nearest_int: adding 1.5·2²³ pushes the fraction out
// of the mantissa, so the float addition itself rounds (ties to even), and
// the integer is read back from the low mantissa bits.
func nearestInt(f float32) int32 {
	v := f + 12582912
	return int32(math.Float32bits(v)&0x007fffff) - 0x00400000
}

func quantizeQ8_KGeneric(dst []byte, x []float32) {
	for b := range len(x) / qkK {
		xb := x[b*qkK : b*qkK+qkK]
		out := dst[b*bQ8_K : b*bQ8_K+bQ8_K]
		var amax, maxv float32
		for _, v := range xb {
			if a := absF32(v); a > amax {
				amax, maxv = a, v
			}
		}
		if amax == 0 {
			clear(out)
			continue
		}
		iscale := -127 / maxv
		qs := out[4 : 4+qkK]
		for j, v := range xb {
			qs[j] = byte(int8(min(127, nearestInt(float32(iscale*v)))))
		}
		for g := range qkK / 16 {
			sum := 0
			for _, q := range qs[g*16 : g*16+16] {
				sum += int(int8(q))
			}
			binary.LittleEndian.PutUint16(out[4+qkK+2*g:], uint16(int16(sum)))
		}
		binary.LittleEndian.PutUint32(out, math.Float32bits(1/iscale))
	}
}
