package weights

import (
	"math"
	"strings"
	"testing"
)

// TestQuantizeRefusesOverflow: finite values an encoding cannot hold were
// written as infinities (F16 above 65504) or as blocks whose half-precision
// scale overflowed, so the tensor dequantized to Inf/NaN without a word.
// Quantize must refuse them; values that fit must still encode.
func TestQuantizeRefusesOverflow(t *testing.T) {
	big := make([]float32, 256)
	for i := range big {
		big[i] = float32(i%7) - 3
	}
	for _, tc := range []struct {
		dt    DType
		v     float32
		fails bool
	}{
		{F16, 65504, false}, // the largest half
		{F16, 1e6, true},
		{F16, -70000, true},
		{Q8_0, 65504 * 100, false}, // scale 65504*100/127 fits a half
		{Q8_0, 1e10, true},
		{Q4_0, 1e10, true},
		{Q4_K, 1e10, true},
		{Q6_K, 1e10, true},
		{Q5_0, 1e10, true},
		{BF16, 1e30, false},
	} {
		src := append([]float32(nil), big...)
		src[5] = tc.v
		n, err := tc.dt.RowBytes(len(src))
		if err != nil {
			t.Fatal(err)
		}
		dst := make([]byte, n)
		err = Quantize(dst, src, tc.dt)
		if tc.fails {
			if err == nil || !strings.Contains(err.Error(), "overflow") {
				t.Errorf("%v with %g: err = %v, want an overflow error", tc.dt, tc.v, err)
			}
			continue
		}
		if err != nil {
			t.Errorf("%v with %g: %v", tc.dt, tc.v, err)
			continue
		}
		out := make([]float32, len(src))
		if err := Dequantize(out, dst, tc.dt); err != nil {
			t.Fatal(err)
		}
		for i, x := range out {
			if math.IsInf(float64(x), 0) || math.IsNaN(float64(x)) {
				t.Errorf("%v with %g: element %d decodes to %v", tc.dt, tc.v, i, x)
				break
			}
		}
	}
}
