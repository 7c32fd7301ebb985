package safetensors

import (
	"bytes"
	"encoding/binary"
	"os"
	"path/filepath"
	"testing"
	"unsafe"

	"github.com/valueexploration/valueexp/internal/shareddata"
)

// FuzzParseSafetensors feeds Parse arbitrary bytes. It must never panic, and
// whatever it accepts must be self-consistent: every tensor's Data lies inside
// the input, holds exactly shape×dtype bytes, and no two tensors overlap.
func FuzzParseSafetensors(f *testing.F) {
	var buf bytes.Buffer
	_ = Write(&buf, []Tensor{
		{Name: "model.embed_tokens.weight", DType: "F32", Shape: []int{2, 2}, Data: Float32Bytes([]float32{1, 2, 3, 4})},
		{Name: "b", DType: "BF16", Shape: []int{3}, Data: make([]byte, 6)},
		{Name: "s", DType: "I64", Shape: []int{}, Data: Int64Bytes([]int64{5})},
		{Name: "z", DType: "U8", Shape: []int{0}, Data: nil},
	}, map[string]string{"format": "pt"})
	f.Add(buf.Bytes())
	f.Add(rawFile(`{"a":{"dtype":"F32","shape":[1],"data_offsets":[0,4]}}`, make([]byte, 4)))
	f.Add(rawFile(`{"__metadata__":{"k":"v"}}`, nil))
	f.Add([]byte{})
	// Real headers from the reference data, cut after the header and a little
	// data so the fuzzer works on realistic JSON without megabytes of floats.
	if root := shareddata.Root(); root != "" {
		for _, p := range []string{
			"refdata/models/llama-tiny/hf/model.safetensors",
			"refdata/models/qwen2-tiny/hf/model.safetensors",
			"refdata/models/llama256/hf/model.safetensors",
		} {
			if b, err := os.ReadFile(filepath.Join(root, p)); err == nil && len(b) > 8 {
				end := min(uint64(len(b)), 8+binary.LittleEndian.Uint64(b)+256)
				f.Add(b[:end])
			}
		}
	}
	f.Fuzz(func(t *testing.T, b []byte) {
		file, err := Parse(b)
		if err != nil {
			return
		}
		checkParsed(t, b, file)
	})
}

// checkParsed asserts the invariants of a file Parse accepted.
func checkParsed(t *testing.T, b []byte, file *File) {
	t.Helper()
	lo := uintptr(unsafe.Pointer(unsafe.SliceData(b)))
	hi := lo + uintptr(len(b))
	type span struct{ lo, hi uintptr }
	var prev span
	for i, ti := range file.Tensors {
		n := 1
		for _, d := range ti.Shape {
			if d < 0 {
				t.Fatalf("tensor %q: negative dimension in %v", ti.Name, ti.Shape)
			}
			n *= d
		}
		if want := n * ElemSize(ti.DType); len(ti.Data) != want {
			t.Fatalf("tensor %q: %s %v has %d bytes, want %d", ti.Name, ti.DType, ti.Shape, len(ti.Data), want)
		}
		if cap(ti.Data) != len(ti.Data) {
			t.Fatalf("tensor %q: capacity %d lets appends reach the next tensor", ti.Name, cap(ti.Data))
		}
		if len(ti.Data) == 0 {
			continue
		}
		s := uintptr(unsafe.Pointer(unsafe.SliceData(ti.Data)))
		cur := span{s, s + uintptr(len(ti.Data))}
		if cur.lo < lo+8 || cur.hi > hi {
			t.Fatalf("tensor %q: data outside the input", ti.Name)
		}
		if i > 0 && prev.hi > cur.lo {
			t.Fatalf("tensor %q overlaps the previous tensor", ti.Name)
		}
		prev = cur
		if got, ok := file.Tensor(ti.Name); !ok || got.Name != ti.Name {
			t.Fatalf("Tensor(%q) does not find it", ti.Name)
		}
	}
}
