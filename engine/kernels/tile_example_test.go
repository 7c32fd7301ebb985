package kernels_test

import (
	"encoding/binary"
	"fmt"
	"math"

	"github.com/valueexploration/valueexp/engine/kernels"
)

// Two weight rows times three activation rows: dst[t*ldd+r] is the dot
// product of weight row r with activation row t, the same bits DotF32
// gives for that pair.
func ExampleMatMulF32() {
	w := [][]float32{{1, 2, 3, 4}, {0, 1, 0, -1}}
	x := []float32{
		1, 1, 1, 1,
		2, 0, 0, 0,
		0, 0, 0, 1,
	}
	dst := make([]float32, 3*2)
	kernels.MatMulF32(dst, 2, w, x, 3)
	fmt.Println(dst)
	fmt.Println(dst[2*2+0] == kernels.DotF32(w[0], x[8:12]))
	// Output:
	// [10 0 2 0 4 -1]
	// true
}

// Attention's weighted sum of value rows: out = 0.25·v0 + 0.75·v1, with
// the value rows 3 floats apart in a larger cache (only 2 used per row).
func ExampleWeightedSumF32() {
	v := []float32{
		4, 8, 99,
		0, 4, 99,
	}
	out := make([]float32, 2)
	kernels.WeightedSumF32(out, []float32{0.25, 0.75}, v, 3)
	fmt.Println(out)
	// Output: [1 5]
}

// Quantized weights meet a batch of Q8_0 activation rows.
func ExampleMatMulQ8() {
	const k = 32
	x := make([]float32, 2*k) // two activation rows
	for i := range x {
		x[i] = float32(i%k) / k
	}
	acts := make([]byte, 2*34)
	kernels.QuantizeQ8_0(acts[:34], x[:k])
	kernels.QuantizeQ8_0(acts[34:], x[k:])
	w := make([]byte, 34) // one Q8_0 weight row: all ones
	ones := make([]float32, k)
	for i := range ones {
		ones[i] = 1
	}
	kernels.QuantizeQ8_0(w, ones)
	var a kernels.Q8Acts
	a.Set(acts, 2, k)
	dst := make([]float32, 2)
	kernels.MatMulQ8(dst, 1, kernels.Q8FormatQ8_0, [][]byte{w}, &a)
	fmt.Printf("%.2f %.2f\n", dst[0], dst[1])
	// Output: 15.50 15.50
}

// BF16 weights (the top halves of float32s, as Hugging Face stores them)
// times two activation rows.
func ExampleMatMulBF16() {
	bf16 := func(vs ...float32) []byte {
		b := make([]byte, 2*len(vs))
		for i, v := range vs {
			binary.LittleEndian.PutUint16(b[2*i:], uint16(math.Float32bits(v)>>16))
		}
		return b
	}
	w := [][]byte{bf16(1, 2, 3, 4), bf16(0.5, 0, 0, -1)}
	x := []float32{
		1, 1, 1, 1,
		0, 0, 2, 1,
	}
	dst := make([]float32, 2*2)
	kernels.MatMulBF16(dst, 2, w, x, 2)
	fmt.Println(dst)
	// Output: [10 -0.5 10 -1]
}

// A K-quant weight row meets Q8_K activation rows. The Q6_K row below has
// every 6-bit value 0 (stored with an offset of 32), scales 1 and d = 1/32,
// so every weight is -1.
func ExampleMatMulQ8K() {
	const k = 256
	w := make([]byte, 210) // ql, qh zero
	for i := 192; i < 208; i++ {
		w[i] = 1 // the sixteen int8 scales
	}
	binary.LittleEndian.PutUint16(w[208:], 0x2800) // d = 1/32 in fp16
	acts := make([]byte, 2*292)
	x := make([]float32, k)
	for t, v := range []float32{0.5, -0.25} {
		for i := range x {
			x[i] = v
		}
		kernels.QuantizeQ8_K(acts[t*292:(t+1)*292], x)
	}
	var a kernels.Q8KActs
	a.Set(acts, 2, k)
	dst := make([]float32, 2)
	kernels.MatMulQ8K(dst, 1, kernels.KFormatQ6_K, [][]byte{w}, &a)
	fmt.Printf("%.2f %.2f\n", dst[0], dst[1])
	// Output: -128.00 64.00
}
