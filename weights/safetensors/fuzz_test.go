package safetensors

import (
	"bytes"
	"encoding/binary"
	"encoding/json"
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
	f.Add(rawFile(`{"a":{"dtype":"F32","shape":[1],"data_offsets":[0,4]},"\u0062":{"shape":[0,3],"data_offsets":[4,4],"dtype":"BF16"}}  `, make([]byte, 4)))
	f.Add(rawFile(`{"__metadata__":null,"a":{"dtype":"U8","shape":[],"data_offsets":[0,1]}}`, []byte{7}))
	f.Add(rawFile(`{"a":{"dtype":"F32","shape":[-0],"data_offsets":[0,0]}}`, nil))
	f.Fuzz(func(t *testing.T, b []byte) {
		file, err := Parse(b)
		if err != nil {
			return
		}
		checkParsed(t, b, file)
		checkAgainstJSON(t, b, file)
	})
}

// checkAgainstJSON reads the header of a file Parse accepted with
// encoding/json, an independent reader, and checks that it is valid JSON
// and that both agree on every tensor and metadata entry.
func checkAgainstJSON(t *testing.T, b []byte, file *File) {
	t.Helper()
	header := b[8 : 8+binary.LittleEndian.Uint64(b)]
	var raw map[string]json.RawMessage
	if err := json.Unmarshal(header, &raw); err != nil {
		t.Fatalf("Parse accepted a header encoding/json refuses: %v", err)
	}
	n := len(raw)
	if meta, ok := raw["__metadata__"]; ok {
		n--
		var m map[string]string
		if err := json.Unmarshal(meta, &m); err != nil || len(m) != len(file.Metadata) {
			t.Fatalf("metadata: encoding/json reads %v (%v), Parse %v", m, err, file.Metadata)
		}
		for k, v := range m {
			if file.Metadata[k] != v {
				t.Fatalf("metadata %q: %q, encoding/json says %q", k, file.Metadata[k], v)
			}
		}
	}
	if n != len(file.Tensors) {
		t.Fatalf("encoding/json reads %d tensors, Parse %d", n, len(file.Tensors))
	}
	for _, ti := range file.Tensors {
		var e struct {
			DType       string  `json:"dtype"`
			Shape       []int64 `json:"shape"`
			DataOffsets []int64 `json:"data_offsets"`
		}
		if err := json.Unmarshal(raw[ti.Name], &e); err != nil {
			t.Fatalf("tensor %q: encoding/json: %v", ti.Name, err)
		}
		if e.DType != ti.DType || len(e.Shape) != len(ti.Shape) || len(e.DataOffsets) != 2 || e.DataOffsets[1]-e.DataOffsets[0] != int64(len(ti.Data)) {
			t.Fatalf("tensor %q: encoding/json reads %+v, Parse %s %v with %d bytes", ti.Name, e, ti.DType, ti.Shape, len(ti.Data))
		}
		for i, d := range e.Shape {
			if int64(ti.Shape[i]) != d {
				t.Fatalf("tensor %q: shape %v, encoding/json says %v", ti.Name, ti.Shape, e.Shape)
			}
		}
		if len(ti.Data) > 0 && &ti.Data[0] != &b[8+uint64(len(header))+uint64(e.DataOffsets[0])] {
			t.Fatalf("tensor %q: data does not start at offset %d", ti.Name, e.DataOffsets[0])
		}
	}
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
