//go:build arm64

package kernels

import (
	"encoding/binary"
	"math"
)

// The K-quant dots in NEON: the assembly sums each super-block into eight
// int32 lanes (the integer work), and the float32 arithmetic after it is
// the generic twins' own (lanes8, ggml's AVX2 order), so the results agree
// bit for bit.

//go:noescape
func q4KLanesSDOT(qs, q8 *byte, sc, out *[8]int32)

//go:noescape
func q4KLanesMULL(qs, q8 *byte, sc, out *[8]int32)

//go:noescape
func q6KLanesSDOT(ql, qh, q8 *byte, sc *[16]int32, out *[8]int32)

//go:noescape
func q6KLanesMULL(ql, qh, q8 *byte, sc *[16]int32, out *[8]int32)

// The four-token kernels: out[t] is what q4KLanes gives for qs and q8[t],
// the nibbles decoded once for the four.

//go:noescape
func q4KLanesx4SDOT(qs *byte, q8 *[4]*byte, sc *[8]int32, out *[4][8]int32)

//go:noescape
func q4KLanesx4MULL(qs *byte, q8 *[4]*byte, sc *[8]int32, out *[4][8]int32)

// q4KBlockSums returns, for the Q8_K block ab, the four products
// m_j·(sums of sub-block j's two 16-value groups) summed in pairs of
// sub-blocks, as dotQ4_KGeneric's prod.
func q4KBlockSums(mins *[8]int32, ab []byte) (prod [4]int32) {
	for j := range 8 {
		g := ab[4+qkK+4*j:]
		bs := int32(int16(binary.LittleEndian.Uint16(g))) + int32(int16(binary.LittleEndian.Uint16(g[2:])))
		prod[j/2] += mins[j] * bs
	}
	return prod
}

// dotQ4_KNEON returns a Q4_K dot running lanes for the integer part; the
// rest is dotQ4_KGeneric's arithmetic.
func dotQ4_KNEON(lanesOf func(qs, q8 *byte, sc, out *[8]int32)) func(w, a []byte, n int) float32 {
	return func(w, a []byte, n int) float32 {
		var acc lanes8
		var accM [4]float32
		var sc, mins, lanes [8]int32
		for b := range n / qkK {
			wb := w[b*bQ4_K : b*bQ4_K+bQ4_K]
			ab := a[b*bQ8_K : b*bQ8_K+bQ8_K]
			dy := math.Float32frombits(binary.LittleEndian.Uint32(ab))
			for j := range 8 {
				sc[j], mins[j] = scaleMinK4(j, wb[4:16])
			}
			prod := q4KBlockSums(&mins, ab)
			lanesOf(&wb[16], &ab[4], &sc, &lanes)
			d := dy * f16(wb)
			dmin := -dy * f16(wb[2:])
			for m := range accM {
				accM[m] = fma32(dmin, float32(prod[m]), accM[m])
			}
			acc.add(d, &lanes)
		}
		return acc.hsum() + hsum4(accM)
	}
}

// dotQ6_KNEON returns a Q6_K dot running lanes for the integer part; the
// rest is dotQ6_KGeneric's arithmetic.
func dotQ6_KNEON(lanesOf func(ql, qh, q8 *byte, sc *[16]int32, out *[8]int32)) func(w, a []byte, n int) float32 {
	return func(w, a []byte, n int) float32 {
		var acc lanes8
		var sc [16]int32
		var lanes [8]int32
		for b := range n / qkK {
			wb := w[b*bQ6_K : b*bQ6_K+bQ6_K]
			ab := a[b*bQ8_K : b*bQ8_K+bQ8_K]
			for g, s := range wb[192:208] {
				sc[g] = int32(int8(s))
			}
			lanesOf(&wb[0], &wb[128], &ab[4], &sc, &lanes)
			dy := math.Float32frombits(binary.LittleEndian.Uint32(ab))
			acc.add(dy*f16(wb[208:]), &lanes)
		}
		return acc.hsum()
	}
}
