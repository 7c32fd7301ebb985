//go:build amd64

#include "textflag.h"

// Constants for EXP, each repeated in eight lanes so FMAs can take them as
// memory operands.
// expHi: ln(FLT_MAX), rounded down: the upper clamp
DATA expHi<>+0(SB)/4, $0x42b17217
DATA expHi<>+4(SB)/4, $0x42b17217
DATA expHi<>+8(SB)/4, $0x42b17217
DATA expHi<>+12(SB)/4, $0x42b17217
DATA expHi<>+16(SB)/4, $0x42b17217
DATA expHi<>+20(SB)/4, $0x42b17217
DATA expHi<>+24(SB)/4, $0x42b17217
DATA expHi<>+28(SB)/4, $0x42b17217
GLOBL expHi<>(SB), RODATA|NOPTR, $32
// expInf: exp of anything above ln(FLT_MAX) overflows to +inf, as expf does
DATA expInf<>+0(SB)/4, $0x7f800000
DATA expInf<>+4(SB)/4, $0x7f800000
DATA expInf<>+8(SB)/4, $0x7f800000
DATA expInf<>+12(SB)/4, $0x7f800000
DATA expInf<>+16(SB)/4, $0x7f800000
DATA expInf<>+20(SB)/4, $0x7f800000
DATA expInf<>+24(SB)/4, $0x7f800000
DATA expInf<>+28(SB)/4, $0x7f800000
GLOBL expInf<>(SB), RODATA|NOPTR, $32
// expLo: below this exp flushes to 0 (the true value is under 2.7e-38)
DATA expLo<>+0(SB)/4, $0xc2ad0000
DATA expLo<>+4(SB)/4, $0xc2ad0000
DATA expLo<>+8(SB)/4, $0xc2ad0000
DATA expLo<>+12(SB)/4, $0xc2ad0000
DATA expLo<>+16(SB)/4, $0xc2ad0000
DATA expLo<>+20(SB)/4, $0xc2ad0000
DATA expLo<>+24(SB)/4, $0xc2ad0000
DATA expLo<>+28(SB)/4, $0xc2ad0000
GLOBL expLo<>(SB), RODATA|NOPTR, $32
// expLog2e: log2(e)
DATA expLog2e<>+0(SB)/4, $0x3fb8aa3b
DATA expLog2e<>+4(SB)/4, $0x3fb8aa3b
DATA expLog2e<>+8(SB)/4, $0x3fb8aa3b
DATA expLog2e<>+12(SB)/4, $0x3fb8aa3b
DATA expLog2e<>+16(SB)/4, $0x3fb8aa3b
DATA expLog2e<>+20(SB)/4, $0x3fb8aa3b
DATA expLog2e<>+24(SB)/4, $0x3fb8aa3b
DATA expLog2e<>+28(SB)/4, $0x3fb8aa3b
GLOBL expLog2e<>(SB), RODATA|NOPTR, $32
// expLn2Hi: ln 2 split so that n*ln2Hi is exact
DATA expLn2Hi<>+0(SB)/4, $0x3f318000
DATA expLn2Hi<>+4(SB)/4, $0x3f318000
DATA expLn2Hi<>+8(SB)/4, $0x3f318000
DATA expLn2Hi<>+12(SB)/4, $0x3f318000
DATA expLn2Hi<>+16(SB)/4, $0x3f318000
DATA expLn2Hi<>+20(SB)/4, $0x3f318000
DATA expLn2Hi<>+24(SB)/4, $0x3f318000
DATA expLn2Hi<>+28(SB)/4, $0x3f318000
GLOBL expLn2Hi<>(SB), RODATA|NOPTR, $32
DATA expLn2Lo<>+0(SB)/4, $0xb95e8083
DATA expLn2Lo<>+4(SB)/4, $0xb95e8083
DATA expLn2Lo<>+8(SB)/4, $0xb95e8083
DATA expLn2Lo<>+12(SB)/4, $0xb95e8083
DATA expLn2Lo<>+16(SB)/4, $0xb95e8083
DATA expLn2Lo<>+20(SB)/4, $0xb95e8083
DATA expLn2Lo<>+24(SB)/4, $0xb95e8083
DATA expLn2Lo<>+28(SB)/4, $0xb95e8083
GLOBL expLn2Lo<>(SB), RODATA|NOPTR, $32
// expC7: Taylor coefficients 1/k! of exp(r), |r| <= ln(2)/2
DATA expC7<>+0(SB)/4, $0x39500d01
DATA expC7<>+4(SB)/4, $0x39500d01
DATA expC7<>+8(SB)/4, $0x39500d01
DATA expC7<>+12(SB)/4, $0x39500d01
DATA expC7<>+16(SB)/4, $0x39500d01
DATA expC7<>+20(SB)/4, $0x39500d01
DATA expC7<>+24(SB)/4, $0x39500d01
DATA expC7<>+28(SB)/4, $0x39500d01
GLOBL expC7<>(SB), RODATA|NOPTR, $32
DATA expC6<>+0(SB)/4, $0x3ab60b61
DATA expC6<>+4(SB)/4, $0x3ab60b61
DATA expC6<>+8(SB)/4, $0x3ab60b61
DATA expC6<>+12(SB)/4, $0x3ab60b61
DATA expC6<>+16(SB)/4, $0x3ab60b61
DATA expC6<>+20(SB)/4, $0x3ab60b61
DATA expC6<>+24(SB)/4, $0x3ab60b61
DATA expC6<>+28(SB)/4, $0x3ab60b61
GLOBL expC6<>(SB), RODATA|NOPTR, $32
DATA expC5<>+0(SB)/4, $0x3c088889
DATA expC5<>+4(SB)/4, $0x3c088889
DATA expC5<>+8(SB)/4, $0x3c088889
DATA expC5<>+12(SB)/4, $0x3c088889
DATA expC5<>+16(SB)/4, $0x3c088889
DATA expC5<>+20(SB)/4, $0x3c088889
DATA expC5<>+24(SB)/4, $0x3c088889
DATA expC5<>+28(SB)/4, $0x3c088889
GLOBL expC5<>(SB), RODATA|NOPTR, $32
DATA expC4<>+0(SB)/4, $0x3d2aaaab
DATA expC4<>+4(SB)/4, $0x3d2aaaab
DATA expC4<>+8(SB)/4, $0x3d2aaaab
DATA expC4<>+12(SB)/4, $0x3d2aaaab
DATA expC4<>+16(SB)/4, $0x3d2aaaab
DATA expC4<>+20(SB)/4, $0x3d2aaaab
DATA expC4<>+24(SB)/4, $0x3d2aaaab
DATA expC4<>+28(SB)/4, $0x3d2aaaab
GLOBL expC4<>(SB), RODATA|NOPTR, $32
DATA expC3<>+0(SB)/4, $0x3e2aaaab
DATA expC3<>+4(SB)/4, $0x3e2aaaab
DATA expC3<>+8(SB)/4, $0x3e2aaaab
DATA expC3<>+12(SB)/4, $0x3e2aaaab
DATA expC3<>+16(SB)/4, $0x3e2aaaab
DATA expC3<>+20(SB)/4, $0x3e2aaaab
DATA expC3<>+24(SB)/4, $0x3e2aaaab
DATA expC3<>+28(SB)/4, $0x3e2aaaab
GLOBL expC3<>(SB), RODATA|NOPTR, $32
DATA expC2<>+0(SB)/4, $0x3f000000
DATA expC2<>+4(SB)/4, $0x3f000000
DATA expC2<>+8(SB)/4, $0x3f000000
DATA expC2<>+12(SB)/4, $0x3f000000
DATA expC2<>+16(SB)/4, $0x3f000000
DATA expC2<>+20(SB)/4, $0x3f000000
DATA expC2<>+24(SB)/4, $0x3f000000
DATA expC2<>+28(SB)/4, $0x3f000000
GLOBL expC2<>(SB), RODATA|NOPTR, $32
DATA expOne<>+0(SB)/4, $0x3f800000
DATA expOne<>+4(SB)/4, $0x3f800000
DATA expOne<>+8(SB)/4, $0x3f800000
DATA expOne<>+12(SB)/4, $0x3f800000
DATA expOne<>+16(SB)/4, $0x3f800000
DATA expOne<>+20(SB)/4, $0x3f800000
DATA expOne<>+24(SB)/4, $0x3f800000
DATA expOne<>+28(SB)/4, $0x3f800000
GLOBL expOne<>(SB), RODATA|NOPTR, $32
// expBias: exponent bias minus one, as int32: builds 2^(n-1)
DATA expBias<>+0(SB)/4, $0x0000007e
DATA expBias<>+4(SB)/4, $0x0000007e
DATA expBias<>+8(SB)/4, $0x0000007e
DATA expBias<>+12(SB)/4, $0x0000007e
DATA expBias<>+16(SB)/4, $0x0000007e
DATA expBias<>+20(SB)/4, $0x0000007e
DATA expBias<>+24(SB)/4, $0x0000007e
DATA expBias<>+28(SB)/4, $0x0000007e
GLOBL expBias<>(SB), RODATA|NOPTR, $32

// EXP replaces the eight floats in Y0 with exp(Y0), using Y1..Y3 and Y9.
// exp(x) = 2^n * exp(r) with n = round(x*log2 e) and r = x - n ln 2, so
// |r| <= ln(2)/2 where a degree-7 Taylor polynomial is accurate to about
// 5e-9; the result is within about 2 ulp of exp. 2^n is built as
// 2^(n-1) * 2 so that n = 128 (x near 88.7) still has an exponent field.
#define EXP \
	VCMPPS       $14, expHi<>(SB), Y0, Y9 \
	VMINPS       expHi<>(SB), Y0, Y0    \
	VCMPPS       $1, expLo<>(SB), Y0, Y3 \
	VMAXPS       expLo<>(SB), Y0, Y0    \
	VMULPS       expLog2e<>(SB), Y0, Y1 \
	VROUNDPS     $0, Y1, Y1             \
	VMOVAPS      Y0, Y2                 \
	VFNMADD231PS expLn2Hi<>(SB), Y1, Y2 \
	VFNMADD231PS expLn2Lo<>(SB), Y1, Y2 \
	VMOVUPS      expC7<>(SB), Y0        \
	VFMADD213PS  expC6<>(SB), Y2, Y0    \
	VFMADD213PS  expC5<>(SB), Y2, Y0    \
	VFMADD213PS  expC4<>(SB), Y2, Y0    \
	VFMADD213PS  expC3<>(SB), Y2, Y0    \
	VFMADD213PS  expC2<>(SB), Y2, Y0    \
	VFMADD213PS  expOne<>(SB), Y2, Y0   \
	VFMADD213PS  expOne<>(SB), Y2, Y0   \
	VCVTPS2DQ    Y1, Y1                 \
	VPADDD       expBias<>(SB), Y1, Y1  \
	VPSLLD       $23, Y1, Y1            \
	VMULPS       Y1, Y0, Y0             \
	VADDPS       Y0, Y0, Y0             \
	VANDNPS      Y0, Y3, Y0             \
	VBLENDVPS    Y9, expInf<>(SB), Y0, Y0

// SILU replaces Y4 with Y4/(1+exp(-Y4)) in Y0; Y5 must be zero.
#define SILU \
	VSUBPS Y4, Y5, Y0          \
	EXP                        \
	VADDPS expOne<>(SB), Y0, Y0 \
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
	SILU
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
	SILU
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
// Replaces x[i] with exp(x[i]-m) and returns the float64 sum of the results.
TEXT ·expSubSumAVX(SB), NOSPLIT, $0-32
	MOVQ         x+0(FP), SI
	MOVQ         n+8(FP), CX
	VBROADCASTSS m+16(FP), Y6
	VXORPD       Y7, Y7, Y7
	VXORPD       Y8, Y8, Y8
	SHRQ         $3, CX
	JZ           ess_done

ess_loop:
	VMOVUPS      (SI), Y0
	VSUBPS       Y6, Y0, Y0
	EXP
	VMOVUPS      Y0, (SI)
	VCVTPS2PD    X0, Y1
	VADDPD       Y1, Y7, Y7
	VEXTRACTF128 $1, Y0, X0
	VCVTPS2PD    X0, Y1
	VADDPD       Y1, Y8, Y8
	ADDQ         $32, SI
	DECQ         CX
	JNZ          ess_loop

ess_done:
	VADDPD       Y8, Y7, Y7
	VEXTRACTF128 $1, Y7, X8
	VADDPD       X8, X7, X7
	VHADDPD      X7, X7, X7
	VZEROUPPER
	VMOVSD        X7, ret+24(FP)
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
