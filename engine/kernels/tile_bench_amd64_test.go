package kernels

import (
	"fmt"
	"math/rand/v2"
	"testing"
)

// BenchmarkMatMulSmallK compares the two float paths at small k.
func BenchmarkMatMulSmallK(b *testing.B) {
	rng := rand.New(rand.NewPCG(1, 2))
	for _, k := range []int{32, 64, 128, 256, 512} {
		const rows, n = 96, 96
		x := randF32(rng, n*k)
		w := make([][]float32, rows)
		for r := range w {
			w[r] = randF32(rng, k)
		}
		dst := make([]float32, n*rows)
		for _, c := range []struct {
			name string
			run  func()
		}{
			{"tiles", func() { matMulF32Tiles(dst, rows, w, x, n, k) }},
			{"rows", func() { matMulF32Rows(dst, rows, w, x, n, k) }},
		} {
			b.Run(fmt.Sprintf("k%d/%s", k, c.name), func(b *testing.B) {
				for i := 0; i < b.N; i++ {
					c.run()
				}
				b.ReportMetric(2*float64(rows*n*k)*float64(b.N)/b.Elapsed().Seconds()/1e9, "GFLOP/s")
			})
		}
	}
}
