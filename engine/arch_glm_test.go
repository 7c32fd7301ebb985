package engine

import (
	"math"
	"testing"
)

// TestRopePairs checks GLM's rope on two heads of 6 values with 2 rotated
// pairs: values (2j, 2j+1) turn by angle j, written out by hand, and the
// last two values of each head pass through.
func TestRopePairs(t *testing.T) {
	x := []float32{1, 2, 3, 4, 5, 6, -1, -2, -3, -4, -5, -6}
	angles := []float64{0.5, 2}
	cs := []float32{float32(math.Cos(angles[0])), float32(math.Cos(angles[1]))}
	sn := []float32{float32(math.Sin(angles[0])), float32(math.Sin(angles[1]))}
	want := make([]float64, len(x))
	for h := 0; h < 2; h++ {
		v := x[h*6 : h*6+6]
		for j := 0; j < 2; j++ {
			a, b := float64(v[2*j]), float64(v[2*j+1])
			c, s := float64(cs[j]), float64(sn[j])
			want[h*6+2*j] = a*c - b*s
			want[h*6+2*j+1] = a*s + b*c
		}
		want[h*6+4], want[h*6+5] = float64(v[4]), float64(v[5])
	}
	ropePairs(x, 2, 6, cs, sn)
	for i := range x {
		if math.Abs(float64(x[i])-want[i]) > 1e-6 {
			t.Errorf("value %d: %g, want %g", i, x[i], want[i])
		}
	}
}
