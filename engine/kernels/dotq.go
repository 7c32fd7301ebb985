package kernels

import "encoding/binary"

// The dot products of the 32-element formats. As in ggml's AVX2 kernels,
// each block's products are summed exactly in eight int32 lanes (lane l
// holds elements 4l..4l+3), each lane is scaled by the product of the two
// block scales into a float32 lane accumulator, and the lanes are reduced
// at the end (see lanes8).

// quadSums adds the products of 32 (weight, activation) pairs in groups of
// four consecutive elements; q(e) gives weight element e as an integer.
func quadSums(q func(e int) int32, a []byte) (s [8]int32) {
	for e := range qk {
		s[e/4] += q(e) * int32(int8(a[e]))
	}
	return s
}

func dotQ8_0Generic(w, a []byte, n int) float32 {
	var acc lanes8
	for b := range n / qk {
		wb, ab := w[b*bQ8_0:b*bQ8_0+bQ8_0], a[b*bQ8_0:b*bQ8_0+bQ8_0]
		s := quadSums(func(e int) int32 { return int32(int8(wb[2+e])) }, ab[2:])
		acc.add(f16(wb)*f16(ab), &s)
	}
	return acc.hsum()
}

// Q4_0 block: fp16 d, then 16 bytes whose low nibbles are elements 0..15
// and high nibbles elements 16..31, each stored with an offset of 8.
func dotQ4_0Generic(w, a []byte, n int) float32 {
	var acc lanes8
	for b := range n / qk {
		wb, ab := w[b*bQ4_0:b*bQ4_0+bQ4_0], a[b*bQ8_0:b*bQ8_0+bQ8_0]
		s := quadSums(func(e int) int32 { return nibble(wb[2:], e) - 8 }, ab[2:])
		acc.add(f16(wb)*f16(ab), &s)
	}
	return acc.hsum()
}

// nibble returns element e (0..31) of 16 bytes packed as in Q4_0/Q4_1.
func nibble(qs []byte, e int) int32 {
	if e < 16 {
		return int32(qs[e] & 15)
	}
	return int32(qs[e-16] >> 4)
}

// Q5_0 block: fp16 d, 4 bytes holding the fifth bit of element e at bit e,
// then the nibbles as in Q4_0; the offset is 16.
func dotQ5_0Generic(w, a []byte, n int) float32 {
	var acc lanes8
	for b := range n / qk {
		wb, ab := w[b*bQ5_0:b*bQ5_0+bQ5_0], a[b*bQ8_0:b*bQ8_0+bQ8_0]
		qh := binary.LittleEndian.Uint32(wb[2:])
		s := quadSums(func(e int) int32 { return nibble(wb[6:], e) | int32(qh>>e&1)<<4 - 16 }, ab[2:])
		acc.add(f16(wb)*f16(ab), &s)
	}
	return acc.hsum()
}

// Q4_1 block: fp16 d, fp16 m, 16 bytes of nibbles; element = d*q + m. The
// Q8_1 activation's s = d_a*sum(q_a) supplies the m term, which ggml adds
// up in a separate float32 scalar, block by block.
func dotQ4_1Generic(w, a []byte, n int) float32 {
	var acc lanes8
	var summs float32
	for b := range n / qk {
		wb, ab := w[b*bQ4_1:b*bQ4_1+bQ4_1], a[b*bQ8_1:b*bQ8_1+bQ8_1]
		summs += float32(f16(wb[2:]) * f16(ab[2:])) // rounded, not fused
		s := quadSums(func(e int) int32 { return nibble(wb[4:], e) }, ab[4:])
		acc.add(f16(wb)*f16(ab), &s)
	}
	return acc.hsum() + summs
}

// Q5_1 block: fp16 d, fp16 m, 4 bytes of fifth bits, 16 bytes of nibbles.
func dotQ5_1Generic(w, a []byte, n int) float32 {
	var acc lanes8
	var summs float32
	for b := range n / qk {
		wb, ab := w[b*bQ5_1:b*bQ5_1+bQ5_1], a[b*bQ8_1:b*bQ8_1+bQ8_1]
		qh := binary.LittleEndian.Uint32(wb[4:])
		summs += float32(f16(wb[2:]) * f16(ab[2:])) // rounded, not fused
		s := quadSums(func(e int) int32 { return nibble(wb[8:], e) | int32(qh>>e&1)<<4 }, ab[4:])
		acc.add(f16(wb)*f16(ab), &s)
	}
	return acc.hsum() + summs
}
