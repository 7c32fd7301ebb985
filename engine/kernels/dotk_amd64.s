//go:build amd64

#include "textflag.h"

// In lane 0 repeat bytes 0,1 and in lane 1 bytes 2,3: from a broadcast
// dword holding two int16 scales, make eight copies of the first for the
// low 16 elements and eight of the second for the high 16.
DATA q6ScalePair<>+0(SB)/8, $0x0100010001000100
DATA q6ScalePair<>+8(SB)/8, $0x0100010001000100
DATA q6ScalePair<>+16(SB)/8, $0x0302030203020302
DATA q6ScalePair<>+24(SB)/8, $0x0302030203020302
GLOBL q6ScalePair<>(SB), RODATA|NOPTR, $32

#define BYTES(r, v, tmp) \
	MOVL         v, tmp    \
	VMOVD        tmp, X15  \
	VPBROADCASTD X15, r

// KSCALES unpacks the twelve bytes of 6-bit scales and mins of a Q4_K/Q5_K
// block at 4(SI) (ggml's get_scale_min_k4, four at a time in GPRs) and
// stores them zero-extended as int16: scales at 0(SP), mins at 16(SP).
#define KSCALES \
	MOVL      4(SI), R8          \
	MOVL      8(SI), R9          \
	MOVL      12(SI), R10        \
	MOVL      R10, R11           \
	SHRL      $4, R11            \
	ANDL      $0x0f0f0f0f, R11   \
	MOVL      R9, R12            \
	SHRL      $6, R12            \
	ANDL      $0x03030303, R12   \
	SHLL      $4, R12            \
	ORL       R12, R11           \
	ANDL      $0x0f0f0f0f, R10   \
	MOVL      R8, R12            \
	SHRL      $6, R12            \
	ANDL      $0x03030303, R12   \
	SHLL      $4, R12            \
	ORL       R12, R10           \
	ANDL      $0x3f3f3f3f, R9    \
	ANDL      $0x3f3f3f3f, R8    \
	SHLQ      $32, R10           \
	ORQ       R10, R8            \
	SHLQ      $32, R11           \
	ORQ       R11, R9            \
	VMOVQ     R8, X2             \
	VPINSRQ   $1, R9, X2, X2     \
	VPMOVZXBW X2, Y2             \
	VMOVDQU   Y2, 0(SP)

// KMINS adds dmin*sum_j(min_j * (bsum_2j + bsum_2j+1)) into X1 and leaves
// d (fp16 at 0(SI) times the activation's float32 scale) broadcast in Y5.
#define KMINS \
	VMOVDQU      260(DI), Y3     \
	VEXTRACTI128 $1, Y3, X4      \
	VPHADDW      X4, X3, X3      \
	VPMADDWD     16(SP), X3, X3  \
	VCVTDQ2PS    X3, X3          \
	VMOVD        (SI), X5        \
	VCVTPH2PS    X5, X5          \
	VBROADCASTSS (DI), X6        \
	VMULPS       X6, X5, X5      \
	VMOVSHDUP    X5, X6          \
	VBROADCASTSS X6, X6          \
	VFMADD231PS  X3, X6, X1      \
	VBROADCASTSS X5, Y5

// KCHUNK multiplies 64 elements, unsigned in Y3 (sub-block 2c) and Y4
// (2c+1), by the activation at a0 and a1 and adds scale-weighted sums to Y9.
#define KCHUNK(a0, a1, s0, s1) \
	VPMADDUBSW   a0(DI), Y3, Y3 \
	VPMADDUBSW   a1(DI), Y4, Y4 \
	VPBROADCASTW s0(SP), Y6     \
	VPBROADCASTW s1(SP), Y7     \
	VPMADDWD     Y6, Y3, Y3     \
	VPMADDWD     Y7, Y4, Y4     \
	VPADDD       Y3, Y9, Y9     \
	VPADDD       Y4, Y9, Y9

// Q4 nibbles of chunk c at q(SI) into Y3 (low) and Y4 (high); Y14 = 0x0F.
#define NIBBLES(q) \
	VMOVDQU q(SI), Y2    \
	VPAND   Y14, Y2, Y3  \
	VPSRLW  $4, Y2, Y4   \
	VPAND   Y14, Y4, Y4

// KFINISH scales the super-block's integer sum by d into Y0.
#define KFINISH \
	VCVTDQ2PS   Y9, Y9 \
	VFMADD231PS Y9, Y5, Y0

// KRESULT returns hsum(Y0) - hsum4(X1), both in ggml's reduction order
// (X1 holds the mins term with dmin's sign flipped relative to ggml, which
// negates it exactly).
#define KRESULT \
	VEXTRACTF128 $1, Y0, X2 \
	VADDPS       X0, X2, X2 \
	VMOVHLPS     X2, X2, X3 \
	VADDPS       X3, X2, X2 \
	VMOVSHDUP    X2, X3     \
	VADDSS       X3, X2, X0 \
	VMOVHLPS     X1, X1, X3 \
	VADDPS       X3, X1, X1 \
	VMOVSHDUP    X1, X3     \
	VADDSS       X3, X1, X1 \
	VSUBSS       X1, X0, X0 \
	VZEROUPPER

// func dotQ4_KAVX(w, a *byte, nb int) float32
TEXT ·dotQ4_KAVX(SB), NOSPLIT, $32-28
	MOVQ   w+0(FP), SI
	MOVQ   a+8(FP), DI
	MOVQ   nb+16(FP), CX
	VXORPS Y0, Y0, Y0
	VXORPS Y1, Y1, Y1
	BYTES(Y14, $0x0f0f0f0f, AX)
	TESTQ  CX, CX
	JZ     q4kdone

q4kloop:
	KSCALES
	KMINS
	VPXOR  Y9, Y9, Y9
	NIBBLES(16)
	KCHUNK(4, 36, 0, 2)
	NIBBLES(48)
	KCHUNK(68, 100, 4, 6)
	NIBBLES(80)
	KCHUNK(132, 164, 8, 10)
	NIBBLES(112)
	KCHUNK(196, 228, 12, 14)
	KFINISH
	ADDQ   $144, SI
	ADDQ   $292, DI
	DECQ   CX
	JNZ    q4kloop

q4kdone:
	KRESULT
	VMOVSS X0, ret+24(FP)
	RET

// FIFTH ORs the fifth bit of sub-block k, taken from qh in Y8, into Y3 or
// Y4 as 16: shift bit k of each byte to bit 4 (the 16-bit shifts cannot
// carry a neighbour's bit into bit 4 for these distances), mask with Y13.
#define FIFTH(shift, n, dst) \
	shift   $n, Y8, Y10   \
	VPAND   Y13, Y10, Y10 \
	VPOR    Y10, dst, dst

// func dotQ5_KAVX(w, a *byte, nb int) float32
TEXT ·dotQ5_KAVX(SB), NOSPLIT, $32-28
	MOVQ   w+0(FP), SI
	MOVQ   a+8(FP), DI
	MOVQ   nb+16(FP), CX
	VXORPS Y0, Y0, Y0
	VXORPS Y1, Y1, Y1
	BYTES(Y14, $0x0f0f0f0f, AX)
	BYTES(Y13, $0x10101010, AX)
	TESTQ  CX, CX
	JZ     q5kdone

q5kloop:
	KSCALES
	KMINS
	VPXOR   Y9, Y9, Y9
	VMOVDQU 16(SI), Y8
	NIBBLES(48)
	FIFTH(VPSLLW, 4, Y3)
	FIFTH(VPSLLW, 3, Y4)
	KCHUNK(4, 36, 0, 2)
	NIBBLES(80)
	FIFTH(VPSLLW, 2, Y3)
	FIFTH(VPSLLW, 1, Y4)
	KCHUNK(68, 100, 4, 6)
	NIBBLES(112)
	FIFTH(VPSLLW, 0, Y3)
	FIFTH(VPSRLW, 1, Y4)
	KCHUNK(132, 164, 8, 10)
	NIBBLES(144)
	FIFTH(VPSRLW, 2, Y3)
	FIFTH(VPSRLW, 3, Y4)
	KCHUNK(196, 228, 12, 14)
	KFINISH
	ADDQ    $176, SI
	ADDQ    $292, DI
	DECQ    CX
	JNZ     q5kloop

q5kdone:
	KRESULT
	VMOVSS X0, ret+24(FP)
	RET

// Q6QUARTER forms 32 unsigned 6-bit values from a nibble source (already
// shifted and masked into Y3) and qh bits (Y8 shifted so the quarter's two
// bits sit at bits 4-5, masked with Y13 = 0x30), multiplies them by the
// activation at aoff and adds the products, weighted by the two 16-element
// scales in the dword at soff(SP), to Y9.
#define Q6QUARTER(shift, n, aoff, soff) \
	shift        $n, Y8, Y10     \
	VPAND        Y13, Y10, Y10   \
	VPOR         Y10, Y3, Y3     \
	VPMADDUBSW   aoff(DI), Y3, Y3 \
	VPMADDUBSW   aoff(DI), Y15, Y10 \
	VPSUBW       Y10, Y3, Y3     \
	VPBROADCASTD soff(SP), Y6    \
	VPSHUFB      Y12, Y6, Y6     \
	VPMADDWD     Y6, Y3, Y3      \
	VPADDD       Y3, Y9, Y9

// Q6HALF handles elements 128h..128h+127: ql at ql0 and ql0+32, qh at qh.
#define Q6HALF(ql0, ql1, qh, a0, a1, a2, a3, s0, s1, s2, s3) \
	VMOVDQU ql0(SI), Y2           \
	VMOVDQU ql1(SI), Y11          \
	VMOVDQU qh(SI), Y8            \
	VPAND   Y14, Y2, Y3           \
	Q6QUARTER(VPSLLW, 4, a0, s0)  \
	VPAND   Y14, Y11, Y3          \
	Q6QUARTER(VPSLLW, 2, a1, s1)  \
	VPSRLW  $4, Y2, Y3            \
	VPAND   Y14, Y3, Y3           \
	Q6QUARTER(VPSLLW, 0, a2, s2)  \
	VPSRLW  $4, Y11, Y3           \
	VPAND   Y14, Y3, Y3           \
	Q6QUARTER(VPSRLW, 2, a3, s3)

// func dotQ6_KAVX(w, a *byte, nb int) float32
// Values are used unsigned (0..63); the offset of 32 comes off each int16
// pair sum as 32*(a0+a1) before the scales apply, as in ggml's kernel, so
// the int32 lanes hold exactly ggml's sums.
TEXT ·dotQ6_KAVX(SB), NOSPLIT, $32-28
	MOVQ    w+0(FP), SI
	MOVQ    a+8(FP), DI
	MOVQ    nb+16(FP), CX
	VXORPS  Y0, Y0, Y0
	VXORPS  Y1, Y1, Y1
	BYTES(Y14, $0x0f0f0f0f, AX)
	BYTES(Y13, $0x30303030, AX)
	BYTES(Y15, $0x20202020, AX)
	VMOVDQU q6ScalePair<>(SB), Y12
	TESTQ   CX, CX
	JZ      q6kdone

q6kloop:
	VPMOVSXBW    192(SI), Y2
	VMOVDQU      Y2, 0(SP)
	VPXOR        Y9, Y9, Y9
	Q6HALF(0, 32, 128, 4, 36, 68, 100, 0, 4, 8, 12)
	Q6HALF(64, 96, 160, 132, 164, 196, 228, 16, 20, 24, 28)
	MOVWLZX      208(SI), AX
	VMOVD        AX, X5
	VCVTPH2PS    X5, X5
	VMULSS       (DI), X5, X5
	VBROADCASTSS X5, Y5
	KFINISH
	ADDQ         $210, SI
	ADDQ         $292, DI
	DECQ         CX
	JNZ          q6kloop

q6kdone:
	KRESULT
	VMOVSS X0, ret+24(FP)
	RET

// PAIRDOT multiplies 32 unsigned values in Y3 by the activation at aoff and
// adds the products, weighted by the two int16 scales of its 16-element
// halves (the dword at soff(SP), spread by Y12), to Y9.
#define PAIRDOT(aoff, soff) \
	VPMADDUBSW   aoff(DI), Y3, Y3 \
	VPBROADCASTD soff(SP), Y6     \
	VPSHUFB      Y12, Y6, Y6      \
	VPMADDWD     Y6, Y3, Y3       \
	VPADDD       Y3, Y9, Y9

// Q2CRUMB puts the 2-bit values at bit 2j of the 32 bytes in Y2 into Y3.
#define Q2CRUMB(j) \
	VPSRLW $(2*j), Y2, Y3 \
	VPAND  Y14, Y3, Y3

// func dotQ2_KAVX(w, a *byte, nb int) float32
// Scale low nibbles weight the values; high nibbles (mins) weight the
// activation's 16-element sums and are subtracted at the end.
TEXT ·dotQ2_KAVX(SB), NOSPLIT, $32-28
	MOVQ    w+0(FP), SI
	MOVQ    a+8(FP), DI
	MOVQ    nb+16(FP), CX
	VXORPS  Y0, Y0, Y0
	VXORPS  Y1, Y1, Y1
	BYTES(Y14, $0x03030303, AX)
	BYTES(Y13, $0x000f000f, AX)
	VMOVDQU q6ScalePair<>(SB), Y12
	TESTQ   CX, CX
	JZ      q2kdone

q2kloop:
	VPMOVZXBW    (SI), Y2
	VPAND        Y13, Y2, Y3
	VMOVDQU      Y3, 0(SP)            // scales as int16
	VPSRLW       $4, Y2, Y2           // mins as int16
	VPMADDWD     260(DI), Y2, Y2
	VEXTRACTI128 $1, Y2, X3
	VPADDD       X3, X2, X2
	VCVTDQ2PS    X2, X2
	VMOVD        80(SI), X5
	VCVTPH2PS    X5, X5
	VBROADCASTSS (DI), X6
	VMULPS       X6, X5, X5           // [d*yd, dmin*yd]
	VMOVSHDUP    X5, X6
	VBROADCASTSS X6, X6
	VFMADD231PS  X2, X6, X1
	VBROADCASTSS X5, Y5
	VPXOR        Y9, Y9, Y9
	VMOVDQU      16(SI), Y2
	Q2CRUMB(0)
	PAIRDOT(4, 0)
	Q2CRUMB(1)
	PAIRDOT(36, 4)
	Q2CRUMB(2)
	PAIRDOT(68, 8)
	Q2CRUMB(3)
	PAIRDOT(100, 12)
	VMOVDQU      48(SI), Y2
	Q2CRUMB(0)
	PAIRDOT(132, 16)
	Q2CRUMB(1)
	PAIRDOT(164, 20)
	Q2CRUMB(2)
	PAIRDOT(196, 24)
	Q2CRUMB(3)
	PAIRDOT(228, 28)
	KFINISH
	ADDQ         $84, SI
	ADDQ         $292, DI
	DECQ         CX
	JNZ          q2kloop

q2kdone:
	KRESULT
	VMOVSS X0, ret+24(FP)
	RET

// Q3VALS forms 32 unsigned values 0..7 in Y3: the 2-bit value at bit 2j of
// Y2 plus 4 where hmask (Y8) has bit k set; shift moves bit k to bit 2.
#define Q3VALS(j, shift, n) \
	VPSRLW $(2*j), Y2, Y3  \
	VPAND  Y14, Y3, Y3     \
	shift  $n, Y8, Y10     \
	VPAND  Y13, Y10, Y10   \
	VPOR   Y10, Y3, Y3

// func dotQ3_KAVX(w, a *byte, nb int) float32
// Values are used unsigned (stored value + 4 when the high bit is set, so
// 0..7); the offset of 4 comes off as 4*sum_g(scale_g * bsum_g).
TEXT ·dotQ3_KAVX(SB), NOSPLIT, $32-28
	MOVQ    w+0(FP), SI
	MOVQ    a+8(FP), DI
	MOVQ    nb+16(FP), CX
	VXORPS  Y0, Y0, Y0
	VXORPS  Y1, Y1, Y1
	BYTES(Y14, $0x03030303, AX)
	BYTES(Y13, $0x04040404, AX)
	MOVL    $0x00200020, AX
	VMOVD   AX, X11
	VPBROADCASTD X11, Y11
	VMOVDQU q6ScalePair<>(SB), Y12
	TESTQ   CX, CX
	JZ      q3kdone

q3kloop:
	// Unpack the sixteen 6-bit scales (ggml's kmask shuffle) into int16 - 32.
	MOVL      96(SI), R8
	MOVL      100(SI), R9
	MOVL      104(SI), R10
	MOVL      R8, R11
	SHRL      $4, R11
	ANDL      $0x0f0f0f0f, R11
	MOVL      R10, R12
	SHRL      $4, R12
	ANDL      $0x03030303, R12
	SHLL      $4, R12
	ORL       R12, R11             // scales 8..11
	MOVL      R9, R13
	SHRL      $4, R13
	ANDL      $0x0f0f0f0f, R13
	MOVL      R10, R12
	SHRL      $6, R12
	ANDL      $0x03030303, R12
	SHLL      $4, R12
	ORL       R12, R13             // scales 12..15
	ANDL      $0x0f0f0f0f, R8
	MOVL      R10, R12
	ANDL      $0x03030303, R12
	SHLL      $4, R12
	ORL       R12, R8              // scales 0..3
	ANDL      $0x0f0f0f0f, R9
	MOVL      R10, R12
	SHRL      $2, R12
	ANDL      $0x03030303, R12
	SHLL      $4, R12
	ORL       R12, R9              // scales 4..7
	SHLQ      $32, R9
	ORQ       R9, R8
	SHLQ      $32, R13
	ORQ       R13, R11
	VMOVQ     R8, X2
	VPINSRQ   $1, R11, X2, X2
	VPMOVZXBW X2, Y2
	VPSUBW    Y11, Y2, Y2
	VMOVDQU   Y2, 0(SP)
	VPMADDWD  260(DI), Y2, Y7
	VPSLLD    $2, Y7, Y7           // 4*sum(scale*bsum)
	MOVWLZX      108(SI), AX
	VMOVD        AX, X5
	VCVTPH2PS    X5, X5
	VMULSS       (DI), X5, X5
	VBROADCASTSS X5, Y5
	VPXOR     Y9, Y9, Y9
	VMOVDQU   (SI), Y8             // hmask
	VMOVDQU   32(SI), Y2
	Q3VALS(0, VPSLLW, 2)
	PAIRDOT(4, 0)
	Q3VALS(1, VPSLLW, 1)
	PAIRDOT(36, 4)
	Q3VALS(2, VPSRLW, 0)
	PAIRDOT(68, 8)
	Q3VALS(3, VPSRLW, 1)
	PAIRDOT(100, 12)
	VMOVDQU   64(SI), Y2
	Q3VALS(0, VPSRLW, 2)
	PAIRDOT(132, 16)
	Q3VALS(1, VPSRLW, 3)
	PAIRDOT(164, 20)
	Q3VALS(2, VPSRLW, 4)
	PAIRDOT(196, 24)
	Q3VALS(3, VPSRLW, 5)
	PAIRDOT(228, 28)
	VPSUBD    Y7, Y9, Y9
	KFINISH
	ADDQ      $110, SI
	ADDQ      $292, DI
	DECQ      CX
	JNZ       q3kloop

q3kdone:
	KRESULT
	VMOVSS X0, ret+24(FP)
	RET
