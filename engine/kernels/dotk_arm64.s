//go:build arm64

#include "textflag.h"
#include "neon_arm64.h"

// The integer part of the K-quant dots: the eight int32 lanes of one
// 256-element super-block, lane l holding elements 4l..4l+3 of every
// 32-element group times that group's (or 16-element half's) scale, as
// ggml's AVX2 kernels keep them. Lanes 0..3 accumulate in V20, 4..7 in V21.

// Q4K_CHUNK handles 32 bytes of nibbles: sub-block 2c in the low nibbles,
// 2c+1 in the high ones, with scales SREG.S[i0] and SREG.S[i1] (V30 holds 15).
#define Q4K_CHUNK(DOT16, SREG, i0, i1) \
	VLD1.P 32(R0), [V0.B16, V1.B16] \
	VLD1.P 64(R1), [V6.B16, V7.B16, V8.B16, V9.B16] \
	VUSHR $4, V0.B16, V4.B16 \
	VUSHR $4, V1.B16, V5.B16 \
	VAND V30.B16, V0.B16, V2.B16 \
	VAND V30.B16, V1.B16, V3.B16 \
	DOT16(2, 6, 10, 24, 25) \
	DOT16(3, 7, 11, 24, 25) \
	DOT16(4, 8, 12, 24, 25) \
	DOT16(5, 9, 13, 24, 25) \
	VDUP SREG.S[i0], V14.S4 \
	VDUP SREG.S[i1], V15.S4 \
	MLA4S(14, 10, 20) \
	MLA4S(14, 11, 21) \
	MLA4S(15, 12, 20) \
	MLA4S(15, 13, 21)

// Q4K_BODY expects qs, q8, sc and out in R0..R3.
#define Q4K_BODY(DOT16) \
	VLD1 (R2), [V22.S4, V23.S4] \
	VMOVI $15, V30.B16 \
	ZERO(20) \
	ZERO(21) \
	Q4K_CHUNK(DOT16, V22, 0, 1) \
	Q4K_CHUNK(DOT16, V22, 2, 3) \
	Q4K_CHUNK(DOT16, V23, 0, 1) \
	Q4K_CHUNK(DOT16, V23, 2, 3) \
	VST1 [V20.S4, V21.S4], (R3)

// Q6_K: in each 128-element half, quarter s (32 elements) takes its low
// nibbles from ql bytes 0..31 (s = 0, 2) or 32..63 (s = 1, 3), low nibble
// for s < 2 and high for s >= 2, and its top two bits from qh bits 2s,
// 2s+1; values carry an offset of 32. V0..V3 hold the half's 64 ql bytes,
// V4, V5 its 32 qh bytes; V28 = 15, V29 = 3, V30 = 32. The quarter's
// values go to V6 (elements 0..15) and V7 (16..31).

// Q6K_HI ors the two high bits (already in V8, V9 as 0..3) in at bit 4
// and removes the offset.
#define Q6K_HI \
	VSHL $4, V8.B16, V8.B16 \
	VSHL $4, V9.B16, V9.B16 \
	VORR V8.B16, V6.B16, V6.B16 \
	VORR V9.B16, V7.B16, V7.B16 \
	VSUB V30.B16, V6.B16, V6.B16 \
	VSUB V30.B16, V7.B16, V7.B16

// Q6K_DOT multiplies the quarter with the next 32 activation values; the
// two 16-element groups have scales SREG.S[i0] and SREG.S[i1].
#define Q6K_DOT(DOT16, SREG, i0, i1) \
	VLD1.P 32(R2), [V10.B16, V11.B16] \
	DOT16(6, 10, 12, 16, 17) \
	DOT16(7, 11, 13, 16, 17) \
	VDUP SREG.S[i0], V14.S4 \
	VDUP SREG.S[i1], V15.S4 \
	MLA4S(14, 12, 20) \
	MLA4S(15, 13, 21)

#define Q6K_HALF(DOT16, SA, SB) \
	VLD1.P 64(R0), [V0.B16, V1.B16, V2.B16, V3.B16] \
	VLD1.P 32(R1), [V4.B16, V5.B16] \
	VAND V28.B16, V0.B16, V6.B16 \
	VAND V28.B16, V1.B16, V7.B16 \
	VAND V29.B16, V4.B16, V8.B16 \
	VAND V29.B16, V5.B16, V9.B16 \
	Q6K_HI \
	Q6K_DOT(DOT16, SA, 0, 1) \
	VAND V28.B16, V2.B16, V6.B16 \
	VAND V28.B16, V3.B16, V7.B16 \
	VUSHR $2, V4.B16, V8.B16 \
	VUSHR $2, V5.B16, V9.B16 \
	VAND V29.B16, V8.B16, V8.B16 \
	VAND V29.B16, V9.B16, V9.B16 \
	Q6K_HI \
	Q6K_DOT(DOT16, SA, 2, 3) \
	VUSHR $4, V0.B16, V6.B16 \
	VUSHR $4, V1.B16, V7.B16 \
	VUSHR $4, V4.B16, V8.B16 \
	VUSHR $4, V5.B16, V9.B16 \
	VAND V29.B16, V8.B16, V8.B16 \
	VAND V29.B16, V9.B16, V9.B16 \
	Q6K_HI \
	Q6K_DOT(DOT16, SB, 0, 1) \
	VUSHR $4, V2.B16, V6.B16 \
	VUSHR $4, V3.B16, V7.B16 \
	VUSHR $6, V4.B16, V8.B16 \
	VUSHR $6, V5.B16, V9.B16 \
	Q6K_HI \
	Q6K_DOT(DOT16, SB, 2, 3)

// Q6K_BODY expects ql, qh, q8, sc and out in R0..R4.
#define Q6K_BODY(DOT16) \
	VLD1 (R3), [V24.S4, V25.S4, V26.S4, V27.S4] \
	VMOVI $15, V28.B16 \
	VMOVI $3, V29.B16 \
	VMOVI $32, V30.B16 \
	ZERO(20) \
	ZERO(21) \
	Q6K_HALF(DOT16, V24, V25) \
	Q6K_HALF(DOT16, V26, V27) \
	VST1 [V20.S4, V21.S4], (R4)

// Q4K_TOK multiplies the decoded chunk (V2..V5, scales in V14, V15) with
// the next 64 activation values at RT into the token's lanes V<lo>, V<hi>.
#define Q4K_TOK(DOT16, RT, lo, hi) \
	VLD1.P 64(RT), [V6.B16, V7.B16, V8.B16, V9.B16] \
	DOT16(2, 6, 10, 24, 25) \
	DOT16(3, 7, 11, 24, 25) \
	DOT16(4, 8, 12, 24, 25) \
	DOT16(5, 9, 13, 24, 25) \
	MLA4S(14, 10, lo) \
	MLA4S(14, 11, hi) \
	MLA4S(15, 12, lo) \
	MLA4S(15, 13, hi)

// Q4K_CHUNK4 decodes 32 bytes of nibbles once for four tokens (R1..R4).
#define Q4K_CHUNK4(DOT16, SREG, i0, i1) \
	VLD1.P 32(R0), [V0.B16, V1.B16] \
	VUSHR $4, V0.B16, V4.B16 \
	VUSHR $4, V1.B16, V5.B16 \
	VAND V30.B16, V0.B16, V2.B16 \
	VAND V30.B16, V1.B16, V3.B16 \
	VDUP SREG.S[i0], V14.S4 \
	VDUP SREG.S[i1], V15.S4 \
	Q4K_TOK(DOT16, R1, 16, 17) \
	Q4K_TOK(DOT16, R2, 18, 19) \
	Q4K_TOK(DOT16, R3, 20, 21) \
	Q4K_TOK(DOT16, R4, 26, 27)

// Q4K_BODY4 expects qs in R0, the four tokens' values in R1..R4, sc in R7
// and out in R6.
#define Q4K_BODY4(DOT16) \
	VLD1 (R7), [V22.S4, V23.S4] \
	VMOVI $15, V30.B16 \
	ZERO(16) \
	ZERO(17) \
	ZERO(18) \
	ZERO(19) \
	ZERO(20) \
	ZERO(21) \
	ZERO(26) \
	ZERO(27) \
	Q4K_CHUNK4(DOT16, V22, 0, 1) \
	Q4K_CHUNK4(DOT16, V22, 2, 3) \
	Q4K_CHUNK4(DOT16, V23, 0, 1) \
	Q4K_CHUNK4(DOT16, V23, 2, 3) \
	VST1.P [V16.S4, V17.S4], 32(R6) \
	VST1.P [V18.S4, V19.S4], 32(R6) \
	VST1.P [V20.S4, V21.S4], 32(R6) \
	VST1 [V26.S4, V27.S4], (R6)

// func q4KLanesSDOT(qs, q8 *byte, sc, out *[8]int32)
TEXT ·q4KLanesSDOT(SB), NOSPLIT, $0-32
	MOVD qs+0(FP), R0
	MOVD q8+8(FP), R1
	MOVD sc+16(FP), R2
	MOVD out+24(FP), R3
	Q4K_BODY(DOT16_SDOT)
	RET

// func q4KLanesMULL(qs, q8 *byte, sc, out *[8]int32)
TEXT ·q4KLanesMULL(SB), NOSPLIT, $0-32
	MOVD qs+0(FP), R0
	MOVD q8+8(FP), R1
	MOVD sc+16(FP), R2
	MOVD out+24(FP), R3
	Q4K_BODY(DOT16_MULL)
	RET

// func q6KLanesSDOT(ql, qh, q8 *byte, sc *[16]int32, out *[8]int32)
TEXT ·q6KLanesSDOT(SB), NOSPLIT, $0-40
	MOVD ql+0(FP), R0
	MOVD qh+8(FP), R1
	MOVD q8+16(FP), R2
	MOVD sc+24(FP), R3
	MOVD out+32(FP), R4
	Q6K_BODY(DOT16_SDOT)
	RET

// func q6KLanesMULL(ql, qh, q8 *byte, sc *[16]int32, out *[8]int32)
TEXT ·q6KLanesMULL(SB), NOSPLIT, $0-40
	MOVD ql+0(FP), R0
	MOVD qh+8(FP), R1
	MOVD q8+16(FP), R2
	MOVD sc+24(FP), R3
	MOVD out+32(FP), R4
	Q6K_BODY(DOT16_MULL)
	RET

// func q4KLanesx4SDOT(qs *byte, q8 *[4]*byte, sc *[8]int32, out *[4][8]int32)
// out[t] = the lanes q4KLanesSDOT gives for qs and q8[t].
TEXT ·q4KLanesx4SDOT(SB), NOSPLIT, $0-32
	MOVD qs+0(FP), R0
	MOVD q8+8(FP), R9
	MOVD 0(R9), R1
	MOVD 8(R9), R2
	MOVD 16(R9), R3
	MOVD 24(R9), R4
	MOVD sc+16(FP), R7
	MOVD out+24(FP), R6
	Q4K_BODY4(DOT16_SDOT)
	RET

// func q4KLanesx4MULL(qs *byte, q8 *[4]*byte, sc *[8]int32, out *[4][8]int32)
// out[t] = the lanes q4KLanesMULL gives for qs and q8[t].
TEXT ·q4KLanesx4MULL(SB), NOSPLIT, $0-32
	MOVD qs+0(FP), R0
	MOVD q8+8(FP), R9
	MOVD 0(R9), R1
	MOVD 8(R9), R2
	MOVD 16(R9), R3
	MOVD 24(R9), R4
	MOVD sc+16(FP), R7
	MOVD out+24(FP), R6
	Q4K_BODY4(DOT16_MULL)
	RET
