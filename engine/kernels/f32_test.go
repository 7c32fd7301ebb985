package kernels

import (
	"fmt"
	"os"
	"slices"
	"strings"
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

func TestSelectLevel(t *testing.T) {
	a, b, c := &kernelSet{name: "generic"}, &kernelSet{name: "avx2"}, &kernelSet{name: "avx512"}
	avail := []*kernelSet{a, b, c}
	known := []string{"auto", "generic", "avx2", "avxvnni", "avx512"}
	for _, tc := range []struct {
		cpu, noSIMD, want string
		warn, err         bool
	}{
		{"", "", "avx512", false, false},
		{"auto", "", "avx512", false, false},
		{"", "1", "generic", false, false},
		{"auto", "true", "generic", false, false},
		{"generic", "", "generic", false, false},
		{"AVX2", "", "avx2", false, false},
		{" avx512 ", "", "avx512", false, false},
		{"avx2", "1", "avx2", false, false}, // a named level wins over NOSIMD
		{"avxvnni", "", "avx512", true, false},
		{"avx1024", "", "avx512", false, true},
		{"neon", "", "avx512", false, true},
	} {
		ks, warn, err := selectLevel(tc.cpu, tc.noSIMD, avail, known)
		if ks.name != tc.want || (warn != "") != tc.warn || (err != nil) != tc.err {
			t.Errorf("VALUEEXP_CPU=%q NOSIMD=%q: got %s, warning %q, error %v; want %s, warning %v, error %v",
				tc.cpu, tc.noSIMD, ks.name, warn, err, tc.want, tc.warn, tc.err)
		}
		if tc.warn && !strings.Contains(warn, "avx512") {
			t.Errorf("warning %q does not name the level used", warn)
		}
		if err != nil && (err.Value != strings.TrimSpace(strings.ToLower(tc.cpu)) || !strings.Contains(err.Error(), "avx2, avxvnni")) {
			t.Errorf("error %q does not name the value and the known levels", err)
		}
	}
	// Without SIMD levels, the generic set is the best.
	if ks, _, _ := selectLevel("avx2", "", avail[:1], known); ks != a {
		t.Errorf("generic-only machine: got %s", ks.name)
	}
}

func TestSIMDName(t *testing.T) {
	levels := AvailableLevels()
	if levels[0] != "generic" {
		t.Errorf("AvailableLevels() = %v, want generic first", levels)
	}
	if !slices.Contains(levels, SIMD()) {
		t.Errorf("SIMD() = %q, not one of %v", SIMD(), levels)
	}
	// .ci/levels runs the tests once per level through VALUEEXP_CPU: each
	// run must really be at that level.
	if want := os.Getenv("VALUEEXP_CPU"); slices.Contains(levels, want) && SIMD() != want {
		t.Errorf("VALUEEXP_CPU=%s runs %s", want, SIMD())
	}
	t.Logf("levels %v, running %s", levels, SIMD())
}
