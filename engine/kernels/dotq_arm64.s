//go:build arm64

#include "textflag.h"
#include "neon_arm64.h"

// The 32-element formats against Q8_0 activations, in ggml's AVX2 lane
// arithmetic (see lanes8): each block's products are summed exactly into
// eight int32 lanes (V4, V5), converted, and added into two float32 lane
// accumulators (lanes 0..3, 4..7) with one fused multiply-add by
// d = d_w·d_a each; HSUM8 reduces them in ggml's order.
//
// A W_* macro decodes the next weight block at its pointer register into
// 32 signed bytes (V0, V1) and its scale F21; TOKEN then multiplies it
// with the next activation block at its pointer register. The single dots
// run one TOKEN per block (weights R0, activations R1); the four-token
// kernels decode each weight block once and run TOKEN for four activation
// rows (R1..R4); the four-row kernels load each activation block once and
// run ROW for four weight rows (R0, R2..R4). Each result has exactly the
// single dot's arithmetic. R5 counts blocks (at least one).

// W_Q8_0: 34-byte blocks, fp16 d then 32 int8 values.
#define W_Q8_0(RW) \
	MOVHU.P 2(RW), R7 \
	VLD1.P 32(RW), [V0.B16, V1.B16] \
	FMOVS R7, F21 \
	FCVTHS F21, F21

// W_Q4_0: 18-byte blocks of nibbles, low nibbles elements 0..15 and high
// nibbles 16..31, each less 8 (V30 holds 15, V31 holds 8).
#define W_Q4_0(RW) \
	MOVHU.P 2(RW), R7 \
	VLD1.P 16(RW), [V0.B16] \
	FMOVS R7, F21 \
	FCVTHS F21, F21 \
	VUSHR $4, V0.B16, V1.B16 \
	VAND V30.B16, V0.B16, V0.B16 \
	VSUB V31.B16, V0.B16, V0.B16 \
	VSUB V31.B16, V1.B16, V1.B16

// W_Q5_0: 22-byte blocks: the fifth bits of the 32 elements (a
// little-endian uint32, bit e for element e), then nibbles as in Q4_0;
// values less 16. The fifth bits are spread to bytes by a table lookup
// (each byte of qh copied to eight lanes: V26, V27 hold the indices) and a
// bit test against 1, 2, 4, ..., 128 (V28); V29 holds 16, V30 15.
#define W_Q5_0(RW) \
	MOVHU.P 2(RW), R7 \
	MOVWU.P 4(RW), R10 \
	VLD1.P 16(RW), [V0.B16] \
	FMOVS R7, F21 \
	FCVTHS F21, F21 \
	VMOV R10, V8.S[0] \
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
	VSUB V29.B16, V1.B16, V1.B16

// TOKEN multiplies the decoded weight block with the Q8_0 block at RA
// (advancing RA) into the accumulators LO, HI.
#define TOKEN(DOT16, RA, LO, HI) \
	MOVHU.P 2(RA), R8 \
	VLD1.P 32(RA), [V2.B16, V3.B16] \
	FMOVS R8, F22 \
	FCVTHS F22, F22 \
	FMULS F22, F21, F20 \
	VDUP V20.S[0], V20.S4 \
	DOT16(0, 2, 4, 6, 7) \
	DOT16(1, 3, 5, 6, 7) \
	SCVTF4S(4, 4) \
	SCVTF4S(5, 5) \
	VFMLA V4.S4, V20.S4, LO.S4 \
	VFMLA V5.S4, V20.S4, HI.S4

// ROW decodes the weight block at RW (format W, advancing RW) and
// multiplies it with the activation block already in V2, V3 (scale F22)
// into LO, HI: TOKEN's arithmetic with the roles of the two operands'
// loads swapped.
#define ROW(W, DOT16, RW, LO, HI) \
	W(RW) \
	FMULS F22, F21, F20 \
	VDUP V20.S[0], V20.S4 \
	DOT16(0, 2, 4, 6, 7) \
	DOT16(1, 3, 5, 6, 7) \
	SCVTF4S(4, 4) \
	SCVTF4S(5, 5) \
	VFMLA V4.S4, V20.S4, LO.S4 \
	VFMLA V5.S4, V20.S4, HI.S4

// ROWS4 loads the next activation block (R1) and runs it against the next
// block of four weight rows (R0, R2, R3, R4).
#define ROWS4(W, DOT16) \
	MOVHU.P 2(R1), R8 \
	VLD1.P 32(R1), [V2.B16, V3.B16] \
	FMOVS R8, F22 \
	FCVTHS F22, F22 \
	ROW(W, DOT16, R0, V12, V13) \
	ROW(W, DOT16, R2, V14, V15) \
	ROW(W, DOT16, R3, V16, V17) \
	ROW(W, DOT16, R4, V18, V19)

// q5bits: the TBL indices that copy qh bytes 0, 1 (then 2, 3) to eight
// lanes each, and the bit of each lane.
DATA q5bits<>+0(SB)/8, $0x0000000000000000
DATA q5bits<>+8(SB)/8, $0x0101010101010101
DATA q5bits<>+16(SB)/8, $0x0202020202020202
DATA q5bits<>+24(SB)/8, $0x0303030303030303
DATA q5bits<>+32(SB)/8, $0x8040201008040201
DATA q5bits<>+40(SB)/8, $0x8040201008040201
GLOBL q5bits<>(SB), RODATA|NOPTR, $48

// SETUP_* load the constants of each format's decoding.
#define SETUP_Q8_0

#define SETUP_Q4_0 \
	VMOVI $15, V30.B16 \
	VMOVI $8, V31.B16

#define SETUP_Q5_0 \
	MOVD $q5bits<>(SB), R9 \
	VLD1 (R9), [V26.B16, V27.B16, V28.B16] \
	VMOVI $16, V29.B16 \
	VMOVI $15, V30.B16

// ZERO4 clears the accumulators of four tokens.
#define ZERO4 \
	ZERO(12) \
	ZERO(13) \
	ZERO(14) \
	ZERO(15) \
	ZERO(16) \
	ZERO(17) \
	ZERO(18) \
	ZERO(19)

// SINGLE and FOUR are the loop bodies of the single and the four-token
// dots; their accumulators are V16, V17 and V12..V19.
#define SINGLE(W, DOT16) \
	W(R0) \
	TOKEN(DOT16, R1, V16, V17)

#define FOUR(W, DOT16) \
	W(R0) \
	TOKEN(DOT16, R1, V12, V13) \
	TOKEN(DOT16, R2, V14, V15) \
	TOKEN(DOT16, R3, V16, V17) \
	TOKEN(DOT16, R4, V18, V19)

// FOUR_STORE reduces the four tokens' lanes to out[0..3] (R6).
#define FOUR_STORE \
	HSUM8(12, 13, 11, 0) \
	HSUM8(14, 15, 11, 1) \
	HSUM8(16, 17, 11, 2) \
	HSUM8(18, 19, 11, 3) \
	FMOVS F0, 0(R6) \
	FMOVS F1, 4(R6) \
	FMOVS F2, 8(R6) \
	FMOVS F3, 12(R6)

// func dotQ8_0SDOT(w, a *byte, nb int) float32
TEXT ·dotQ8_0SDOT(SB), NOSPLIT, $0-28
	MOVD w+0(FP), R0
	MOVD a+8(FP), R1
	MOVD nb+16(FP), R5
	SETUP_Q8_0
	ZERO(16)
	ZERO(17)

q80sdot:
	SINGLE(W_Q8_0, DOT16_SDOT)
	SUBS $1, R5
	BNE  q80sdot
	HSUM8(16, 17, 18, 0)
	FMOVS F0, ret+24(FP)
	RET

// func dotQ8_0x4SDOT(w, a0, a1, a2, a3 *byte, nb int, out *[4]float32)
TEXT ·dotQ8_0x4SDOT(SB), NOSPLIT, $0-56
	MOVD w+0(FP), R0
	MOVD a0+8(FP), R1
	MOVD a1+16(FP), R2
	MOVD a2+24(FP), R3
	MOVD a3+32(FP), R4
	MOVD nb+40(FP), R5
	MOVD out+48(FP), R6
	SETUP_Q8_0
	ZERO4

q80sdotx4:
	FOUR(W_Q8_0, DOT16_SDOT)
	SUBS $1, R5
	BNE  q80sdotx4
	FOUR_STORE
	RET

// func dotQ8_0MULL(w, a *byte, nb int) float32
TEXT ·dotQ8_0MULL(SB), NOSPLIT, $0-28
	MOVD w+0(FP), R0
	MOVD a+8(FP), R1
	MOVD nb+16(FP), R5
	SETUP_Q8_0
	ZERO(16)
	ZERO(17)

q80mull:
	SINGLE(W_Q8_0, DOT16_MULL)
	SUBS $1, R5
	BNE  q80mull
	HSUM8(16, 17, 18, 0)
	FMOVS F0, ret+24(FP)
	RET

// func dotQ8_0x4MULL(w, a0, a1, a2, a3 *byte, nb int, out *[4]float32)
TEXT ·dotQ8_0x4MULL(SB), NOSPLIT, $0-56
	MOVD w+0(FP), R0
	MOVD a0+8(FP), R1
	MOVD a1+16(FP), R2
	MOVD a2+24(FP), R3
	MOVD a3+32(FP), R4
	MOVD nb+40(FP), R5
	MOVD out+48(FP), R6
	SETUP_Q8_0
	ZERO4

q80mullx4:
	FOUR(W_Q8_0, DOT16_MULL)
	SUBS $1, R5
	BNE  q80mullx4
	FOUR_STORE
	RET

// func dotQ4_0SDOT(w, a *byte, nb int) float32
TEXT ·dotQ4_0SDOT(SB), NOSPLIT, $0-28
	MOVD w+0(FP), R0
	MOVD a+8(FP), R1
	MOVD nb+16(FP), R5
	SETUP_Q4_0
	ZERO(16)
	ZERO(17)

q40sdot:
	SINGLE(W_Q4_0, DOT16_SDOT)
	SUBS $1, R5
	BNE  q40sdot
	HSUM8(16, 17, 18, 0)
	FMOVS F0, ret+24(FP)
	RET

// func dotQ4_0x4SDOT(w, a0, a1, a2, a3 *byte, nb int, out *[4]float32)
TEXT ·dotQ4_0x4SDOT(SB), NOSPLIT, $0-56
	MOVD w+0(FP), R0
	MOVD a0+8(FP), R1
	MOVD a1+16(FP), R2
	MOVD a2+24(FP), R3
	MOVD a3+32(FP), R4
	MOVD nb+40(FP), R5
	MOVD out+48(FP), R6
	SETUP_Q4_0
	ZERO4

q40sdotx4:
	FOUR(W_Q4_0, DOT16_SDOT)
	SUBS $1, R5
	BNE  q40sdotx4
	FOUR_STORE
	RET

// func dotQ4_0MULL(w, a *byte, nb int) float32
TEXT ·dotQ4_0MULL(SB), NOSPLIT, $0-28
	MOVD w+0(FP), R0
	MOVD a+8(FP), R1
	MOVD nb+16(FP), R5
	SETUP_Q4_0
	ZERO(16)
	ZERO(17)

q40mull:
	SINGLE(W_Q4_0, DOT16_MULL)
	SUBS $1, R5
	BNE  q40mull
	HSUM8(16, 17, 18, 0)
	FMOVS F0, ret+24(FP)
	RET

// func dotQ4_0x4MULL(w, a0, a1, a2, a3 *byte, nb int, out *[4]float32)
TEXT ·dotQ4_0x4MULL(SB), NOSPLIT, $0-56
	MOVD w+0(FP), R0
	MOVD a0+8(FP), R1
	MOVD a1+16(FP), R2
	MOVD a2+24(FP), R3
	MOVD a3+32(FP), R4
	MOVD nb+40(FP), R5
	MOVD out+48(FP), R6
	SETUP_Q4_0
	ZERO4

q40mullx4:
	FOUR(W_Q4_0, DOT16_MULL)
	SUBS $1, R5
	BNE  q40mullx4
	FOUR_STORE
	RET

// func dotQ5_0SDOT(w, a *byte, nb int) float32
TEXT ·dotQ5_0SDOT(SB), NOSPLIT, $0-28
	MOVD w+0(FP), R0
	MOVD a+8(FP), R1
	MOVD nb+16(FP), R5
	SETUP_Q5_0
	ZERO(16)
	ZERO(17)

q50sdot:
	SINGLE(W_Q5_0, DOT16_SDOT)
	SUBS $1, R5
	BNE  q50sdot
	HSUM8(16, 17, 18, 0)
	FMOVS F0, ret+24(FP)
	RET

// func dotQ5_0x4SDOT(w, a0, a1, a2, a3 *byte, nb int, out *[4]float32)
TEXT ·dotQ5_0x4SDOT(SB), NOSPLIT, $0-56
	MOVD w+0(FP), R0
	MOVD a0+8(FP), R1
	MOVD a1+16(FP), R2
	MOVD a2+24(FP), R3
	MOVD a3+32(FP), R4
	MOVD nb+40(FP), R5
	MOVD out+48(FP), R6
	SETUP_Q5_0
	ZERO4

q50sdotx4:
	FOUR(W_Q5_0, DOT16_SDOT)
	SUBS $1, R5
	BNE  q50sdotx4
	FOUR_STORE
	RET

// func dotQ5_0MULL(w, a *byte, nb int) float32
TEXT ·dotQ5_0MULL(SB), NOSPLIT, $0-28
	MOVD w+0(FP), R0
	MOVD a+8(FP), R1
	MOVD nb+16(FP), R5
	SETUP_Q5_0
	ZERO(16)
	ZERO(17)

q50mull:
	SINGLE(W_Q5_0, DOT16_MULL)
	SUBS $1, R5
	BNE  q50mull
	HSUM8(16, 17, 18, 0)
	FMOVS F0, ret+24(FP)
	RET

// func dotQ5_0x4MULL(w, a0, a1, a2, a3 *byte, nb int, out *[4]float32)
TEXT ·dotQ5_0x4MULL(SB), NOSPLIT, $0-56
	MOVD w+0(FP), R0
	MOVD a0+8(FP), R1
	MOVD a1+16(FP), R2
	MOVD a2+24(FP), R3
	MOVD a3+32(FP), R4
	MOVD nb+40(FP), R5
	MOVD out+48(FP), R6
	SETUP_Q5_0
	ZERO4

q50mullx4:
	FOUR(W_Q5_0, DOT16_MULL)
	SUBS $1, R5
	BNE  q50mullx4
	FOUR_STORE
	RET


// func rowsQ8_0x4SDOT(w *[4]*byte, a *byte, nb int, dst *float32)
// dst[i] = the single Q8_0 dot of weight row w[i] with a, for i < 4.
TEXT ·rowsQ8_0x4SDOT(SB), NOSPLIT, $0-32
	MOVD w+0(FP), R9
	MOVD 0(R9), R0
	MOVD 8(R9), R2
	MOVD 16(R9), R3
	MOVD 24(R9), R4
	MOVD a+8(FP), R1
	MOVD nb+16(FP), R5
	MOVD dst+24(FP), R6
	SETUP_Q8_0
	ZERO4

rowsq80sdot:
	ROWS4(W_Q8_0, DOT16_SDOT)
	SUBS $1, R5
	BNE  rowsq80sdot
	FOUR_STORE
	RET

// func rowsQ8_0x4MULL(w *[4]*byte, a *byte, nb int, dst *float32)
// dst[i] = the single Q8_0 dot of weight row w[i] with a, for i < 4.
TEXT ·rowsQ8_0x4MULL(SB), NOSPLIT, $0-32
	MOVD w+0(FP), R9
	MOVD 0(R9), R0
	MOVD 8(R9), R2
	MOVD 16(R9), R3
	MOVD 24(R9), R4
	MOVD a+8(FP), R1
	MOVD nb+16(FP), R5
	MOVD dst+24(FP), R6
	SETUP_Q8_0
	ZERO4

rowsq80mull:
	ROWS4(W_Q8_0, DOT16_MULL)
	SUBS $1, R5
	BNE  rowsq80mull
	FOUR_STORE
	RET

// func rowsQ4_0x4SDOT(w *[4]*byte, a *byte, nb int, dst *float32)
// dst[i] = the single Q4_0 dot of weight row w[i] with a, for i < 4.
TEXT ·rowsQ4_0x4SDOT(SB), NOSPLIT, $0-32
	MOVD w+0(FP), R9
	MOVD 0(R9), R0
	MOVD 8(R9), R2
	MOVD 16(R9), R3
	MOVD 24(R9), R4
	MOVD a+8(FP), R1
	MOVD nb+16(FP), R5
	MOVD dst+24(FP), R6
	SETUP_Q4_0
	ZERO4

rowsq40sdot:
	ROWS4(W_Q4_0, DOT16_SDOT)
	SUBS $1, R5
	BNE  rowsq40sdot
	FOUR_STORE
	RET

// func rowsQ4_0x4MULL(w *[4]*byte, a *byte, nb int, dst *float32)
// dst[i] = the single Q4_0 dot of weight row w[i] with a, for i < 4.
TEXT ·rowsQ4_0x4MULL(SB), NOSPLIT, $0-32
	MOVD w+0(FP), R9
	MOVD 0(R9), R0
	MOVD 8(R9), R2
	MOVD 16(R9), R3
	MOVD 24(R9), R4
	MOVD a+8(FP), R1
	MOVD nb+16(FP), R5
	MOVD dst+24(FP), R6
	SETUP_Q4_0
	ZERO4

rowsq40mull:
	ROWS4(W_Q4_0, DOT16_MULL)
	SUBS $1, R5
	BNE  rowsq40mull
	FOUR_STORE
	RET

// func rowsQ5_0x4SDOT(w *[4]*byte, a *byte, nb int, dst *float32)
// dst[i] = the single Q5_0 dot of weight row w[i] with a, for i < 4.
TEXT ·rowsQ5_0x4SDOT(SB), NOSPLIT, $0-32
	MOVD w+0(FP), R9
	MOVD 0(R9), R0
	MOVD 8(R9), R2
	MOVD 16(R9), R3
	MOVD 24(R9), R4
	MOVD a+8(FP), R1
	MOVD nb+16(FP), R5
	MOVD dst+24(FP), R6
	SETUP_Q5_0
	ZERO4

rowsq50sdot:
	ROWS4(W_Q5_0, DOT16_SDOT)
	SUBS $1, R5
	BNE  rowsq50sdot
	FOUR_STORE
	RET

// func rowsQ5_0x4MULL(w *[4]*byte, a *byte, nb int, dst *float32)
// dst[i] = the single Q5_0 dot of weight row w[i] with a, for i < 4.
TEXT ·rowsQ5_0x4MULL(SB), NOSPLIT, $0-32
	MOVD w+0(FP), R9
	MOVD 0(R9), R0
	MOVD 8(R9), R2
	MOVD 16(R9), R3
	MOVD 24(R9), R4
	MOVD a+8(FP), R1
	MOVD nb+16(FP), R5
	MOVD dst+24(FP), R6
	SETUP_Q5_0
	ZERO4

rowsq50mull:
	ROWS4(W_Q5_0, DOT16_MULL)
	SUBS $1, R5
	BNE  rowsq50mull
	FOUR_STORE
	RET
