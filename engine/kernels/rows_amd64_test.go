package kernels

import (
	"fmt"
	"math/rand/v2"
	"slices"
	"testing"
)

// TestRowsKernelsMatchSingleDots holds the four-rows-per-pass decode
// kernels of every level this CPU has to the single dots, bit for bit. No
// level dispatches them today (see avx2Kernels: on a real model they
// decoded slower than single dots), so this test is what keeps them honest.
func TestRowsKernelsMatchSingleDots(t *testing.T) {
	levels := map[string]int{"avx2": rowsAVX, "avxvnni": rowsAVXVNNI, "avx512": rowsAVX512}
	have := AvailableLevels()
	rng := rand.New(rand.NewPCG(9, 10))
	for name, level := range levels {
		if !slices.Contains(have, name) {
			continue
		}
		for _, f := range []Q8Format{Q8FormatQ8_0, Q8FormatQ4_0, Q8FormatQ5_0} {
			for _, s := range []struct{ rows, n, k int }{{1, 1, 32}, {4, 1, 64}, {7, 2, 96}, {9, 3, 1001}, {13, 1, 896}} {
				k := (s.k + 31) &^ 31
				t.Run(fmt.Sprintf("%s/%d/%dx%dx%d", name, f, s.rows, s.n, k), func(t *testing.T) {
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
						for b := 0; b < nb; b++ {
							putF16(w[r][b*f.blockBytes():], float32(rng.NormFloat64()*0.01))
						}
						if r%2 == 1 {
							w[r] = offsetBytes(w[r])
						}
					}
					var a Q8Acts
					a.Set(acts, s.n, k)
					ldd := s.rows + 1
					dst := make([]float32, s.n*ldd)
					decodeQ8(dst, ldd, f, w, &a, level)
					bitsEqual(t, "decodeQ8", dst, ldd, s.rows, s.n, func(r, tok int) float32 {
						return f.dot(w[r], acts[tok*nb*bQ8_0:(tok+1)*nb*bQ8_0], k)
					})
				})
			}
		}
	}
}
