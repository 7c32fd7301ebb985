package kernels_test

import (
	"errors"
	"fmt"
	"slices"

	"github.com/valueexploration/valueexp/engine/kernels"
)

// A weight matrix stored one output row after another, times a batch of two
// activation rows: C = A·Bᵀ.
func ExampleGemmF32() {
	a := []float32{ // 2 activation rows, k = 3
		1, 2, 3,
		0, 1, 0,
	}
	b := []float32{ // 2 weight rows (outputs), k = 3
		1, 0, 0,
		1, 1, 1,
	}
	c := make([]float32, 2*2)
	kernels.GemmF32(c, a, b, 2, 2, 3)
	fmt.Println(c)
	// Output: [1 6 0 1]
}

// Quantize an activation to Q8_K (256 values per block), as llama.cpp does
// before multiplying it with a K-quant weight row.
func Example_quantizeActivation() {
	x := make([]float32, 256)
	for i := range x {
		x[i] = float32(i%16) - 8 // largest magnitude: -8
	}
	q := make([]byte, 292)
	kernels.QuantizeQ8_K(q, x)
	fmt.Println(int8(q[4]), int8(q[4+15])) // -8 -> -127 ... 7 -> 111
	// Output: -127 111
}

// SIMD names the kernel level the process runs with, one of the levels
// the CPU has (VALUEEXP_CPU picks another).
func ExampleSIMD() {
	fmt.Println(slices.Contains(kernels.AvailableLevels(), kernels.SIMD()))
	// Output: true
}

// SwiGLU is the gated FFN activation: silu(gate)*up.
func ExampleSwiGLU() {
	gate := []float32{0, 1, -1}
	up := []float32{5, 2, 2}
	dst := make([]float32, 3)
	kernels.SwiGLU(dst, gate, up)
	fmt.Printf("%.4f\n", dst)
	// Output: [0.0000 1.4621 -0.5379]
}

// Commands check Err once at start-up, so that a mistyped VALUEEXP_CPU is
// an error rather than a silent fall-back to the default level.
func ExampleErr() {
	if err := kernels.Err(); err != nil {
		var le *kernels.LevelError
		if errors.As(err, &le) {
			fmt.Println("unknown level", le.Value)
		}
		return
	}
	fmt.Println(kernels.AvailableLevels()[0])
	// Output: generic
}
