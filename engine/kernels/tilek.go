package kernels

import (
	"encoding/binary"
	"fmt"
	"math"
)

// KFormat names a K-quant weight format, whose rows meet Q8_K activations:
// MatMulQ8K multiplies any of them.
type KFormat uint8

// The weight formats MatMulQ8K accepts.
const (
	KFormatQ2_K KFormat = iota // dotted by DotQ2_K
	KFormatQ3_K                // dotted by DotQ3_K
	KFormatQ4_K                // dotted by DotQ4_K
	KFormatQ5_K                // dotted by DotQ5_K
	KFormatQ6_K                // dotted by DotQ6_K
)

func (f KFormat) blockBytes() int {
	switch f {
	case KFormatQ2_K:
		return bQ2_K
	case KFormatQ3_K:
		return bQ3_K
	case KFormatQ4_K:
		return bQ4_K
	case KFormatQ5_K:
		return bQ5_K
	}
	return bQ6_K
}

// kernel returns the active single dot for the format.
func (f KFormat) kernel() func(w, a []byte, n int) float32 {
	switch f {
	case KFormatQ2_K:
		return active.dotQ2_K
	case KFormatQ3_K:
		return active.dotQ3_K
	case KFormatQ4_K:
		return active.dotQ4_K
	case KFormatQ5_K:
		return active.dotQ5_K
	}
	return active.dotQ6_K
}

// tiled says whether the format has tile kernels: those whose single dot
// fixes the float order as ggml's eight lanes (Q4_K, Q6_K).
func (f KFormat) tiled() bool { return f == KFormatQ4_K || f == KFormatQ6_K }

// Q8KActs is a batch of activation rows quantized to Q8_K (as QuantizeQ8_K
// writes them), together with the widened, token-interleaved copy the tile
// kernels read. The zero value is ready to use; Set reuses its memory.
type Q8KActs struct {
	rows []byte // n rows of nsb Q8_K blocks
	n, k int
	q    []int16   // [n/4][nsb][4][256] the values
	d    []float32 // [n/4][nsb][4] the block scales
	s    []int16   // [n/4][nsb][4][16] the block sums
}

// kTileMin is the smallest batch the K-quant tiles take: below it,
// widening the weights (in Go, once per call) costs more than the tiles
// save (BenchmarkMatMulQ8K: at 32 tokens the tiles ran at half the single
// dots' speed, at 128 at about twice).
const kTileMin = 64

func useKTiles(n int) bool { return active.matMulK != nil && n >= kTileMin }

// Set makes a hold the n Q8_K rows of k elements in rows (which a keeps,
// without copying, until the next Set).
func (a *Q8KActs) Set(rows []byte, n, k int) {
	if k%qkK != 0 || n < 0 || len(rows) < n*(k/qkK)*bQ8_K {
		panic(fmt.Sprintf("kernels: Q8KActs.Set: %d bytes cannot hold %d Q8_K rows of %d elements", len(rows), n, k))
	}
	a.rows, a.n, a.k = rows, n, k
	if !useKTiles(n) {
		return
	}
	nsb, n4 := k/qkK, n&^3
	a.q = grow(a.q, n4*nsb*qkK)
	a.d = grow(a.d, n4*nsb)
	a.s = grow(a.s, n4*nsb*16)
	for t := 0; t < n4; t++ {
		row := rows[t*nsb*bQ8_K:]
		base := (t/4)*nsb*4 + t%4
		for b := 0; b < nsb; b++ {
			blk := row[b*bQ8_K : (b+1)*bQ8_K]
			i := base + b*4
			a.d[i] = math.Float32frombits(binary.LittleEndian.Uint32(blk))
			q := a.q[i*qkK : (i+1)*qkK]
			for e, v := range blk[4 : 4+qkK] {
				q[e] = int16(int8(v))
			}
			s := a.s[i*16 : (i+1)*16]
			for g := range s {
				s[g] = int16(binary.LittleEndian.Uint16(blk[4+qkK+2*g:]))
			}
		}
	}
}

func grow[T any](s []T, n int) []T {
	if cap(s) < n {
		return make([]T, n)
	}
	return s[:n]
}

// MatMulQ8K sets dst[t*ldd+r] to the dot product of weight row w[r] (in
// format f, a.k elements) with activation row t of a, for every row and
// token; each element is bit-identical to the single dot (DotQ2_K ..
// DotQ6_K) of the same two rows.
func MatMulQ8K(dst []float32, ldd int, f KFormat, w [][]byte, a *Q8KActs) {
	n, k := a.n, a.k
	if len(w) == 0 || n == 0 {
		return
	}
	wb := k / qkK * f.blockBytes()
	for r := range w {
		if len(w[r]) < wb {
			panic(fmt.Sprintf("kernels: MatMulQ8K: weight row %d has %d bytes, %d elements need %d", r, len(w[r]), k, wb))
		}
	}
	checkMatMul("MatMulQ8K", dst, ldd, len(w), n, 0, 0)
	if f.tiled() && useKTiles(n) && k > 0 {
		active.matMulK(dst, ldd, f, w, a)
		return
	}
	kDots(dst, ldd, f, w, a, 0, len(w), 0, n)
}

// kDots fills rows r0..r1 of tokens t0..t1 with single dots.
func kDots(dst []float32, ldd int, f KFormat, w [][]byte, a *Q8KActs, r0, r1, t0, t1 int) {
	dot := f.kernel()
	ab := a.k / qkK * bQ8_K
	for t := t0; t < t1; t++ {
		at := a.rows[t*ab : (t+1)*ab]
		for r := r0; r < r1; r++ {
			dst[t*ldd+r] = dot(w[r], at, a.k)
		}
	}
}

// unpackK writes weight row w (format f, Q4_K or Q6_K, nsb super-blocks)
// into slot s (0 or 1) of a two-row panel: super-block b's 256 values times
// their sub-block scale at q[b*512+s*256:], its d and -dmin at
// d[b*4+s*2:], and (Q4_K) its eight mins, each twice, at m[b*32+s*16:].
// These are the integers and scales of dotQ4_KGeneric and dotQ6_KGeneric.
func unpackK(q []int16, d []float32, m []int16, s int, f KFormat, w []byte, nsb int) {
	for b := 0; b < nsb; b++ {
		out := q[b*512+s*256 : b*512+s*256+256]
		switch f {
		case KFormatQ4_K:
			wb := w[b*bQ4_K : (b+1)*bQ4_K]
			d[b*4+s*2] = f16(wb)
			d[b*4+s*2+1] = -f16(wb[2:])
			scales, qs := wb[4:16], wb[16:144]
			mins := m[b*32+s*16 : b*32+s*16+16]
			for j := range 8 {
				sc, mn := scaleMinK4(j, scales)
				mins[2*j], mins[2*j+1] = int16(mn), int16(mn)
				shift := 4 * (j % 2)
				src := qs[j/2*32 : j/2*32+32]
				dst := out[j*32 : j*32+32]
				for l, v := range src {
					dst[l] = int16(sc * int32(v>>shift&15))
				}
			}
		case KFormatQ6_K:
			wb := w[b*bQ6_K : (b+1)*bQ6_K]
			d[b*4+s*2] = f16(wb[208:])
			ql, qh, sc := wb[0:128], wb[128:192], wb[192:208]
			for e := range qkK {
				h, r := e/128, e%128
				sq, l := r/32, r%32
				lo := int32(ql[64*h+l+32*(sq&1)] >> (4 * (sq / 2)) & 15)
				hi := int32(qh[32*h+l] >> (2 * sq) & 3)
				out[e] = int16(int32(int8(sc[e/16])) * (lo | hi<<4 - 32))
			}
		}
	}
}
