// Encodings of the Advanced SIMD instructions that Go's arm64 assembler
// does not know. Arguments are register numbers (0..31 for V0..V31), in
// the assembler's own operand order: sources first, destination last, so
// FADD4S(m, n, d) is d = n + m as in VADD. Each encoding was checked
// against llvm-mc and Go's disassembler, and every kernel using them is
// tested against its generic twin under emulation.

// Floating point, four single-precision lanes.
#define FADD4S(m, n, d) WORD $(0x4e20d400 | (m)<<16 | (n)<<5 | (d))
#define FMUL4S(m, n, d) WORD $(0x6e20dc00 | (m)<<16 | (n)<<5 | (d))
#define FADDP4S(m, n, d) WORD $(0x6e20d400 | (m)<<16 | (n)<<5 | (d))
// FADDP2S sets scalar S(d) = Vn.S[0] + Vn.S[1].
#define FADDP2S(n, d) WORD $(0x7e30d800 | (n)<<5 | (d))
// FCVTL widens the low four halves of Vn to singles; FCVTL2 the high four.
#define FCVTL(n, d) WORD $(0x0e217800 | (n)<<5 | (d))
#define FCVTL2(n, d) WORD $(0x4e217800 | (n)<<5 | (d))
// SCVTF4S converts four int32 lanes to float32 (exact below 2^24).
#define SCVTF4S(n, d) WORD $(0x4e21d800 | (n)<<5 | (d))

// Integer.
// SDOT (dot-product extension): Vd.S[i] += Σ_{j<4} Vn.B[4i+j]·Vm.B[4i+j].
#define SDOT(m, n, d) WORD $(0x4e809400 | (m)<<16 | (n)<<5 | (d))
// SMULL8H multiplies the low eight signed bytes into eight int16 lanes;
// SMULL2_8H the high eight.
#define SMULL8H(m, n, d) WORD $(0x0e20c000 | (m)<<16 | (n)<<5 | (d))
#define SMULL2_8H(m, n, d) WORD $(0x4e20c000 | (m)<<16 | (n)<<5 | (d))
// SADDLP4S adds adjacent int16 lanes into four int32 lanes.
#define SADDLP4S(n, d) WORD $(0x4e602800 | (n)<<5 | (d))
// ADDP4S concatenates Vn and Vm and adds adjacent int32 lanes.
#define ADDP4S(m, n, d) WORD $(0x4ea0bc00 | (m)<<16 | (n)<<5 | (d))
#define MLA4S(m, n, d) WORD $(0x4ea09400 | (m)<<16 | (n)<<5 | (d))
#define MUL4S(m, n, d) WORD $(0x4ea09c00 | (m)<<16 | (n)<<5 | (d))
// SXTL8H sign-extends the low eight bytes to int16; SXTL2_8H the high eight.
#define SXTL8H(n, d) WORD $(0x0f08a400 | (n)<<5 | (d))
#define SXTL2_8H(n, d) WORD $(0x4f08a400 | (n)<<5 | (d))

// ZERO clears Vd (EOR Vd, Vd, Vd).
#define ZERO(d) WORD $(0x6e201c00 | (d)<<16 | (d)<<5 | (d))

// DOT16_SDOT and DOT16_MULL set the four int32 lanes of Vd to the sums of
// four consecutive products of the signed bytes of Vw and Va (lane i:
// bytes 4i..4i+3), which is what ggml's AVX2 kernels keep per lane. SDOT
// does it in one instruction; without the dot-product extension the bytes
// are multiplied into int16 (|q·a| <= 128·128 fits), adjacent pairs are
// added into int32 and the pairs of pairs once more. t1 and t2 are
// scratch registers.
#define DOT16_SDOT(w, a, d, t1, t2) \
	ZERO(d) \
	SDOT(a, w, d)

#define DOT16_MULL(w, a, d, t1, t2) \
	SMULL8H(a, w, t1) \
	SMULL2_8H(a, w, t2) \
	SADDLP4S(t1, t1) \
	SADDLP4S(t2, t2) \
	ADDP4S(t2, t1, d)

// HSUM8 reduces the eight float32 lanes (V<lo>, V<hi>) into F<dst> in the
// order of ggml's hsum_float_8 (see lanes8.hsum), using V<tmp> as scratch:
// t = hi + lo, then (t0+t2) + (t1+t3). V<lo> is overwritten.
#define HSUM8(lo, hi, tmp, dst) \
	FADD4S(hi, lo, lo) \
	WORD $(0x6e004000 | (lo)<<16 | (lo)<<5 | (tmp)) \
	FADD4S(tmp, lo, lo) \
	FADDP2S(lo, dst)
