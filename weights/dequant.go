package weights

// Dequantization of every element type the package knows into float32.
//
// The block decoders follow the layouts of ggml's block_* structs
// (ggml-common.h) and reproduce ggml's dequantize_row_* (ggml-quants.c) bit for
// bit. That is robust: every product of a half scale (11 significant bits), a
// sub-block scale (at most 8 bits) and a quant (at most 8 bits) has at most one
// rounding whatever the grouping, and `d*q - m` rounds only at the subtraction,
// fused or not. The code still keeps the C reference's operation order and
// writes float32(d*q) - m where C has d*q - m, so that it reads like the
// reference and stays correct if a format with wider quants is added.

import (
	"encoding/binary"
	"fmt"
	"math"
	"unsafe"
)

// Dequantize decodes len(dst) elements of type t from src into dst. src must
// hold exactly the bytes of len(dst) elements (whole blocks for the quantized
// types); anything else is an error naming the type and both sizes. The result
// is bit-identical to ggml's dequantize_row_* for the quantized types and
// exact for F16, BF16 and the integer types up to 2^24 in magnitude (I32 and
// I64 values beyond that, and F64 values, are rounded to nearest float32).
func Dequantize(dst []float32, src []byte, t DType) error {
	in, ok := t.info()
	if !ok {
		return fmt.Errorf("dequantize: unknown dtype %v", t)
	}
	n := len(dst)
	if n%in.blockElems != 0 {
		return fmt.Errorf("dequantize %v: %d elements is not a multiple of the block size %d", t, n, in.blockElems)
	}
	if want := n / in.blockElems * in.blockBytes; len(src) != want {
		return fmt.Errorf("dequantize %v: %d elements need %d bytes, got %d", t, n, want, len(src))
	}
	switch t {
	case F32:
		dequantF32(dst, src)
	case F16:
		dequantF16(dst, src)
	case BF16:
		dequantBF16(dst, src)
	case F64:
		for i := range dst {
			dst[i] = float32(math.Float64frombits(binary.LittleEndian.Uint64(src[8*i:])))
		}
	case I8:
		for i := range dst {
			dst[i] = float32(int8(src[i]))
		}
	case I16:
		for i := range dst {
			dst[i] = float32(int16(binary.LittleEndian.Uint16(src[2*i:])))
		}
	case I32:
		for i := range dst {
			dst[i] = float32(int32(binary.LittleEndian.Uint32(src[4*i:])))
		}
	case I64:
		for i := range dst {
			dst[i] = float32(int64(binary.LittleEndian.Uint64(src[8*i:])))
		}
	case Q4_0:
		dequantQ4_0(dst, src)
	case Q4_1:
		dequantQ4_1(dst, src)
	case Q5_0:
		dequantQ5_0(dst, src)
	case Q5_1:
		dequantQ5_1(dst, src)
	case Q8_0:
		dequantQ8_0(dst, src)
	case Q8_1:
		dequantQ8_1(dst, src)
	case Q2_K:
		dequantQ2K(dst, src)
	case Q3_K:
		dequantQ3K(dst, src)
	case Q4_K:
		dequantQ4K(dst, src)
	case Q5_K:
		dequantQ5K(dst, src)
	case Q6_K:
		dequantQ6K(dst, src)
	case Q8_K:
		dequantQ8K(dst, src)
	default:
		return fmt.Errorf("dequantize: no decoder for dtype %v", t)
	}
	return nil
}

// HalfToFloat32 converts IEEE 754 binary16 bits to float32. Every half value,
// subnormals included, is exactly representable, so the result is exact; NaN
// payloads are kept.
func HalfToFloat32(h uint16) float32 {
	sign := uint32(h&0x8000) << 16
	mag := uint32(h & 0x7fff)
	switch {
	case mag >= 0x7c00: // infinity or NaN: widen the payload, keep the all-ones exponent
		return math.Float32frombits(sign | 0x7f800000 | (mag&0x3ff)<<13)
	case mag >= 0x0400: // normal: move the fields and rebias the exponent by 127-15
		return math.Float32frombits(sign | (mag+(112<<10))<<13)
	}
	// Zero or subnormal: the fields placed at the float32 positions read as a
	// float32 that is too small by 2^112; one exact multiply fixes it.
	f := math.Float32frombits(mag<<13) * 0x1p112
	return math.Float32frombits(math.Float32bits(f) | sign)
}

// BF16ToFloat32 converts bfloat16 bits (the top half of a float32) to float32.
func BF16ToFloat32(h uint16) float32 { return math.Float32frombits(uint32(h) << 16) }

func half(b []byte) float32 { return HalfToFloat32(binary.LittleEndian.Uint16(b)) }

func dequantF32(dst []float32, src []byte) {
	if littleEndianHost() {
		// The file's bytes are already the host's float32s: one memmove. The
		// destination is viewed as bytes (not the source as float32s) so an
		// unaligned source is never dereferenced as float32.
		copy(unsafe.Slice((*byte)(unsafe.Pointer(unsafe.SliceData(dst))), 4*len(dst)), src)
		return
	}
	for i := range dst {
		dst[i] = math.Float32frombits(binary.LittleEndian.Uint32(src[4*i:]))
	}
}

func littleEndianHost() bool { return binary.NativeEndian.Uint16([]byte{1, 0}) == 1 }

func dequantF16(dst []float32, src []byte) {
	src = src[:2*len(dst)]
	for i := range dst {
		dst[i] = HalfToFloat32(uint16(src[2*i]) | uint16(src[2*i+1])<<8)
	}
}

func dequantBF16(dst []float32, src []byte) {
	src = src[:2*len(dst)]
	for i := range dst {
		dst[i] = math.Float32frombits(uint32(src[2*i])<<16 | uint32(src[2*i+1])<<24)
	}
}

// Block sizes in bytes, spelled out from the block structs so the decoders
// can slice one block at a time.
const (
	q4_0Bytes = 2 + QK/2
	q4_1Bytes = 4 + QK/2
	q5_0Bytes = 2 + 4 + QK/2
	q5_1Bytes = 4 + 4 + QK/2
	q8_0Bytes = 2 + QK
	q8_1Bytes = 4 + QK
	q2KBytes  = QKK/16 + QKK/4 + 4
	q3KBytes  = QKK/8 + QKK/4 + 12 + 2
	q4KBytes  = 4 + 12 + QKK/2
	q5KBytes  = 4 + 12 + QKK/8 + QKK/2
	q6KBytes  = QKK/2 + QKK/4 + QKK/16 + 2
	q8KBytes  = 4 + QKK + QKK/16*2
)

// block_q4_0 {half d; uint8 qs[16]}: element j is the low nibble of qs[j],
// element j+16 the high nibble, both offset by 8.
func dequantQ4_0(dst []float32, src []byte) {
	for len(dst) >= QK {
		b := src[:q4_0Bytes:q4_0Bytes]
		y := dst[:QK:QK]
		d := half(b)
		qs := b[2 : 2+QK/2]
		for j, q := range qs {
			y[j] = float32(int32(q&0xf)-8) * d
			y[j+QK/2] = float32(int32(q>>4)-8) * d
		}
		src, dst = src[q4_0Bytes:], dst[QK:]
	}
}

// block_q4_1 {half d; half m; uint8 qs[16]}: x = q*d + m.
func dequantQ4_1(dst []float32, src []byte) {
	for len(dst) >= QK {
		b := src[:q4_1Bytes:q4_1Bytes]
		y := dst[:QK:QK]
		d, m := half(b), half(b[2:])
		qs := b[4 : 4+QK/2]
		for j, q := range qs {
			y[j] = float32(float32(q&0xf)*d) + m
			y[j+QK/2] = float32(float32(q>>4)*d) + m
		}
		src, dst = src[q4_1Bytes:], dst[QK:]
	}
}

// block_q5_0 {half d; uint8 qh[4]; uint8 qs[16]}: bit j of the little-endian
// qh word is the fifth bit of element j; values are offset by 16.
func dequantQ5_0(dst []float32, src []byte) {
	for len(dst) >= QK {
		b := src[:q5_0Bytes:q5_0Bytes]
		y := dst[:QK:QK]
		d := half(b)
		qh := binary.LittleEndian.Uint32(b[2:])
		qs := b[6 : 6+QK/2]
		for j, q := range qs {
			h0 := int32(qh&1) << 4
			h1 := int32(qh>>(QK/2)&1) << 4
			qh >>= 1
			y[j] = float32(int32(q&0xf)|h0-16) * d
			y[j+QK/2] = float32(int32(q>>4)|h1-16) * d
		}
		src, dst = src[q5_0Bytes:], dst[QK:]
	}
}

// block_q5_1 {half d; half m; uint8 qh[4]; uint8 qs[16]}: x = q*d + m.
func dequantQ5_1(dst []float32, src []byte) {
	for len(dst) >= QK {
		b := src[:q5_1Bytes:q5_1Bytes]
		y := dst[:QK:QK]
		d, m := half(b), half(b[2:])
		qh := binary.LittleEndian.Uint32(b[4:])
		qs := b[8 : 8+QK/2]
		for j, q := range qs {
			h0 := (qh & 1) << 4
			h1 := (qh >> (QK / 2) & 1) << 4
			qh >>= 1
			y[j] = float32(float32(uint32(q&0xf)|h0)*d) + m
			y[j+QK/2] = float32(float32(uint32(q>>4)|h1)*d) + m
		}
		src, dst = src[q5_1Bytes:], dst[QK:]
	}
}

// block_q8_0 {half d; int8 qs[32]}.
func dequantQ8_0(dst []float32, src []byte) {
	for len(dst) >= QK {
		b := src[:q8_0Bytes:q8_0Bytes]
		y := dst[:QK:QK]
		d := half(b)
		for j, q := range b[2 : 2+QK] {
			y[j] = float32(int8(q)) * d
		}
		src, dst = src[q8_0Bytes:], dst[QK:]
	}
}

// block_q8_1 {half d; half s; int8 qs[32]}; s (d times the sum of the quants)
// only serves dot products. ggml has no row dequantizer for this type; this
// one applies the same rule as Q8_0.
func dequantQ8_1(dst []float32, src []byte) {
	for len(dst) >= QK {
		b := src[:q8_1Bytes:q8_1Bytes]
		y := dst[:QK:QK]
		d := half(b)
		for j, q := range b[4 : 4+QK] {
			y[j] = float32(int8(q)) * d
		}
		src, dst = src[q8_1Bytes:], dst[QK:]
	}
}

// block_q2_K {uint8 scales[16]; uint8 qs[64]; half d; half dmin}. Sixteen
// groups of 16; each scales byte holds a 4-bit scale (low) and a 4-bit min
// (high). The 2-bit quants of each 128-element half are spread over 32 bytes:
// byte l holds elements l, l+32, l+64, l+96 at bit shifts 0, 2, 4, 6.
func dequantQ2K(dst []float32, src []byte) {
	for len(dst) >= QKK {
		b := src[:q2KBytes:q2KBytes]
		y := dst[:QKK:QKK]
		scales := b[:16]
		d, dmin := half(b[80:]), half(b[82:])
		for hb := 0; hb < 2; hb++ { // the two 128-element halves
			q := b[16+32*hb : 16+32*hb+32]
			for s := 0; s < 4; s++ {
				shift := uint(2 * s)
				for g := 0; g < 2; g++ {
					sc := scales[8*hb+2*s+g]
					dl := d * float32(sc&0xf)
					ml := dmin * float32(sc>>4)
					out := y[128*hb+32*s+16*g : 128*hb+32*s+16*g+16]
					in := q[16*g : 16*g+16]
					for l := range out {
						out[l] = float32(dl*float32(in[l]>>shift&3)) - ml
					}
				}
			}
		}
		src, dst = src[q2KBytes:], dst[QKK:]
	}
}

// q3KScales unpacks the sixteen 6-bit scales of a block_q3_K: the low four
// bits of scale j are a nibble of bytes 0..7 (low nibbles for j < 8, high
// nibbles for j >= 8) and the top two bits come from bytes 8..11.
func q3KScales(s []byte, out *[16]int32) {
	s = s[:12]
	for j := 0; j < 16; j++ {
		var lo byte
		if j < 8 {
			lo = s[j] & 0xf
		} else {
			lo = s[j-8] >> 4
		}
		hi := s[8+j%4] >> (2 * (j / 4)) & 3
		out[j] = int32(lo|hi<<4) - 32
	}
}

// block_q3_K {uint8 hmask[32]; uint8 qs[64]; uint8 scales[12]; half d}. The
// low two bits are laid out as in Q2_K; the third bit of element 32*k+l is bit
// k of hmask[l], and a clear bit means "subtract 4".
func dequantQ3K(dst []float32, src []byte) {
	var scales [16]int32
	for len(dst) >= QKK {
		b := src[:q3KBytes:q3KBytes]
		y := dst[:QKK:QKK]
		hmask := b[:32]
		q3KScales(b[96:108], &scales)
		d := half(b[108:])
		for hb := 0; hb < 2; hb++ { // the two 128-element halves
			q := b[32+32*hb : 32+32*hb+32]
			for s := 0; s < 4; s++ {
				shift := uint(2 * s)
				bit := uint(4*hb + s)
				for g := 0; g < 2; g++ {
					dl := d * float32(scales[8*hb+2*s+g])
					out := y[128*hb+32*s+16*g : 128*hb+32*s+16*g+16]
					in := q[16*g : 16*g+16]
					hm := hmask[16*g : 16*g+16]
					for l := range out {
						// A clear high bit means "subtract 4"; done without a
						// branch because the bits are random.
						v := int32(in[l]>>shift&3) - 4 + int32(hm[l]>>bit&1)<<2
						out[l] = dl * float32(v)
					}
				}
			}
		}
		src, dst = src[q3KBytes:], dst[QKK:]
	}
}

// kScaleMin returns the 6-bit scale and min of sub-block j (0..7) from the
// 12 packed bytes shared by Q4_K and Q5_K: sub-blocks 0..3 keep theirs in the
// low six bits of bytes j and j+4; sub-blocks 4..7 keep the low four bits in
// byte j+4's nibbles and the top two in the spare bits of bytes j-4 and j.
func kScaleMin(j int, s []byte) (sc, m uint8) {
	s = s[:12]
	if j < 4 {
		return s[j] & 63, s[j+4] & 63
	}
	return s[j+4]&0xf | s[j-4]>>6<<4, s[j+4]>>4 | s[j]>>6<<4
}

// block_q4_K {half d; half dmin; uint8 scales[12]; uint8 qs[128]}: eight
// sub-blocks of 32; x = d*sc*q - dmin*m. Each 32 bytes of qs hold two
// sub-blocks, the first in the low nibbles.
func dequantQ4K(dst []float32, src []byte) {
	for len(dst) >= QKK {
		b := src[:q4KBytes:q4KBytes]
		y := dst[:QKK:QKK]
		d, dmin := half(b), half(b[2:])
		scales := b[4:16]
		for p := 0; p < 4; p++ {
			q := b[16+32*p : 16+32*p+32]
			sc, m := kScaleMin(2*p, scales)
			d1, m1 := d*float32(sc), dmin*float32(m)
			sc, m = kScaleMin(2*p+1, scales)
			d2, m2 := d*float32(sc), dmin*float32(m)
			lo := y[64*p : 64*p+32]
			hi := y[64*p+32 : 64*p+64]
			for l, v := range q {
				lo[l] = float32(d1*float32(v&0xf)) - m1
				hi[l] = float32(d2*float32(v>>4)) - m2
			}
		}
		src, dst = src[q4KBytes:], dst[QKK:]
	}
}

// block_q5_K {half d; half dmin; uint8 scales[12]; uint8 qh[32]; uint8 qs[128]}:
// Q4_K plus a fifth bit; for sub-block k that bit of element l is bit k of qh[l].
func dequantQ5K(dst []float32, src []byte) {
	for len(dst) >= QKK {
		b := src[:q5KBytes:q5KBytes]
		y := dst[:QKK:QKK]
		d, dmin := half(b), half(b[2:])
		scales := b[4:16]
		qh := b[16:48]
		for p := 0; p < 4; p++ {
			q := b[48+32*p : 48+32*p+32]
			sc, m := kScaleMin(2*p, scales)
			d1, m1 := d*float32(sc), dmin*float32(m)
			sc, m = kScaleMin(2*p+1, scales)
			d2, m2 := d*float32(sc), dmin*float32(m)
			u1, u2 := uint(2*p), uint(2*p+1)
			lo := y[64*p : 64*p+32]
			hi := y[64*p+32 : 64*p+64]
			h := qh[:32]
			for l, v := range q {
				lo[l] = float32(d1*float32(v&0xf|(h[l]>>u1&1)<<4)) - m1
				hi[l] = float32(d2*float32(v>>4|(h[l]>>u2&1)<<4)) - m2
			}
		}
		src, dst = src[q5KBytes:], dst[QKK:]
	}
}

// block_q6_K {uint8 ql[128]; uint8 qh[64]; int8 scales[16]; half d}. Each
// 128-element half uses 64 bytes of ql and 32 of qh: element l (< 32) takes the
// low nibble of ql[l] and bits 0-1 of qh[l]; l+32 the low nibble of ql[l+32]
// and bits 2-3; l+64 the high nibble of ql[l] and bits 4-5; l+96 the high
// nibble of ql[l+32] and bits 6-7. x = (d*scale)*(q-32), one scale per 16.
func dequantQ6K(dst []float32, src []byte) {
	for len(dst) >= QKK {
		b := src[:q6KBytes:q6KBytes]
		y := dst[:QKK:QKK]
		d := half(b[208:])
		for hb := 0; hb < 2; hb++ { // the two 128-element halves
			ql := b[64*hb : 64*hb+64]
			qh := b[128+32*hb : 128+32*hb+32]
			sc := b[192+8*hb : 192+8*hb+8]
			out := y[128*hb : 128*hb+128]
			for g := 0; g < 2; g++ { // elements 16g..16g+15 of each quarter share a scale
				s0 := d * float32(int8(sc[g]))
				s1 := d * float32(int8(sc[g+2]))
				s2 := d * float32(int8(sc[g+4]))
				s3 := d * float32(int8(sc[g+6]))
				for l := 16 * g; l < 16*g+16; l++ {
					a, c, h := ql[l], ql[l+32], qh[l]
					out[l] = s0 * float32(int32(a&0xf|h&3<<4)-32)
					out[l+32] = s1 * float32(int32(c&0xf|h>>2&3<<4)-32)
					out[l+64] = s2 * float32(int32(a>>4|h>>4&3<<4)-32)
					out[l+96] = s3 * float32(int32(c>>4|h>>6&3<<4)-32)
				}
			}
		}
		src, dst = src[q6KBytes:], dst[QKK:]
	}
}

// block_q8_K {float d; int8 qs[256]; int16 bsums[16]}; bsums only serve dot products.
func dequantQ8K(dst []float32, src []byte) {
	for len(dst) >= QKK {
		b := src[:q8KBytes:q8KBytes]
		y := dst[:QKK:QKK]
		d := math.Float32frombits(binary.LittleEndian.Uint32(b))
		for j, q := range b[4 : 4+QKK] {
			y[j] = d * float32(int8(q))
		}
		src, dst = src[q8KBytes:], dst[QKK:]
	}
}
