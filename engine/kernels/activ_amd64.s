//go:build amd64

#include "textflag.h"

// Constants of ggml's AVX2 exp (see ggmlExp in activ.go), each repeated in
// eight lanes so instructions can take them as memory operands.
// gexpShift: 1.5*2^23: adding it rounds to an integer
DATA gexpShift<>+0(SB)/4, $0x4b400000
DATA gexpShift<>+4(SB)/4, $0x4b400000
DATA gexpShift<>+8(SB)/4, $0x4b400000
DATA gexpShift<>+12(SB)/4, $0x4b400000
DATA gexpShift<>+16(SB)/4, $0x4b400000
DATA gexpShift<>+20(SB)/4, $0x4b400000
DATA gexpShift<>+24(SB)/4, $0x4b400000
DATA gexpShift<>+28(SB)/4, $0x4b400000
GLOBL gexpShift<>(SB), RODATA|NOPTR, $32
// gexpLog2e: 1/ln 2
DATA gexpLog2e<>+0(SB)/4, $0x3fb8aa3b
DATA gexpLog2e<>+4(SB)/4, $0x3fb8aa3b
DATA gexpLog2e<>+8(SB)/4, $0x3fb8aa3b
DATA gexpLog2e<>+12(SB)/4, $0x3fb8aa3b
DATA gexpLog2e<>+16(SB)/4, $0x3fb8aa3b
DATA gexpLog2e<>+20(SB)/4, $0x3fb8aa3b
DATA gexpLog2e<>+24(SB)/4, $0x3fb8aa3b
DATA gexpLog2e<>+28(SB)/4, $0x3fb8aa3b
GLOBL gexpLog2e<>(SB), RODATA|NOPTR, $32
// gexpLn2Hi: ln 2 in two parts
DATA gexpLn2Hi<>+0(SB)/4, $0x3f317200
DATA gexpLn2Hi<>+4(SB)/4, $0x3f317200
DATA gexpLn2Hi<>+8(SB)/4, $0x3f317200
DATA gexpLn2Hi<>+12(SB)/4, $0x3f317200
DATA gexpLn2Hi<>+16(SB)/4, $0x3f317200
DATA gexpLn2Hi<>+20(SB)/4, $0x3f317200
DATA gexpLn2Hi<>+24(SB)/4, $0x3f317200
DATA gexpLn2Hi<>+28(SB)/4, $0x3f317200
GLOBL gexpLn2Hi<>(SB), RODATA|NOPTR, $32
DATA gexpLn2Lo<>+0(SB)/4, $0x35bfbe8e
DATA gexpLn2Lo<>+4(SB)/4, $0x35bfbe8e
DATA gexpLn2Lo<>+8(SB)/4, $0x35bfbe8e
DATA gexpLn2Lo<>+12(SB)/4, $0x35bfbe8e
DATA gexpLn2Lo<>+16(SB)/4, $0x35bfbe8e
DATA gexpLn2Lo<>+20(SB)/4, $0x35bfbe8e
DATA gexpLn2Lo<>+24(SB)/4, $0x35bfbe8e
DATA gexpLn2Lo<>+28(SB)/4, $0x35bfbe8e
GLOBL gexpLn2Lo<>(SB), RODATA|NOPTR, $32
// gexpP0: polynomial coefficients
DATA gexpP0<>+0(SB)/4, $0x3c072010
DATA gexpP0<>+4(SB)/4, $0x3c072010
DATA gexpP0<>+8(SB)/4, $0x3c072010
DATA gexpP0<>+12(SB)/4, $0x3c072010
DATA gexpP0<>+16(SB)/4, $0x3c072010
DATA gexpP0<>+20(SB)/4, $0x3c072010
DATA gexpP0<>+24(SB)/4, $0x3c072010
DATA gexpP0<>+28(SB)/4, $0x3c072010
GLOBL gexpP0<>(SB), RODATA|NOPTR, $32
DATA gexpP1<>+0(SB)/4, $0x3d2b9f17
DATA gexpP1<>+4(SB)/4, $0x3d2b9f17
DATA gexpP1<>+8(SB)/4, $0x3d2b9f17
DATA gexpP1<>+12(SB)/4, $0x3d2b9f17
DATA gexpP1<>+16(SB)/4, $0x3d2b9f17
DATA gexpP1<>+20(SB)/4, $0x3d2b9f17
DATA gexpP1<>+24(SB)/4, $0x3d2b9f17
DATA gexpP1<>+28(SB)/4, $0x3d2b9f17
GLOBL gexpP1<>(SB), RODATA|NOPTR, $32
DATA gexpP2<>+0(SB)/4, $0x3e2aaf33
DATA gexpP2<>+4(SB)/4, $0x3e2aaf33
DATA gexpP2<>+8(SB)/4, $0x3e2aaf33
DATA gexpP2<>+12(SB)/4, $0x3e2aaf33
DATA gexpP2<>+16(SB)/4, $0x3e2aaf33
DATA gexpP2<>+20(SB)/4, $0x3e2aaf33
DATA gexpP2<>+24(SB)/4, $0x3e2aaf33
DATA gexpP2<>+28(SB)/4, $0x3e2aaf33
GLOBL gexpP2<>(SB), RODATA|NOPTR, $32
DATA gexpP3<>+0(SB)/4, $0x3efffedb
DATA gexpP3<>+4(SB)/4, $0x3efffedb
DATA gexpP3<>+8(SB)/4, $0x3efffedb
DATA gexpP3<>+12(SB)/4, $0x3efffedb
DATA gexpP3<>+16(SB)/4, $0x3efffedb
DATA gexpP3<>+20(SB)/4, $0x3efffedb
DATA gexpP3<>+24(SB)/4, $0x3efffedb
DATA gexpP3<>+28(SB)/4, $0x3efffedb
GLOBL gexpP3<>(SB), RODATA|NOPTR, $32
DATA gexpP4<>+0(SB)/4, $0x3f7ffff6
DATA gexpP4<>+4(SB)/4, $0x3f7ffff6
DATA gexpP4<>+8(SB)/4, $0x3f7ffff6
DATA gexpP4<>+12(SB)/4, $0x3f7ffff6
DATA gexpP4<>+16(SB)/4, $0x3f7ffff6
DATA gexpP4<>+20(SB)/4, $0x3f7ffff6
DATA gexpP4<>+24(SB)/4, $0x3f7ffff6
DATA gexpP4<>+28(SB)/4, $0x3f7ffff6
GLOBL gexpP4<>(SB), RODATA|NOPTR, $32
DATA gexpOne<>+0(SB)/4, $0x3f800000
DATA gexpOne<>+4(SB)/4, $0x3f800000
DATA gexpOne<>+8(SB)/4, $0x3f800000
DATA gexpOne<>+12(SB)/4, $0x3f800000
DATA gexpOne<>+16(SB)/4, $0x3f800000
DATA gexpOne<>+20(SB)/4, $0x3f800000
DATA gexpOne<>+24(SB)/4, $0x3f800000
DATA gexpOne<>+28(SB)/4, $0x3f800000
GLOBL gexpOne<>(SB), RODATA|NOPTR, $32
DATA gexpAbs<>+0(SB)/4, $0x7fffffff
DATA gexpAbs<>+4(SB)/4, $0x7fffffff
DATA gexpAbs<>+8(SB)/4, $0x7fffffff
DATA gexpAbs<>+12(SB)/4, $0x7fffffff
DATA gexpAbs<>+16(SB)/4, $0x7fffffff
DATA gexpAbs<>+20(SB)/4, $0x7fffffff
DATA gexpAbs<>+24(SB)/4, $0x7fffffff
DATA gexpAbs<>+28(SB)/4, $0x7fffffff
GLOBL gexpAbs<>(SB), RODATA|NOPTR, $32
// gexp126: beyond |n| = 126, 2^n needs the scaled path
DATA gexp126<>+0(SB)/4, $0x42fc0000
DATA gexp126<>+4(SB)/4, $0x42fc0000
DATA gexp126<>+8(SB)/4, $0x42fc0000
DATA gexp126<>+12(SB)/4, $0x42fc0000
DATA gexp126<>+16(SB)/4, $0x42fc0000
DATA gexp126<>+20(SB)/4, $0x42fc0000
DATA gexp126<>+24(SB)/4, $0x42fc0000
DATA gexp126<>+28(SB)/4, $0x42fc0000
GLOBL gexp126<>(SB), RODATA|NOPTR, $32
// gexp192: beyond |n| = 192 the result is 0 or +inf
DATA gexp192<>+0(SB)/4, $0x43400000
DATA gexp192<>+4(SB)/4, $0x43400000
DATA gexp192<>+8(SB)/4, $0x43400000
DATA gexp192<>+12(SB)/4, $0x43400000
DATA gexp192<>+16(SB)/4, $0x43400000
DATA gexp192<>+20(SB)/4, $0x43400000
DATA gexp192<>+24(SB)/4, $0x43400000
DATA gexp192<>+28(SB)/4, $0x43400000
GLOBL gexp192<>(SB), RODATA|NOPTR, $32
DATA gexpG<>+0(SB)/4, $0x82000000
DATA gexpG<>+4(SB)/4, $0x82000000
DATA gexpG<>+8(SB)/4, $0x82000000
DATA gexpG<>+12(SB)/4, $0x82000000
DATA gexpG<>+16(SB)/4, $0x82000000
DATA gexpG<>+20(SB)/4, $0x82000000
DATA gexpG<>+24(SB)/4, $0x82000000
DATA gexpG<>+28(SB)/4, $0x82000000
GLOBL gexpG<>(SB), RODATA|NOPTR, $32
DATA gexpS1<>+0(SB)/4, $0x7f000000
DATA gexpS1<>+4(SB)/4, $0x7f000000
DATA gexpS1<>+8(SB)/4, $0x7f000000
DATA gexpS1<>+12(SB)/4, $0x7f000000
DATA gexpS1<>+16(SB)/4, $0x7f000000
DATA gexpS1<>+20(SB)/4, $0x7f000000
DATA gexpS1<>+24(SB)/4, $0x7f000000
DATA gexpS1<>+28(SB)/4, $0x7f000000
GLOBL gexpS1<>(SB), RODATA|NOPTR, $32

// GEXP(done) replaces the eight floats in Y0 with ggmlExp of each (see
// activ.go), bit for bit. It uses Y1-Y3 and Y9-Y13; done is a label name
// unique to the calling function. The scaled path for |n| > 126 is taken
// only when some lane needs it.
#define GEXP(done) \
	VMOVUPS      gexpShift<>(SB), Y1       \
	VFMADD231PS  gexpLog2e<>(SB), Y0, Y1   \
	VSUBPS       gexpShift<>(SB), Y1, Y2   \
	VMOVAPS      Y0, Y3                    \
	VFNMADD231PS gexpLn2Hi<>(SB), Y2, Y3   \
	VFNMADD231PS gexpLn2Lo<>(SB), Y2, Y3   \
	VPSLLD       $23, Y1, Y1               \
	VPADDD       gexpOne<>(SB), Y1, Y10    \
	VANDPS       gexpAbs<>(SB), Y2, Y11    \
	VCMPPS       $0x1e, gexp126<>(SB), Y11, Y11 \
	VMULPS       Y3, Y3, Y9                \
	VMOVUPS      gexpP0<>(SB), Y0          \
	VFMADD213PS  gexpP1<>(SB), Y3, Y0      \
	VMOVUPS      gexpP2<>(SB), Y12         \
	VFMADD213PS  gexpP3<>(SB), Y3, Y12     \
	VFMADD213PS  Y12, Y9, Y0               \
	VMULPS       gexpP4<>(SB), Y3, Y12     \
	VFMADD213PS  Y12, Y9, Y0               \
	VMOVAPS      Y10, Y13                  \
	VFMADD231PS  Y0, Y10, Y13              \
	VMOVMSKPS    Y11, AX                   \
	TESTL        AX, AX                    \
	JZ           done                      \
	VXORPS       Y9, Y9, Y9                \
	VCMPPS       $2, Y9, Y2, Y9            \
	VANDPS       gexpG<>(SB), Y9, Y9       \
	VPADDD       gexpS1<>(SB), Y9, Y12     \
	VPSUBD       Y9, Y1, Y1                \
	VANDPS       gexpAbs<>(SB), Y2, Y2     \
	VCMPPS       $0x1e, gexp192<>(SB), Y2, Y2 \
	VFMADD231PS  Y0, Y1, Y1                \
	VMULPS       Y12, Y1, Y1               \
	VMULPS       Y12, Y12, Y12             \
	VBLENDVPS    Y11, Y1, Y13, Y13         \
	VBLENDVPS    Y2, Y12, Y13, Y13         \
done:                                      \
	VMOVAPS      Y13, Y0

// SILU(done) puts Y4/(1+exp(0-Y4)) in Y0, as ggml_v_silu; Y5 must be zero.
#define SILU(done) \
	VSUBPS Y4, Y5, Y0           \
	GEXP(done)                  \
	VADDPS gexpOne<>(SB), Y0, Y0 \
	VDIVPS Y0, Y4, Y0

// func siluAVX(dst, x *float32, n int), n a multiple of 8
TEXT ·siluAVX(SB), NOSPLIT, $0-24
	MOVQ   dst+0(FP), DI
	MOVQ   x+8(FP), SI
	MOVQ   n+16(FP), CX
	VXORPS Y5, Y5, Y5
	SHRQ   $3, CX
	JZ     silu_done

silu_loop:
	VMOVUPS (SI), Y4
	SILU(silu_exp_done)
	VMOVUPS Y0, (DI)
	ADDQ    $32, SI
	ADDQ    $32, DI
	DECQ    CX
	JNZ     silu_loop

silu_done:
	VZEROUPPER
	RET

// func swigluAVX(dst, gate, up *float32, n int), n a multiple of 8
TEXT ·swigluAVX(SB), NOSPLIT, $0-32
	MOVQ   dst+0(FP), DI
	MOVQ   gate+8(FP), SI
	MOVQ   up+16(FP), DX
	MOVQ   n+24(FP), CX
	VXORPS Y5, Y5, Y5
	SHRQ   $3, CX
	JZ     swiglu_done

swiglu_loop:
	VMOVUPS (SI), Y4
	SILU(swiglu_exp_done)
	VMULPS  (DX), Y0, Y0
	VMOVUPS Y0, (DI)
	ADDQ    $32, SI
	ADDQ    $32, DX
	ADDQ    $32, DI
	DECQ    CX
	JNZ     swiglu_loop

swiglu_done:
	VZEROUPPER
	RET

// func expSubSumAVX(x *float32, n int, m float32) float64, n a multiple of 8
// Replaces x[i] with exp(x[i]-m) and returns the sum of the results the way
// ggml_vec_soft_max_f32 forms it: each group of eight is added in float32
// as ((v0+v4)+(v2+v6)) + ((v1+v5)+(v3+v7)), then to a float64 total.
TEXT ·expSubSumAVX(SB), NOSPLIT, $0-32
	MOVQ         x+0(FP), SI
	MOVQ         n+8(FP), CX
	VBROADCASTSS m+16(FP), Y6
	VXORPD       X7, X7, X7
	SHRQ         $3, CX
	JZ           ess_done

ess_loop:
	VMOVUPS      (SI), Y0
	VSUBPS       Y6, Y0, Y0
	GEXP(ess_exp_done)
	VMOVUPS      Y0, (SI)
	VEXTRACTF128 $1, Y0, X1
	VADDPS       X0, X1, X1
	VMOVHLPS     X1, X1, X2
	VADDPS       X2, X1, X1
	VMOVSHDUP    X1, X2
	VADDSS       X2, X1, X1
	VCVTSS2SD    X1, X1, X1
	VADDSD       X1, X7, X7
	ADDQ         $32, SI
	DECQ         CX
	JNZ          ess_loop

ess_done:
	VZEROUPPER
	VMOVSD       X7, ret+24(FP)
	RET

// func maxF32AVX(x *float32, n int) float32, n a positive multiple of 8
TEXT ·maxF32AVX(SB), NOSPLIT, $0-20
	MOVQ    x+0(FP), SI
	MOVQ    n+8(FP), CX
	VMOVUPS (SI), Y0
	SHRQ    $3, CX

max_loop:
	VMAXPS (SI), Y0, Y0
	ADDQ   $32, SI
	DECQ   CX
	JNZ    max_loop

	VEXTRACTF128 $1, Y0, X1
	VMAXPS       X1, X0, X0
	VPERMILPS    $0x4e, X0, X1
	VMAXPS       X1, X0, X0
	VPERMILPS    $0xb1, X0, X1
	VMAXPS       X1, X0, X0
	VZEROUPPER
	VMOVSS        X0, ret+16(FP)
	RET

// func sumSquaresAVX(x *float32, n int) float64, n a multiple of 8
// Squares in float32, sums in float64, as ggml's rms_norm does.
TEXT ·sumSquaresAVX(SB), NOSPLIT, $0-24
	MOVQ   x+0(FP), SI
	MOVQ   n+8(FP), CX
	VXORPD Y7, Y7, Y7
	VXORPD Y8, Y8, Y8
	SHRQ   $3, CX
	JZ     ssq_done

ssq_loop:
	VMOVUPS      (SI), Y0
	VMULPS       Y0, Y0, Y0
	VCVTPS2PD    X0, Y1
	VADDPD       Y1, Y7, Y7
	VEXTRACTF128 $1, Y0, X0
	VCVTPS2PD    X0, Y1
	VADDPD       Y1, Y8, Y8
	ADDQ         $32, SI
	DECQ         CX
	JNZ          ssq_loop

ssq_done:
	VADDPD       Y8, Y7, Y7
	VEXTRACTF128 $1, Y7, X8
	VADDPD       X8, X7, X7
	VHADDPD      X7, X7, X7
	VZEROUPPER
	VMOVSD        X7, ret+16(FP)
	RET

// func scaleMulAVX(dst, x, w *float32, s float32, n int), n a multiple of 8
// dst = (x*s)*w, rounding after each product like ggml's separate ops.
TEXT ·scaleMulAVX(SB), NOSPLIT, $0-40
	MOVQ         dst+0(FP), DI
	MOVQ         x+8(FP), SI
	MOVQ         w+16(FP), DX
	VBROADCASTSS s+24(FP), Y6
	MOVQ         n+32(FP), CX
	SHRQ         $3, CX
	JZ           sm_done

sm_loop:
	VMULPS  (SI), Y6, Y0
	VMULPS  (DX), Y0, Y0
	VMOVUPS Y0, (DI)
	ADDQ    $32, SI
	ADDQ    $32, DX
	ADDQ    $32, DI
	DECQ    CX
	JNZ     sm_loop

sm_done:
	VZEROUPPER
	RET
