//go:build amd64

package kernels

import (
	"encoding/binary"
	"math"
)

//go:noescape
func quantizeQ8_0AVX(dst *byte, x *float32, nb int)

//go:noescape
func quantizeQ8_1AVX(dst *byte, x *float32, nb int)

//go:noescape
func minMaxAVX(x *float32, n int) (lo, hi float32)

//go:noescape
func quantizeQ8_KBlockAVX(dst *byte, x *float32, iscale float32)

func quantizeQ8_0SIMD(dst []byte, x []float32) {
	if len(x) >= qk {
		quantizeQ8_0AVX(&dst[0], &x[0], len(x)/qk)
	}
}

func quantizeQ8_1SIMD(dst []byte, x []float32) {
	if len(x) >= qk {
		quantizeQ8_1AVX(&dst[0], &x[0], len(x)/qk)
	}
}

// quantizeQ8_KSIMD finds each block's signed maximum from its minimum and
// maximum. ggml keeps the first element of largest magnitude, so when +m
// and -m both occur the block is scanned to see which comes first.
func quantizeQ8_KSIMD(dst []byte, x []float32) {
	for b := range len(x) / qkK {
		xb := x[b*qkK : b*qkK+qkK]
		out := dst[b*bQ8_K : b*bQ8_K+bQ8_K]
		lo, hi := minMaxAVX(&xb[0], qkK)
		maxv := hi
		if -lo > hi {
			maxv = lo
		} else if -lo == hi {
			for _, v := range xb {
				if absF32(v) == hi {
					maxv = v
					break
				}
			}
		}
		if maxv == 0 || maxv != maxv {
			quantizeQ8_KGeneric(out, xb) // all zero, or NaN: the scalar rules apply
			continue
		}
		iscale := -127 / maxv
		quantizeQ8_KBlockAVX(&out[0], &xb[0], iscale)
		binary.LittleEndian.PutUint32(out, math.Float32bits(1/iscale))
	}
}
