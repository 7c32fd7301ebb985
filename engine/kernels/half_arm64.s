//go:build arm64

#include "textflag.h"
#include "neon_arm64.h"

// func dotF16NEON(w *byte, x *float32, n int) float32
// n is a multiple of 8. Halves are widened exactly (FCVTL) and multiplied
// into sixteen lanes (V0..V3) with fused multiply-adds.
TEXT ·dotF16NEON(SB), NOSPLIT, $0-28
	MOVD w+0(FP), R0
	MOVD x+8(FP), R1
	MOVD n+16(FP), R2
	VEOR V0.B16, V0.B16, V0.B16
	VEOR V1.B16, V1.B16, V1.B16
	VEOR V2.B16, V2.B16, V2.B16
	VEOR V3.B16, V3.B16, V3.B16

f16loop16:
	CMP  $16, R2
	BLT  f16loop8
	VLD1.P 32(R0), [V8.H8, V9.H8]
	VLD1.P 64(R1), [V16.S4, V17.S4, V18.S4, V19.S4]
	FCVTL(8, 4)
	FCVTL2(8, 5)
	FCVTL(9, 6)
	FCVTL2(9, 7)
	VFMLA V4.S4, V16.S4, V0.S4
	VFMLA V5.S4, V17.S4, V1.S4
	VFMLA V6.S4, V18.S4, V2.S4
	VFMLA V7.S4, V19.S4, V3.S4
	SUB  $16, R2
	B    f16loop16

f16loop8:
	CBZ  R2, f16reduce
	VLD1.P 16(R0), [V8.H8]
	VLD1.P 32(R1), [V16.S4, V17.S4]
	FCVTL(8, 4)
	FCVTL2(8, 5)
	VFMLA V4.S4, V16.S4, V0.S4
	VFMLA V5.S4, V17.S4, V1.S4
	SUB  $8, R2
	B    f16loop8

f16reduce:
	FADD4S(1, 0, 0)
	FADD4S(3, 2, 2)
	FADD4S(2, 0, 0)
	FADDP4S(0, 0, 0)
	FADDP2S(0, 0)
	FMOVS F0, ret+24(FP)
	RET

// func dotBF16NEON(w *byte, x *float32, n int) float32
// n is a multiple of 8. A bfloat16 is the top half of a float32, so
// interleaving zero halves below the weights (ZIP1/ZIP2) widens them.
TEXT ·dotBF16NEON(SB), NOSPLIT, $0-28
	MOVD w+0(FP), R0
	MOVD x+8(FP), R1
	MOVD n+16(FP), R2
	VEOR V0.B16, V0.B16, V0.B16
	VEOR V1.B16, V1.B16, V1.B16
	VEOR V2.B16, V2.B16, V2.B16
	VEOR V3.B16, V3.B16, V3.B16
	VEOR V31.B16, V31.B16, V31.B16

bf16loop16:
	CMP  $16, R2
	BLT  bf16loop8
	VLD1.P 32(R0), [V8.H8, V9.H8]
	VLD1.P 64(R1), [V16.S4, V17.S4, V18.S4, V19.S4]
	VZIP1 V8.H8, V31.H8, V4.H8
	VZIP2 V8.H8, V31.H8, V5.H8
	VZIP1 V9.H8, V31.H8, V6.H8
	VZIP2 V9.H8, V31.H8, V7.H8
	VFMLA V4.S4, V16.S4, V0.S4
	VFMLA V5.S4, V17.S4, V1.S4
	VFMLA V6.S4, V18.S4, V2.S4
	VFMLA V7.S4, V19.S4, V3.S4
	SUB  $16, R2
	B    bf16loop16

bf16loop8:
	CBZ  R2, bf16reduce
	VLD1.P 16(R0), [V8.H8]
	VLD1.P 32(R1), [V16.S4, V17.S4]
	VZIP1 V8.H8, V31.H8, V4.H8
	VZIP2 V8.H8, V31.H8, V5.H8
	VFMLA V4.S4, V16.S4, V0.S4
	VFMLA V5.S4, V17.S4, V1.S4
	SUB  $8, R2
	B    bf16loop8

bf16reduce:
	FADD4S(1, 0, 0)
	FADD4S(3, 2, 2)
	FADD4S(2, 0, 0)
	FADDP4S(0, 0, 0)
	FADDP2S(0, 0)
	FMOVS F0, ret+24(FP)
	RET
