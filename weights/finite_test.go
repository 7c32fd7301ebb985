package weights

import (
	"context"
	"encoding/binary"
	"math"
	"path/filepath"
	"testing"
)

// TestScanNonFinite plants NaN and Inf bit patterns at known places in each
// float type and in a Q8_0 scale, and checks the counts and the first
// position (in logical rows, also for a q/k-permuted tensor).
func TestScanNonFinite(t *testing.T) {
	f32 := func(rows, cols int, set map[[2]int]uint32) *Tensor {
		d := make([]byte, 4*rows*cols)
		for p, bits := range set {
			binary.LittleEndian.PutUint32(d[4*(p[0]*cols+p[1]):], bits)
		}
		return &Tensor{Name: "f32", DType: F32, Shape: []int{rows, cols}, Data: d}
	}
	half := func(dt DType, rows, cols int, set map[[2]int]uint16) *Tensor {
		d := make([]byte, 2*rows*cols)
		for p, bits := range set {
			binary.LittleEndian.PutUint16(d[2*(p[0]*cols+p[1]):], bits)
		}
		return &Tensor{Name: dt.String(), DType: dt, Shape: []int{rows, cols}, Data: d}
	}
	// Q8_0: 2 rows of 64 (two blocks each); block 1 of row 1 has a NaN scale,
	// block 0 of row 0 an Inf scale with one non-zero quant (Inf·0 is NaN,
	// Inf·q is Inf).
	q8 := make([]byte, 2*2*34)
	binary.LittleEndian.PutUint16(q8[3*34:], 0x7e00)
	binary.LittleEndian.PutUint16(q8[0:], 0x7c00)
	q8[2+4] = 1
	permuted := f32(4, 2, map[[2]int]uint32{{2, 1}: 0x7fc00000})
	permuted.RowOrder = []int32{2, 0, 3, 1} // logical row 0 is physical row 2
	for _, c := range []struct {
		t             *Tensor
		nan, inf      int64
		firstR, first int
	}{
		{f32(3, 5, nil), 0, 0, 0, 0},
		{f32(3, 5, map[[2]int]uint32{{1, 2}: 0x7f800000, {2, 0}: 0xff800001, {2, 4}: 0x7f7fffff}), 1, 1, 1, 2},
		{half(F16, 2, 4, map[[2]int]uint16{{0, 3}: 0xfc00, {1, 1}: 0x7e00, {1, 2}: 0x7bff}), 1, 1, 0, 3},
		{half(BF16, 2, 4, map[[2]int]uint16{{1, 0}: 0x7fc0, {1, 3}: 0xff80, {0, 0}: 0x7f7f}), 1, 1, 1, 0},
		{&Tensor{Name: "q8", DType: Q8_0, Shape: []int{2, 64}, Data: q8}, 31 + 32, 1, 0, 0},
		{permuted, 1, 0, 0, 1},
	} {
		got, err := c.t.Scan()
		if err != nil {
			t.Fatal(err)
		}
		if c.nan+c.inf == 0 {
			if got != nil {
				t.Errorf("%s: %v, want nothing", c.t.Name, got)
			}
			continue
		}
		if got == nil || got.NaN != c.nan || got.Inf != c.inf || got.FirstRow != c.firstR || got.FirstCol != c.first {
			t.Errorf("%s: %+v, want %d NaN, %d Inf, first at (%d, %d)", c.t.Name, got, c.nan, c.inf, c.firstR, c.first)
		}
	}
	if _, err := f32(2, 2, nil).ScanRows(1, 3); err == nil {
		t.Error("ScanRows past the last row: no error")
	}
}

// TestCheckFinite poisons two tensors of a tiny model and checks that
// CheckFinite finds exactly those, in name order.
func TestCheckFinite(t *testing.T) {
	s := tinyLlama()
	ts := s.ggufTensors()
	for _, x := range ts {
		switch x.Name {
		case "blk.1.ffn_up.weight":
			binary.LittleEndian.PutUint32(x.Data[4*(3*8+5):], math.Float32bits(float32(math.NaN())))
		case "blk.0.attn_norm.weight":
			binary.LittleEndian.PutUint32(x.Data[4*7:], math.Float32bits(float32(math.Inf(-1))))
		}
	}
	m, err := Open(writeFile(t, t.TempDir(), "m.gguf", ggufBytes(t, s.ggufKV(), ts)))
	if err != nil {
		t.Fatal(err)
	}
	defer m.Close()
	got, err := CheckFinite(context.Background(), m, 2)
	if err != nil {
		t.Fatal(err)
	}
	if len(got) != 2 || got[0].Tensor != "blk.0.attn_norm.weight" || got[0].Inf != 1 || got[0].FirstCol != 7 ||
		got[1].Tensor != "blk.1.ffn_up.weight" || got[1].NaN != 1 || got[1].FirstRow != 3 || got[1].FirstCol != 5 {
		t.Errorf("CheckFinite = %+v", got)
	}
	if filepath.Base(got[0].File) != "m.gguf" {
		t.Errorf("file %q", got[0].File)
	}
	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	if _, err := CheckFinite(ctx, m, 1); err == nil {
		t.Error("cancelled CheckFinite: no error")
	}
}
