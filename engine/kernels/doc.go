// Package kernels holds the engine's hot loops: float32 dot products and
// GEMM, dot products of quantized weight rows (ggml block layouts) with
// quantized activations, and the element-wise activations and norms.
//
// Every kernel has a portable Go version and, on amd64, assembly versions
// at several levels: avx2 (AVX2+FMA+F16C), avxvnni (avx2 with VEX
// VPDPBUSD) and avx512 (AVX-512 F/BW/VL/DQ with VNNI). The best level the
// CPU has is chosen once at start-up. VALUEEXP_CPU=generic|avx2|avxvnni|
// avx512|auto picks another (a level the CPU lacks gives a warning on
// stderr and the best one; an unknown name sets Err), VALUEEXP_NOSIMD=1
// means generic, SIMD names the active level and AvailableLevels lists
// them. On arm64 the levels are neon (Advanced SIMD, which every arm64 CPU
// has: the F32, F16 and BF16 dots and the Q8_0, Q4_0, Q5_0, Q4_K and Q6_K
// dots on widening multiplies) and neon-dotprod (those quantized dots on
// SDOT, for CPUs with the dot-product extension, such as Apple M1 and
// later). Every level computes the same bits wherever a kernel's comment
// says its summation order is defined; the others (F32, F16, BF16 dots)
// agree up to float32 rounding. The generic kernels round every float32
// product before adding it, so that Go cannot fuse them into FMA on some
// architectures and not others: they give the same bits on every machine.
//
// The levels differ in the matrix products (MatMulQ8, MatMulQ8K): avxvnni
// and avx512 form the 8-bit tiles' integer sums with VPDPBUSD (avx512 two
// weight rows per 512-bit register), avx512 also multiplies Q4_K and Q6_K
// prefill batches with VPDPWSSD tiles and F16/BF16 prefill batches on
// 512-bit FMAs (a register holding two of the AVX2 dot's accumulators), and
// every level runs decode-sized Q8_0/Q4_0/Q5_0 batches four weight rows per
// pass, prefetching the next rows itself. All of them keep the single dot's
// per-block float arithmetic, so the bits do not depend on the level. AVX512-BF16's VDPBF16PS is not used: it rounds the activations to
// bfloat16, which would change BF16 results from the other levels'.
//
// The quantized kernels follow llama.cpp: weights in Q4_0, Q5_0 and Q8_0 are
// multiplied against the activation quantized to Q8_0, Q4_1 and Q5_1 against
// Q8_1, and the K-quants (Q2_K..Q6_K) against Q8_K. Blocks are summed
// exactly in integers; for Q8_0, Q4_0, Q5_0, Q4_1, Q5_1, Q4_K and Q6_K the
// float32 arithmetic after that (eight lane accumulators, ggml's reduction
// order) is also ggml's AVX2 arithmetic, in both implementations. Q2_K,
// Q3_K and Q5_K agree with ggml up to the order of float32 additions. The activation
// quantizers reproduce, bit for bit, the ones ggml runs on an AVX2 machine
// (see QuantizeQ8_0), so an engine built on them rounds its activations the
// way llama.cpp does. RMSNorm, SiLU, SwiGLU and Softmax likewise follow
// ggml's AVX2 arithmetic (its exp approximation and summation order); on
// llama.cpp's reference tensors RMSNorm, SiLU and SwiGLU are bit-identical.
//
// DotF32, DotF16 and DotBF16 keep four accumulators for speed. llama.cpp's
// F16 matmul (llamafile's tinyBLAS) uses one, so their results can differ
// from its in the last bits.
//
// All kernels are pure functions of their arguments and safe to call from
// many goroutines at once.
//
// Kernels take raw slices. Lengths that do not fit (mismatched operands, a
// byte slice too short for n elements, n not a multiple of the block size)
// are programming errors and panic with a message naming the kernel; they
// never read or write out of bounds.
package kernels
