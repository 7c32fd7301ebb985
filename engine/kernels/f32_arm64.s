//go:build arm64

#include "textflag.h"
#include "neon_arm64.h"

// func dotF32NEON(a, b *float32, n int) float32
// n is a multiple of 4. Sixteen lanes (V0..V3) accumulate with fused
// multiply-adds and are reduced at the end.
TEXT ·dotF32NEON(SB), NOSPLIT, $0-28
	MOVD a+0(FP), R0
	MOVD b+8(FP), R1
	MOVD n+16(FP), R2
	VEOR V0.B16, V0.B16, V0.B16
	VEOR V1.B16, V1.B16, V1.B16
	VEOR V2.B16, V2.B16, V2.B16
	VEOR V3.B16, V3.B16, V3.B16

dot16:
	CMP  $16, R2
	BLT  dot4
	VLD1.P 64(R0), [V4.S4, V5.S4, V6.S4, V7.S4]
	VLD1.P 64(R1), [V16.S4, V17.S4, V18.S4, V19.S4]
	VFMLA V4.S4, V16.S4, V0.S4
	VFMLA V5.S4, V17.S4, V1.S4
	VFMLA V6.S4, V18.S4, V2.S4
	VFMLA V7.S4, V19.S4, V3.S4
	SUB  $16, R2
	B    dot16

dot4:
	CBZ  R2, dotreduce
	VLD1.P 16(R0), [V4.S4]
	VLD1.P 16(R1), [V16.S4]
	VFMLA V4.S4, V16.S4, V0.S4
	SUB  $4, R2
	B    dot4

dotreduce:
	FADD4S(1, 0, 0)
	FADD4S(3, 2, 2)
	FADD4S(2, 0, 0)
	FADDP4S(0, 0, 0)
	FADDP2S(0, 0)
	FMOVS F0, ret+24(FP)
	RET

// func axpyF32NEON(y *float32, alpha float32, x *float32, n int)
// n is a multiple of 4; y[i] += alpha*x[i], fused.
TEXT ·axpyF32NEON(SB), NOSPLIT, $0-32
	MOVD  y+0(FP), R0
	FMOVS alpha+8(FP), F20
	MOVD  x+16(FP), R1
	MOVD  n+24(FP), R2
	VDUP  V20.S[0], V20.S4

axpy16:
	CMP  $16, R2
	BLT  axpy4
	VLD1 (R0), [V0.S4, V1.S4, V2.S4, V3.S4]
	VLD1.P 64(R1), [V4.S4, V5.S4, V6.S4, V7.S4]
	VFMLA V4.S4, V20.S4, V0.S4
	VFMLA V5.S4, V20.S4, V1.S4
	VFMLA V6.S4, V20.S4, V2.S4
	VFMLA V7.S4, V20.S4, V3.S4
	VST1.P [V0.S4, V1.S4, V2.S4, V3.S4], 64(R0)
	SUB  $16, R2
	B    axpy16

axpy4:
	CBZ  R2, axpydone
	VLD1 (R0), [V0.S4]
	VLD1.P 16(R1), [V4.S4]
	VFMLA V4.S4, V20.S4, V0.S4
	VST1.P [V0.S4], 16(R0)
	SUB  $4, R2
	B    axpy4

axpydone:
	RET

// func scaleF32NEON(x *float32, s float32, n int)
// n is a multiple of 4.
TEXT ·scaleF32NEON(SB), NOSPLIT, $0-24
	MOVD  x+0(FP), R0
	FMOVS s+8(FP), F20
	MOVD  n+16(FP), R2
	VDUP  V20.S[0], V20.S4

scale16:
	CMP  $16, R2
	BLT  scale4
	VLD1 (R0), [V0.S4, V1.S4, V2.S4, V3.S4]
	FMUL4S(20, 0, 0)
	FMUL4S(20, 1, 1)
	FMUL4S(20, 2, 2)
	FMUL4S(20, 3, 3)
	VST1.P [V0.S4, V1.S4, V2.S4, V3.S4], 64(R0)
	SUB  $16, R2
	B    scale16

scale4:
	CBZ  R2, scaledone
	VLD1 (R0), [V0.S4]
	FMUL4S(20, 0, 0)
	VST1.P [V0.S4], 16(R0)
	SUB  $4, R2
	B    scale4

scaledone:
	RET
