package kernels

import (
	"math/rand/v2"
	"testing"
	"time"
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

// rate reports units/s twice: per wall-clock second (name) and per second
// of the benchmark thread's CPU time (name+"-cpu"), which stays meaningful
// when other processes share the cores. Call it with the CPU time at start.
func rate(b *testing.B, units float64, name string, cpu0 time.Duration) {
	b.ReportMetric(units*float64(b.N)/b.Elapsed().Seconds(), name)
	if cpu := threadCPU() - cpu0; cpu > 0 {
		b.ReportMetric(units*float64(b.N)/cpu.Seconds(), name+"-cpu")
	}
}

// BenchmarkGemmF32 reports GFLOP/s for C[m×n] = A[m×k]·B[n×k]ᵀ on the
// brief's shape (64×896×896, a 64-token batch through a 896×896 projection)
// and on an attention-score shape (64 queries × 512 keys, head dim 64).
func BenchmarkGemmF32(b *testing.B) {
	for _, s := range []struct {
		name    string
		m, n, k int
	}{{"64x896x896", 64, 896, 896}, {"64x512x64", 64, 512, 64}} {
		r := rand.New(rand.NewPCG(1, 2))
		a, w, c := randF32(r, s.m*s.k), randF32(r, s.n*s.k), make([]float32, s.m*s.n)
		b.Run(s.name, func(b *testing.B) {
			benchImpls(b, func(b *testing.B, ks *kernelSet) {
				defer lockThread()()
				cpu0 := threadCPU()
				for b.Loop() {
					ks.gemmF32(c, a, w, s.m, s.n, s.k)
				}
				rate(b, float64(2*s.m*s.n*s.k)/1e9, "GFLOP/s", cpu0)
			})
		})
	}
}

// BenchmarkMatvecQuant multiplies a 896×4864 weight matrix (4864×896 for
// the 32-element formats, whose rows need not be multiples of 256) by one
// quantized activation row and reports the weight bytes read per second.
func BenchmarkMatvecQuant(b *testing.B) {
	r := rand.New(rand.NewPCG(3, 4))
	for _, f := range quantFormats {
		rows, cols := benchRows, benchCols
		if f.blockElems == qkK {
			rows, cols = benchCols, benchRows
		}
		rowBytes := cols / f.blockElems * f.blockBytes
		w := randWeights(r, f, rows*cols/f.blockElems)
		a, _ := quantizeAct(f.act, randF32(r, cols))
		b.Run(f.name, func(b *testing.B) {
			benchImpls(b, func(b *testing.B, ks *kernelSet) {
				dot := f.dot(ks)
				var sink float32
				defer lockThread()()
				cpu0 := threadCPU()
				for b.Loop() {
					for i := range rows {
						sink += dot(w[i*rowBytes:(i+1)*rowBytes], a, cols)
					}
				}
				_ = sink
				rate(b, float64(len(w))/1e9, "GB/s", cpu0)
			})
		})
	}
}

func BenchmarkMatvecF32(b *testing.B) {
	r := rand.New(rand.NewPCG(5, 6))
	w, x := randF32(r, benchRows*benchCols), randF32(r, benchCols)
	benchImpls(b, func(b *testing.B, ks *kernelSet) {
		var sink float32
		defer lockThread()()
		cpu0 := threadCPU()
		for b.Loop() {
			for i := range benchRows {
				sink += ks.dotF32(w[i*benchCols:(i+1)*benchCols], x)
			}
		}
		_ = sink
		rate(b, float64(4*len(w))/1e9, "GB/s", cpu0)
	})
}

// BenchmarkMatvecHalf multiplies a 4864×896 F16 or BF16 matrix by a float32
// row and reports the weight bytes read per second.
func BenchmarkMatvecHalf(b *testing.B) {
	r := rand.New(rand.NewPCG(7, 8))
	x := randF32(r, benchCols)
	for _, bf := range []bool{false, true} {
		w, _ := halfRow(r, benchRows*benchCols, bf)
		name := "F16"
		if bf {
			name = "BF16"
		}
		b.Run(name, func(b *testing.B) {
			benchImpls(b, func(b *testing.B, ks *kernelSet) {
				dot := ks.dotF16
				if bf {
					dot = ks.dotBF16
				}
				const rowBytes = 2 * benchCols
				var sink float32
				defer lockThread()()
				cpu0 := threadCPU()
				for b.Loop() {
					for i := range benchRows {
						sink += dot(w[i*rowBytes:(i+1)*rowBytes], x)
					}
				}
				_ = sink
				rate(b, float64(len(w))/1e9, "GB/s", cpu0)
			})
		})
	}
}

// BenchmarkActivations reports elements per second for SwiGLU over an FFN
// row (4864) and Softmax and RMSNorm over rows of 896.
func BenchmarkActivations(b *testing.B) {
	r := rand.New(rand.NewPCG(9, 10))
	gate, up, dst := randF32(r, benchRows), randF32(r, benchRows), make([]float32, benchRows)
	x, w := randF32(r, benchCols), randF32(r, benchCols)
	y := make([]float32, benchCols)
	for _, ks := range impls() {
		b.Run("SwiGLU/"+ks.name, func(b *testing.B) {
			defer lockThread()()
			cpu0 := threadCPU()
			for b.Loop() {
				ks.swiglu(dst, gate, up)
			}
			rate(b, benchRows/1e9, "Gelem/s", cpu0)
		})
		b.Run("Softmax/"+ks.name, func(b *testing.B) {
			defer lockThread()()
			cpu0 := threadCPU()
			for b.Loop() {
				copy(y, x)
				ks.softmax(y)
			}
			rate(b, benchCols/1e9, "Gelem/s", cpu0)
		})
		b.Run("RMSNorm/"+ks.name, func(b *testing.B) {
			defer lockThread()()
			cpu0 := threadCPU()
			for b.Loop() {
				ks.rmsNorm(y, x, w, 1e-6)
			}
			rate(b, benchCols/1e9, "Gelem/s", cpu0)
		})
	}
}

// BenchmarkQuantize reports input floats per second for the activation
// quantizers on a 4864-element row.
func BenchmarkQuantize(b *testing.B) {
	r := rand.New(rand.NewPCG(11, 12))
	x := randF32(r, benchRows+256-benchRows%256)
	dst := make([]byte, len(x)/qkK*bQ8_K+len(x)/qk*bQ8_1)
	for _, ks := range impls() {
		for _, q := range []struct {
			name string
			f    func(dst []byte, x []float32)
		}{{"Q8_0", ks.quantizeQ8_0}, {"Q8_1", ks.quantizeQ8_1}, {"Q8_K", ks.quantizeQ8_K}} {
			b.Run(q.name+"/"+ks.name, func(b *testing.B) {
				defer lockThread()()
				cpu0 := threadCPU()
				for b.Loop() {
					q.f(dst, x)
				}
				rate(b, float64(len(x))/1e9, "Gelem/s", cpu0)
			})
		}
	}
}

// BenchmarkDecodeDRAM streams 192 MB of weights (far beyond the 32 MB L3,
// like a real model's decode step) through the dot kernels on two
// goroutines, each taking half the rows, and reports the weight bytes read
// per wall-clock second: the number to compare with the machine's ~25 GB/s
// two-thread read bandwidth. Wall time is the honest measure here, so on a
// shared machine expect it to read low.
func BenchmarkDecodeDRAM(b *testing.B) {
	if testing.Short() {
		b.Skip("allocates 192 MB")
	}
	const total = 192 << 20
	r := rand.New(rand.NewPCG(13, 14))
	for _, name := range []string{"Q8_0", "Q4_K", "F16"} {
		var f quantFormat
		for _, q := range quantFormats {
			if q.name == name {
				f = q
			}
		}
		cols := 4864
		var rowBytes int
		if name == "F16" {
			rowBytes = 2 * cols
		} else {
			rowBytes = cols / f.blockElems * f.blockBytes
		}
		rows := total / rowBytes
		w := make([]byte, rows*rowBytes)
		if name == "F16" {
			w, _ = halfRow(r, rows*cols, false)
		} else {
			w = randWeights(r, f, rows*cols/f.blockElems)
		}
		x := randF32(r, cols)
		var a []byte
		if name != "F16" {
			a, _ = quantizeAct(f.act, x)
		}
		b.Run(name, func(b *testing.B) {
			for b.Loop() {
				done := make(chan struct{})
				for half := range 2 {
					go func() {
						var sink float32
						for i := half * rows / 2; i < (half+1)*rows/2; i++ {
							row := w[i*rowBytes : (i+1)*rowBytes]
							if name == "F16" {
								sink += DotF16(row, x)
							} else {
								sink += f.dot(active)(row, a, cols)
							}
						}
						_ = sink
						done <- struct{}{}
					}()
				}
				<-done
				<-done
			}
			b.ReportMetric(float64(len(w))*float64(b.N)/b.Elapsed().Seconds()/1e9, "GB/s")
		})
	}
}
