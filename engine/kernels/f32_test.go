package kernels

import (
	"fmt"
	"testing"
)

func TestDotF32(t *testing.T) {
	r := newRand(t)
	for _, ks := range impls() {
		for _, n := range lengths {
			a, b := offset(randF32(r, n)), randF32(r, n)
			want, scale := dot64(a, b)
			if got := ks.dotF32(a, b); !near(float64(got), want, scale, 1e-6) {
				t.Errorf("%s n=%d: got %g want %g", ks.name, n, got, want)
			}
		}
	}
}

func TestAxpyScaleF32(t *testing.T) {
	r := newRand(t)
	for _, ks := range impls() {
		for _, n := range lengths {
			x, y := offset(randF32(r, n)), offset(randF32(r, n))
			y0 := append([]float32(nil), y...)
			const alpha = -1.75
			ks.axpyF32(y, alpha, x)
			for i := range y {
				want := float64(y0[i]) + alpha*float64(x[i])
				if !near(float64(y[i]), want, 1+abs64(want), 2e-7) {
					t.Fatalf("%s axpy n=%d i=%d: got %g want %g", ks.name, n, i, y[i], want)
				}
			}
			copy(y, y0)
			ks.scaleF32(y, 0.5)
			for i := range y {
				if y[i] != y0[i]*0.5 {
					t.Fatalf("%s scale n=%d i=%d: got %g want %g", ks.name, n, i, y[i], y0[i]*0.5)
				}
			}
		}
	}
}

func abs64(x float64) float64 {
	if x < 0 {
		return -x
	}
	return x
}

func TestGemmF32(t *testing.T) {
	r := newRand(t)
	shapes := [][3]int{{1, 1, 1}, {4, 3, 8}, {5, 7, 9}, {8, 6, 16}, {3, 5, 0}, {0, 4, 8}, {9, 10, 33}, {17, 13, 70}, {4, 4, 7}, {64, 37, 96}}
	for _, ks := range impls() {
		for _, s := range shapes {
			m, n, k := s[0], s[1], s[2]
			t.Run(fmt.Sprintf("%s/%dx%dx%d", ks.name, m, n, k), func(t *testing.T) {
				a, b := offset(randF32(r, m*k)), offset(randF32(r, n*k))
				c := make([]float32, m*n)
				for i := range c {
					c[i] = 99 // must be overwritten
				}
				ks.gemmF32(c, a, b, m, n, k)
				for i := range m {
					for j := range n {
						want, scale := dot64(a[i*k:i*k+k], b[j*k:j*k+k])
						if got := c[i*n+j]; !near(float64(got), want, scale, 1e-6) {
							t.Fatalf("C[%d][%d] = %g, want %g", i, j, got, want)
						}
					}
				}
			})
		}
	}
}

func TestLengthMismatchPanics(t *testing.T) {
	cases := map[string]func(){
		"DotF32":  func() { DotF32(make([]float32, 3), make([]float32, 4)) },
		"AxpyF32": func() { AxpyF32(make([]float32, 3), 1, make([]float32, 2)) },
		"GemmF32": func() { GemmF32(make([]float32, 3), make([]float32, 4), make([]float32, 4), 2, 2, 2) },
		"DotF16":  func() { DotF16(make([]byte, 5), make([]float32, 3)) },
		"DotQ8_0": func() { DotQ8_0(make([]byte, 34), make([]byte, 34), 64) },
		"DotQ4_K": func() { DotQ4_K(make([]byte, 144), make([]byte, 292), 255) },
		"Q8_K":    func() { QuantizeQ8_K(make([]byte, 291), make([]float32, 256)) },
		"SwiGLU":  func() { SwiGLU(make([]float32, 3), make([]float32, 3), make([]float32, 2)) },
	}
	for name, f := range cases {
		t.Run(name, func(t *testing.T) {
			defer func() {
				if recover() == nil {
					t.Error("no panic on inconsistent lengths")
				}
			}()
			f()
		})
	}
}

func TestSIMDName(t *testing.T) {
	if got := selectKernels("1").name; got != "generic" {
		t.Errorf("VALUEEXP_NOSIMD=1 selects %q, want generic", got)
	}
	if s := SIMD(); s != "generic" && s != "avx2" && s != "neon" && s != "neon-dotprod" {
		t.Errorf("SIMD() = %q", s)
	}
}
