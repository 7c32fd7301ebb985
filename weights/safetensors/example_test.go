package safetensors_test

import (
	"bytes"
	"fmt"
	"log"

	"github.com/valueexploration/valueexp/weights/safetensors"
)

// Write tensors and metadata, then parse the bytes back without copying.
func ExampleWrite() {
	var buf bytes.Buffer
	err := safetensors.Write(&buf, []safetensors.Tensor{
		{Name: "count", DType: "I64", Shape: []int{2, 2}, Data: safetensors.Int64Bytes([]int64{1, 2, 3, 4})},
		{Name: "scale", DType: "F32", Shape: []int{2}, Data: safetensors.Float32Bytes([]float32{0.5, 2})},
	}, map[string]string{"model": "llama-tiny"})
	if err != nil {
		log.Fatal(err)
	}
	f, err := safetensors.Parse(buf.Bytes())
	if err != nil {
		log.Fatal(err)
	}
	count, _ := f.Tensor("count")
	ids, _ := count.Int64s()
	scale, _ := f.Tensor("scale")
	v, _ := scale.Float32s()
	fmt.Println(count.Shape, ids, v, f.Metadata["model"])
	// Output: [2 2] [1 2 3 4] [0.5 2] llama-tiny
}

// A header with a key written twice is rejected rather than resolved
// silently in favour of the last value.
func ExampleParse_duplicateKey() {
	header := `{"w":{"dtype":"F32","shape":[1],"data_offsets":[0,4]},"w":{"dtype":"F32","shape":[1],"data_offsets":[4,8]}}`
	b := []byte{byte(len(header)), 0, 0, 0, 0, 0, 0, 0}
	b = append(b, header...)
	b = append(b, make([]byte, 8)...)
	_, err := safetensors.Parse(b)
	fmt.Println(err)
	// Output: safetensors: bad JSON header: tensor "w" appears twice
}
