//go:build amd64

#include "textflag.h"

// Byte i of lane 0 picks byte i/8 of the broadcast qh word, byte i of lane 1
// byte 2+i/8: spreads the 32 bits of a Q5 block's qh over 32 bytes.
DATA q5Spread<>+0(SB)/8, $0x0000000000000000
DATA q5Spread<>+8(SB)/8, $0x0101010101010101
DATA q5Spread<>+16(SB)/8, $0x0202020202020202
DATA q5Spread<>+24(SB)/8, $0x0303030303030303
GLOBL q5Spread<>(SB), RODATA|NOPTR, $32

// Every bit except bit i%8 of byte i: OR-ing it in leaves 0xFF exactly where
// that byte's own bit is set.
DATA q5Bits<>+0(SB)/8, $0x7fbfdfeff7fbfdfe
GLOBL q5Bits<>(SB), RODATA|NOPTR, $8

// SCALE1 leaves fp16(w)*fp16(a) broadcast in Y11. VMOVD starts X12 afresh
// (its upper two bytes are quant data, converted and never used), so no
// iteration waits on the previous one.
#define SCALE1(wd, ad) \
	VMOVD        wd, X12          \
	VPINSRW      $1, ad, X12, X12 \
	VCVTPH2PS    X12, X11         \
	VMOVSHDUP    X11, X10         \
	VMULSS       X10, X11, X11    \
	VBROADCASTSS X11, Y11

// SCALE2 does the same for two blocks at once: Y11 and Y10.
#define SCALE2(wd0, ad0, wd1, ad1) \
	VMOVD        wd0, X12          \
	VPINSRW      $1, ad0, X12, X12 \
	VPINSRW      $2, wd1, X12, X12 \
	VPINSRW      $3, ad1, X12, X12 \
	VCVTPH2PS    X12, X11          \
	VMOVSHDUP    X11, X10          \
	VMULPS       X10, X11, X11     \
	VMOVHLPS     X11, X11, X10     \
	VBROADCASTSS X11, Y11          \
	VBROADCASTSS X10, Y10

// HSUM8 reduces Y0 to a float32 in X0 in the order of ggml's
// hsum_float_8: high half + low half, lanes 0+2 and 1+3, then their sum.
#define HSUM8 \
	VEXTRACTF128 $1, Y0, X1 \
	VADDPS       X0, X1, X1 \
	VMOVHLPS     X1, X1, X2 \
	VADDPS       X2, X1, X1 \
	VMOVSHDUP    X1, X2     \
	VADDSS       X2, X1, X0

// Sixteen-bit ones for VPMADDWD, which adds neighbouring int16 pairs.
#define ONES16(r) \
	VPCMPEQW r, r, r \
	VPSRLW   $15, r, r

// Q8_0 block body: w at wq, a at aq (32 int8 each), scale in sc, sum into acc.
#define Q80(wq, aq, sc, acc) \
	VMOVDQU     wq, Y2      \
	VMOVDQU     aq, Y3      \
	VPSIGNB     Y2, Y2, Y4  \
	VPSIGNB     Y2, Y3, Y5  \
	VPMADDUBSW  Y5, Y4, Y6  \
	VPMADDWD    Y15, Y6, Y6 \
	VCVTDQ2PS   Y6, Y6      \
	VFMADD231PS Y6, sc, acc

// The 32-element kernels add every block into the single accumulator Y0,
// in block order, as ggml's AVX2 vec_dot does; the per-block work is long
// enough to hide the FMA latency, so one chain costs nothing.

// func dotQ8_0AVX(w, a *byte, nb int) float32
// Y2 holds |w| and Y3 a with w's sign, so the unsigned×signed VPMADDUBSW
// forms w*a; |w| <= 128 and |a| <= 127 keep the pair sums within int16.
TEXT ·dotQ8_0AVX(SB), NOSPLIT, $0-28
	MOVQ   w+0(FP), SI
	MOVQ   a+8(FP), DI
	MOVQ   nb+16(FP), CX
	VXORPS Y0, Y0, Y0
	VXORPS Y1, Y1, Y1
	ONES16(Y15)
	CMPQ   CX, $2
	JL     q80one

q80two:
	SCALE2((SI), (DI), 34(SI), 34(DI))
	Q80(2(SI), 2(DI), Y11, Y0)
	Q80(36(SI), 36(DI), Y10, Y0)
	ADDQ $68, SI
	ADDQ $68, DI
	SUBQ $2, CX
	CMPQ CX, $2
	JGE  q80two

q80one:
	TESTQ CX, CX
	JZ    q80done
	SCALE1((SI), (DI))
	Q80(2(SI), 2(DI), Y11, Y0)

q80done:
	HSUM8
	VZEROUPPER
	VMOVSS X0, ret+24(FP)
	RET

// Q4_0 block body: 16 nibble bytes at wq, a at aq. The nibbles are used
// unsigned (0..15) and the offset of 8 comes off as 8*sum(a), which
// VPMADDUBSW forms from the vector of 8s in Y13. Y14 is the 0x0F mask.
#define Q40(wq, aq, sc, acc) \
	VMOVDQU     wq, X2             \
	VPSRLW      $4, X2, X3         \
	VINSERTI128 $1, X3, Y2, Y2     \
	VPAND       Y14, Y2, Y2        \
	VMOVDQU     aq, Y3             \
	VPMADDUBSW  Y3, Y2, Y4         \
	VPMADDUBSW  Y3, Y13, Y5        \
	VPSUBW      Y5, Y4, Y4         \
	VPMADDWD    Y15, Y4, Y4        \
	VCVTDQ2PS   Y4, Y4             \
	VFMADD231PS Y4, sc, acc

// func dotQ4_0AVX(w, a *byte, nb int) float32
TEXT ·dotQ4_0AVX(SB), NOSPLIT, $0-28
	MOVQ         w+0(FP), SI
	MOVQ         a+8(FP), DI
	MOVQ         nb+16(FP), CX
	VXORPS       Y0, Y0, Y0
	VXORPS       Y1, Y1, Y1
	ONES16(Y15)
	MOVL         $0x0f0f0f0f, AX
	VMOVD        AX, X14
	VPBROADCASTD X14, Y14
	MOVL         $0x08080808, AX
	VMOVD        AX, X13
	VPBROADCASTD X13, Y13
	CMPQ         CX, $2
	JL           q40one

q40two:
	SCALE2((SI), (DI), 18(SI), 34(DI))
	Q40(2(SI), 2(DI), Y11, Y0)
	Q40(20(SI), 36(DI), Y10, Y0)
	ADDQ $36, SI
	ADDQ $68, DI
	SUBQ $2, CX
	CMPQ CX, $2
	JGE  q40two

q40one:
	TESTQ CX, CX
	JZ    q40done
	SCALE1((SI), (DI))
	Q40(2(SI), 2(DI), Y11, Y0)

q40done:
	HSUM8
	VZEROUPPER
	VMOVSS X0, ret+24(FP)
	RET

// Q5_0 block body: qh at wh, nibbles at wq. The 32 fifth bits are spread
// one per byte (Y9 shuffle, Y8 bit mask, Y7 all ones) and become 16s (Y13),
// then the offset of 16 comes off as 16*sum(a).
#define Q50(wh, wq, aq, sc, acc) \
	VPBROADCASTD wh, Y4             \
	VPSHUFB      Y9, Y4, Y4         \
	VPOR         Y8, Y4, Y4         \
	VPCMPEQB     Y7, Y4, Y4         \
	VPAND        Y13, Y4, Y4        \
	VMOVDQU      wq, X2             \
	VPSRLW       $4, X2, X3         \
	VINSERTI128  $1, X3, Y2, Y2     \
	VPAND        Y14, Y2, Y2        \
	VPOR         Y4, Y2, Y2         \
	VMOVDQU      aq, Y3             \
	VPMADDUBSW   Y3, Y2, Y4         \
	VPMADDUBSW   Y3, Y13, Y5        \
	VPSUBW       Y5, Y4, Y4         \
	VPMADDWD     Y15, Y4, Y4        \
	VCVTDQ2PS    Y4, Y4             \
	VFMADD231PS  Y4, sc, acc

// func dotQ5_0AVX(w, a *byte, nb int) float32
TEXT ·dotQ5_0AVX(SB), NOSPLIT, $0-28
	MOVQ         w+0(FP), SI
	MOVQ         a+8(FP), DI
	MOVQ         nb+16(FP), CX
	VXORPS       Y0, Y0, Y0
	VXORPS       Y1, Y1, Y1
	ONES16(Y15)
	MOVL         $0x0f0f0f0f, AX
	VMOVD        AX, X14
	VPBROADCASTD X14, Y14
	MOVL         $0x10101010, AX
	VMOVD        AX, X13
	VPBROADCASTD X13, Y13
	VMOVDQU      q5Spread<>(SB), Y9
	VPBROADCASTQ q5Bits<>(SB), Y8
	VPCMPEQB     Y7, Y7, Y7
	CMPQ         CX, $2
	JL           q50one

q50two:
	SCALE2((SI), (DI), 22(SI), 34(DI))
	Q50(2(SI), 6(SI), 2(DI), Y11, Y0)
	Q50(24(SI), 28(SI), 36(DI), Y10, Y0)
	ADDQ $44, SI
	ADDQ $68, DI
	SUBQ $2, CX
	CMPQ CX, $2
	JGE  q50two

q50one:
	TESTQ CX, CX
	JZ    q50done
	SCALE1((SI), (DI))
	Q50(2(SI), 6(SI), 2(DI), Y11, Y0)

q50done:
	HSUM8
	VZEROUPPER
	VMOVSS X0, ret+24(FP)
	RET

// SCALE4 converts the d and m (or s) halves of a Q4_1/Q5_1 block and its
// Q8_1 activation: Y11 = d_w*d_a broadcast, and m_w*s_a is added to X13.
#define SCALE4 \
	VMOVD        (SI), X12          \
	VPINSRD      $1, (DI), X12, X12 \
	VCVTPH2PS    X12, X11           \
	VMOVHLPS     X11, X11, X10      \
	VMULPS       X10, X11, X11      \
	VMOVSHDUP    X11, X10           \
	VADDSS       X10, X13, X13      \
	VBROADCASTSS X11, Y11

// Unsigned q (0..15 or 0..31) in Y2 times the activation at 4(DI), into Y0.
#define Q81DOT \
	VPMADDUBSW  4(DI), Y2, Y4 \
	VPMADDWD    Y15, Y4, Y4   \
	VCVTDQ2PS   Y4, Y4        \
	VFMADD231PS Y4, Y11, Y0

// func dotQ4_1AVX(w, a *byte, nb int) float32
TEXT ·dotQ4_1AVX(SB), NOSPLIT, $0-28
	MOVQ         w+0(FP), SI
	MOVQ         a+8(FP), DI
	MOVQ         nb+16(FP), CX
	VXORPS       Y0, Y0, Y0
	VXORPS       Y1, Y1, Y1
	VXORPS       X13, X13, X13
	ONES16(Y15)
	MOVL         $0x0f0f0f0f, AX
	VMOVD        AX, X14
	VPBROADCASTD X14, Y14
	TESTQ        CX, CX
	JZ           q41done

q41loop:
	SCALE4
	VMOVDQU     4(SI), X2
	VPSRLW      $4, X2, X3
	VINSERTI128 $1, X3, Y2, Y2
	VPAND       Y14, Y2, Y2
	Q81DOT
	ADDQ        $20, SI
	ADDQ        $36, DI
	DECQ        CX
	JNZ         q41loop

q41done:
	HSUM8
	VADDSS X13, X0, X0
	VZEROUPPER
	VMOVSS  X0, ret+24(FP)
	RET

// func dotQ5_1AVX(w, a *byte, nb int) float32
TEXT ·dotQ5_1AVX(SB), NOSPLIT, $0-28
	MOVQ         w+0(FP), SI
	MOVQ         a+8(FP), DI
	MOVQ         nb+16(FP), CX
	VXORPS       Y0, Y0, Y0
	VXORPS       Y1, Y1, Y1
	VXORPS       X13, X13, X13
	ONES16(Y15)
	MOVL         $0x0f0f0f0f, AX
	VMOVD        AX, X14
	VPBROADCASTD X14, Y14
	MOVL         $0x10101010, AX
	VMOVD        AX, X6
	VPBROADCASTD X6, Y6
	VMOVDQU      q5Spread<>(SB), Y9
	VPBROADCASTQ q5Bits<>(SB), Y8
	VPCMPEQB     Y7, Y7, Y7
	TESTQ        CX, CX
	JZ           q51done

q51loop:
	SCALE4
	VPBROADCASTD 4(SI), Y4
	VPSHUFB      Y9, Y4, Y4
	VPOR         Y8, Y4, Y4
	VPCMPEQB     Y7, Y4, Y4
	VPAND        Y6, Y4, Y4
	VMOVDQU      8(SI), X2
	VPSRLW       $4, X2, X3
	VINSERTI128  $1, X3, Y2, Y2
	VPAND        Y14, Y2, Y2
	VPOR         Y4, Y2, Y2
	Q81DOT
	ADDQ         $24, SI
	ADDQ         $36, DI
	DECQ         CX
	JNZ          q51loop

q51done:
	HSUM8
	VADDSS X13, X0, X0
	VZEROUPPER
	VMOVSS  X0, ret+24(FP)
	RET
