// Package kernels holds the engine's hot loops: float32 dot products and
// GEMM, dot products of quantized weight rows (ggml block layouts) with
// quantized activations, and the element-wise activations and norms.
//
// Every kernel has a portable Go version and, on amd64 machines with
// AVX2+FMA+F16C, an assembly version. The choice is made once at start-up;
// setting VALUEEXP_NOSIMD=1 in the environment forces the Go versions, and
// SIMD names the active path.
//
// The quantized kernels follow llama.cpp: weights in Q4_0, Q5_0 and Q8_0 are
// multiplied against the activation quantized to Q8_0, Q4_1 and Q5_1 against
// Q8_1, and the K-quants (Q2_K..Q6_K) against Q8_K. The activation
// quantizers reproduce, bit for bit, the ones ggml runs on an AVX2 machine
// (see QuantizeQ8_0), so an engine built on them rounds its activations the
// way llama.cpp does. RMSNorm, SiLU, SwiGLU and Softmax likewise follow
// ggml's AVX2 arithmetic (its exp approximation and summation order); on
// llama.cpp's reference tensors RMSNorm, SiLU and SwiGLU are bit-identical.
//
// All kernels are pure functions of their arguments and safe to call from
// many goroutines at once.
//
// Kernels take raw slices. Lengths that do not fit (mismatched operands, a
// byte slice too short for n elements, n not a multiple of the block size)
// are programming errors and panic with a message naming the kernel; they
// never read or write out of bounds.
package kernels
