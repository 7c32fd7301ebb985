package kernels

import "encoding/binary"

// The dot products of the 32-element formats. Within a block the products
// are summed exactly in integers; blocks are combined in float32 with the
// product of the two scales, as ggml's vec_dot kernels do.

func dotQ8_0Generic(w, a []byte, n int) float32 {
	var sum float32
	for b := range n / qk {
		wb, ab := w[b*bQ8_0:b*bQ8_0+bQ8_0], a[b*bQ8_0:b*bQ8_0+bQ8_0]
		var isum int32
		for j := range qk {
			isum += int32(int8(wb[2+j])) * int32(int8(ab[2+j]))
		}
		sum += float32(isum) * (f16(wb) * f16(ab))
	}
	return sum
}

// Q4_0 block: fp16 d, then 16 bytes whose low nibbles are elements 0..15
// and high nibbles elements 16..31, each stored with an offset of 8.
func dotQ4_0Generic(w, a []byte, n int) float32 {
	var sum float32
	for b := range n / qk {
		wb, ab := w[b*bQ4_0:b*bQ4_0+bQ4_0], a[b*bQ8_0:b*bQ8_0+bQ8_0]
		qs, q8 := wb[2:18], ab[2:34]
		var isum int32
		for j := range 16 {
			isum += (int32(qs[j]&15) - 8) * int32(int8(q8[j]))
			isum += (int32(qs[j]>>4) - 8) * int32(int8(q8[j+16]))
		}
		sum += float32(isum) * (f16(wb) * f16(ab))
	}
	return sum
}

// Q5_0 block: fp16 d, 4 bytes holding the fifth bit of element j at bit j,
// then the nibbles as in Q4_0; the offset is 16.
func dotQ5_0Generic(w, a []byte, n int) float32 {
	var sum float32
	for b := range n / qk {
		wb, ab := w[b*bQ5_0:b*bQ5_0+bQ5_0], a[b*bQ8_0:b*bQ8_0+bQ8_0]
		qh := binary.LittleEndian.Uint32(wb[2:])
		qs, q8 := wb[6:22], ab[2:34]
		var isum int32
		for j := range 16 {
			lo := int32(qs[j]&15) | int32(qh>>j&1)<<4
			hi := int32(qs[j]>>4) | int32(qh>>(j+16)&1)<<4
			isum += (lo - 16) * int32(int8(q8[j]))
			isum += (hi - 16) * int32(int8(q8[j+16]))
		}
		sum += float32(isum) * (f16(wb) * f16(ab))
	}
	return sum
}

// Q4_1 block: fp16 d, fp16 m, 16 bytes of nibbles; element = d*q + m. The
// Q8_1 activation's s = d_a*sum(q_a) supplies the m term.
func dotQ4_1Generic(w, a []byte, n int) float32 {
	var sum float32
	for b := range n / qk {
		wb, ab := w[b*bQ4_1:b*bQ4_1+bQ4_1], a[b*bQ8_1:b*bQ8_1+bQ8_1]
		qs, q8 := wb[4:20], ab[4:36]
		var isum int32
		for j := range 16 {
			isum += int32(qs[j]&15) * int32(int8(q8[j]))
			isum += int32(qs[j]>>4) * int32(int8(q8[j+16]))
		}
		sum += (f16(wb)*f16(ab))*float32(isum) + f16(wb[2:])*f16(ab[2:])
	}
	return sum
}

// Q5_1 block: fp16 d, fp16 m, 4 bytes of fifth bits, 16 bytes of nibbles.
func dotQ5_1Generic(w, a []byte, n int) float32 {
	var sum float32
	for b := range n / qk {
		wb, ab := w[b*bQ5_1:b*bQ5_1+bQ5_1], a[b*bQ8_1:b*bQ8_1+bQ8_1]
		qh := binary.LittleEndian.Uint32(wb[4:])
		qs, q8 := wb[8:24], ab[4:36]
		var isum int32
		for j := range 16 {
			lo := int32(qs[j]&15) | int32(qh>>j&1)<<4
			hi := int32(qs[j]>>4) | int32(qh>>(j+16)&1)<<4
			isum += lo * int32(int8(q8[j]))
			isum += hi * int32(int8(q8[j+16]))
		}
		sum += (f16(wb)*f16(ab))*float32(isum) + f16(wb[2:])*f16(ab[2:])
	}
	return sum
}
