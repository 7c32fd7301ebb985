package weights

import (
	"encoding/binary"
	"math"
	"math/rand/v2"
	"strings"
	"testing"

	"github.com/x448/float16"
)

// TestHalfToFloat32AllValues compares every one of the 65536 half values with
// x448/float16's independent conversion.
func TestHalfToFloat32AllValues(t *testing.T) {
	for u := 0; u < 1<<16; u++ {
		h := uint16(u)
		got := HalfToFloat32(h)
		want := float16.Frombits(h).Float32()
		if math.IsNaN(float64(want)) {
			if !math.IsNaN(float64(got)) {
				t.Fatalf("half %#04x: got %g, want NaN", h, got)
			}
			continue
		}
		if math.Float32bits(got) != math.Float32bits(want) {
			t.Fatalf("half %#04x: got %g (%#08x), want %g (%#08x)", h, got, math.Float32bits(got), want, math.Float32bits(want))
		}
	}
}

func TestBF16Conversions(t *testing.T) {
	tests := []struct {
		name string
		in   uint32 // float32 bits
		want uint16
	}{
		{"one", 0x3f800000, 0x3f80},
		{"exact", 0xc0490000, 0xc049},
		{"below half rounds down", 0x3f807fff, 0x3f80},
		{"tie rounds to even (down)", 0x3f808000, 0x3f80},
		{"tie rounds to even (up)", 0x3f818000, 0x3f82},
		{"above half rounds up", 0x3f808001, 0x3f81},
		{"max rounds to inf", 0x7f7fffff, 0x7f80},
		{"inf", 0xff800000, 0xff80},
		{"signalling NaN made quiet", 0x7f800001, 0x7fc0},
		{"subnormal kept", 0x00010000, 0x0001},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			if got := Float32ToBF16(math.Float32frombits(tc.in)); got != tc.want {
				t.Errorf("Float32ToBF16(%#08x) = %#04x, want %#04x", tc.in, got, tc.want)
			}
			if tc.want&0x7fff <= 0x7f80 {
				if got := math.Float32bits(BF16ToFloat32(tc.want)); got != uint32(tc.want)<<16 {
					t.Errorf("BF16ToFloat32(%#04x) bits %#08x", tc.want, got)
				}
			}
		})
	}
}

func TestDequantizePlainTypes(t *testing.T) {
	le := binary.LittleEndian
	tests := []struct {
		ty   DType
		src  []byte
		want []float32
	}{
		{F32, le.AppendUint32(le.AppendUint32(nil, math.Float32bits(1.5)), math.Float32bits(-3e-39)), []float32{1.5, -3e-39}},
		{F16, []byte{0x00, 0x3c, 0x01, 0x00, 0x00, 0xfc}, []float32{1, 0x1p-24, float32(math.Inf(-1))}},
		{BF16, []byte{0x80, 0x3f, 0x49, 0xc0}, []float32{1, -3.140625}},
		{F64, le.AppendUint64(nil, math.Float64bits(0.1)), []float32{0.1}},
		{I8, []byte{0x7f, 0x80, 0xff}, []float32{127, -128, -1}},
		{I16, []byte{0x00, 0x80, 0xff, 0x7f}, []float32{-32768, 32767}},
		{I32, le.AppendUint32(le.AppendUint32(nil, 1<<24), 0xffffffff), []float32{16777216, -1}},
		{I64, le.AppendUint64(nil, 1<<40), []float32{1 << 40}},
	}
	for _, tc := range tests {
		t.Run(tc.ty.String(), func(t *testing.T) {
			got := make([]float32, len(tc.want))
			if err := Dequantize(got, tc.src, tc.ty); err != nil {
				t.Fatal(err)
			}
			for i := range got {
				if math.Float32bits(got[i]) != math.Float32bits(tc.want[i]) {
					t.Errorf("element %d: got %g, want %g", i, got[i], tc.want[i])
				}
			}
		})
	}
}

func TestDequantizeRejectsBadSizes(t *testing.T) {
	tests := []struct {
		name    string
		ty      DType
		elems   int
		bytes   int
		wantErr string
	}{
		{"short F32", F32, 4, 15, "F32: 4 elements need 16 bytes, got 15"},
		{"long F16", F16, 2, 6, "F16: 2 elements need 4 bytes, got 6"},
		{"partial block", Q4_0, 48, 36, "not a multiple of the block size 32"},
		{"one block too few", Q6_K, 512, 210, "Q6_K: 512 elements need 420 bytes, got 210"},
		{"unknown type", DType(5), 32, 32, "unknown dtype type(5)"},
		{"Q8_K extra byte", Q8_K, 256, 293, "Q8_K: 256 elements need 292 bytes, got 293"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			err := Dequantize(make([]float32, tc.elems), make([]byte, tc.bytes), tc.ty)
			if err == nil || !strings.Contains(err.Error(), tc.wantErr) {
				t.Fatalf("got error %v, want one containing %q", err, tc.wantErr)
			}
		})
	}
}

// The layout tests below build blocks from known integer quants with a
// packer written from ggml-common.h's description of each block, using
// power-of-two scales so that every expected value is exact whatever the
// order of operations, and compare Dequantize's output with d*scale*q - min
// computed in float64.

func putF16(b []byte, f float32) { binary.LittleEndian.PutUint16(b, float16.Fromfloat32(f).Bits()) }

func checkExact(t *testing.T, ty DType, block []byte, want []float64) {
	t.Helper()
	got := make([]float32, len(want))
	if err := Dequantize(got, block, ty); err != nil {
		t.Fatal(err)
	}
	for i := range want {
		if float64(got[i]) != want[i] {
			t.Fatalf("%v element %d: got %g, want %g", ty, i, got[i], want[i])
		}
	}
}

func TestDequantizeQ4_0HandBlock(t *testing.T) {
	// d = 0.5; byte j holds element j (low nibble) and j+16 (high nibble).
	block := make([]byte, 18)
	putF16(block, 0.5)
	want := make([]float64, 32)
	for j := 0; j < 16; j++ {
		lo, hi := j, 15-j
		block[2+j] = byte(lo | hi<<4)
		want[j] = 0.5 * float64(lo-8)
		want[j+16] = 0.5 * float64(hi-8)
	}
	checkExact(t, Q4_0, block, want)
}

func TestDequantizeQ8_0HandBlock(t *testing.T) {
	block := make([]byte, 34)
	putF16(block, 0.25)
	want := make([]float64, 32)
	for j := 0; j < 32; j++ {
		q := int8(j*9 - 128)
		block[2+j] = byte(q)
		want[j] = 0.25 * float64(q)
	}
	checkExact(t, Q8_0, block, want)
}

func TestDequantizeAffine32Layouts(t *testing.T) {
	rng := rand.New(rand.NewPCG(1, 2))
	for _, ty := range []DType{Q4_1, Q5_0, Q5_1, Q8_1} {
		t.Run(ty.String(), func(t *testing.T) {
			const d, m = 0.125, -1.5
			block := make([]byte, ty.BlockBytes())
			want := make([]float64, 32)
			q := make([]int, 32)
			switch ty {
			case Q4_1:
				putF16(block, d)
				putF16(block[2:], m)
				for j := range q {
					q[j] = rng.IntN(16)
					want[j] = d*float64(q[j]) + m
				}
				for j := 0; j < 16; j++ {
					block[4+j] = byte(q[j] | q[j+16]<<4)
				}
			case Q5_0, Q5_1:
				off, qh, qs, minv := 16, 2, 6, 0.0
				putF16(block, d)
				if ty == Q5_1 {
					putF16(block[2:], m)
					off, qh, qs, minv = 0, 4, 8, m
				}
				var bits uint32
				for j := range q {
					q[j] = rng.IntN(32)
					want[j] = d*float64(q[j]-off) + minv
					bits |= uint32(q[j]>>4) << j
				}
				binary.LittleEndian.PutUint32(block[qh:], bits)
				for j := 0; j < 16; j++ {
					block[qs+j] = byte(q[j]&15 | (q[j+16]&15)<<4)
				}
			case Q8_1:
				putF16(block, d)
				putF16(block[2:], 99) // the sum field is ignored by dequantization
				for j := range q {
					q[j] = rng.IntN(256) - 128
					want[j] = d * float64(q[j])
					block[4+j] = byte(int8(q[j]))
				}
			}
			checkExact(t, ty, block, want)
		})
	}
}

// packKScales6 packs eight 6-bit scales and mins the way block_q4_K and
// block_q5_K store them.
func packKScales6(sc, mn [8]int) []byte {
	s := make([]byte, 12)
	for j := 0; j < 8; j++ {
		if j < 4 {
			s[j] = byte(sc[j])
			s[j+4] = byte(mn[j])
		} else {
			s[j+4] = byte(sc[j]&15 | (mn[j]&15)<<4)
			s[j-4] |= byte(sc[j]>>4) << 6
			s[j] |= byte(mn[j]>>4) << 6
		}
	}
	return s
}

func TestDequantizeKQuantLayouts(t *testing.T) {
	rng := rand.New(rand.NewPCG(3, 4))
	const d, dmin = 0.0625, 0.03125
	t.Run("Q2_K", func(t *testing.T) {
		block := make([]byte, 84)
		var sc, mn [16]int
		for g := range sc {
			sc[g], mn[g] = rng.IntN(16), rng.IntN(16)
			block[g] = byte(sc[g] | mn[g]<<4)
		}
		want := make([]float64, 256)
		for e := range want {
			q := rng.IntN(4)
			h, r := e/128, e%128
			block[16+32*h+r%32] |= byte(q << (2 * (r / 32)))
			want[e] = d*float64(sc[e/16])*float64(q) - dmin*float64(mn[e/16])
		}
		putF16(block[80:], d)
		putF16(block[82:], dmin)
		checkExact(t, Q2_K, block, want)
	})
	t.Run("Q3_K", func(t *testing.T) {
		block := make([]byte, 110)
		var sc [16]int
		for j := range sc {
			sc[j] = rng.IntN(64) - 32
			u := sc[j] + 32
			if j < 8 {
				block[96+j] |= byte(u & 15)
			} else {
				block[96+j-8] |= byte(u&15) << 4
			}
			block[96+8+j%4] |= byte(u>>4) << (2 * (j / 4))
		}
		want := make([]float64, 256)
		for e := range want {
			q := rng.IntN(8) - 4
			u := q + 4
			h, r := e/128, e%128
			block[32+32*h+r%32] |= byte(u&3) << (2 * (r / 32))
			if u >= 4 {
				block[e%32] |= 1 << (e / 32)
			}
			want[e] = d * float64(sc[e/16]) * float64(q)
		}
		putF16(block[108:], d)
		checkExact(t, Q3_K, block, want)
	})
	for _, ty := range []DType{Q4_K, Q5_K} {
		t.Run(ty.String(), func(t *testing.T) {
			block := make([]byte, ty.BlockBytes())
			var sc, mn [8]int
			for j := range sc {
				sc[j], mn[j] = rng.IntN(64), rng.IntN(64)
			}
			copy(block[4:16], packKScales6(sc, mn))
			putF16(block, d)
			putF16(block[2:], dmin)
			qs, bits := 16, 4
			if ty == Q5_K {
				qs, bits = 48, 5
			}
			want := make([]float64, 256)
			for e := range want {
				q := rng.IntN(1 << bits)
				k := e / 32 // sub-block; pairs of sub-blocks share 32 bytes
				block[qs+32*(k/2)+e%32] |= byte(q&15) << (4 * (k % 2))
				if q >= 16 {
					block[16+e%32] |= 1 << k
				}
				want[e] = d*float64(sc[k])*float64(q) - dmin*float64(mn[k])
			}
			checkExact(t, ty, block, want)
		})
	}
	t.Run("Q6_K", func(t *testing.T) {
		block := make([]byte, 210)
		var sc [16]int
		for j := range sc {
			sc[j] = rng.IntN(256) - 128
			block[192+j] = byte(int8(sc[j]))
		}
		want := make([]float64, 256)
		for e := range want {
			q := rng.IntN(64) - 32
			u := q + 32
			h, r := e/128, e%128
			quarter, l := r/32, r%32 // quarters 0,1 use low nibbles of ql[l], ql[l+32]; 2,3 the high ones
			block[64*h+l+32*(quarter%2)] |= byte(u&15) << (4 * (quarter / 2))
			block[128+32*h+l] |= byte(u>>4) << (2 * quarter)
			want[e] = d * float64(sc[e/16]) * float64(q)
		}
		putF16(block[208:], d)
		checkExact(t, Q6_K, block, want)
	})
	t.Run("Q8_K", func(t *testing.T) {
		block := make([]byte, 292)
		binary.LittleEndian.PutUint32(block, math.Float32bits(d))
		want := make([]float64, 256)
		for e := range want {
			q := rng.IntN(256) - 128
			block[4+e] = byte(int8(q))
			want[e] = d * float64(q)
		}
		checkExact(t, Q8_K, block, want)
	})
}

// FuzzDequantize feeds arbitrary bytes as every type: a matching size must
// decode without error, a mismatched one must fail, and nothing may panic.
func FuzzDequantize(f *testing.F) {
	f.Add([]byte{0x00, 0x3c, 0xff, 0xff}, uint8(F16), uint16(2))
	f.Add(make([]byte, 18), uint8(Q4_0), uint16(32))
	f.Add(make([]byte, 210), uint8(Q6_K), uint16(256))
	f.Add(make([]byte, 144), uint8(Q4_K), uint16(255))
	f.Add(make([]byte, 110), uint8(Q3_K), uint16(256))
	f.Add([]byte{1, 2, 3}, uint8(200), uint16(3))
	f.Fuzz(func(t *testing.T, src []byte, ty uint8, n uint16) {
		dt := DType(ty)
		dst := make([]float32, n)
		err := Dequantize(dst, src, dt)
		want, sizeErr := dt.RowBytes(int(n))
		ok := dt.Known() && sizeErr == nil && want == len(src)
		if ok != (err == nil) {
			t.Fatalf("%v, %d elements, %d bytes: error %v", dt, n, len(src), err)
		}
	})
}

// BenchmarkDequantize measures decode throughput per type on a 896×4864
// matrix (Qwen2.5-0.5B's FFN shape); the MB/s column is float32 output.
func BenchmarkDequantize(b *testing.B) {
	const n = 896 * 4864
	rng := rand.New(rand.NewPCG(5, 6))
	x := make([]float32, n)
	for i := range x {
		x[i] = float32(rng.NormFloat64() * 0.05)
	}
	for _, ty := range []DType{F32, F16, BF16, Q4_0, Q4_1, Q5_0, Q5_1, Q8_0, Q2_K, Q3_K, Q4_K, Q5_K, Q6_K, Q8_K} {
		size, _ := ty.RowBytes(n)
		src := make([]byte, size)
		if err := Quantize(src, x, ty); err != nil {
			b.Fatal(err)
		}
		dst := make([]float32, n)
		b.Run(ty.String(), func(b *testing.B) {
			b.SetBytes(4 * n)
			for b.Loop() {
				if err := Dequantize(dst, src, ty); err != nil {
					b.Fatal(err)
				}
			}
		})
	}
}
