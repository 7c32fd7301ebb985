//go:build arm64

#include "textflag.h"
#include "neon_arm64.h"

// The 32-element formats against a Q8_0 activation, in ggml's AVX2 lane
// arithmetic (see lanes8): each block's products are summed exactly into
// eight int32 lanes (V4, V5), converted, and added into the float32 lane
// accumulators V16 (lanes 0..3) and V17 (lanes 4..7) with one fused
// multiply-add by d = d_w·d_a each; HSUM8 reduces them in ggml's order.
// R0 walks the weight blocks, R1 the activation blocks, R2 counts blocks
// (at least one).

// Q8_0_TAIL multiplies the block's int8 weights (V0, V1) with the
// activation values (V2, V3), scales by the half-precision scales in R4
// (weight) and R5 (activation) and accumulates.
#define Q8_0_TAIL(DOT16) \
	FMOVS R4, F20 \
	FMOVS R5, F21 \
	FCVTHS F20, F20 \
	FCVTHS F21, F21 \
	FMULS F21, F20, F20 \
	VDUP V20.S[0], V20.S4 \
	DOT16(0, 2, 4, 6, 7) \
	DOT16(1, 3, 5, 6, 7) \
	SCVTF4S(4, 4) \
	SCVTF4S(5, 5) \
	VFMLA V4.S4, V20.S4, V16.S4 \
	VFMLA V5.S4, V20.S4, V17.S4

// Q8_0_BLOCK: 34-byte blocks on both sides.
#define Q8_0_BLOCK(DOT16) \
	MOVHU.P 2(R0), R4 \
	MOVHU.P 2(R1), R5 \
	VLD1.P 32(R0), [V0.B16, V1.B16] \
	VLD1.P 32(R1), [V2.B16, V3.B16] \
	Q8_0_TAIL(DOT16)

// Q4_0_BLOCK: an 18-byte weight block of nibbles, low nibbles elements
// 0..15 and high nibbles 16..31, each less 8 (V30 holds 15, V31 holds 8).
#define Q4_0_BLOCK(DOT16) \
	MOVHU.P 2(R0), R4 \
	MOVHU.P 2(R1), R5 \
	VLD1.P 16(R0), [V0.B16] \
	VLD1.P 32(R1), [V2.B16, V3.B16] \
	VUSHR $4, V0.B16, V1.B16 \
	VAND V30.B16, V0.B16, V0.B16 \
	VSUB V31.B16, V0.B16, V0.B16 \
	VSUB V31.B16, V1.B16, V1.B16 \
	Q8_0_TAIL(DOT16)

// Q5_0_BLOCK: a 22-byte weight block: the fifth bits of the 32 elements
// (a little-endian uint32, bit e for element e), then nibbles as in Q4_0;
// values less 16. The fifth bits are spread to bytes by a table lookup
// (each byte of qh copied to eight lanes: V26, V27 hold the indices) and a
// bit test against 1, 2, 4, ..., 128 (V28); V29 holds 16, V30 15.
#define Q5_0_BLOCK(DOT16) \
	MOVHU.P 2(R0), R4 \
	MOVWU.P 4(R0), R6 \
	MOVHU.P 2(R1), R5 \
	VLD1.P 16(R0), [V0.B16] \
	VLD1.P 32(R1), [V2.B16, V3.B16] \
	VMOV R6, V8.S[0] \
	VTBL V26.B16, [V8.B16], V9.B16 \
	VTBL V27.B16, [V8.B16], V10.B16 \
	VCMTST V28.B16, V9.B16, V9.B16 \
	VCMTST V28.B16, V10.B16, V10.B16 \
	VUSHR $4, V0.B16, V1.B16 \
	VAND V30.B16, V0.B16, V0.B16 \
	VAND V29.B16, V9.B16, V9.B16 \
	VAND V29.B16, V10.B16, V10.B16 \
	VORR V9.B16, V0.B16, V0.B16 \
	VORR V10.B16, V1.B16, V1.B16 \
	VSUB V29.B16, V0.B16, V0.B16 \
	VSUB V29.B16, V1.B16, V1.B16 \
	Q8_0_TAIL(DOT16)

// q5bits: the TBL indices that copy qh bytes 0, 1 (then 2, 3) to eight
// lanes each, and the bit of each lane.
DATA q5bits<>+0(SB)/8, $0x0000000000000000
DATA q5bits<>+8(SB)/8, $0x0101010101010101
DATA q5bits<>+16(SB)/8, $0x0202020202020202
DATA q5bits<>+24(SB)/8, $0x0303030303030303
DATA q5bits<>+32(SB)/8, $0x8040201008040201
DATA q5bits<>+40(SB)/8, $0x8040201008040201
GLOBL q5bits<>(SB), RODATA|NOPTR, $48

// func dotQ8_0SDOT(w, a *byte, nb int) float32
TEXT ·dotQ8_0SDOT(SB), NOSPLIT, $0-28
	MOVD w+0(FP), R0
	MOVD a+8(FP), R1
	MOVD nb+16(FP), R2
	ZERO(16)
	ZERO(17)

q80sdot:
	Q8_0_BLOCK(DOT16_SDOT)
	SUBS $1, R2
	BNE  q80sdot
	HSUM8(16, 17)
	FMOVS F0, ret+24(FP)
	RET

// func dotQ8_0MULL(w, a *byte, nb int) float32
TEXT ·dotQ8_0MULL(SB), NOSPLIT, $0-28
	MOVD w+0(FP), R0
	MOVD a+8(FP), R1
	MOVD nb+16(FP), R2
	ZERO(16)
	ZERO(17)

q80mull:
	Q8_0_BLOCK(DOT16_MULL)
	SUBS $1, R2
	BNE  q80mull
	HSUM8(16, 17)
	FMOVS F0, ret+24(FP)
	RET

// func dotQ4_0SDOT(w, a *byte, nb int) float32
TEXT ·dotQ4_0SDOT(SB), NOSPLIT, $0-28
	MOVD w+0(FP), R0
	MOVD a+8(FP), R1
	MOVD nb+16(FP), R2
	ZERO(16)
	ZERO(17)
	VMOVI $15, V30.B16
	VMOVI $8, V31.B16

q40sdot:
	Q4_0_BLOCK(DOT16_SDOT)
	SUBS $1, R2
	BNE  q40sdot
	HSUM8(16, 17)
	FMOVS F0, ret+24(FP)
	RET

// func dotQ4_0MULL(w, a *byte, nb int) float32
TEXT ·dotQ4_0MULL(SB), NOSPLIT, $0-28
	MOVD w+0(FP), R0
	MOVD a+8(FP), R1
	MOVD nb+16(FP), R2
	ZERO(16)
	ZERO(17)
	VMOVI $15, V30.B16
	VMOVI $8, V31.B16

q40mull:
	Q4_0_BLOCK(DOT16_MULL)
	SUBS $1, R2
	BNE  q40mull
	HSUM8(16, 17)
	FMOVS F0, ret+24(FP)
	RET

// func dotQ5_0SDOT(w, a *byte, nb int) float32
TEXT ·dotQ5_0SDOT(SB), NOSPLIT, $0-28
	MOVD w+0(FP), R0
	MOVD a+8(FP), R1
	MOVD nb+16(FP), R2
	ZERO(16)
	ZERO(17)
	MOVD $q5bits<>(SB), R7
	VLD1 (R7), [V26.B16, V27.B16, V28.B16]
	VMOVI $16, V29.B16
	VMOVI $15, V30.B16

q50sdot:
	Q5_0_BLOCK(DOT16_SDOT)
	SUBS $1, R2
	BNE  q50sdot
	HSUM8(16, 17)
	FMOVS F0, ret+24(FP)
	RET

// func dotQ5_0MULL(w, a *byte, nb int) float32
TEXT ·dotQ5_0MULL(SB), NOSPLIT, $0-28
	MOVD w+0(FP), R0
	MOVD a+8(FP), R1
	MOVD nb+16(FP), R2
	ZERO(16)
	ZERO(17)
	MOVD $q5bits<>(SB), R7
	VLD1 (R7), [V26.B16, V27.B16, V28.B16]
	VMOVI $16, V29.B16
	VMOVI $15, V30.B16

q50mull:
	Q5_0_BLOCK(DOT16_MULL)
	SUBS $1, R2
	BNE  q50mull
	HSUM8(16, 17)
	FMOVS F0, ret+24(FP)
	RET
