package kernels

import (
	"encoding/binary"
	"math"
	"math/rand/v2"
	"testing"

	"github.com/x448/float16"
)

// halfRow rounds x to fp16 (or bf16 by truncation, which is still a valid
// bf16 value) and returns the bytes and the exact values they hold.
func halfRow(r *rand.Rand, n int, bf bool) ([]byte, []float32) {
	w, vals := make([]byte, 2*n), make([]float32, n)
	for i := range n {
		v := float32(r.NormFloat64())
		var bits uint16
		if bf {
			bits = uint16(math.Float32bits(v) >> 16)
			vals[i] = math.Float32frombits(uint32(bits) << 16)
		} else {
			bits = float16.Fromfloat32(v).Bits()
			vals[i] = float16.Frombits(bits).Float32()
		}
		binary.LittleEndian.PutUint16(w[2*i:], bits)
	}
	return w, vals
}

func TestDotHalf(t *testing.T) {
	r := newRand(t)
	for _, ks := range impls() {
		for _, bf := range []bool{false, true} {
			dot, name := ks.dotF16, "F16"
			if bf {
				dot, name = ks.dotBF16, "BF16"
			}
			for _, n := range lengths {
				w, vals := halfRow(r, n, bf)
				x := offset(randF32(r, n))
				want, scale := dot64(vals, x)
				if got := dot(offsetBytes(w), x); !near(float64(got), want, scale, 1e-6) {
					t.Errorf("%s %s n=%d: got %g want %g", ks.name, name, n, got, want)
				}
			}
		}
	}
}

func TestHalfSpecialValues(t *testing.T) {
	// Subnormal, largest finite and negative zero halves must widen exactly.
	bits := []uint16{0x0001, 0x03ff, 0x7bff, 0x8000, 0xfbff, 0x3c00, 0x0400, 0x8001, 0x3555}
	w := make([]byte, 2*len(bits))
	for i, b := range bits {
		binary.LittleEndian.PutUint16(w[2*i:], b)
	}
	for _, ks := range impls() {
		for i, b := range bits {
			x := make([]float32, len(bits))
			x[i] = 1
			want := float16.Frombits(b).Float32()
			if got := ks.dotF16(w, x); got != want {
				t.Errorf("%s: half %#04x widened to %g, want %g", ks.name, b, got, want)
			}
		}
	}
}
