package kernels

import (
	"encoding/binary"
	"fmt"
	"math"
	"math/rand/v2"
	"testing"
)

// BenchmarkMatMul times the tile kernels on a cache-resident block of a
// Qwen2.5-0.5B-shaped product (k = 896) and reports GFLOP/s (2 per
// multiply-add); "single" runs the same elements through the single dots.
func BenchmarkMatMul(b *testing.B) {
	for _, s := range []struct{ rows, n, k int }{{96, 64, 896}, {4864, 128, 896}, {896, 128, 4864}} {
		b.Run(fmt.Sprintf("%dx%dx%d", s.rows, s.n, s.k), func(b *testing.B) { benchMatMul(b, s.rows, s.n, s.k) })
	}
}

func benchMatMul(b *testing.B, rows, n, k int) {
	rng := rand.New(rand.NewPCG(1, 2))
	x := randF32(rng, n*k)
	w32 := make([][]float32, rows)
	w16 := make([][]byte, rows)
	wb := make([][]byte, rows)
	wq := make([][]byte, rows)
	for r := range w32 {
		w32[r] = randF32(rng, k)
		w16[r] = make([]byte, 2*k)
		wb[r] = make([]byte, 2*k)
		wq[r] = make([]byte, k/qk*bQ8_0)
		for i, v := range w32[r] {
			putF16(w16[r][2*i:], v)
			binary.LittleEndian.PutUint16(wb[r][2*i:], uint16(math.Float32bits(v)>>16))
		}
		QuantizeQ8_0(wq[r], w32[r])
	}
	acts := make([]byte, n*k/qk*bQ8_0)
	for t := 0; t < n; t++ {
		QuantizeQ8_0(acts[t*k/qk*bQ8_0:], x[t*k:(t+1)*k])
	}
	var a Q8Acts
	a.Set(acts, n, k)
	dst := make([]float32, n*rows)
	for _, c := range []struct {
		name string
		run  func()
	}{
		{"F32", func() { MatMulF32(dst, rows, w32, x, n) }},
		{"F16", func() { MatMulF16(dst, rows, w16, x, n) }},
		{"BF16", func() { MatMulBF16(dst, rows, wb, x, n) }},
		{"Q8_0", func() { MatMulQ8(dst, rows, Q8FormatQ8_0, wq, &a) }},
		{"F16/single", func() {
			for t := 0; t < n; t++ {
				for r := range w16 {
					dst[t*rows+r] = DotF16(w16[r], x[t*k:(t+1)*k])
				}
			}
		}},
		{"Q8_0/single", func() {
			ab := k / qk * bQ8_0
			for t := 0; t < n; t++ {
				for r := range wq {
					dst[t*rows+r] = DotQ8_0(wq[r], acts[t*ab:(t+1)*ab], k)
				}
			}
		}},
	} {
		b.Run(fmt.Sprint(c.name), func(b *testing.B) {
			defer lockThread()()
			cpu0 := threadCPU()
			for i := 0; i < b.N; i++ {
				c.run()
			}
			rate(b, 2*float64(rows*n*k)/1e9, "GFLOP/s", cpu0)
		})
	}
}

// BenchmarkDecodeQ8 times one token against a whole Q8_0 matrix of
// Qwen2.5-0.5B's shapes (a decode step's matmul): MatMulQ8 with n = 1,
// against the single dots row by row.
func BenchmarkDecodeQ8(b *testing.B) {
	rng := rand.New(rand.NewPCG(1, 2))
	for _, s := range []struct{ rows, k int }{{4864, 896}, {896, 4864}} {
		w := make([][]byte, s.rows)
		for r := range w {
			w[r] = make([]byte, s.k/qk*bQ8_0)
			QuantizeQ8_0(w[r], randF32(rng, s.k))
		}
		acts := make([]byte, s.k/qk*bQ8_0)
		QuantizeQ8_0(acts, randF32(rng, s.k))
		var a Q8Acts
		a.Set(acts, 1, s.k)
		dst := make([]float32, s.rows)
		for _, c := range []struct {
			name string
			run  func()
		}{
			{"rows", func() { MatMulQ8(dst, s.rows, Q8FormatQ8_0, w, &a) }},
			{"single", func() {
				for r := range w {
					dst[r] = DotQ8_0(w[r], acts, s.k)
				}
			}},
		} {
			b.Run(fmt.Sprintf("%dx%d/%s", s.rows, s.k, c.name), func(b *testing.B) {
				defer lockThread()()
				cpu0 := threadCPU()
				for i := 0; i < b.N; i++ {
					c.run()
				}
				rate(b, 2*float64(s.rows*s.k)/1e9, "GFLOP/s", cpu0)
			})
		}
	}
}

// BenchmarkMatMulQ8K times MatMulQ8K on Q4_K and Q6_K matrices of
// a Qwen2.5-0.5B-like shape (k a multiple of 256) for batches around the tiles' minimum and a
// prefill-sized one (at levels without K tiles, every batch takes the
// single dots).
func BenchmarkMatMulQ8K(b *testing.B) {
	rng := rand.New(rand.NewPCG(1, 2))
	const rows, k = 896, 1024
	for _, name := range []string{"Q4_K", "Q6_K"} {
		var qf quantFormat
		for _, f := range quantFormats {
			if f.name == name {
				qf = f
			}
		}
		f := map[string]KFormat{"Q4_K": KFormatQ4_K, "Q6_K": KFormatQ6_K}[name]
		w := make([][]byte, rows)
		for r := range w {
			w[r] = randWeights(rng, qf, k/qkK)
		}
		for _, n := range []int{32, 64, 128, 512} {
			acts := make([]byte, n*k/qkK*bQ8_K)
			for t := 0; t < n; t++ {
				QuantizeQ8_K(acts[t*k/qkK*bQ8_K:], randF32(rng, k))
			}
			var a Q8KActs
			a.Set(acts, n, k)
			dst := make([]float32, n*rows)
			b.Run(fmt.Sprintf("%s/n%d", name, n), func(b *testing.B) {
				defer lockThread()()
				cpu0 := threadCPU()
				for i := 0; i < b.N; i++ {
					MatMulQ8K(dst, rows, f, w, &a)
				}
				rate(b, 2*float64(rows*n*k)/1e9, "GFLOP/s", cpu0)
			})
		}
	}
}
