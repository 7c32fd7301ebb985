package kernels

import (
	"encoding/binary"
	"math"
)

// The K-quant dot products against a Q8_K activation (float32 d, 256 int8
// values, 16 int16 sums of 16 values). Each super-block is summed exactly in
// integers and scaled once, as ggml's reference vec_dot does.

// q8K splits a Q8_K block into its scale, values and 16-value sums.
func q8K(ab []byte) (d float32, q8 []byte, bsum func(g int) int32) {
	d = math.Float32frombits(binary.LittleEndian.Uint32(ab))
	return d, ab[4 : 4+qkK], func(g int) int32 {
		return int32(int16(binary.LittleEndian.Uint16(ab[4+qkK+2*g:])))
	}
}

// scaleMinK4 unpacks the 6-bit scale and min of sub-block j (0..7) from the
// 12 packed bytes of a Q4_K/Q5_K block (ggml's get_scale_min_k4).
func scaleMinK4(j int, s []byte) (sc, m int32) {
	if j < 4 {
		return int32(s[j] & 63), int32(s[j+4] & 63)
	}
	return int32(s[j+4]&15 | s[j-4]>>6<<4), int32(s[j+4]>>4 | s[j]>>6<<4)
}

// Q2_K block: 16 scale bytes (low nibble scale, high nibble min of 16
// elements), 64 bytes of 2-bit values, fp16 d, fp16 dmin. Each 128-element
// half uses 32 bytes; shift 2s selects elements 32s..32s+31 of the half.
func dotQ2_KGeneric(w, a []byte, n int) float32 {
	var sum float32
	for b := range n / qkK {
		wb := w[b*bQ2_K : b*bQ2_K+bQ2_K]
		dy, q8, bsum := q8K(a[b*bQ8_K : b*bQ8_K+bQ8_K])
		sc, qs := wb[0:16], wb[16:80]
		var summs, isum int32
		for g := range 16 {
			summs += bsum(g) * int32(sc[g]>>4)
		}
		for e := range qkK {
			half, r := e/128, e%128
			shift, l := r/32*2, r%32
			q := int32(qs[half*32+l] >> shift & 3)
			isum += int32(sc[e/16]&15) * q * int32(int8(q8[e]))
		}
		dall := dy * f16(wb[80:])
		dmin := dy * f16(wb[82:])
		sum += float32(dall*float32(isum)) - float32(dmin*float32(summs)) // no FMA
	}
	return sum
}

// q3KScales unpacks the sixteen 6-bit scales of a Q3_K block (stored with
// an offset of 32): low 4 bits in bytes 0..7, high 2 bits in bytes 8..11.
func q3KScales(s []byte) (out [16]int32) {
	for j := range 16 {
		lo := s[j%8] >> (4 * (j / 8)) & 15
		hi := s[8+j%4] >> (2 * (j / 4)) & 3
		out[j] = int32(lo|hi<<4) - 32
	}
	return out
}

// Q3_K block: 32 bytes of high-bit masks, 64 bytes of 2-bit values, 12
// bytes of scales, fp16 d. Element e of half h, group s (32 elements), lane
// l has its high bit at hmask[l] bit 4h+s; a clear bit subtracts 4.
func dotQ3_KGeneric(w, a []byte, n int) float32 {
	var sum float32
	for b := range n / qkK {
		wb := w[b*bQ3_K : b*bQ3_K+bQ3_K]
		dy, q8, _ := q8K(a[b*bQ8_K : b*bQ8_K+bQ8_K])
		hm, qs := wb[0:32], wb[32:96]
		scales := q3KScales(wb[96:108])
		var isum int32
		for e := range qkK {
			half, r := e/128, e%128
			s, l := r/32, r%32
			q := int32(qs[half*32+l] >> (2 * s) & 3)
			if hm[l]>>(4*half+s)&1 == 0 {
				q -= 4
			}
			isum += scales[e/16] * q * int32(int8(q8[e]))
		}
		sum += float32(dy * f16(wb[108:]) * float32(isum))
	}
	return sum
}

// Q4_K block: fp16 d, fp16 dmin, 12 bytes of packed 6-bit scales and mins
// for eight 32-element sub-blocks, 128 bytes of nibbles: bytes 32c..32c+31
// hold sub-block 2c in their low nibbles and 2c+1 in their high nibbles.
// The arithmetic is that of ggml's AVX2 kernel: int32 lane l gathers
// elements 4l..4l+3 of every sub-block times its scale, the mins go to a
// four-lane accumulator (lane m: sub-blocks 2m and 2m+1), and the result is
// hsum(acc) + hsum4(acc_m) with acc_m built from -dmin.
func dotQ4_KGeneric(w, a []byte, n int) float32 {
	var acc lanes8
	var accM [4]float32
	for b := range n / qkK {
		wb := w[b*bQ4_K : b*bQ4_K+bQ4_K]
		dy, q8, bsum := q8K(a[b*bQ8_K : b*bQ8_K+bQ8_K])
		scales, qs := wb[4:16], wb[16:144]
		var lanes [8]int32
		var prod [4]int32
		for j := range 8 {
			sc, m := scaleMinK4(j, scales)
			prod[j/2] += m * (bsum(2*j) + bsum(2*j+1))
			shift := 4 * (j % 2)
			for l := range 32 {
				lanes[l/4] += sc * int32(qs[j/2*32+l]>>shift&15) * int32(int8(q8[j*32+l]))
			}
		}
		d := dy * f16(wb)
		dmin := -dy * f16(wb[2:])
		for m := range accM {
			accM[m] = fma32(dmin, float32(prod[m]), accM[m])
		}
		acc.add(d, &lanes)
	}
	return acc.hsum() + hsum4(accM)
}

// Q5_K block: as Q4_K plus 32 bytes of fifth bits after the scales:
// element l of sub-block j has its fifth bit at qh[l] bit j.
func dotQ5_KGeneric(w, a []byte, n int) float32 {
	var sum float32
	for b := range n / qkK {
		wb := w[b*bQ5_K : b*bQ5_K+bQ5_K]
		dy, q8, bsum := q8K(a[b*bQ8_K : b*bQ8_K+bQ8_K])
		scales, qh, qs := wb[4:16], wb[16:48], wb[48:176]
		var isum, msum int32
		for j := range 8 {
			sc, m := scaleMinK4(j, scales)
			msum += m * (bsum(2*j) + bsum(2*j+1))
			shift := 4 * (j % 2)
			var s int32
			for l := range 32 {
				q := int32(qs[j/2*32+l]>>shift&15) | int32(qh[l]>>j&1)<<4
				s += q * int32(int8(q8[j*32+l]))
			}
			isum += sc * s
		}
		d := f16(wb) * dy
		dmin := f16(wb[2:]) * dy
		sum += float32(d*float32(isum)) - float32(dmin*float32(msum))
	}
	return sum
}

// Q6_K block: 128 bytes of low nibbles, 64 bytes of 2-bit high parts, 16
// int8 scales (one per 16 elements), fp16 d; values carry an offset of 32.
// In each 128-element half, lane l (0..31) of quarter s takes its low
// nibble from ql[64h + l + 32(s&1)] (high nibble when s >= 2) and its high
// bits from qh[32h + l] bits 2s, 2s+1. As in ggml's AVX2 kernel, int32 lane
// L gathers elements 4L..4L+3 of every 32-element quarter times the scale
// of its 16-element group, and each super-block adds d·lanes to acc.
func dotQ6_KGeneric(w, a []byte, n int) float32 {
	var acc lanes8
	for b := range n / qkK {
		wb := w[b*bQ6_K : b*bQ6_K+bQ6_K]
		dy, q8, _ := q8K(a[b*bQ8_K : b*bQ8_K+bQ8_K])
		ql, qh, sc := wb[0:128], wb[128:192], wb[192:208]
		var lanes [8]int32
		for e := range qkK {
			h, r := e/128, e%128
			s, l := r/32, r%32
			lo := int32(ql[64*h+l+32*(s&1)] >> (4 * (s / 2)) & 15)
			hi := int32(qh[32*h+l] >> (2 * s) & 3)
			lanes[l/4] += int32(int8(sc[e/16])) * (lo | hi<<4 - 32) * int32(int8(q8[e]))
		}
		acc.add(dy*f16(wb[208:]), &lanes)
	}
	return acc.hsum()
}
