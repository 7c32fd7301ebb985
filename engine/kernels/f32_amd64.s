//go:build amd64

#include "textflag.h"

// func dotF32AVX(a, b *float32, n int) float32
TEXT ·dotF32AVX(SB), NOSPLIT, $0-28
	MOVQ a+0(FP), SI
	MOVQ b+8(FP), DI
	MOVQ n+16(FP), CX
	VXORPS Y0, Y0, Y0
	VXORPS Y1, Y1, Y1
	VXORPS Y2, Y2, Y2
	VXORPS Y3, Y3, Y3
	CMPQ CX, $32
	JL   dot8

dot32:
	VMOVUPS     (SI), Y4
	VMOVUPS     32(SI), Y5
	VMOVUPS     64(SI), Y6
	VMOVUPS     96(SI), Y7
	VFMADD231PS (DI), Y4, Y0
	VFMADD231PS 32(DI), Y5, Y1
	VFMADD231PS 64(DI), Y6, Y2
	VFMADD231PS 96(DI), Y7, Y3
	ADDQ        $128, SI
	ADDQ        $128, DI
	SUBQ        $32, CX
	CMPQ        CX, $32
	JGE         dot32

dot8:
	CMPQ        CX, $8
	JL          dotreduce
	VMOVUPS     (SI), Y4
	VFMADD231PS (DI), Y4, Y0
	ADDQ        $32, SI
	ADDQ        $32, DI
	SUBQ        $8, CX
	JMP         dot8

dotreduce:
	VADDPS       Y1, Y0, Y0
	VADDPS       Y3, Y2, Y2
	VADDPS       Y2, Y0, Y0
	VEXTRACTF128 $1, Y0, X1
	VADDPS       X1, X0, X0
	VHADDPS      X0, X0, X0
	VHADDPS      X0, X0, X0

dot1:
	TESTQ       CX, CX
	JZ          dotdone
	VMOVSS      (SI), X1
	VFMADD231SS (DI), X1, X0
	ADDQ        $4, SI
	ADDQ        $4, DI
	DECQ        CX
	JMP         dot1

dotdone:
	VZEROUPPER
	VMOVSS X0, ret+24(FP)
	RET

// func axpyF32AVX(y *float32, alpha float32, x *float32, n int)
TEXT ·axpyF32AVX(SB), NOSPLIT, $0-32
	MOVQ         y+0(FP), DI
	VBROADCASTSS alpha+8(FP), Y0
	MOVQ         x+16(FP), SI
	MOVQ         n+24(FP), CX
	CMPQ         CX, $32
	JL           axpy8

axpy32:
	VMOVUPS     (DI), Y1
	VMOVUPS     32(DI), Y2
	VMOVUPS     64(DI), Y3
	VMOVUPS     96(DI), Y4
	VFMADD231PS (SI), Y0, Y1
	VFMADD231PS 32(SI), Y0, Y2
	VFMADD231PS 64(SI), Y0, Y3
	VFMADD231PS 96(SI), Y0, Y4
	VMOVUPS     Y1, (DI)
	VMOVUPS     Y2, 32(DI)
	VMOVUPS     Y3, 64(DI)
	VMOVUPS     Y4, 96(DI)
	ADDQ        $128, SI
	ADDQ        $128, DI
	SUBQ        $32, CX
	CMPQ        CX, $32
	JGE         axpy32

axpy8:
	CMPQ        CX, $8
	JL          axpy1
	VMOVUPS     (DI), Y1
	VFMADD231PS (SI), Y0, Y1
	VMOVUPS     Y1, (DI)
	ADDQ        $32, SI
	ADDQ        $32, DI
	SUBQ        $8, CX
	JMP         axpy8

axpy1:
	TESTQ       CX, CX
	JZ          axpydone
	VMOVSS      (DI), X1
	VFMADD231SS (SI), X0, X1
	VMOVSS      X1, (DI)
	ADDQ        $4, SI
	ADDQ        $4, DI
	DECQ        CX
	JMP         axpy1

axpydone:
	VZEROUPPER
	RET

// func scaleF32AVX(x *float32, s float32, n int)
TEXT ·scaleF32AVX(SB), NOSPLIT, $0-24
	MOVQ         x+0(FP), DI
	VBROADCASTSS s+8(FP), Y0
	MOVQ         n+16(FP), CX
	CMPQ         CX, $32
	JL           scale8

scale32:
	VMULPS  (DI), Y0, Y1
	VMULPS  32(DI), Y0, Y2
	VMULPS  64(DI), Y0, Y3
	VMULPS  96(DI), Y0, Y4
	VMOVUPS Y1, (DI)
	VMOVUPS Y2, 32(DI)
	VMOVUPS Y3, 64(DI)
	VMOVUPS Y4, 96(DI)
	ADDQ    $128, DI
	SUBQ    $32, CX
	CMPQ    CX, $32
	JGE     scale32

scale8:
	CMPQ    CX, $8
	JL      scale1
	VMULPS  (DI), Y0, Y1
	VMOVUPS Y1, (DI)
	ADDQ    $32, DI
	SUBQ    $8, CX
	JMP     scale8

scale1:
	TESTQ  CX, CX
	JZ     scaledone
	VMULSS (DI), X0, X1
	VMOVSS X1, (DI)
	ADDQ   $4, DI
	DECQ   CX
	JMP    scale1

scaledone:
	VZEROUPPER
	RET

// ROW3 reduces three accumulators (one row of a tile) and stores the three
// sums at (DI), (DI)+4, (DI)+8. Uses Y12..Y14.
#define ROW3(acc0, acc1, acc2) \
	VHADDPS      acc1, acc0, Y12  \
	VHADDPS      acc2, acc2, Y13  \
	VHADDPS      Y13, Y12, Y12    \
	VEXTRACTF128 $1, Y12, X14     \
	VADDPS       X14, X12, X12    \
	VMOVLPS      X12, (DI)        \
	VEXTRACTPS   $2, X12, 8(DI)

// func gemm4x3PanelAVX(c *float32, ldc int, a *float32, lda int, b *float32, ldb int, k int, tiles int)
// For t < tiles, C[4t+r][c] = A[4t+r]·B[c] over the first k elements (k a
// multiple of 8), r < 4, c < 3; strides are in elements. Twelve
// accumulators, three B vectors and one A vector use all sixteen YMM
// registers; the three B rows stay in L1 while the tiles of A stream past.
TEXT ·gemm4x3PanelAVX(SB), NOSPLIT, $0-64
	MOVQ  c+0(FP), DI
	MOVQ  ldc+8(FP), R15
	SHLQ  $2, R15
	MOVQ  a+16(FP), R8
	MOVQ  lda+24(FP), BX
	SHLQ  $2, BX
	MOVQ  b+32(FP), R12
	MOVQ  ldb+40(FP), AX
	SHLQ  $2, AX
	LEAQ  (R12)(AX*1), R13
	LEAQ  (R13)(AX*1), R14
	MOVQ  k+48(FP), DX
	SHLQ  $2, DX
	MOVQ  tiles+56(FP), CX
	TESTQ CX, CX
	JZ    panel_done

panel_tile:
	LEAQ   (R8)(BX*1), R9
	LEAQ   (R9)(BX*1), R10
	LEAQ   (R10)(BX*1), R11
	XORQ   AX, AX
	VXORPS Y0, Y0, Y0
	VXORPS Y1, Y1, Y1
	VXORPS Y2, Y2, Y2
	VXORPS Y3, Y3, Y3
	VXORPS Y4, Y4, Y4
	VXORPS Y5, Y5, Y5
	VXORPS Y6, Y6, Y6
	VXORPS Y7, Y7, Y7
	VXORPS Y8, Y8, Y8
	VXORPS Y9, Y9, Y9
	VXORPS Y10, Y10, Y10
	VXORPS Y11, Y11, Y11
	TESTQ  DX, DX
	JZ     panel_store

panel_k:
	VMOVUPS     (R12)(AX*1), Y12
	VMOVUPS     (R13)(AX*1), Y13
	VMOVUPS     (R14)(AX*1), Y14
	VMOVUPS     (R8)(AX*1), Y15
	VFMADD231PS Y12, Y15, Y0
	VFMADD231PS Y13, Y15, Y1
	VFMADD231PS Y14, Y15, Y2
	VMOVUPS     (R9)(AX*1), Y15
	VFMADD231PS Y12, Y15, Y3
	VFMADD231PS Y13, Y15, Y4
	VFMADD231PS Y14, Y15, Y5
	VMOVUPS     (R10)(AX*1), Y15
	VFMADD231PS Y12, Y15, Y6
	VFMADD231PS Y13, Y15, Y7
	VFMADD231PS Y14, Y15, Y8
	VMOVUPS     (R11)(AX*1), Y15
	VFMADD231PS Y12, Y15, Y9
	VFMADD231PS Y13, Y15, Y10
	VFMADD231PS Y14, Y15, Y11
	ADDQ        $32, AX
	CMPQ        AX, DX
	JL          panel_k

panel_store:
	ROW3(Y0, Y1, Y2)
	ADDQ R15, DI
	ROW3(Y3, Y4, Y5)
	ADDQ R15, DI
	ROW3(Y6, Y7, Y8)
	ADDQ R15, DI
	ROW3(Y9, Y10, Y11)
	ADDQ R15, DI
	LEAQ (R11)(BX*1), R8
	DECQ CX
	JNZ  panel_tile

panel_done:
	VZEROUPPER
	RET

// func dot1x4AVX(x *float32, y *float32, ldy int, k int, out *[4]float32)
// Dot products of one row x with four rows of y (stride ldy elements) over
// the first k elements, k a multiple of 8.
TEXT ·dot1x4AVX(SB), NOSPLIT, $0-40
	MOVQ x+0(FP), SI
	MOVQ y+8(FP), R8
	MOVQ ldy+16(FP), BX
	SHLQ $2, BX
	LEAQ (R8)(BX*1), R9
	LEAQ (R9)(BX*1), R10
	LEAQ (R10)(BX*1), R11
	MOVQ k+24(FP), DX
	SHLQ $2, DX
	XORQ AX, AX
	VXORPS Y0, Y0, Y0
	VXORPS Y1, Y1, Y1
	VXORPS Y2, Y2, Y2
	VXORPS Y3, Y3, Y3
	TESTQ DX, DX
	JZ    d14reduce

d14loop:
	VMOVUPS     (SI)(AX*1), Y4
	VFMADD231PS (R8)(AX*1), Y4, Y0
	VFMADD231PS (R9)(AX*1), Y4, Y1
	VFMADD231PS (R10)(AX*1), Y4, Y2
	VFMADD231PS (R11)(AX*1), Y4, Y3
	ADDQ        $32, AX
	CMPQ        AX, DX
	JL          d14loop

d14reduce:
	MOVQ         out+32(FP), DI
	VHADDPS      Y1, Y0, Y0
	VHADDPS      Y3, Y2, Y2
	VHADDPS      Y2, Y0, Y0
	VEXTRACTF128 $1, Y0, X1
	VADDPS       X1, X0, X0
	VMOVUPS      X0, (DI)
	VZEROUPPER
	RET
