package kernels

import (
	"encoding/binary"
	"fmt"
	"math"
	"math/rand/v2"
	"testing"

	"github.com/x448/float16"
)

// --- Reference dequantizers, written from ggml's dequantize_row_* loops and
// kept independent of the kernels' indexing. They return float64 so the
// reference dot product adds no rounding of its own.

func h(b []byte) float64 { return float64(float16.Frombits(binary.LittleEndian.Uint16(b)).Float32()) }

func refQ8_0(blk []byte) []float64 {
	out := make([]float64, 32)
	for j := range out {
		out[j] = h(blk) * float64(int8(blk[2+j]))
	}
	return out
}

func refQ8_1(blk []byte) []float64 {
	out := make([]float64, 32)
	for j := range out {
		out[j] = h(blk) * float64(int8(blk[4+j]))
	}
	return out
}

func refQ8_K(blk []byte) []float64 {
	d := float64(math.Float32frombits(binary.LittleEndian.Uint32(blk)))
	out := make([]float64, 256)
	for j := range out {
		out[j] = d * float64(int8(blk[4+j]))
	}
	return out
}

func refQ4_0(blk []byte) []float64 {
	out := make([]float64, 32)
	for j := range 16 {
		out[j] = h(blk) * float64(int(blk[2+j]&0x0F)-8)
		out[j+16] = h(blk) * float64(int(blk[2+j]>>4)-8)
	}
	return out
}

func refQ4_1(blk []byte) []float64 {
	out := make([]float64, 32)
	for j := range 16 {
		out[j] = h(blk)*float64(blk[4+j]&0x0F) + h(blk[2:])
		out[j+16] = h(blk)*float64(blk[4+j]>>4) + h(blk[2:])
	}
	return out
}

func refQ5(blk []byte, withMin bool) []float64 {
	d, m, off, qh := h(blk), 0.0, 16, binary.LittleEndian.Uint32(blk[2:])
	qs := blk[6:]
	if withMin {
		m, off, qh, qs = h(blk[2:]), 0, binary.LittleEndian.Uint32(blk[4:]), blk[8:]
	}
	out := make([]float64, 32)
	for j := range 16 {
		xh0 := ((qh & (1 << j)) >> j) << 4
		xh1 := (qh & (1 << (j + 16))) >> (j + 12)
		out[j] = d*float64(int(uint32(qs[j]&0x0F)|xh0)-off) + m
		out[j+16] = d*float64(int(uint32(qs[j]>>4)|xh1)-off) + m
	}
	return out
}

func refQ2_K(blk []byte) []float64 {
	d, dmin := h(blk[80:]), h(blk[82:])
	out := make([]float64, 0, 256)
	q, is := blk[16:], 0
	for range 2 {
		for shift := 0; shift < 8; shift += 2 {
			for half := range 2 {
				sc := blk[is]
				is++
				for l := range 16 {
					out = append(out, d*float64(sc&0xF)*float64((q[l+16*half]>>shift)&3)-dmin*float64(sc>>4))
				}
			}
		}
		q = q[32:]
	}
	return out
}

func refQ3_K(blk []byte) []float64 {
	d := h(blk[108:])
	var sc [16]int
	s := blk[96:108]
	for i := range 4 {
		sc[i] = int(s[i]&0xF | (s[8+i]>>0&3)<<4)
		sc[4+i] = int(s[4+i]&0xF | (s[8+i]>>2&3)<<4)
		sc[8+i] = int(s[i]>>4 | (s[8+i]>>4&3)<<4)
		sc[12+i] = int(s[4+i]>>4 | (s[8+i]>>6&3)<<4)
	}
	out := make([]float64, 0, 256)
	hm, q, m, is := blk[0:32], blk[32:], byte(1), 0
	for range 2 {
		for shift := 0; shift < 8; shift += 2 {
			for half := range 2 {
				dl := d * float64(sc[is]-32)
				is++
				for l := range 16 {
					v := int((q[l+16*half] >> shift) & 3)
					if hm[l+16*half]&m == 0 {
						v -= 4
					}
					out = append(out, dl*float64(v))
				}
			}
			m <<= 1
		}
		q = q[32:]
	}
	return out
}

func refScaleMin(j int, q []byte) (float64, float64) {
	if j < 4 {
		return float64(q[j] & 63), float64(q[j+4] & 63)
	}
	return float64(q[j+4]&0xF | (q[j-4]>>6)<<4), float64(q[j+4]>>4 | (q[j]>>6)<<4)
}

func refQ45_K(blk []byte, five bool) []float64 {
	d, dmin := h(blk), h(blk[2:])
	scales := blk[4:16]
	ql, qh := blk[16:], []byte(nil)
	if five {
		qh, ql = blk[16:48], blk[48:]
	}
	out := make([]float64, 0, 256)
	is := 0
	for c := range 4 {
		for nib := range 2 {
			sc, m := refScaleMin(is, scales)
			for l := range 32 {
				v := float64((ql[32*c+l] >> (4 * nib)) & 0xF)
				if five && qh[l]&(1<<is) != 0 {
					v += 16
				}
				out = append(out, d*sc*v-dmin*m)
			}
			is++
		}
	}
	return out
}

func refQ6_K(blk []byte) []float64 {
	d := h(blk[208:])
	out := make([]float64, 256)
	ql, qh, sc := blk[0:], blk[128:], blk[192:]
	for n := 0; n < 256; n += 128 {
		for l := range 32 {
			is := l / 16
			q1 := int(ql[l]&0xF|((qh[l]>>0)&3)<<4) - 32
			q2 := int(ql[l+32]&0xF|((qh[l]>>2)&3)<<4) - 32
			q3 := int(ql[l]>>4|((qh[l]>>4)&3)<<4) - 32
			q4 := int(ql[l+32]>>4|((qh[l]>>6)&3)<<4) - 32
			out[n+l] = d * float64(int8(sc[is])) * float64(q1)
			out[n+l+32] = d * float64(int8(sc[is+2])) * float64(q2)
			out[n+l+64] = d * float64(int8(sc[is+4])) * float64(q3)
			out[n+l+96] = d * float64(int8(sc[is+6])) * float64(q4)
		}
		ql, qh, sc = ql[64:], qh[32:], sc[8:]
	}
	return out
}

// quantFormat describes one weight format for the table-driven tests.
type quantFormat struct {
	name       string
	blockElems int
	blockBytes int
	halves     []int // byte offsets of fp16 scales inside a block
	deq        func([]byte) []float64
	act        string // "q8_0", "q8_1" or "q8_K"
	dot        func(ks *kernelSet) func(w, a []byte, n int) float32
}

var quantFormats = []quantFormat{
	{"Q8_0", 32, bQ8_0, []int{0}, refQ8_0, "q8_0", func(ks *kernelSet) func(w, a []byte, n int) float32 { return ks.dotQ8_0 }},
	{"Q4_0", 32, bQ4_0, []int{0}, refQ4_0, "q8_0", func(ks *kernelSet) func(w, a []byte, n int) float32 { return ks.dotQ4_0 }},
	{"Q5_0", 32, bQ5_0, []int{0}, func(b []byte) []float64 { return refQ5(b, false) }, "q8_0", func(ks *kernelSet) func(w, a []byte, n int) float32 { return ks.dotQ5_0 }},
	{"Q4_1", 32, bQ4_1, []int{0, 2}, refQ4_1, "q8_1", func(ks *kernelSet) func(w, a []byte, n int) float32 { return ks.dotQ4_1 }},
	{"Q5_1", 32, bQ5_1, []int{0, 2}, func(b []byte) []float64 { return refQ5(b, true) }, "q8_1", func(ks *kernelSet) func(w, a []byte, n int) float32 { return ks.dotQ5_1 }},
	{"Q2_K", 256, bQ2_K, []int{80, 82}, refQ2_K, "q8_K", func(ks *kernelSet) func(w, a []byte, n int) float32 { return ks.dotQ2_K }},
	{"Q3_K", 256, bQ3_K, []int{108}, refQ3_K, "q8_K", func(ks *kernelSet) func(w, a []byte, n int) float32 { return ks.dotQ3_K }},
	{"Q4_K", 256, bQ4_K, []int{0, 2}, func(b []byte) []float64 { return refQ45_K(b, false) }, "q8_K", func(ks *kernelSet) func(w, a []byte, n int) float32 { return ks.dotQ4_K }},
	{"Q5_K", 256, bQ5_K, []int{0, 2}, func(b []byte) []float64 { return refQ45_K(b, true) }, "q8_K", func(ks *kernelSet) func(w, a []byte, n int) float32 { return ks.dotQ5_K }},
	{"Q6_K", 256, bQ6_K, []int{208}, refQ6_K, "q8_K", func(ks *kernelSet) func(w, a []byte, n int) float32 { return ks.dotQ6_K }},
}

// randWeights fills nb blocks with random bytes and then writes valid,
// moderate fp16 scales at the format's scale offsets.
func randWeights(r *rand.Rand, f quantFormat, nb int) []byte {
	w := make([]byte, nb*f.blockBytes)
	for i := range w {
		w[i] = byte(r.Uint32())
	}
	for b := range nb {
		for _, off := range f.halves {
			v := float32(0.001 + 0.05*r.Float64())
			binary.LittleEndian.PutUint16(w[b*f.blockBytes+off:], float16.Fromfloat32(v).Bits())
		}
	}
	return w
}

func quantizeAct(act string, x []float32) (q []byte, deq []float64) {
	switch act {
	case "q8_0":
		q = make([]byte, len(x)/32*bQ8_0)
		QuantizeQ8_0(q, x)
		for b := 0; b < len(q); b += bQ8_0 {
			deq = append(deq, refQ8_0(q[b:])...)
		}
	case "q8_1":
		q = make([]byte, len(x)/32*bQ8_1)
		QuantizeQ8_1(q, x)
		for b := 0; b < len(q); b += bQ8_1 {
			deq = append(deq, refQ8_1(q[b:])...)
		}
	default:
		q = make([]byte, len(x)/256*bQ8_K)
		QuantizeQ8_K(q, x)
		for b := 0; b < len(q); b += bQ8_K {
			deq = append(deq, refQ8_K(q[b:])...)
		}
	}
	return q, deq
}

// refDot dequantizes nb blocks of w and the activation a to float64 and
// returns their dot product and the sum of the absolute products (the scale
// for tolerances). For Q8_1 activations the min term uses the stored
// s = fp16(d*sum(q)), as ggml does, instead of the exact sum.
func refDot(f quantFormat, w, a []byte, nb int) (want, scale float64) {
	actBytes := map[string]int{"q8_0": bQ8_0, "q8_1": bQ8_1, "q8_K": bQ8_K}[f.act]
	actDeq := map[string]func([]byte) []float64{"q8_0": refQ8_0, "q8_1": refQ8_1, "q8_K": refQ8_K}[f.act]
	for b := range nb {
		wd := f.deq(w[b*f.blockBytes : (b+1)*f.blockBytes])
		ad := actDeq(a[b*actBytes : (b+1)*actBytes])
		var exact float64
		for i := range wd {
			want += wd[i] * ad[i]
			scale += math.Abs(wd[i] * ad[i])
			exact += ad[i]
		}
		if f.act == "q8_1" {
			m, s := h(w[b*f.blockBytes+2:]), h(a[b*actBytes+2:])
			want += m*s - m*exact
			scale += math.Abs(m * s)
		}
	}
	return want, scale
}

// TestQuantDots checks every quantized dot product of every implementation
// against dequantizing both operands to float64 and taking a plain dot.
func TestQuantDots(t *testing.T) {
	r := newRand(t)
	for _, f := range quantFormats {
		for _, nb := range []int{0, 1, 2, 3, 7, 28} {
			n := nb * f.blockElems
			w := randWeights(r, f, nb)
			a, _ := quantizeAct(f.act, randF32(r, n))
			want, scale := refDot(f, w, a, nb)
			for _, ks := range impls() {
				got := f.dot(ks)(offsetBytes(w), offsetBytes(a), n)
				if !near(float64(got), want, scale, 2e-6) {
					t.Errorf("%s %s n=%d: got %.9g want %.9g (scale %g)", ks.name, f.name, n, got, want, scale)
				}
			}
		}
	}
}

// TestQuantDotsIgnoreTrailingBytes checks that extra bytes after the n
// elements are not read into the result.
func TestQuantDotsIgnoreTrailingBytes(t *testing.T) {
	r := newRand(t)
	for _, f := range quantFormats {
		w := randWeights(r, f, 4)
		a, _ := quantizeAct(f.act, randF32(r, 4*f.blockElems))
		for _, ks := range impls() {
			full := f.dot(ks)(w, a, 4*f.blockElems)
			part := f.dot(ks)(w, a, 3*f.blockElems)
			head := f.dot(ks)(w[:3*f.blockBytes], a[:len(a)*3/4], 3*f.blockElems)
			if part != head || (full == part && full != 0) {
				t.Errorf("%s %s: prefix dot depends on trailing blocks (full %g part %g head %g)", ks.name, f.name, full, part, head)
			}
		}
	}
}

// q8Block hand-computes one Q8_0/Q8_1 block the way ggml's AVX2 quantizer
// does: d = amax/127, multiplier 127/amax, round half to even.
func q8Block(x []float32) (d float32, q []int8) {
	var amax float32
	for _, v := range x {
		amax = float32(math.Max(float64(amax), math.Abs(float64(v))))
	}
	d = amax / 127
	id := float32(0)
	if amax != 0 {
		id = 127 / amax
	}
	for _, v := range x {
		q = append(q, int8(math.RoundToEven(float64(v*id))))
	}
	return d, q
}

func TestQuantizeQ8_0(t *testing.T) {
	// Hand-checked block: amax 127 makes the multiplier exactly 1, so the
	// values show the tie rule directly (0.5→0, 1.5→2, 2.5→2, -2.5→-2).
	x := make([]float32, 32)
	copy(x, []float32{127, 0.5, 1.5, 2.5, -2.5, -127, 3.49, -0.51})
	wantQ := []int8{127, 0, 2, 2, -2, -127, 3, -1}
	r := newRand(t)
	for _, ks := range impls() {
		dst := make([]byte, bQ8_0)
		ks.quantizeQ8_0(dst, x)
		if got := binary.LittleEndian.Uint16(dst); got != 0x3C00 {
			t.Errorf("%s: d bits %#04x, want 0x3c00 (1.0)", ks.name, got)
		}
		for i, w := range wantQ {
			if int8(dst[2+i]) != w {
				t.Errorf("%s: q[%d] = %d, want %d", ks.name, i, int8(dst[2+i]), w)
			}
		}
		for _, n := range []int{0, 32, 64, 96, 896} {
			x := offset(randF32(r, n))
			for i := range x {
				x[i] *= float32(1 + 10*(i/32%3))
			}
			if n > 32 {
				clear(x[32:64]) // an all-zero block: d = 0 and every q = 0
			}
			dst := offsetBytes(make([]byte, n/32*bQ8_0))
			ks.quantizeQ8_0(dst, x)
			for b := range n / 32 {
				d, q := q8Block(x[b*32 : b*32+32])
				blk := dst[b*bQ8_0:]
				if got, want := binary.LittleEndian.Uint16(blk), float16.Fromfloat32(d).Bits(); got != want {
					t.Fatalf("%s n=%d block %d: d %#04x want %#04x", ks.name, n, b, got, want)
				}
				for j := range 32 {
					if int8(blk[2+j]) != q[j] {
						t.Fatalf("%s n=%d block %d q[%d]: %d want %d", ks.name, n, b, j, int8(blk[2+j]), q[j])
					}
				}
			}
		}
	}
}

func TestQuantizeQ8_1(t *testing.T) {
	r := newRand(t)
	for _, ks := range impls() {
		for _, n := range []int{32, 64, 320} {
			x := offset(randF32(r, n))
			dst := make([]byte, n/32*bQ8_1)
			ks.quantizeQ8_1(dst, x)
			for b := range n / 32 {
				d, q := q8Block(x[b*32 : b*32+32])
				blk := dst[b*bQ8_1:]
				sum := 0
				for j := range 32 {
					sum += int(q[j])
					if int8(blk[4+j]) != q[j] {
						t.Fatalf("%s block %d q[%d]: %d want %d", ks.name, b, j, int8(blk[4+j]), q[j])
					}
				}
				if got, want := binary.LittleEndian.Uint16(blk), float16.Fromfloat32(d).Bits(); got != want {
					t.Fatalf("%s block %d: d %#04x want %#04x", ks.name, b, got, want)
				}
				if got, want := binary.LittleEndian.Uint16(blk[2:]), float16.Fromfloat32(float32(sum)*d).Bits(); got != want {
					t.Fatalf("%s block %d: s %#04x want %#04x", ks.name, b, got, want)
				}
			}
		}
	}
}

// q8KBlock hand-computes ggml's quantize_row_q8_K_ref for one block.
func q8KBlock(x []float32) (d float32, q []int8, bsums []int16) {
	var amax, mx float32
	for _, v := range x {
		if a := float32(math.Abs(float64(v))); a > amax {
			amax, mx = a, v
		}
	}
	q, bsums = make([]int8, 256), make([]int16, 16)
	if amax == 0 {
		return 0, q, bsums
	}
	iscale := -127 / mx
	for j, v := range x {
		q[j] = int8(min(127, math.RoundToEven(float64(iscale*v))))
		bsums[j/16] += int16(q[j])
	}
	return 1 / iscale, q, bsums
}

func TestQuantizeQ8_K(t *testing.T) {
	// Hand-checked block: the largest magnitude is -127, so iscale = 1 and
	// d = 1; a positive maximum flips every sign (second case).
	x := make([]float32, 256)
	copy(x, []float32{-127, 0.5, 1.5, 2.5, -2.5, 100.4})
	neg := make([]float32, 256)
	for i, v := range x {
		neg[i] = -2 * v // max is now +254: iscale = -0.5, d = -2
	}
	r := newRand(t)
	for _, ks := range impls() {
		for _, c := range []struct {
			x     []float32
			d     float32
			q     []int8
			bsum0 int16
		}{
			{x, 1, []int8{-127, 0, 2, 2, -2, 100}, -127 + 2 + 2 - 2 + 100},
			{neg, -2, []int8{-127, 0, 2, 2, -2, 100}, -127 + 2 + 2 - 2 + 100},
		} {
			dst := make([]byte, bQ8_K)
			ks.quantizeQ8_K(dst, c.x)
			if d := math.Float32frombits(binary.LittleEndian.Uint32(dst)); d != c.d {
				t.Errorf("%s: d = %g, want %g", ks.name, d, c.d)
			}
			for i, w := range c.q {
				if int8(dst[4+i]) != w {
					t.Errorf("%s: q[%d] = %d, want %d", ks.name, i, int8(dst[4+i]), w)
				}
			}
			if b := int16(binary.LittleEndian.Uint16(dst[260:])); b != c.bsum0 {
				t.Errorf("%s: bsums[0] = %d, want %d", ks.name, b, c.bsum0)
			}
		}
		for _, n := range []int{0, 256, 512, 1024} {
			x := offset(randF32(r, n))
			if n >= 512 {
				clear(x[256:512])
			}
			dst := offsetBytes(make([]byte, n/256*bQ8_K))
			for i := range dst {
				dst[i] = 0xAA // the all-zero block must be fully written
			}
			ks.quantizeQ8_K(dst, x)
			for b := range n / 256 {
				d, q, bs := q8KBlock(x[b*256 : b*256+256])
				blk := dst[b*bQ8_K:]
				if got := math.Float32frombits(binary.LittleEndian.Uint32(blk)); got != d {
					t.Fatalf("%s n=%d block %d: d %g want %g", ks.name, n, b, got, d)
				}
				for j := range 256 {
					if int8(blk[4+j]) != q[j] {
						t.Fatalf("%s n=%d block %d q[%d]: %d want %d", ks.name, n, b, j, int8(blk[4+j]), q[j])
					}
				}
				for g := range 16 {
					if got := int16(binary.LittleEndian.Uint16(blk[260+2*g:])); got != bs[g] {
						t.Fatalf("%s n=%d block %d bsums[%d]: %d want %d", ks.name, n, b, g, got, bs[g])
					}
				}
			}
		}
	}
}

// TestNearestInt pins ggml's nearest_int trick to round-half-even.
func TestNearestInt(t *testing.T) {
	for _, c := range []struct {
		in   float32
		want int32
	}{{0.5, 0}, {1.5, 2}, {2.5, 2}, {-0.5, 0}, {-1.5, -2}, {126.5, 126}, {-127.2, -127}, {3.4999998, 3}} {
		if got := nearestInt(c.in); got != c.want {
			t.Errorf("nearestInt(%v) = %d, want %d", c.in, got, c.want)
		}
	}
}

// Quantize a weight row and an activation to Q8_0 and take their dot product.
func Example_quantizedDot() {
	x := make([]float32, 64)
	w := make([]float32, 64)
	for i := range x {
		x[i] = float32(i%7) - 3
		w[i] = 0.5
	}
	qx := make([]byte, 2*34)
	qw := make([]byte, 2*34)
	QuantizeQ8_0(qx, x)
	QuantizeQ8_0(qw, w)
	fmt.Printf("%.3f (exact %.3f)\n", DotQ8_0(qw, qx, 64), DotF32(w, x))
	// Output: -1.500 (exact -1.500)
}
