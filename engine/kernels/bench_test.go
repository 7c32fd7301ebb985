package kernels

import (
	"math/rand/v2"
	"testing"
)

// Matvec shapes of Qwen2.5-0.5B's FFN (rows × cols), the decode hot path.
const (
	benchRows = 4864
	benchCols = 896
)

func benchImpls(b *testing.B, f func(b *testing.B, ks *kernelSet)) {
	for _, ks := range impls() {
		b.Run(ks.name, func(b *testing.B) { f(b, ks) })
	}
}

// BenchmarkGemmF32 reports GFLOP/s for C[64×896] = A[64×896]·B[896×896]ᵀ.
func BenchmarkGemmF32(b *testing.B) {
	const m, n, k = 64, 896, 896
	r := rand.New(rand.NewPCG(1, 2))
	a, w, c := randF32(r, m*k), randF32(r, n*k), make([]float32, m*n)
	benchImpls(b, func(b *testing.B, ks *kernelSet) {
		for b.Loop() {
			ks.gemmF32(c, a, w, m, n, k)
		}
		b.ReportMetric(float64(2*m*n*k)*float64(b.N)/b.Elapsed().Seconds()/1e9, "GFLOP/s")
	})
}

// benchMatvec runs one activation row against benchRows weight rows of
// rowBytes each and reports the weight bytes read per second.
func benchMatvec(b *testing.B, rowBytes int, dot func(row []byte) float32) {
	r := rand.New(rand.NewPCG(3, 4))
	w := make([]byte, benchRows*rowBytes)
	for i := range w {
		w[i] = byte(r.Uint32())
	}
	fixScales(w, rowBytes)
	var sink float32
	for b.Loop() {
		for i := range benchRows {
			sink += dot(w[i*rowBytes : (i+1)*rowBytes])
		}
	}
	_ = sink
	b.ReportMetric(float64(len(w))*float64(b.N)/b.Elapsed().Seconds()/1e9, "GB/s")
}

// fixScales is a no-op hook kept so that random bytes (which may encode fp16
// NaN scales) do not matter: the kernels' speed does not depend on values.
func fixScales([]byte, int) {}

func BenchmarkMatvecF32(b *testing.B) {
	r := rand.New(rand.NewPCG(5, 6))
	w, x := randF32(r, benchRows*benchCols), randF32(r, benchCols)
	benchImpls(b, func(b *testing.B, ks *kernelSet) {
		var sink float32
		for b.Loop() {
			for i := range benchRows {
				sink += ks.dotF32(w[i*benchCols:(i+1)*benchCols], x)
			}
		}
		_ = sink
		b.ReportMetric(float64(4*len(w))*float64(b.N)/b.Elapsed().Seconds()/1e9, "GB/s")
	})
}
