package weights_test

import (
	"fmt"

	"github.com/valueexploration/valueexp/weights"
)

// Quantize a row of 32 weights to Q8_0 (one 34-byte block) and decode it.
// The block scale 2/127 is stored as a half (1032 * 2^-16), so -2 comes back
// as -127 * 0.0157471 = -1.99988.
func ExampleQuantize() {
	row := make([]float32, 32)
	for i := range row {
		row[i] = float32(i-16) / 8
	}
	size, _ := weights.Q8_0.RowBytes(len(row))
	block := make([]byte, size)
	if err := weights.Quantize(block, row, weights.Q8_0); err != nil {
		fmt.Println(err)
		return
	}
	back := make([]float32, len(row))
	if err := weights.Dequantize(back, block, weights.Q8_0); err != nil {
		fmt.Println(err)
		return
	}
	fmt.Println(size, "bytes")
	fmt.Printf("%.4f %.4f %.4f\n", back[0], back[17], back[31])
	// Output:
	// 34 bytes
	// -1.9999 0.1260 1.8739
}

// Dequantize decodes raw tensor bytes, here two F16 values.
func ExampleDequantize() {
	raw := []byte{0x00, 0x3c, 0x00, 0xc1} // 1.0 and -2.5 as little-endian halves
	out := make([]float32, 2)
	if err := weights.Dequantize(out, raw, weights.F16); err != nil {
		fmt.Println(err)
		return
	}
	fmt.Println(out)
	// Output: [1 -2.5]
}
