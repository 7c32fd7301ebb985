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
