//go:build arm64

package kernels

import "golang.org/x/sys/cpu"

// archLevelNames lists the arm64 levels, slowest first.
func archLevelNames() []string { return []string{"neon", "neon-dotprod"} }

// simdLevels returns the arm64 levels this CPU runs, slowest first:
//   - neon: Advanced SIMD, which every arm64 CPU has (it is part of the
//     architecture), with the quantized dots on widening multiplies;
//   - neon-dotprod: the quantized dots on SDOT, for CPUs with the
//     dot-product extension (Armv8.4, optional from Armv8.2: Apple M1 and
//     later, Graviton 2 and later, Neoverse N1 and later; not Cortex-A53
//     or A72).
func simdLevels() []*kernelSet {
	neon := neonKernels(false)
	out := []*kernelSet{&neon}
	if cpu.ARM64.HasASIMDDP {
		dp := neonKernels(true)
		out = append(out, &dp)
	}
	return out
}

// neonKernels is the generic set with every kernel that has a NEON version
// replaced by it; dotprod selects the SDOT quantized dots.
func neonKernels(dotprod bool) kernelSet {
	ks := genericKernels
	ks.name = "neon"
	ks.dotF32 = dotF32NEONSlice
	ks.axpyF32 = axpyF32NEONSlice
	ks.scaleF32 = scaleF32NEONSlice
	ks.dotF16 = dotF16NEONSlice
	ks.dotBF16 = dotBF16NEONSlice
	ks.dotQ8_0 = blockDot(dotQ8_0MULL, qk)
	ks.dotQ4_0 = blockDot(dotQ4_0MULL, qk)
	ks.dotQ5_0 = blockDot(dotQ5_0MULL, qk)
	ks.dotQ4_K = dotQ4_KNEON(q4KLanesMULL)
	ks.dotQ6_K = dotQ6_KNEON(q6KLanesMULL)
	if dotprod {
		ks.name = "neon-dotprod"
		ks.dotQ8_0 = blockDot(dotQ8_0SDOT, qk)
		ks.dotQ4_0 = blockDot(dotQ4_0SDOT, qk)
		ks.dotQ5_0 = blockDot(dotQ5_0SDOT, qk)
		ks.dotQ4_K = dotQ4_KNEON(q4KLanesSDOT)
		ks.dotQ6_K = dotQ6_KNEON(q6KLanesSDOT)
	}
	ks.matMulF32 = blockedMatMulF32(ks.dotF32)
	ks.matMulF16 = blockedMatMulHalf(ks.dotF16, dotF16x4NEON, f16)
	ks.matMulBF16 = blockedMatMulHalf(ks.dotBF16, dotBF16x4NEON, bf16)
	four := [3]dot4{dotQ8_0x4MULL, dotQ4_0x4MULL, dotQ5_0x4MULL}
	rows4 := [3]func(w *[4]*byte, a *byte, nb int, dst *float32){rowsQ8_0x4MULL, rowsQ4_0x4MULL, rowsQ5_0x4MULL}
	lanesK4 := q4KLanesx4MULL
	if dotprod {
		lanesK4 = q4KLanesx4SDOT
		four = [3]dot4{dotQ8_0x4SDOT, dotQ4_0x4SDOT, dotQ5_0x4SDOT}
		rows4 = [3]func(w *[4]*byte, a *byte, nb int, dst *float32){rowsQ8_0x4SDOT, rowsQ4_0x4SDOT, rowsQ5_0x4SDOT}
	}
	ks.decodeQ8 = decodeQ8NEON(rows4, [3]func(w, a []byte, n int) float32{
		Q8FormatQ8_0: ks.dotQ8_0, Q8FormatQ4_0: ks.dotQ4_0, Q8FormatQ5_0: ks.dotQ5_0,
	})
	ks.matMulK = matMulKNEON(lanesK4, ks.dotQ4_K, ks.dotQ6_K)
	ks.matMulQ8 = blockedMatMulQ8([3]q8Dots{
		Q8FormatQ8_0: {ks.dotQ8_0, four[Q8FormatQ8_0]},
		Q8FormatQ4_0: {ks.dotQ4_0, four[Q8FormatQ4_0]},
		Q8FormatQ5_0: {ks.dotQ5_0, four[Q8FormatQ5_0]},
	})
	return ks
}
