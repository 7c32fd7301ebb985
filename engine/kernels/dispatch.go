package kernels

import "os"

// kernelSet is one implementation of every kernel. The generic set is
// complete; a SIMD set starts as a copy of it and replaces what it speeds up,
// so a kernel without assembly silently keeps its Go version.
type kernelSet struct {
	name string

	dotF32   func(a, b []float32) float32
	axpyF32  func(y []float32, alpha float32, x []float32)
	scaleF32 func(x []float32, s float32)
	gemmF32  func(c, a, b []float32, m, n, k int)

	dotF16  func(w []byte, x []float32) float32
	dotBF16 func(w []byte, x []float32) float32

	quantizeQ8_0 func(dst []byte, x []float32)
	quantizeQ8_1 func(dst []byte, x []float32)
	quantizeQ8_K func(dst []byte, x []float32)

	dotQ8_0 func(w, a []byte, n int) float32
	dotQ4_0 func(w, a []byte, n int) float32
	dotQ5_0 func(w, a []byte, n int) float32
	dotQ4_1 func(w, a []byte, n int) float32
	dotQ5_1 func(w, a []byte, n int) float32
	dotQ2_K func(w, a []byte, n int) float32
	dotQ3_K func(w, a []byte, n int) float32
	dotQ4_K func(w, a []byte, n int) float32
	dotQ5_K func(w, a []byte, n int) float32
	dotQ6_K func(w, a []byte, n int) float32

	silu    func(dst, x []float32)
	swiglu  func(dst, gate, up []float32)
	rmsNorm func(dst, x, w []float32, eps float32)
	softmax func(x []float32)
}

// genericKernels is the portable pure-Go implementation of every kernel.
var genericKernels = kernelSet{
	name:         "generic",
	dotF32:       dotF32Generic,
	axpyF32:      axpyF32Generic,
	scaleF32:     scaleF32Generic,
	gemmF32:      gemmF32Generic,
	dotF16:       dotF16Generic,
	dotBF16:      dotBF16Generic,
	quantizeQ8_0: quantizeQ8_0Generic,
	quantizeQ8_1: quantizeQ8_1Generic,
	quantizeQ8_K: quantizeQ8_KGeneric,
	dotQ8_0:      dotQ8_0Generic,
	dotQ4_0:      dotQ4_0Generic,
	dotQ5_0:      dotQ5_0Generic,
	dotQ4_1:      dotQ4_1Generic,
	dotQ5_1:      dotQ5_1Generic,
	dotQ2_K:      dotQ2_KGeneric,
	dotQ3_K:      dotQ3_KGeneric,
	dotQ4_K:      dotQ4_KGeneric,
	dotQ5_K:      dotQ5_KGeneric,
	dotQ6_K:      dotQ6_KGeneric,
	silu:         siluGeneric,
	swiglu:       swigluGeneric,
	rmsNorm:      rmsNormGeneric,
	softmax:      softmaxGeneric,
}

// active is the kernel set every exported function calls through. It is
// chosen once, at start-up, and never changes afterwards.
var active = selectKernels(os.Getenv("VALUEEXP_NOSIMD"))

// selectKernels picks the fastest set the CPU supports unless noSIMD asks
// for the portable one ("1" or "true").
func selectKernels(noSIMD string) *kernelSet {
	if noSIMD == "1" || noSIMD == "true" {
		return &genericKernels
	}
	if ks, ok := simdKernels(); ok {
		return ks
	}
	return &genericKernels
}

// SIMD names the active implementation: "avx2" when the assembly kernels
// run, "generic" for the pure-Go ones.
func SIMD() string { return active.name }
