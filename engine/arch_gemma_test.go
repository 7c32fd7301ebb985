package engine

import (
	"math"
	"testing"

	"github.com/stretchr/testify/assert"
)

// TestGeluTanhAndSoftcap compares with values PyTorch computes in float64
// (torch.nn.functional.gelu(x, approximate="tanh"), cap*tanh(x/cap)).
func TestGeluTanhAndSoftcap(t *testing.T) {
	x := []float32{1, -1, 0, 3, -3, 0.5}
	want := []float64{0.8411919906082768, -0.15880800939172324, 0, 2.996362607918227, -0.0036373920817729943, 0.34571400982514394}
	got := make([]float32, len(x))
	geluTanh(got, x)
	for i := range x {
		assert.InDelta(t, want[i], float64(got[i]), 1e-7*math.Max(1, math.Abs(want[i])), "gelu_tanh(%g)", x[i])
	}
	y := []float32{100, -7}
	softcap(y[:1], 50)
	softcap(y[1:], 30)
	assert.InDelta(t, 48.20137900379085, float64(y[0]), 1e-5)
	assert.InDelta(t, -6.87566989605297, float64(y[1]), 1e-6)
}

func BenchmarkGeluTanh(b *testing.B) {
	x := make([]float32, 9216) // one gemma-2-2b token's FFN width
	for i := range x {
		x[i] = float32(i%200-100) / 25
	}
	dst := make([]float32, len(x))
	b.SetBytes(int64(4 * len(x)))
	for b.Loop() {
		geluTanh(dst, x)
	}
}
