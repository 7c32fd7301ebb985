//go:build amd64

package kernels

import "golang.org/x/sys/cpu"

// archLevelNames lists the amd64 levels, slowest first.
func archLevelNames() []string { return []string{"avx2", "avxvnni", "avx512"} }

// simdLevels returns the amd64 levels this CPU runs, slowest first:
//   - avx2: AVX2, FMA and F16C (every x86 CPU since Haswell and Zen 1);
//   - avxvnni: avx2 plus the VEX-encoded VPDPBUSD (Alder Lake and later
//     client CPUs, Zen 5), for the 8-bit tiles;
//   - avx512: AVX-512 F/BW/VL/DQ with VNNI (Ice Lake and later servers,
//     Zen 4 and 5), the 8-bit tiles on 512-bit registers.
func simdLevels() []*kernelSet {
	x := &cpu.X86
	if !x.HasAVX2 || !x.HasFMA || !x.HasF16C {
		return nil
	}
	avx2 := avx2Kernels()
	out := []*kernelSet{&avx2}
	if x.HasAVXVNNI {
		ks := avxVNNIKernels()
		out = append(out, &ks)
	}
	if x.HasAVX512F && x.HasAVX512BW && x.HasAVX512VL && x.HasAVX512DQ && x.HasAVX512VNNI {
		ks := avx512Kernels()
		out = append(out, &ks)
	}
	return out
}

// avxVNNIKernels is the AVX2 set with the 8-bit tiles on VEX VPDPBUSD.
func avxVNNIKernels() kernelSet {
	ks := avx2Kernels()
	ks.name = "avxvnni"
	ks.matMulQ8 = matMulQ8AVXVNNI
	ks.decodeQ8 = decodeQ8AVXVNNI
	return ks
}

// avx512Kernels is the AVX2 set with the 8-bit, K-quant and half-precision
// tiles on 512-bit registers.
func avx512Kernels() kernelSet {
	ks := avx2Kernels()
	ks.name = "avx512"
	ks.matMulQ8 = matMulQ8AVX512
	ks.decodeQ8 = decodeQ8AVX512
	ks.matMulK = matMulKAVX512
	ks.matMulF16 = matMulF16AVX512
	ks.matMulBF16 = matMulBF16AVX512
	return ks
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
	ks.matMulF32 = matMulF32SIMD
	ks.matMulF16 = matMulF16SIMD
	ks.matMulBF16 = matMulBF16SIMD
	ks.matMulQ8 = matMulQ8SIMD
	// Decode runs four rows per pass, their FMA chains interleaved (a
	// single dot waits on its one chain every block): Q8_0 decode on the
	// Qwen2.5-0.5B shape, one thread, Zen 5, went from 39 to 43 tokens/s.
	ks.decodeQ8 = decodeQ8AVX
	ks.weightedSum8 = weightedSumSIMD
	return ks
}
