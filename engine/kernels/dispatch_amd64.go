//go:build amd64

package kernels

import "golang.org/x/sys/cpu"

// simdKernels returns the assembly kernels when the CPU has AVX2, FMA and
// F16C (every x86 CPU since Haswell and Zen 1 has all three).
func simdKernels() (*kernelSet, bool) {
	if !cpu.X86.HasAVX2 || !cpu.X86.HasFMA || !cpu.X86.HasF16C {
		return nil, false
	}
	ks := avx2Kernels()
	return &ks, true
}

// avx2Kernels is the generic set with every kernel that has an AVX2
// version replaced by it.
func avx2Kernels() kernelSet {
	ks := genericKernels
	ks.name = "avx2"
	ks.dotF32 = dotF32SIMD
	ks.axpyF32 = axpyF32SIMD
	ks.scaleF32 = scaleF32SIMD
	ks.gemmF32 = gemmF32SIMD
	ks.dotF16 = dotF16SIMD
	ks.dotBF16 = dotBF16SIMD
	ks.quantizeQ8_0 = quantizeQ8_0SIMD
	ks.quantizeQ8_1 = quantizeQ8_1SIMD
	ks.quantizeQ8_K = quantizeQ8_KSIMD
	ks.dotQ8_0 = blockDot(dotQ8_0AVX, qk)
	ks.dotQ4_0 = blockDot(dotQ4_0AVX, qk)
	ks.dotQ5_0 = blockDot(dotQ5_0AVX, qk)
	ks.dotQ4_1 = blockDot(dotQ4_1AVX, qk)
	ks.dotQ5_1 = blockDot(dotQ5_1AVX, qk)
	ks.dotQ2_K = blockDot(dotQ2_KAVX, qkK)
	ks.dotQ3_K = blockDot(dotQ3_KAVX, qkK)
	ks.dotQ4_K = blockDot(dotQ4_KAVX, qkK)
	ks.dotQ5_K = blockDot(dotQ5_KAVX, qkK)
	ks.dotQ6_K = blockDot(dotQ6_KAVX, qkK)
	ks.silu = siluSIMD
	ks.swiglu = swigluSIMD
	ks.rmsNorm = rmsNormSIMD
	ks.softmax = softmaxSIMD
	return ks
}
