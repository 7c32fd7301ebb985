package torchfile_test

import (
	"fmt"

	"github.com/valueexploration/valueexp/valueexp/torchfile"
)

// Reading a counts file as written by the C-voice authors' activation.py:
// a dict with token and question totals and an int32 over_zero tensor.
func ExampleLoad() {
	v, err := torchfile.Load("富强-support.pt")
	if err != nil {
		fmt.Println(err)
		return
	}
	m := v.(map[string]any)
	oz := m["over_zero"].(*torchfile.Tensor)
	counts, _ := oz.Int32s() // row-major [layers × ffn]
	fmt.Println(m["question_num"], oz.Shape, len(counts))
}

// A pickle that names anything outside the allowlist is refused before
// anything is called.
func ExampleUnpickle() {
	// protocol 2: GLOBAL 'os system', STOP
	data := []byte("\x80\x02cos\nsystem\n.")
	_, err := torchfile.Unpickle("evil.pkl", data, nil)
	fmt.Println(err)
	// Output: torchfile: evil.pkl: opcode 0x63 at offset 2: global "os.system" is not allowed
}

func ExampleTensor_Int64s() {
	// A transposed 2×2 view of the int64 storage [1 2 3 4].
	data := []byte{1, 0, 0, 0, 0, 0, 0, 0, 2, 0, 0, 0, 0, 0, 0, 0, 3, 0, 0, 0, 0, 0, 0, 0, 4, 0, 0, 0, 0, 0, 0, 0}
	t := &torchfile.Tensor{DType: "int64", Shape: []int{2, 2}, Stride: []int{1, 2}, Data: data}
	v, err := t.Int64s()
	fmt.Println(v, err)
	// Output: [1 3 2 4] <nil>
}
