package weights

import (
	"bytes"
	"encoding/binary"
	"math"
	"math/rand/v2"
	"strings"
	"testing"
)

var quantizableTypes = []DType{F32, F16, BF16, Q4_0, Q4_1, Q5_0, Q5_1, Q8_0, Q8_1, Q2_K, Q3_K, Q4_K, Q5_K, Q6_K, Q8_K}

func roundTrip(t *testing.T, x []float32, ty DType) []float32 {
	t.Helper()
	size, err := ty.RowBytes(len(x))
	if err != nil {
		t.Fatal(err)
	}
	q := make([]byte, size)
	if err := Quantize(q, x, ty); err != nil {
		t.Fatal(err)
	}
	y := make([]float32, len(x))
	if err := Dequantize(y, q, ty); err != nil {
		t.Fatal(err)
	}
	return y
}

func TestQuantizeF32RoundTripIsExact(t *testing.T) {
	x := []float32{0, float32(math.Copysign(0, -1)), 1, -2.5, math.MaxFloat32, math.SmallestNonzeroFloat32,
		float32(math.Inf(1)), float32(math.NaN()), 1e-40, 3.14159}
	y := roundTrip(t, x, F32)
	for i := range x {
		if math.Float32bits(x[i]) != math.Float32bits(y[i]) {
			t.Errorf("element %d: %#08x became %#08x", i, math.Float32bits(x[i]), math.Float32bits(y[i]))
		}
	}
}

// TestQuantizeRoundTripError bounds the relative RMS error of
// quantize→dequantize on Gaussian data. The bounds sit above what each
// format's bit budget allows (about 2^-(bits) of the block range, see
// ggml's own quantize-fns test) and far below what a layout or scale bug
// produces.
func TestQuantizeRoundTripError(t *testing.T) {
	rng := rand.New(rand.NewPCG(7, 8))
	x := make([]float32, 64*256)
	for i := range x {
		x[i] = float32(rng.NormFloat64() * 0.02)
	}
	bounds := map[DType]float64{
		F16: 5e-4, BF16: 4e-3,
		Q8_0: 0.01, Q8_1: 0.01, Q8_K: 0.01,
		Q6_K: 0.02,
		Q5_0: 0.06, Q5_1: 0.05, Q5_K: 0.04,
		Q4_0: 0.12, Q4_1: 0.10, Q4_K: 0.08,
		Q3_K: 0.20, Q2_K: 0.40,
	}
	for _, ty := range quantizableTypes {
		if ty == F32 {
			continue
		}
		t.Run(ty.String(), func(t *testing.T) {
			y := roundTrip(t, x, ty)
			var se, ss float64
			for i := range x {
				e := float64(y[i]) - float64(x[i])
				se += e * e
				ss += float64(x[i]) * float64(x[i])
			}
			rel := math.Sqrt(se / ss)
			t.Logf("%v relative RMSE %.4f (bound %.4f)", ty, rel, bounds[ty])
			if !(rel < bounds[ty]) {
				t.Errorf("%v relative RMSE %.4f, want < %.4f", ty, rel, bounds[ty])
			}
		})
	}
}

func TestQuantizeZerosAndConstants(t *testing.T) {
	for _, ty := range quantizableTypes {
		for _, c := range []float32{0, 0.5, -3} {
			x := make([]float32, 512)
			for i := range x {
				x[i] = c
			}
			y := roundTrip(t, x, ty)
			for i := range y {
				if e := math.Abs(float64(y[i] - c)); !(e <= 0.02*math.Abs(float64(c))) {
					t.Fatalf("%v constant %g: element %d came back as %g", ty, c, i, y[i])
				}
			}
		}
	}
}

// TestQuantizeQ8_0HandBlock checks one block against bytes worked out by
// hand: amax 31.75 gives d = 31.75/127 = 0.25 (half 0x3400), and each quant is
// x/0.25 rounded half away from zero.
func TestQuantizeQ8_0HandBlock(t *testing.T) {
	x := make([]float32, 32)
	copy(x, []float32{31.75, -10, 0.125, -0.125, 0.3, 0.375, -31.75, 5})
	want := make([]byte, 34)
	copy(want, []byte{0x00, 0x34, 127, byte(0x100 - 40), 1, 0xff, 1, 2, 0x100 - 127, 20})
	got := make([]byte, 34)
	if err := Quantize(got, x, Q8_0); err != nil {
		t.Fatal(err)
	}
	if !bytes.Equal(got, want) {
		t.Errorf("got  % x\nwant % x", got, want)
	}
}

// TestQuantizeQ4_0HandBlocks checks two blocks worked out by hand. Block 1's
// value of largest magnitude is -4, so d = -4/-8 = 0.5 (half 0x3800) and
// q = min(15, trunc(x/0.5 + 8.5)); block 2's is +4, so d = -0.5 and +4 maps to
// quant 0. Element j sits in the low nibble of byte j, element j+16 in the
// high nibble.
func TestQuantizeQ4_0HandBlocks(t *testing.T) {
	x := make([]float32, 64)
	copy(x[0:], []float32{-4, 3.5, 3.9, 0, 0.25, 0.2, -0.3})
	x[16] = 1 // shares byte 0 with x[0]: 1/0.5+8.5 = 10.5 -> 10
	copy(x[32:], []float32{4, -3.75, -0.3})
	const zeros = 8 | 8<<4 // two zero elements: quant 8 each
	want := bytes.Repeat([]byte{zeros}, 36)
	// Block 1: the high nibbles of bytes 1..6 are elements 17..22, all zero.
	copy(want[0:], []byte{0x00, 0x38, 0 | 10<<4, 15 | 8<<4, 15 | 8<<4, 8 | 8<<4, 9 | 8<<4, 8 | 8<<4, 7 | 8<<4})
	// Block 2: 4 -> trunc(-8+8.5) = 0; -3.75 -> 16 -> 15; -0.3 -> trunc(9.1) = 9.
	copy(want[18:], []byte{0x00, 0xb8, 0 | 8<<4, 15 | 8<<4, 9 | 8<<4})
	got := make([]byte, 36)
	if err := Quantize(got, x, Q4_0); err != nil {
		t.Fatal(err)
	}
	if !bytes.Equal(got, want) {
		t.Errorf("got  % x\nwant % x", got, want)
	}
}

func TestQuantizeRejectsBadInput(t *testing.T) {
	nan := float32(math.NaN())
	tests := []struct {
		name    string
		ty      DType
		src     []float32
		dstLen  int
		wantErr string
	}{
		{"unsupported type", I32, make([]float32, 4), 16, "no encoder for dtype I32"},
		{"partial block", Q8_0, make([]float32, 40), 34, "not a multiple of the block size 32"},
		{"dst too short", Q4_K, make([]float32, 256), 143, "Q4_K: 256 elements need 144 bytes, got 143"},
		{"dst too long", F16, make([]float32, 3), 8, "F16: 3 elements need 6 bytes, got 8"},
		{"NaN in a block type", Q6_K, append(make([]float32, 255), nan), 210, "element 255 is NaN"},
		{"Inf in a block type", Q4_0, append([]float32{float32(math.Inf(-1))}, make([]float32, 31)...), 18, "element 0 is -Inf"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			err := Quantize(make([]byte, tc.dstLen), tc.src, tc.ty)
			if err == nil || !strings.Contains(err.Error(), tc.wantErr) {
				t.Fatalf("got error %v, want one containing %q", err, tc.wantErr)
			}
		})
	}
	if Quantizable(I8) || !Quantizable(Q5_K) {
		t.Error("Quantizable disagrees with the supported list")
	}
}

func TestNearestIntTiesToEven(t *testing.T) {
	tests := []struct {
		in   float32
		want int32
	}{{0.5, 0}, {1.5, 2}, {2.5, 2}, {-0.5, 0}, {-1.5, -2}, {-2.49, -2}, {7.51, 8}, {4194303, 4194303}, {-4194303, -4194303}}
	for _, tc := range tests {
		if got := nearestInt(tc.in); got != tc.want {
			t.Errorf("nearestInt(%g) = %d, want %d", tc.in, got, tc.want)
		}
	}
}

// BenchmarkQuantize measures encode throughput on a 896×4864 matrix (the
// MB/s column is float32 input).
func BenchmarkQuantize(b *testing.B) {
	const n = 896 * 4864
	rng := rand.New(rand.NewPCG(9, 10))
	x := make([]float32, n)
	for i := range x {
		x[i] = float32(rng.NormFloat64() * 0.05)
	}
	for _, ty := range []DType{F16, BF16, Q4_0, Q5_0, Q8_0, Q4_K, Q5_K, Q6_K} {
		size, _ := ty.RowBytes(n)
		dst := make([]byte, size)
		b.Run(ty.String(), func(b *testing.B) {
			b.SetBytes(4 * n)
			for b.Loop() {
				if err := Quantize(dst, x, ty); err != nil {
					b.Fatal(err)
				}
			}
		})
	}
}

// FuzzQuantize encodes arbitrary float32 bit patterns (NaNs, infinities,
// subnormals, huge values) as every supported type: non-finite input to a
// block type must be refused, everything else must encode and decode without
// error or panic. (Values near the float32 limits overflow a half scale and
// decode as Inf or NaN, as in ggml.)
func FuzzQuantize(f *testing.F) {
	le := func(v ...float32) []byte {
		var b []byte
		for _, x := range v {
			b = binary.LittleEndian.AppendUint32(b, math.Float32bits(x))
		}
		return b
	}
	f.Add(le(1, -2, 0.5, 3e-41, 1e30, -7, 0, 0), uint8(0))
	f.Add(le(float32(math.NaN()), 1), uint8(3))
	f.Add(le(1e-40, -1e-40), uint8(11))
	f.Fuzz(func(t *testing.T, raw []byte, pick uint8) {
		ty := quantizableTypes[int(pick)%len(quantizableTypes)]
		be := ty.BlockElems()
		x := make([]float32, be*(1+len(raw)/4/be))
		finite := true
		for i := range x {
			if 4*i+4 <= len(raw) {
				x[i] = math.Float32frombits(binary.LittleEndian.Uint32(raw[4*i:]))
			}
			if math.IsNaN(float64(x[i])) || math.IsInf(float64(x[i]), 0) {
				finite = false
			}
		}
		size, _ := ty.RowBytes(len(x))
		q := make([]byte, size)
		err := Quantize(q, x, ty)
		if ty.Quantized() && !finite {
			if err == nil {
				t.Fatalf("%v: non-finite input accepted", ty)
			}
			return
		}
		if err != nil {
			if strings.Contains(err.Error(), "overflows") {
				return // a value the encoding cannot hold (next to a NaN or not)
			}
			t.Fatalf("%v: %v", ty, err)
		}
		out := make([]float32, len(x))
		if err := Dequantize(out, q, ty); err != nil {
			t.Fatalf("%v: %v", ty, err)
		}
		if finite && ty != F32 && ty != BF16 {
			for i, v := range out {
				if math.IsNaN(float64(v)) || math.IsInf(float64(v), 0) {
					t.Fatalf("%v: finite input %g at %d accepted but decodes to %v", ty, x[i], i, v)
				}
			}
		}
	})
}
