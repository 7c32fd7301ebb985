//go:build arm64

#include "textflag.h"
#include "neon_arm64.h"

// The F16 and BF16 dots over whole groups of eight elements: the halves
// at R0 are widened exactly into V4..V7 (WIDEN16, 16 at a time) or V4, V5
// (WIDEN8) and multiplied with the float32 activations with fused
// multiply-adds into four accumulators per activation row, each holding
// four lanes; REDUCE adds them up in a fixed order. The single dots run
// one activation row (R1), the four-row kernels four (R1..R4) against
// each weight vector widened once, with exactly the single dot's
// arithmetic for each. R5 counts elements.

// F16: FCVTL widens halves exactly.
#define WIDEN16_F16 \
	VLD1.P 32(R0), [V8.H8, V9.H8] \
	FCVTL(8, 4) \
	FCVTL2(8, 5) \
	FCVTL(9, 6) \
	FCVTL2(9, 7)

#define WIDEN8_F16 \
	VLD1.P 16(R0), [V8.H8] \
	FCVTL(8, 4) \
	FCVTL2(8, 5)

// BF16: a bfloat16 is the top half of a float32, so interleaving zero
// halves (V31) below the weights widens them.
#define WIDEN16_BF16 \
	VLD1.P 32(R0), [V8.H8, V9.H8] \
	VZIP1 V8.H8, V31.H8, V4.H8 \
	VZIP2 V8.H8, V31.H8, V5.H8 \
	VZIP1 V9.H8, V31.H8, V6.H8 \
	VZIP2 V9.H8, V31.H8, V7.H8

#define WIDEN8_BF16 \
	VLD1.P 16(R0), [V8.H8] \
	VZIP1 V8.H8, V31.H8, V4.H8 \
	VZIP2 V8.H8, V31.H8, V5.H8

// T16 and T8 multiply the widened weights with the next 16 or 8
// activations at RX into the row's accumulators.
#define T16(RX, A0, A1, A2, A3) \
	VLD1.P 64(RX), [V0.S4, V1.S4, V2.S4, V3.S4] \
	VFMLA V4.S4, V0.S4, A0.S4 \
	VFMLA V5.S4, V1.S4, A1.S4 \
	VFMLA V6.S4, V2.S4, A2.S4 \
	VFMLA V7.S4, V3.S4, A3.S4

#define T8(RX, A0, A1) \
	VLD1.P 32(RX), [V0.S4, V1.S4] \
	VFMLA V4.S4, V0.S4, A0.S4 \
	VFMLA V5.S4, V1.S4, A1.S4

// REDUCE sets F<dst> to ((a+b) + (c+d)) summed over lanes as
// (l0+l1) + (l2+l3).
#define REDUCE(a, b, c, d, dst) \
	FADD4S(b, a, a) \
	FADD4S(d, c, c) \
	FADD4S(c, a, a) \
	FADDP4S(a, a, a) \
	FADDP2S(a, dst)

#define ZERO16 \
	ZERO(12) \
	ZERO(13) \
	ZERO(14) \
	ZERO(15) \
	ZERO(16) \
	ZERO(17) \
	ZERO(18) \
	ZERO(19) \
	ZERO(20) \
	ZERO(21) \
	ZERO(22) \
	ZERO(23) \
	ZERO(24) \
	ZERO(25) \
	ZERO(26) \
	ZERO(27)

#define ONE16(WIDEN) \
	WIDEN \
	T16(R1, V12, V13, V14, V15)

#define ONE8(WIDEN) \
	WIDEN \
	T8(R1, V12, V13)

#define FOUR16(WIDEN) \
	WIDEN \
	T16(R1, V12, V13, V14, V15) \
	T16(R2, V16, V17, V18, V19) \
	T16(R3, V20, V21, V22, V23) \
	T16(R4, V24, V25, V26, V27)

#define FOUR8(WIDEN) \
	WIDEN \
	T8(R1, V12, V13) \
	T8(R2, V16, V17) \
	T8(R3, V20, V21) \
	T8(R4, V24, V25)

#define FOUR_STORE \
	REDUCE(12, 13, 14, 15, 0) \
	REDUCE(16, 17, 18, 19, 1) \
	REDUCE(20, 21, 22, 23, 2) \
	REDUCE(24, 25, 26, 27, 3) \
	FMOVS F0, 0(R6) \
	FMOVS F1, 4(R6) \
	FMOVS F2, 8(R6) \
	FMOVS F3, 12(R6)

// func dotF16NEON(w *byte, x *float32, n int) float32
TEXT ·dotF16NEON(SB), NOSPLIT, $0-28
	MOVD w+0(FP), R0
	MOVD x+8(FP), R1
	MOVD n+16(FP), R5
	VEOR V31.B16, V31.B16, V31.B16
	ZERO(12)
	ZERO(13)
	ZERO(14)
	ZERO(15)

f1616:
	CMP $16, R5
	BLT f168
	ONE16(WIDEN16_F16)
	SUB $16, R5
	B   f1616

f168:
	CBZ R5, f16done
	ONE8(WIDEN8_F16)

f16done:
	REDUCE(12, 13, 14, 15, 0)
	FMOVS F0, ret+24(FP)
	RET

// func dotF16x4NEON(w *byte, x0, x1, x2, x3 *float32, n int, out *[4]float32)
TEXT ·dotF16x4NEON(SB), NOSPLIT, $0-56
	MOVD w+0(FP), R0
	MOVD x0+8(FP), R1
	MOVD x1+16(FP), R2
	MOVD x2+24(FP), R3
	MOVD x3+32(FP), R4
	MOVD n+40(FP), R5
	MOVD out+48(FP), R6
	VEOR V31.B16, V31.B16, V31.B16
	ZERO16

f16x4_16:
	CMP $16, R5
	BLT f16x4_8
	FOUR16(WIDEN16_F16)
	SUB $16, R5
	B   f16x4_16

f16x4_8:
	CBZ R5, f16x4done
	FOUR8(WIDEN8_F16)

f16x4done:
	FOUR_STORE
	RET

// func dotBF16NEON(w *byte, x *float32, n int) float32
TEXT ·dotBF16NEON(SB), NOSPLIT, $0-28
	MOVD w+0(FP), R0
	MOVD x+8(FP), R1
	MOVD n+16(FP), R5
	VEOR V31.B16, V31.B16, V31.B16
	ZERO(12)
	ZERO(13)
	ZERO(14)
	ZERO(15)

bf1616:
	CMP $16, R5
	BLT bf168
	ONE16(WIDEN16_BF16)
	SUB $16, R5
	B   bf1616

bf168:
	CBZ R5, bf16done
	ONE8(WIDEN8_BF16)

bf16done:
	REDUCE(12, 13, 14, 15, 0)
	FMOVS F0, ret+24(FP)
	RET

// func dotBF16x4NEON(w *byte, x0, x1, x2, x3 *float32, n int, out *[4]float32)
TEXT ·dotBF16x4NEON(SB), NOSPLIT, $0-56
	MOVD w+0(FP), R0
	MOVD x0+8(FP), R1
	MOVD x1+16(FP), R2
	MOVD x2+24(FP), R3
	MOVD x3+32(FP), R4
	MOVD n+40(FP), R5
	MOVD out+48(FP), R6
	VEOR V31.B16, V31.B16, V31.B16
	ZERO16

bf16x4_16:
	CMP $16, R5
	BLT bf16x4_8
	FOUR16(WIDEN16_BF16)
	SUB $16, R5
	B   bf16x4_16

bf16x4_8:
	CBZ R5, bf16x4done
	FOUR8(WIDEN8_BF16)

bf16x4done:
	FOUR_STORE
	RET
