package kernels

import (
	"math"
	"math/rand/v2"
	"testing"
)

// impls lists every kernel set this machine can run: the generic one, and
// each assembly level the CPU supports.
func impls() []*kernelSet { return availableLevels() }

// eachActive runs f once per level this machine has, as a subtest named
// after it, with that level active, so that the exported functions (the
// MatMul* tiles) are tested at every level in one run. The tests of this
// package do not run in parallel.
func eachActive(t *testing.T, f func(t *testing.T)) {
	saved := active
	defer func() { active = saved }()
	for _, ks := range availableLevels() {
		active = ks
		t.Run(ks.name, f)
	}
}

// lengths covers empty, sub-vector, odd and multi-unroll sizes.
var lengths = []int{0, 1, 3, 7, 8, 9, 15, 16, 31, 32, 33, 63, 64, 65, 100, 127, 128, 129, 896, 1001}

func randF32(r *rand.Rand, n int) []float32 {
	x := make([]float32, n)
	for i := range x {
		x[i] = float32(r.NormFloat64())
	}
	return x
}

// offset returns a copy of x starting one element into a fresh buffer, so
// the kernel sees a slice that is not 32-byte aligned.
func offset(x []float32) []float32 {
	buf := make([]float32, len(x)+1)
	copy(buf[1:], x)
	return buf[1:]
}

func offsetBytes(x []byte) []byte {
	buf := make([]byte, len(x)+3)
	copy(buf[3:], x)
	return buf[3:]
}

func dot64(a, b []float32) (sum, abs float64) {
	for i := range a {
		p := float64(a[i]) * float64(b[i])
		sum += p
		abs += math.Abs(p)
	}
	return sum, abs
}

// near reports whether got is within rel*scale (+ a tiny absolute slack) of want.
func near(got, want, scale, rel float64) bool {
	return math.Abs(got-want) <= rel*scale+1e-30
}

func newRand(t testing.TB) *rand.Rand {
	return rand.New(rand.NewPCG(1, uint64(len(t.Name()))))
}
