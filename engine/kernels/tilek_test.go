package kernels

import (
	"fmt"
	"math/rand/v2"
	"testing"
)

// TestMatMulQ8KMatchesSingleDots checks every element of MatMulQ8K, in and
// out of the tiles (rows%2, tokens%4, batches below kTileMin), against the
// single dot of the same rows, bit for bit, and the tiled formats also
// against a float64 reference of the dequantized rows.
func TestMatMulQ8KMatchesSingleDots(t *testing.T) { eachActive(t, testMatMulQ8K) }

func testMatMulQ8K(t *testing.T) {
	rng := rand.New(rand.NewPCG(7, 8))
	formats := map[KFormat]quantFormat{}
	for _, qf := range quantFormats {
		switch qf.name {
		case "Q4_K":
			formats[KFormatQ4_K] = qf
		case "Q5_K":
			formats[KFormatQ5_K] = qf
		case "Q6_K":
			formats[KFormatQ6_K] = qf
		case "Q2_K":
			formats[KFormatQ2_K] = qf
		}
	}
	shapes := []struct{ rows, n, nsb int }{
		{1, 1, 1}, {2, 64, 1}, {3, 65, 2}, {8, 68, 4}, {5, 79, 3}, {14, 130, 19}, {4, 5, 1}, {7, 63, 2},
	}
	for f, qf := range formats {
		for _, s := range shapes {
			t.Run(fmt.Sprintf("%s/%dx%dx%d", qf.name, s.rows, s.n, s.nsb), func(t *testing.T) {
				k := s.nsb * qkK
				acts := make([]byte, s.n*s.nsb*bQ8_K)
				x := make([]float32, k)
				for tok := 0; tok < s.n; tok++ {
					for i := range x {
						x[i] = float32(rng.NormFloat64())
					}
					if tok%7 == 3 {
						x[5] = 40 // a block dominated by one value: others round to small ints
					}
					QuantizeQ8_K(acts[tok*s.nsb*bQ8_K:(tok+1)*s.nsb*bQ8_K], x)
				}
				w := make([][]byte, s.rows)
				for r := range w {
					w[r] = offsetBytes(randWeights(rng, qf, s.nsb))
				}
				var a Q8KActs
				a.Set(acts, s.n, k)
				ldd := s.rows + 2
				dst := make([]float32, s.n*ldd)
				MatMulQ8K(dst, ldd, f, w, &a)
				ab := s.nsb * bQ8_K
				bitsEqual(t, "MatMulQ8K", dst, ldd, s.rows, s.n, func(r, tok int) float32 {
					return qf.dot(active)(w[r], acts[tok*ab:(tok+1)*ab], k)
				})
				for tok := 0; tok < s.n; tok++ {
					for r := s.rows; r < ldd; r++ {
						if dst[tok*ldd+r] != 0 {
							t.Fatalf("padding at token %d col %d overwritten", tok, r)
						}
					}
				}
				want, scale := refDot(qf, w[0], acts[(s.n-1)*ab:], s.nsb)
				if got := dst[(s.n-1)*ldd]; !near(float64(got), want, scale, 1e-5) {
					t.Errorf("row 0, last token: %v far from float64 reference %v", got, want)
				}
			})
		}
	}
}
