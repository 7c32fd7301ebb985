package weights

// Quantizers that write ggml blocks, for building synthetic GGUF files.
//
// Each block quantizer follows ggml's reference quantizer for the type
// (quantize_row_*_ref in ggml-quants.c, the code llama-quantize runs when no
// importance matrix is given), including its search helpers for the K-quants,
// so that the bytes agree with llama-quantize's. As in dequant.go, products
// that feed a sum are wrapped in float32(...) to keep the C rounding order
// (no fused multiply-add).

import (
	"encoding/binary"
	"fmt"
	"math"

	"github.com/x448/float16"
)

// Quantize encodes src into dst as type t. Supported types: F32, F16, BF16,
// Q4_0, Q4_1, Q5_0, Q5_1, Q8_0, Q8_1, Q2_K, Q3_K, Q4_K, Q5_K, Q6_K and Q8_K.
// len(src) must be a whole number of blocks and dst exactly the byte size of
// len(src) elements. F16 and BF16 round to nearest even; the block types
// reject NaN and infinite inputs, which ggml would encode as garbage, and
// finite values that would decode as Inf or NaN (F16 beyond ±65504, a block
// whose half-precision scale overflows) are errors rather than silently
// infinite weights.
func Quantize(dst []byte, src []float32, t DType) error {
	q, ok := quantizers(t)
	if !ok {
		return fmt.Errorf("quantize: no encoder for dtype %v", t)
	}
	want, err := t.RowBytes(len(src))
	if err != nil {
		return fmt.Errorf("quantize: %w", err)
	}
	if len(dst) != want {
		return fmt.Errorf("quantize %v: %d elements need %d bytes, got %d", t, len(src), want, len(dst))
	}
	var amax float32
	if t.Quantized() {
		for i, v := range src {
			if math.IsNaN(float64(v)) || math.IsInf(float64(v), 0) {
				return fmt.Errorf("quantize %v: element %d is %v", t, i, v)
			}
			amax = max(amax, abs32(v))
		}
	} else if t == F16 {
		for i, v := range src {
			// 65520 and above round to +Inf in half precision.
			if a := abs32(v); a >= 65520 && !math.IsInf(float64(a), 0) && !math.IsNaN(float64(a)) {
				return fmt.Errorf("quantize F16: element %d (%g) overflows half precision (largest 65504)", i, v)
			}
		}
	}
	q(dst, src)
	// Block types keep half-precision scales; values beyond the half
	// range can make one infinite, and the block then decodes to Inf or
	// NaN. That is rare enough to check by decoding, only when it can
	// happen.
	if amax > 65504 {
		out := make([]float32, len(src))
		if err := Dequantize(out, dst, t); err != nil {
			return fmt.Errorf("quantize %v: %w", t, err)
		}
		for i, x := range out {
			if math.IsNaN(float64(x)) || math.IsInf(float64(x), 0) {
				return fmt.Errorf("quantize %v: element %d (%g) overflows the block's half-precision scale", t, i, src[i])
			}
		}
	}
	return nil
}

// Quantizable reports whether Quantize can encode type t.
func Quantizable(t DType) bool { _, ok := quantizers(t); return ok }

func quantizers(t DType) (func(dst []byte, src []float32), bool) {
	switch t {
	case F32:
		return quantF32, true
	case F16:
		return quantF16, true
	case BF16:
		return quantBF16, true
	case Q4_0:
		return quantQ4_0, true
	case Q4_1:
		return quantQ4_1, true
	case Q5_0:
		return quantQ5_0, true
	case Q5_1:
		return quantQ5_1, true
	case Q8_0:
		return quantQ8_0, true
	case Q8_1:
		return quantQ8_1, true
	case Q2_K:
		return quantQ2K, true
	case Q3_K:
		return quantQ3K, true
	case Q4_K:
		return quantQ4K, true
	case Q5_K:
		return quantQ5K, true
	case Q6_K:
		return quantQ6K, true
	case Q8_K:
		return quantQ8K, true
	}
	return nil, false
}

// Float32ToHalf converts a float32 to IEEE 754 binary16 bits, rounding to
// nearest even (as ggml's GGML_FP32_TO_FP16 and F16C's _cvtss_sh do).
func Float32ToHalf(f float32) uint16 { return float16.Fromfloat32(f).Bits() }

// Float32ToBF16 converts a float32 to bfloat16 bits, rounding to nearest even
// and keeping NaNs quiet, as ggml's ggml_compute_fp32_to_bf16 does.
func Float32ToBF16(f float32) uint16 {
	u := math.Float32bits(f)
	if u&0x7fffffff > 0x7f800000 {
		return uint16(u>>16) | 0x40
	}
	return uint16((u + 0x7fff + (u >> 16 & 1)) >> 16)
}

func putHalf(b []byte, f float32) { binary.LittleEndian.PutUint16(b, Float32ToHalf(f)) }

// fp16Round returns f rounded to binary16 and back, the value a reader of a
// stored half scale sees.
func fp16Round(f float32) float32 { return HalfToFloat32(Float32ToHalf(f)) }

func quantF32(dst []byte, src []float32) {
	for i, v := range src {
		binary.LittleEndian.PutUint32(dst[4*i:], math.Float32bits(v))
	}
}

func quantF16(dst []byte, src []float32) {
	for i, v := range src {
		binary.LittleEndian.PutUint16(dst[2*i:], Float32ToHalf(v))
	}
}

func quantBF16(dst []byte, src []float32) {
	for i, v := range src {
		binary.LittleEndian.PutUint16(dst[2*i:], Float32ToBF16(v))
	}
}

func abs32(f float32) float32 { return math.Float32frombits(math.Float32bits(f) &^ (1 << 31)) }

func sqrt32(f float32) float32 { return float32(math.Sqrt(float64(f))) }

// nearestInt rounds to the nearest integer, ties to even, with ggml's trick:
// adding 1.5*2^23 leaves the rounded integer in the low mantissa bits. Valid
// for |f| <= 2^22; it is copied rather than replaced by math.RoundToEven so
// that out-of-range values wrap the same way.
func nearestInt(f float32) int32 {
	v := float32(f) + 12582912
	return int32(math.Float32bits(v)&0x7fffff) - 0x400000
}

func clampInt(v, lo, hi int32) int32 { return max(lo, min(hi, v)) }

// absMaxSigned returns the element of largest magnitude (the first one on
// ties), with its sign, and that magnitude.
func absMaxSigned(x []float32) (maxv, amax float32) {
	for _, v := range x {
		if a := abs32(v); a > amax {
			amax, maxv = a, v
		}
	}
	return maxv, amax
}

// ---- 32-element block types ------------------------------------------------

// quantQ4_0: scale d = m/-8 where m is the signed value of largest magnitude,
// so that value maps to exactly -8 and the range [-8, 7] is used asymmetrically.
func quantQ4_0(dst []byte, src []float32) {
	for len(src) >= QK {
		x := src[:QK:QK]
		b := dst[:q4_0Bytes:q4_0Bytes]
		maxv, _ := absMaxSigned(x)
		d := maxv / -8
		var id float32
		if d != 0 {
			id = 1 / d
		}
		putHalf(b, d)
		for j := 0; j < QK/2; j++ {
			x0 := float32(x[j]*id) + 8.5
			x1 := float32(x[j+QK/2]*id) + 8.5
			b[2+j] = uint8(min(15, int8(x0))) | uint8(min(15, int8(x1)))<<4
		}
		src, dst = src[QK:], dst[q4_0Bytes:]
	}
}

// quantQ4_1: affine, d = (max-min)/15, m = min.
func quantQ4_1(dst []byte, src []float32) {
	for len(src) >= QK {
		x := src[:QK:QK]
		b := dst[:q4_1Bytes:q4_1Bytes]
		lo, hi := float32(math.MaxFloat32), float32(-math.MaxFloat32)
		for _, v := range x {
			lo, hi = min(lo, v), max(hi, v)
		}
		d := (hi - lo) / 15
		var id float32
		if d != 0 {
			id = 1 / d
		}
		putHalf(b, d)
		putHalf(b[2:], lo)
		for j := 0; j < QK/2; j++ {
			x0 := float32((x[j]-lo)*id) + 0.5
			x1 := float32((x[j+QK/2]-lo)*id) + 0.5
			b[4+j] = uint8(min(15, int8(x0))) | uint8(min(15, int8(x1)))<<4
		}
		src, dst = src[QK:], dst[q4_1Bytes:]
	}
}

// quantQ5_0: like Q4_0 with 5 bits, d = m/-16; the fifth bits go to qh.
func quantQ5_0(dst []byte, src []float32) {
	for len(src) >= QK {
		x := src[:QK:QK]
		b := dst[:q5_0Bytes:q5_0Bytes]
		maxv, _ := absMaxSigned(x)
		d := maxv / -16
		var id float32
		if d != 0 {
			id = 1 / d
		}
		putHalf(b, d)
		var qh uint32
		for j := 0; j < QK/2; j++ {
			x0 := uint8(min(31, int8(float32(x[j]*id)+16.5)))
			x1 := uint8(min(31, int8(float32(x[j+QK/2]*id)+16.5)))
			b[6+j] = x0&0xf | (x1&0xf)<<4
			qh |= uint32(x0>>4) << uint(j)
			qh |= uint32(x1>>4) << uint(j+QK/2)
		}
		binary.LittleEndian.PutUint32(b[2:], qh)
		src, dst = src[QK:], dst[q5_0Bytes:]
	}
}

// quantQ5_1: like Q4_1 with 5 bits.
func quantQ5_1(dst []byte, src []float32) {
	for len(src) >= QK {
		x := src[:QK:QK]
		b := dst[:q5_1Bytes:q5_1Bytes]
		lo, hi := float32(math.MaxFloat32), float32(-math.MaxFloat32)
		for _, v := range x {
			lo, hi = min(lo, v), max(hi, v)
		}
		d := (hi - lo) / 31
		var id float32
		if d != 0 {
			id = 1 / d
		}
		putHalf(b, d)
		putHalf(b[2:], lo)
		var qh uint32
		for j := 0; j < QK/2; j++ {
			x0 := uint8(float32((x[j]-lo)*id) + 0.5)
			x1 := uint8(float32((x[j+QK/2]-lo)*id) + 0.5)
			b[8+j] = x0&0xf | (x1&0xf)<<4
			qh |= uint32(x0>>4&1) << uint(j)
			qh |= uint32(x1>>4&1) << uint(j+QK/2)
		}
		binary.LittleEndian.PutUint32(b[4:], qh)
		src, dst = src[QK:], dst[q5_1Bytes:]
	}
}

// q8Block fills qs with round-half-away(x/d), d = amax/127, and returns d.
func q8Block(qs []byte, x []float32) float32 {
	var amax float32
	for _, v := range x {
		amax = max(amax, abs32(v))
	}
	d := amax / 127
	var id float32
	if d != 0 {
		id = 1 / d
	}
	for j, v := range x {
		qs[j] = byte(int8(math.Round(float64(v * id))))
	}
	return d
}

func quantQ8_0(dst []byte, src []float32) {
	for len(src) >= QK {
		b := dst[:q8_0Bytes:q8_0Bytes]
		d := q8Block(b[2:2+QK], src[:QK])
		putHalf(b, d)
		src, dst = src[QK:], dst[q8_0Bytes:]
	}
}

// quantQ8_1 also stores s = d * (sum of the quants), rounded to half.
func quantQ8_1(dst []byte, src []float32) {
	for len(src) >= QK {
		b := dst[:q8_1Bytes:q8_1Bytes]
		d := q8Block(b[4:4+QK], src[:QK])
		var sum int32
		for _, q := range b[4 : 4+QK] {
			sum += int32(int8(q))
		}
		putHalf(b, d)
		putHalf(b[2:], float32(sum)*d)
		src, dst = src[QK:], dst[q8_1Bytes:]
	}
}

// ---- K-quant search helpers (ggml's make_*_quants) -------------------------

// groupMaxEps is ggml's GROUP_MAX_EPS: groups whose largest magnitude is
// below it count as all zero.
const groupMaxEps = 1e-15

// makeQXQuants is ggml's make_qx_quants with rmse_type 1 and no importance
// weights (the only form the reference quantizers use): symmetric quants in
// [-nmax, nmax-1] stored offset by nmax in L, weighted by x², trying 19 scales
// around nmax/max and keeping the one with the best weighted fit. It returns
// the scale.
func makeQXQuants(nmax int32, x []float32, L []int8) float32 {
	maxv, amax := absMaxSigned(x)
	if amax < groupMaxEps {
		for i := range x {
			L[i] = 0
		}
		return 0
	}
	fnmax := float32(nmax)
	iscale := -fnmax / maxv
	var sumlx, suml2 float32
	for i, v := range x {
		l := clampInt(nearestInt(iscale*v), -nmax, nmax-1)
		L[i] = int8(l + nmax)
		w := v * v
		fl := float32(l)
		sumlx += float32(float32(w*v) * fl)
		suml2 += float32(float32(w*fl) * fl)
	}
	var scale float32
	if suml2 != 0 {
		scale = sumlx / suml2
	}
	best := scale * sumlx
	for is := int32(-9); is <= 9; is++ {
		if is == 0 {
			continue
		}
		iscale = -(fnmax + float32(0.1*float32(is))) / maxv
		sumlx, suml2 = 0, 0
		for _, v := range x {
			l := clampInt(nearestInt(iscale*v), -nmax, nmax-1)
			w := v * v
			fl := float32(l)
			sumlx += float32(float32(w*v) * fl)
			suml2 += float32(float32(w*fl) * fl)
		}
		if suml2 > 0 && float32(sumlx*sumlx) > float32(best*suml2) {
			for i, v := range x {
				L[i] = int8(nmax + clampInt(nearestInt(iscale*v), -nmax, nmax-1))
			}
			scale = sumlx / suml2
			best = scale * sumlx
		}
	}
	return scale
}

// makeQ3Quants is ggml's make_q3_quants with do_rmse: start from nmax/max and
// move single quants while that improves the x²-weighted fit (up to 5 sweeps).
// L gets quants offset by nmax; it returns the scale.
func makeQ3Quants(nmax int32, x []float32, L []int8) float32 {
	maxv, amax := absMaxSigned(x)
	if amax < groupMaxEps {
		for i := range x {
			L[i] = 0
		}
		return 0
	}
	iscale := -float32(nmax) / maxv
	var sumlx, suml2 float32
	for i, v := range x {
		l := clampInt(nearestInt(iscale*v), -nmax, nmax-1)
		L[i] = int8(l)
		w := v * v
		sumlx += float32(float32(w*v) * float32(l))
		suml2 += float32(float32(w*float32(l)) * float32(l))
	}
	for try := 0; try < 5; try++ {
		changed := 0
		for i, v := range x {
			w := v * v
			li := float32(L[i])
			slx := sumlx - float32(float32(w*v)*li)
			if slx > 0 {
				sl2 := suml2 - float32(float32(w*li)*li)
				nl := clampInt(nearestInt(float32(v*sl2)/slx), -nmax, nmax-1)
				if nl != int32(L[i]) {
					fl := float32(nl)
					slx += float32(float32(w*v) * fl)
					sl2 += float32(float32(w*fl) * fl)
					if sl2 > 0 && float32(float32(slx*slx)*suml2) > float32(float32(sumlx*sumlx)*sl2) {
						L[i] = int8(nl)
						sumlx, suml2 = slx, sl2
						changed++
					}
				}
			}
		}
		if changed == 0 {
			break
		}
	}
	for i := range x {
		L[i] += int8(nmax)
	}
	if suml2 > 0 {
		return sumlx / suml2
	}
	return 0
}

// makeQKX2Quants is ggml's make_qkx2_quants: affine quants q in [0, nmax]
// with x ≈ scale*q - theMin (theMin >= 0), found by trying nstep+1 scales
// from (nmax+rmin)/(max-min) upward in steps of rdelta and solving the
// weighted least-squares scale and min for each rounding. The error measure
// is the weighted absolute (useMad) or squared difference. laux is scratch.
func makeQKX2Quants(nmax int32, x, weights []float32, L, laux []uint8,
	rmin, rdelta float32, nstep int, useMad bool) (scale, theMin float32) {
	n := len(x)
	lo, hi := x[0], x[0]
	sumW := weights[0]
	sumX := float32(sumW * x[0]) // unfusable with the first add below
	for i := 1; i < n; i++ {
		lo, hi = min(lo, x[i]), max(hi, x[i])
		w := weights[i]
		sumW += w
		sumX += float32(w * x[i])
	}
	if lo > 0 {
		lo = 0
	}
	if hi == lo {
		for i := range x {
			L[i] = 0
		}
		return 0, -lo
	}
	errOf := func(diff float32) float32 {
		if useMad {
			return abs32(diff)
		}
		return diff * diff
	}
	iscale := float32(nmax) / (hi - lo)
	scale = 1 / iscale
	var bestErr float32
	for i, v := range x {
		l := clampInt(nearestInt(iscale*float32(v-lo)), 0, nmax)
		L[i] = uint8(l)
		diff := float32(scale*float32(l)) + lo - v
		bestErr += float32(weights[i] * errOf(diff))
	}
	if nstep < 1 {
		return scale, -lo
	}
	for is := 0; is <= nstep; is++ {
		iscale = (float32(rmin+float32(rdelta*float32(is))) + float32(nmax)) / (hi - lo)
		var sumL, sumL2, sumXL float32
		for i, v := range x {
			l := clampInt(nearestInt(iscale*float32(v-lo)), 0, nmax)
			laux[i] = uint8(l)
			w := weights[i]
			fl := float32(l)
			// Rounded here, so the compiler cannot fuse it into the sums
			// below (arm64 would, and its bits then differ from ggml's).
			wl := float32(w * fl)
			sumL += wl
			sumL2 += float32(wl * fl)
			sumXL += float32(wl * v)
		}
		D := float32(sumW*sumL2) - float32(sumL*sumL)
		if D > 0 {
			thisScale := (float32(sumW*sumXL) - float32(sumX*sumL)) / D
			thisMin := (float32(sumL2*sumX) - float32(sumL*sumXL)) / D
			if thisMin > 0 {
				thisMin = 0
				thisScale = sumXL / sumL2
			}
			var curErr float32
			for i, v := range x {
				diff := float32(thisScale*float32(laux[i])) + thisMin - v
				curErr += float32(weights[i] * errOf(diff))
			}
			if curErr < bestErr {
				copy(L[:n], laux[:n])
				bestErr = curErr
				scale, lo = thisScale, thisMin
			}
		}
	}
	return scale, -lo
}

// pack2Bit stores 256 2-bit values as ggml's Q2_K/Q3_K qs: byte 32*h+l holds
// elements 128*h+l, +32, +64, +96 at shifts 0, 2, 4, 6.
func pack2Bit(qs []byte, L []uint8) {
	for h := 0; h < 2; h++ {
		for l := 0; l < 32; l++ {
			j := 128*h + l
			qs[32*h+l] = L[j] | L[j+32]<<2 | L[j+64]<<4 | L[j+96]<<6
		}
	}
}

// ---- K-quant block types ----------------------------------------------------

func quantQ2K(dst []byte, src []float32) {
	var (
		L       [QKK]uint8
		laux    [16]uint8
		weights [16]float32
		mins    [QKK / 16]float32
		scales  [QKK / 16]float32
	)
	const q4scale = 15
	for len(src) >= QKK {
		x := src[:QKK:QKK]
		b := dst[:q2KBytes:q2KBytes]
		sc := b[:16]
		var maxScale, maxMin float32
		for j := 0; j < QKK/16; j++ {
			xs := x[16*j : 16*j+16]
			for l, v := range xs {
				weights[l] = abs32(v)
			}
			scales[j], mins[j] = makeQKX2Quants(3, xs, weights[:], L[16*j:16*j+16], laux[:], -0.5, 0.1, 15, true)
			maxScale = max(maxScale, scales[j])
			maxMin = max(maxMin, mins[j])
		}
		if maxScale > 0 {
			iscale := q4scale / maxScale
			for j := range scales {
				sc[j] = uint8(nearestInt(iscale * scales[j]))
			}
			putHalf(b[80:], maxScale/q4scale)
		} else {
			clear(sc)
			putHalf(b[80:], 0)
		}
		if maxMin > 0 {
			iscale := q4scale / maxMin
			for j := range mins {
				sc[j] |= uint8(nearestInt(iscale*mins[j])) << 4
			}
			putHalf(b[82:], maxMin/q4scale)
		} else {
			putHalf(b[82:], 0)
		}
		d, dmin := half(b[80:]), half(b[82:])
		for j := 0; j < QKK/16; j++ {
			dl := d * float32(sc[j]&0xf)
			if dl == 0 {
				continue
			}
			ml := float32(dmin * float32(sc[j]>>4)) // unfusable with the add below
			for i, v := range x[16*j : 16*j+16] {
				L[16*j+i] = uint8(clampInt(nearestInt(float32(v+ml)/dl), 0, 3))
			}
		}
		pack2Bit(b[16:80], L[:])
		src, dst = src[QKK:], dst[q2KBytes:]
	}
}

func quantQ3K(dst []byte, src []float32) {
	var (
		L      [QKK]int8
		scales [QKK / 16]float32
		uL     [QKK]uint8
	)
	for len(src) >= QKK {
		x := src[:QKK:QKK]
		b := dst[:q3KBytes:q3KBytes]
		hmask, packed := b[:32], b[96:108]
		var maxScale, amax float32
		for j := 0; j < QKK/16; j++ {
			scales[j] = makeQ3Quants(4, x[16*j:16*j+16], L[16*j:16*j+16])
			if a := abs32(scales[j]); a > amax {
				amax, maxScale = a, scales[j]
			}
		}
		clear(packed)
		if maxScale != 0 {
			iscale := -32 / maxScale
			for j := 0; j < QKK/16; j++ {
				l := uint8(clampInt(int32(int8(nearestInt(iscale*scales[j]))), -32, 31) + 32)
				if j < 8 {
					packed[j] = l & 0xf
				} else {
					packed[j-8] |= (l & 0xf) << 4
				}
				packed[8+j%4] |= (l >> 4) << uint(2*(j/4))
			}
			putHalf(b[108:], 1/iscale)
		} else {
			putHalf(b[108:], 0)
		}
		var sc [16]int32
		q3KScales(packed, &sc)
		dAll := half(b[108:])
		for j := 0; j < QKK/16; j++ {
			d := dAll * float32(sc[j])
			if d == 0 {
				continue
			}
			for i, v := range x[16*j : 16*j+16] {
				L[16*j+i] = int8(clampInt(nearestInt(v/d), -4, 3) + 4)
			}
		}
		clear(hmask)
		for j := range L {
			l := uint8(L[j])
			if l > 3 {
				hmask[j%32] |= 1 << uint(j/32)
				l -= 4
			}
			uL[j] = l
		}
		pack2Bit(b[32:96], uL[:])
		src, dst = src[QKK:], dst[q3KBytes:]
	}
}

// packKScales stores eight 6-bit scales and mins in the 12-byte layout that
// kScaleMin reads.
func packKScales(s []byte, ls, lm *[8]uint8) {
	s = s[:12]
	for j := 0; j < 8; j++ {
		if j < 4 {
			s[j] = ls[j]
			s[j+4] = lm[j]
		} else {
			s[j+4] = ls[j]&0xf | (lm[j]&0xf)<<4
			s[j-4] |= (ls[j] >> 4) << 6
			s[j] |= (lm[j] >> 4) << 6
		}
	}
}

// quantKAffine is the part of quantize_row_q4_K_ref and quantize_row_q5_K_ref
// they share: per sub-block of 32, an affine fit with make_qkx2_quants
// weighted by rms+|x|; the scales and mins then quantized to 6 bits against
// the largest of each; finally every element re-rounded against the stored
// scale and min. It writes d, dmin and the scales into b and the quants
// (0..nmax) into L.
func quantKAffine(b []byte, x []float32, L *[QKK]uint8, nmax int32, rmin, rdelta float32, nstep int) {
	var (
		laux    [32]uint8
		weights [32]float32
		mins    [8]float32
		scales  [8]float32
		ls, lm  [8]uint8
	)
	var maxScale, maxMin float32
	for j := 0; j < 8; j++ {
		xs := x[32*j : 32*j+32]
		var sumX2 float32
		for _, v := range xs {
			sumX2 += float32(v * v)
		}
		avX := sqrt32(sumX2 / 32)
		for l, v := range xs {
			weights[l] = avX + abs32(v)
		}
		scales[j], mins[j] = makeQKX2Quants(nmax, xs, weights[:], L[32*j:32*j+32], laux[:], rmin, rdelta, nstep, false)
		maxScale = max(maxScale, scales[j])
		maxMin = max(maxMin, mins[j])
	}
	var invScale, invMin float32
	if maxScale > 0 {
		invScale = 63 / maxScale
	}
	if maxMin > 0 {
		invMin = 63 / maxMin
	}
	for j := 0; j < 8; j++ {
		ls[j] = min(63, uint8(nearestInt(invScale*scales[j])))
		lm[j] = min(63, uint8(nearestInt(invMin*mins[j])))
	}
	packKScales(b[4:16], &ls, &lm)
	putHalf(b, maxScale/63)
	putHalf(b[2:], maxMin/63)
	d, dmin := half(b), half(b[2:])
	for j := 0; j < 8; j++ {
		sc, m := kScaleMin(j, b[4:16])
		dj := d * float32(sc)
		if dj == 0 {
			continue
		}
		dm := float32(dmin * float32(m)) // unfusable with the add below
		for i, v := range x[32*j : 32*j+32] {
			L[32*j+i] = uint8(clampInt(nearestInt(float32(v+dm)/dj), 0, nmax))
		}
	}
}

func quantQ4K(dst []byte, src []float32) {
	var L [QKK]uint8
	for len(src) >= QKK {
		b := dst[:q4KBytes:q4KBytes]
		quantKAffine(b, src[:QKK], &L, 15, -1, 0.1, 20)
		qs := b[16:]
		for p := 0; p < 4; p++ {
			for l := 0; l < 32; l++ {
				qs[32*p+l] = L[64*p+l] | L[64*p+32+l]<<4
			}
		}
		src, dst = src[QKK:], dst[q4KBytes:]
	}
}

func quantQ5K(dst []byte, src []float32) {
	var L [QKK]uint8
	for len(src) >= QKK {
		b := dst[:q5KBytes:q5KBytes]
		quantKAffine(b, src[:QKK], &L, 31, -0.5, 0.1, 15)
		qh, ql := b[16:48], b[48:]
		clear(qh)
		for p := 0; p < 4; p++ {
			for l := 0; l < 32; l++ {
				l1, l2 := L[64*p+l], L[64*p+32+l]
				qh[l] |= (l1 >> 4) << uint(2*p)
				qh[l] |= (l2 >> 4) << uint(2*p+1)
				ql[32*p+l] = l1&0xf | (l2&0xf)<<4
			}
		}
		src, dst = src[QKK:], dst[q5KBytes:]
	}
}

func quantQ6K(dst []byte, src []float32) {
	var (
		L      [QKK]int8
		scales [QKK / 16]float32
	)
	for len(src) >= QKK {
		x := src[:QKK:QKK]
		b := dst[:q6KBytes:q6KBytes]
		var maxScale, maxAbs float32
		for j := 0; j < QKK/16; j++ {
			scales[j] = makeQXQuants(32, x[16*j:16*j+16], L[16*j:16*j+16])
			if a := abs32(scales[j]); a > maxAbs {
				maxAbs, maxScale = a, scales[j]
			}
		}
		if maxAbs < groupMaxEps {
			clear(b)
			src, dst = src[QKK:], dst[q6KBytes:]
			continue
		}
		iscale := -128 / maxScale
		putHalf(b[208:], 1/iscale)
		sc := b[192:208]
		for j := range scales {
			sc[j] = byte(int8(min(127, nearestInt(iscale*scales[j]))))
		}
		d := half(b[208:])
		for j := 0; j < QKK/16; j++ {
			dj := d * float32(int8(sc[j]))
			if dj == 0 {
				continue
			}
			for i, v := range x[16*j : 16*j+16] {
				L[16*j+i] = int8(clampInt(nearestInt(v/dj), -32, 31) + 32)
			}
		}
		ql, qh := b[:128], b[128:192]
		for h := 0; h < 2; h++ {
			for l := 0; l < 32; l++ {
				j := 128*h + l
				q1, q2, q3, q4 := uint8(L[j]), uint8(L[j+32]), uint8(L[j+64]), uint8(L[j+96])
				ql[64*h+l] = q1&0xf | (q3&0xf)<<4
				ql[64*h+l+32] = q2&0xf | (q4&0xf)<<4
				qh[32*h+l] = q1>>4 | (q2>>4)<<2 | (q3>>4)<<4 | (q4>>4)<<6
			}
		}
		src, dst = src[QKK:], dst[q6KBytes:]
	}
}

// quantQ8K: f32 scale max/-127 (max the signed value of largest magnitude),
// quants nearest-even and capped at 127, plus the sums of each 16 quants.
func quantQ8K(dst []byte, src []float32) {
	for len(src) >= QKK {
		x := src[:QKK:QKK]
		b := dst[:q8KBytes:q8KBytes]
		maxv, amax := absMaxSigned(x)
		if amax == 0 {
			clear(b)
			src, dst = src[QKK:], dst[q8KBytes:]
			continue
		}
		iscale := -127 / maxv
		qs := b[4 : 4+QKK]
		for j, v := range x {
			qs[j] = byte(int8(min(127, nearestInt(iscale*v))))
		}
		for j := 0; j < QKK/16; j++ {
			var sum int16
			for _, q := range qs[16*j : 16*j+16] {
				sum += int16(int8(q))
			}
			binary.LittleEndian.PutUint16(b[4+QKK+2*j:], uint16(sum))
		}
		binary.LittleEndian.PutUint32(b, math.Float32bits(1/iscale))
		src, dst = src[QKK:], dst[q8KBytes:]
	}
}
