package kernels

import (
	"encoding/binary"
	"fmt"
	"math"
	"math/rand/v2"
	"testing"
)

// tileShapes covers whole and partial tiles (rows%3, rows%2, tokens%4),
// every k%32 and k%8 case, odd block counts, and more tokens than one L2
// block holds.
var tileShapes = []struct{ rows, n, k int }{
	{1, 1, 8}, {3, 4, 32}, {4, 5, 64}, {7, 9, 96}, {6, 8, 136}, {5, 12, 257},
	{3, 4, 7}, {9, 13, 1001}, {8, 16, 896}, {2, 160, 4864 / 4}, {3, 260, 896},
	{10, 10, 160},
	// Decode-sized batches (fewer tokens than the tiles take) over several
	// groups of four rows and a leftover.
	{9, 1, 896}, {13, 3, 1001}, {8, 7, 2048},
}

func bitsEqual(t *testing.T, what string, got []float32, ldd int, rows, n int, want func(r, t int) float32) {
	t.Helper()
	for tok := 0; tok < n; tok++ {
		for r := 0; r < rows; r++ {
			g, w := got[tok*ldd+r], want(r, tok)
			if math.Float32bits(g) != math.Float32bits(w) {
				t.Fatalf("%s: token %d row %d: got %v (%#x), single dot %v (%#x)", what, tok, r, g, math.Float32bits(g), w, math.Float32bits(w))
			}
		}
	}
}

func TestMatMulFloatMatchesSingleDots(t *testing.T) { eachActive(t, testMatMulFloat) }

func testMatMulFloat(t *testing.T) {
	rng := rand.New(rand.NewPCG(3, 4))
	for _, s := range tileShapes {
		t.Run(fmt.Sprintf("%dx%dx%d", s.rows, s.n, s.k), func(t *testing.T) {
			x := randF32(rng, s.n*s.k)
			w32 := make([][]float32, s.rows)
			w16 := make([][]byte, s.rows)
			wb := make([][]byte, s.rows)
			for r := range w32 {
				w32[r] = randF32(rng, s.k)
				w16[r] = make([]byte, 2*s.k)
				wb[r] = make([]byte, 2*s.k)
				for i, v := range w32[r] {
					putF16(w16[r][2*i:], v)
					binary.LittleEndian.PutUint16(wb[r][2*i:], uint16(math.Float32bits(v)>>16))
				}
			}
			ldd := s.rows + 3 // padding must be left alone
			dst := make([]float32, s.n*ldd)
			MatMulF32(dst, ldd, w32, x, s.n)
			bitsEqual(t, "MatMulF32", dst, ldd, s.rows, s.n, func(r, tok int) float32 { return DotF32(w32[r], x[tok*s.k:(tok+1)*s.k]) })
			MatMulF16(dst, ldd, w16, x, s.n)
			bitsEqual(t, "MatMulF16", dst, ldd, s.rows, s.n, func(r, tok int) float32 { return DotF16(w16[r], x[tok*s.k:(tok+1)*s.k]) })
			// BF16 last: the checks below read the F16 products.
			bf := make([]float32, len(dst))
			MatMulBF16(bf, ldd, wb, x, s.n)
			bitsEqual(t, "MatMulBF16", bf, ldd, s.rows, s.n, func(r, tok int) float32 { return DotBF16(wb[r], x[tok*s.k:(tok+1)*s.k]) })
			for r := 0; r < s.rows; r++ {
				var want, abs float64
				for i, v := range x[:s.k] {
					p := float64(bf16(wb[r][2*i:])) * float64(v)
					want, abs = want+p, abs+math.Abs(p)
				}
				if !near(float64(bf[r]), want, abs, 1e-5) {
					t.Fatalf("BF16 row %d: %v far from float64 reference %v", r, bf[r], want)
				}
			}
			for tok := 0; tok < s.n; tok++ {
				for r := s.rows; r < ldd; r++ {
					if dst[tok*ldd+r] != 0 {
						t.Fatalf("padding at token %d col %d overwritten", tok, r)
					}
				}
			}
			// An independent float64 reference bounds the sums themselves.
			for r := 0; r < s.rows; r++ {
				want, abs := dot64(w32[r], x[:s.k])
				if !near(float64(dst[r]), dotHalf(w16[r], x[:s.k]), abs, 1e-5) {
					t.Fatalf("row %d: %v far from float64 reference %v", r, dst[r], want)
				}
			}
		})
	}
}

// dotHalf is a float64 reference for a half-precision row.
func dotHalf(w []byte, x []float32) float64 {
	var s float64
	for i := range x {
		s += float64(f16(w[2*i:])) * float64(x[i])
	}
	return s
}

func TestMatMulQ8MatchesSingleDots(t *testing.T) { eachActive(t, testMatMulQ8) }

func testMatMulQ8(t *testing.T) {
	rng := rand.New(rand.NewPCG(5, 6))
	for _, f := range []Q8Format{Q8FormatQ8_0, Q8FormatQ4_0, Q8FormatQ5_0} {
		for _, s := range tileShapes {
			k := (s.k + 31) &^ 31
			t.Run(fmt.Sprintf("%d/%dx%dx%d", f, s.rows, s.n, k), func(t *testing.T) {
				nb := k / 32
				acts := make([]byte, s.n*nb*bQ8_0)
				for tok := 0; tok < s.n; tok++ {
					QuantizeQ8_0(acts[tok*nb*bQ8_0:(tok+1)*nb*bQ8_0], randF32(rng, k))
				}
				w := make([][]byte, s.rows)
				for r := range w {
					w[r] = make([]byte, nb*f.blockBytes())
					for i := range w[r] {
						w[r][i] = byte(rng.IntN(256))
					}
					for b := 0; b < nb; b++ { // keep scales finite and moderate
						putF16(w[r][b*f.blockBytes():], float32(rng.NormFloat64()*0.01))
					}
					if r%2 == 1 {
						w[r] = offsetBytes(w[r]) // rows at odd addresses
					}
				}
				var a Q8Acts
				a.Set(acts, s.n, k)
				ldd := s.rows + 1
				dst := make([]float32, s.n*ldd)
				MatMulQ8(dst, ldd, f, w, &a)
				bitsEqual(t, "MatMulQ8", dst, ldd, s.rows, s.n, func(r, tok int) float32 {
					return f.dot(w[r], acts[tok*nb*bQ8_0:(tok+1)*nb*bQ8_0], k)
				})
			})
		}
	}
}
