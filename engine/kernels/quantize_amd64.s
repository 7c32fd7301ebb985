//go:build amd64

#include "textflag.h"

// Dword order that undoes the lane interleaving of VPACKSSDW + VPACKSSWB.
DATA packOrder<>+0(SB)/4, $0
DATA packOrder<>+4(SB)/4, $4
DATA packOrder<>+8(SB)/4, $1
DATA packOrder<>+12(SB)/4, $5
DATA packOrder<>+16(SB)/4, $2
DATA packOrder<>+20(SB)/4, $6
DATA packOrder<>+24(SB)/4, $3
DATA packOrder<>+28(SB)/4, $7
GLOBL packOrder<>(SB), RODATA|NOPTR, $32

// Q8SETUP: Y15 = abs mask, X14 = 127.0, X13 = 0, Y12 = pack order.
#define Q8SETUP \
	VPCMPEQD     Y15, Y15, Y15        \
	VPSRLD       $1, Y15, Y15         \
	MOVL         $0x42fe0000, AX      \
	VMOVD        AX, X14              \
	VXORPS       X13, X13, X13        \
	VMOVDQU      packOrder<>(SB), Y12

// Q8BLOCK quantizes the 32 floats at (SI) as ggml's AVX2 quantize_row_q8_0:
// d = amax/127 in X5, multiplier 127/amax (0 for an all-zero block), round
// half to even. Leaves the int32 values in Y0..Y3 and the 32 packed int8
// values, in element order, in Y8.
#define Q8BLOCK \
	VMOVUPS      (SI), Y0             \
	VMOVUPS      32(SI), Y1           \
	VMOVUPS      64(SI), Y2           \
	VMOVUPS      96(SI), Y3           \
	VANDPS       Y15, Y0, Y4          \
	VANDPS       Y15, Y1, Y5          \
	VANDPS       Y15, Y2, Y6          \
	VANDPS       Y15, Y3, Y7          \
	VMAXPS       Y5, Y4, Y4           \
	VMAXPS       Y7, Y6, Y6           \
	VMAXPS       Y6, Y4, Y4           \
	VEXTRACTF128 $1, Y4, X5           \
	VMAXPS       X5, X4, X4           \
	VPERMILPS    $0x4e, X4, X5        \
	VMAXPS       X5, X4, X4           \
	VPERMILPS    $0xb1, X4, X5        \
	VMAXPS       X5, X4, X4           \
	VDIVSS       X14, X4, X5          \
	VDIVSS       X4, X14, X6          \
	VCMPSS       $4, X13, X4, X7      \
	VANDPS       X7, X6, X6           \
	VBROADCASTSS X6, Y6               \
	VMULPS       Y6, Y0, Y0           \
	VMULPS       Y6, Y1, Y1           \
	VMULPS       Y6, Y2, Y2           \
	VMULPS       Y6, Y3, Y3           \
	VROUNDPS     $0, Y0, Y0           \
	VROUNDPS     $0, Y1, Y1           \
	VROUNDPS     $0, Y2, Y2           \
	VROUNDPS     $0, Y3, Y3           \
	VCVTPS2DQ    Y0, Y0               \
	VCVTPS2DQ    Y1, Y1               \
	VCVTPS2DQ    Y2, Y2               \
	VCVTPS2DQ    Y3, Y3               \
	VPACKSSDW    Y1, Y0, Y8           \
	VPACKSSDW    Y3, Y2, Y9           \
	VPACKSSWB    Y9, Y8, Y8           \
	VPERMD       Y8, Y12, Y8

// func quantizeQ8_0AVX(dst *byte, x *float32, nb int)
TEXT ·quantizeQ8_0AVX(SB), NOSPLIT, $0-24
	MOVQ dst+0(FP), DI
	MOVQ x+8(FP), SI
	MOVQ nb+16(FP), CX
	Q8SETUP
	TESTQ CX, CX
	JZ    q80qdone

q80qloop:
	Q8BLOCK
	VCVTPS2PH $0, X5, X5
	VMOVD     X5, AX
	MOVW      AX, (DI)
	VMOVDQU   Y8, 2(DI)
	ADDQ      $128, SI
	ADDQ      $34, DI
	DECQ      CX
	JNZ       q80qloop

q80qdone:
	VZEROUPPER
	RET

// func quantizeQ8_1AVX(dst *byte, x *float32, nb int)
// As Q8_0, plus s = fp16(d * sum(q)) after d.
TEXT ·quantizeQ8_1AVX(SB), NOSPLIT, $0-24
	MOVQ dst+0(FP), DI
	MOVQ x+8(FP), SI
	MOVQ nb+16(FP), CX
	Q8SETUP
	TESTQ CX, CX
	JZ    q81qdone

q81qloop:
	Q8BLOCK
	VPADDD       Y1, Y0, Y0
	VPADDD       Y3, Y2, Y2
	VPADDD       Y2, Y0, Y0
	VEXTRACTI128 $1, Y0, X1
	VPADDD       X1, X0, X0
	VPHADDD      X0, X0, X0
	VPHADDD      X0, X0, X0
	VCVTDQ2PS    X0, X0
	VMULSS       X5, X0, X0
	VCVTPS2PH    $0, X5, X5
	VMOVD        X5, AX
	MOVW         AX, (DI)
	VCVTPS2PH    $0, X0, X0
	VMOVD        X0, AX
	MOVW         AX, 2(DI)
	VMOVDQU      Y8, 4(DI)
	ADDQ         $128, SI
	ADDQ         $36, DI
	DECQ         CX
	JNZ          q81qloop

q81qdone:
	VZEROUPPER
	RET

// func minMaxAVX(x *float32, n int) (lo, hi float32), n a positive multiple of 8
TEXT ·minMaxAVX(SB), NOSPLIT, $0-24
	MOVQ    x+0(FP), SI
	MOVQ    n+8(FP), CX
	VMOVUPS (SI), Y0
	VMOVAPS Y0, Y1
	SHRQ    $3, CX

mm_loop:
	VMOVUPS (SI), Y2
	VMINPS  Y2, Y0, Y0
	VMAXPS  Y2, Y1, Y1
	ADDQ    $32, SI
	DECQ    CX
	JNZ     mm_loop

	VEXTRACTF128 $1, Y0, X2
	VMINPS       X2, X0, X0
	VPERMILPS    $0x4e, X0, X2
	VMINPS       X2, X0, X0
	VPERMILPS    $0xb1, X0, X2
	VMINPS       X2, X0, X0
	VEXTRACTF128 $1, Y1, X2
	VMAXPS       X2, X1, X1
	VPERMILPS    $0x4e, X1, X2
	VMAXPS       X2, X1, X1
	VPERMILPS    $0xb1, X1, X2
	VMAXPS       X2, X1, X1
	VZEROUPPER
	VMOVSS        X0, lo+16(FP)
	VMOVSS        X1, hi+20(FP)
	RET

// func quantizeQ8_KBlockAVX(dst *byte, x *float32, iscale float32)
// Fills the 256 values and 16 sums of one Q8_K block (dst points at the
// block's first byte; d is written by the caller): q = min(127,
// nearest(iscale*x)), nearest rounding half to even like ggml's nearest_int.
TEXT ·quantizeQ8_KBlockAVX(SB), NOSPLIT, $0-20
	MOVQ         dst+0(FP), DI
	MOVQ         x+8(FP), SI
	VBROADCASTSS iscale+16(FP), Y6
	MOVL         $127, AX
	VMOVD        AX, X7
	VPBROADCASTD X7, Y7
	VMOVDQU      packOrder<>(SB), Y12
	VPCMPEQW     Y13, Y13, Y13
	VPSRLW       $15, Y13, Y13        // int16 ones
	VPACKUSWB    Y13, Y13, Y14        // uint8 ones
	MOVQ         $8, CX
	LEAQ         4(DI), DX            // values
	LEAQ         260(DI), BX          // sums

q8kloop:
	VMULPS       (SI), Y6, Y0
	VMULPS       32(SI), Y6, Y1
	VMULPS       64(SI), Y6, Y2
	VMULPS       96(SI), Y6, Y3
	VROUNDPS     $0, Y0, Y0
	VROUNDPS     $0, Y1, Y1
	VROUNDPS     $0, Y2, Y2
	VROUNDPS     $0, Y3, Y3
	VCVTPS2DQ    Y0, Y0
	VCVTPS2DQ    Y1, Y1
	VCVTPS2DQ    Y2, Y2
	VCVTPS2DQ    Y3, Y3
	VPMINSD      Y7, Y0, Y0
	VPMINSD      Y7, Y1, Y1
	VPMINSD      Y7, Y2, Y2
	VPMINSD      Y7, Y3, Y3
	VPACKSSDW    Y1, Y0, Y8
	VPACKSSDW    Y3, Y2, Y9
	VPACKSSWB    Y9, Y8, Y8
	VPERMD       Y8, Y12, Y8
	VMOVDQU      Y8, (DX)
	VPMADDUBSW   Y8, Y14, Y9          // pairs
	VPMADDWD     Y13, Y9, Y9          // quads
	VPHADDD      Y9, Y9, Y9
	VPHADDD      Y9, Y9, Y9           // lane 0: sum of 16, lane 1: next 16
	VMOVD        X9, AX
	MOVW         AX, (BX)
	VEXTRACTI128 $1, Y9, X9
	VMOVD        X9, AX
	MOVW         AX, 2(BX)
	ADDQ         $128, SI
	ADDQ         $32, DX
	ADDQ         $4, BX
	DECQ         CX
	JNZ          q8kloop

	VZEROUPPER
	RET
