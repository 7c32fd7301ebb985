//go:build arm64

package kernels

import (
	"math"
	"slices"
	"testing"

	"golang.org/x/sys/cpu"
)

// neonLevels returns the NEON sets this CPU runs: the widening-multiply one
// always, the SDOT one when the CPU has the dot-product extension (run the
// tests with QEMU_CPU=cortex-a53 to see the first alone).
func neonLevels(t *testing.T) []*kernelSet {
	plain := neonKernels(false)
	out := []*kernelSet{&plain}
	if cpu.ARM64.HasASIMDDP {
		dp := neonKernels(true)
		out = append(out, &dp)
	} else {
		t.Log("CPU lacks the dot-product extension: SDOT kernels not tested")
	}
	return out
}

// TestNEONSelection checks that the SDOT level is offered exactly when
// the CPU has the dot-product extension and is then the default.
func TestNEONSelection(t *testing.T) {
	var names []string
	for _, ks := range availableLevels() {
		names = append(names, ks.name)
	}
	want := []string{"generic", "neon"}
	if cpu.ARM64.HasASIMDDP {
		want = append(want, "neon-dotprod")
	}
	if !slices.Equal(names, want) {
		t.Errorf("levels %v, want %v (HasASIMDDP=%v)", names, want, cpu.ARM64.HasASIMDDP)
	}
	best, _, _ := selectLevel("", "", availableLevels(), knownLevels())
	if best.name != want[len(want)-1] {
		t.Errorf("default level %q, want %q", best.name, want[len(want)-1])
	}
}

// TestNEONFloatTwins compares the float kernels with the generic ones (up
// to summation order: both sum in float32, in different lane patterns) on
// odd lengths and unaligned slices.
func TestNEONFloatTwins(t *testing.T) {
	r := newRand(t)
	for _, ks := range neonLevels(t) {
		for _, n := range lengths {
			a, b := offset(randF32(r, n)), randF32(r, n)
			_, scale := dot64(a, b)
			if g, s := genericKernels.dotF32(a, b), ks.dotF32(a, b); !near(float64(s), float64(g), scale, 2e-6) {
				t.Errorf("%s dotF32 n=%d: neon %g generic %g", ks.name, n, s, g)
			}
			for _, bf := range []bool{false, true} {
				w, vals := halfRow(r, n, bf)
				w = offsetBytes(w)
				_, scale := dot64(vals, a)
				g, s := genericKernels.dotF16(w, a), ks.dotF16(w, a)
				if bf {
					g, s = genericKernels.dotBF16(w, a), ks.dotBF16(w, a)
				}
				if !near(float64(s), float64(g), scale, 2e-6) {
					t.Errorf("%s half (bf16=%v) n=%d: neon %g generic %g", ks.name, bf, n, s, g)
				}
			}
			// axpy is one fused multiply-add per element in NEON, tail
			// included: each result is the exact y + alpha·x correctly
			// rounded. (The generic kernel rounds the product first.)
			y1, y2 := offset(randF32(r, n)), randF32(r, n)
			copy(y2, y1)
			ks.axpyF32(y2, -0.375, a)
			for i := range y1 {
				exact := float64(y1[i]) + -0.375*float64(a[i])
				if ulpDiff(y2[i], exact) > 0.5001 {
					t.Fatalf("%s axpy n=%d i=%d: neon %g, exact %g", ks.name, n, i, y2[i], exact)
				}
			}
			copy(y2, y1)
			ks.scaleF32(y2, 0.5)
			for i := range y1 {
				if y2[i] != y1[i]*0.5 {
					t.Fatalf("%s scale n=%d i=%d: neon %g want %g", ks.name, n, i, y2[i], y1[i]*0.5)
				}
			}
		}
	}
}

// TestNEONQuantDotTwins compares the NEON quantized dots with the generic
// twins bit for bit: both keep ggml's eight int32 lanes and reduce them in
// its order, so the result is fixed. Odd block counts, unaligned rows.
func TestNEONQuantDotTwins(t *testing.T) {
	r := newRand(t)
	for _, ks := range neonLevels(t) {
		for _, f := range quantFormats {
			if !ggmlLaneFormatsARM64[f.name] {
				continue
			}
			for _, nb := range []int{1, 2, 3, 5, 19, 28} {
				n := nb * f.blockElems
				for trial := range 12 {
					w := randWeights(r, f, nb)
					x := randF32(r, n)
					switch trial % 4 {
					case 1:
						for i := range x {
							x[i] = float32(i%3) * 0.25 // exact ties and zero runs
						}
					case 2:
						for i := range x {
							x[i] *= 1e4 // activations at ±127
						}
					}
					a, _ := quantizeAct(f.act, x)
					g := f.dot(&genericKernels)(w, a, n)
					s := f.dot(ks)(offsetBytes(w), offsetBytes(a), n)
					if math.Float32bits(s) != math.Float32bits(g) {
						t.Errorf("%s %s nb=%d trial %d: neon %.9g generic %.9g, want bit-identical", ks.name, f.name, nb, trial, s, g)
					}
				}
			}
		}
	}
}

// ggmlLaneFormatsARM64 are the formats whose generic kernel fixes the
// float32 arithmetic (ggml's lanes and reduction order).
var ggmlLaneFormatsARM64 = map[string]bool{"Q8_0": true, "Q4_0": true, "Q5_0": true, "Q4_1": true, "Q5_1": true, "Q4_K": true, "Q6_K": true}
