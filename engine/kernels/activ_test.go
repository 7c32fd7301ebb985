package kernels

import (
	"fmt"
	"math"
	"testing"
)

func silu64(x float64) float64 { return x / (1 + math.Exp(-x)) }

// ulpDiff is |got-want| in units of float32 spacing at want.
func ulpDiff(got float32, want float64) float64 {
	w := float32(want)
	ulp := math.Nextafter32(absF32(w), float32(math.Inf(1))) - absF32(w)
	return math.Abs(float64(got)-want) / float64(ulp)
}

func TestSiLUSwiGLU(t *testing.T) {
	r := newRand(t)
	for _, ks := range impls() {
		for _, n := range lengths {
			x, up := offset(randF32(r, n)), offset(randF32(r, n))
			for i := range x {
				x[i] *= 6
			}
			if n > 4 {
				x[0], x[1], x[2], x[3] = -100, 100, 0, float32(math.Inf(-1))
			}
			dst := make([]float32, n)
			ks.silu(dst, x)
			for i, v := range x {
				want := silu64(float64(v))
				if math.IsInf(float64(v), -1) {
					want = 0 // -inf/(1+inf): llama.cpp gives -0 or NaN; only require a finite zero-ish value
					if dst[i] != 0 && !math.IsNaN(float64(dst[i])) {
						t.Errorf("%s silu(-inf) = %g", ks.name, dst[i])
					}
					continue
				}
				// Below about -88, float32 exp(-x) overflows and silu is -0
				// in ggml as here; the true value is a subnormal.
				if d := ulpDiff(dst[i], want); d > 4 && math.Abs(float64(dst[i])-want) > 1e-37 {
					t.Fatalf("%s n=%d silu(%g) = %g, want %g (%.1f ulp)", ks.name, n, v, dst[i], want, d)
				}
			}
			ks.swiglu(dst, x[:n], up)
			for i, v := range x {
				if math.IsInf(float64(v), 0) {
					continue
				}
				s := silu64(float64(v))
				want := float64(float32(s)) * float64(up[i])
				if !near(float64(dst[i]), want, math.Abs(want), 5e-7) {
					t.Fatalf("%s n=%d swiglu(%g,%g) = %g, want %g", ks.name, n, v, up[i], dst[i], want)
				}
			}
			// In place: dst aliasing gate.
			g := append([]float32(nil), x...)
			ks.swiglu(g, g, up)
			for i := range g {
				if math.IsInf(float64(x[i]), 0) {
					continue
				}
				if g[i] != dst[i] {
					t.Fatalf("%s in-place swiglu differs at %d", ks.name, i)
				}
			}
		}
	}
}

func TestRMSNorm(t *testing.T) {
	r := newRand(t)
	for _, ks := range impls() {
		for _, n := range lengths[1:] {
			x, w := offset(randF32(r, n)), randF32(r, n)
			const eps = 1e-5
			var ss float64
			for _, v := range x {
				ss += float64(v) * float64(v)
			}
			scale := 1 / math.Sqrt(ss/float64(n)+eps)
			dst := make([]float32, n)
			ks.rmsNorm(dst, x, w, eps)
			for i := range x {
				want := float64(x[i]) * scale * float64(w[i])
				if !near(float64(dst[i]), want, math.Abs(want), 5e-7) {
					t.Fatalf("%s n=%d i=%d: got %g want %g", ks.name, n, i, dst[i], want)
				}
			}
			ks.rmsNorm(x, x, w, eps) // in place
			for i := range x {
				if x[i] != dst[i] {
					t.Fatalf("%s n=%d: in-place result differs at %d", ks.name, n, i)
				}
			}
		}
		ks.rmsNorm(nil, nil, nil, 1e-5) // empty: no panic, nothing to do
	}
}

func TestSoftmax(t *testing.T) {
	r := newRand(t)
	inf := float32(math.Inf(1))
	for _, ks := range impls() {
		for _, n := range lengths[1:] {
			x := offset(randF32(r, n))
			for i := range x {
				x[i] *= 10
			}
			if n > 3 {
				x[1] = -inf // a masked position must come out exactly 0
				x[2] = x[0] - 200
			}
			mx := math.Inf(-1)
			for _, v := range x {
				mx = math.Max(mx, float64(v))
			}
			// x - max is a float32 subtraction, in ggml as here.
			arg := func(v float32) float64 { return float64(v - float32(mx)) }
			var sum float64
			for _, v := range x {
				sum += math.Exp(arg(v))
			}
			y := append([]float32(nil), x...)
			ks.softmax(y)
			var total float64
			for i, v := range x {
				want := math.Exp(arg(v)) / sum
				if !near(float64(y[i]), want, want, 1e-6) && math.Abs(float64(y[i])-want) > 1e-37 {
					t.Fatalf("%s n=%d i=%d softmax(%g) = %g, want %g", ks.name, n, i, v, y[i], want)
				}
				total += float64(y[i])
			}
			if n > 3 && y[1] != 0 {
				t.Errorf("%s: masked entry = %g, want 0", ks.name, y[1])
			}
			if math.Abs(total-1) > 1e-6 {
				t.Errorf("%s n=%d: sum %g", ks.name, n, total)
			}
		}
	}
}

func ExampleSoftmax() {
	x := []float32{1, 2, 3, float32(math.Inf(-1))}
	Softmax(x)
	fmt.Printf("%.4f\n", x)
	// Output: [0.0900 0.2447 0.6652 0.0000]
}
