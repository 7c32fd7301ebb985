package safetensors

import (
	"bytes"
	"encoding/binary"
	"strings"
	"testing"
)

// rawFile assembles a file from a header written by hand and data bytes, the
// way a broken writer would, so each case controls every header byte.
func rawFile(header string, data []byte) []byte {
	b := make([]byte, 8, 8+len(header)+len(data))
	binary.LittleEndian.PutUint64(b, uint64(len(header)))
	b = append(b, header...)
	return append(b, data...)
}

func TestParseValidHandWritten(t *testing.T) {
	// Two F32 tensors and one I64 scalar written by hand, header in reverse
	// offset order and padded with spaces as the reference writer pads it.
	data := Float32Bytes([]float32{1, 2, 3, 4, 5, 6, 7, 8})
	data = append(data, Int64Bytes([]int64{-9})...)
	header := `{"b":{"dtype":"F32","shape":[2],"data_offsets":[24,32]},` +
		`"a":{"dtype":"F32","shape":[2,3],"data_offsets":[0,24]},` +
		`"s":{"shape":[],"dtype":"I64","data_offsets":[32,40]},` +
		`"__metadata__":{"format":"pt"}}   `
	f, err := Parse(rawFile(header, data))
	if err != nil {
		t.Fatal(err)
	}
	if len(f.Tensors) != 3 || f.Tensors[0].Name != "a" || f.Tensors[1].Name != "b" || f.Tensors[2].Name != "s" {
		t.Fatalf("tensors %+v, want a, b, s in offset order", f.Tensors)
	}
	a, _ := f.Tensor("a")
	v, err := a.Float32s()
	if err != nil || len(v) != 6 || v[0] != 1 || v[5] != 6 {
		t.Errorf("a = %v, %v; want 1..6", v, err)
	}
	s, _ := f.Tensor("s")
	iv, err := s.Int64s()
	if err != nil || len(iv) != 1 || iv[0] != -9 || len(s.Shape) != 0 {
		t.Errorf("s = %v shape %v, %v; want scalar -9", iv, s.Shape, err)
	}
	if f.Metadata["format"] != "pt" {
		t.Errorf("metadata %v", f.Metadata)
	}
}

func TestWriteThenParse(t *testing.T) {
	in := []Tensor{
		{Name: "x", DType: "F32", Shape: []int{3}, Data: Float32Bytes([]float32{1, -2, 3})},
		{Name: "empty", DType: "F16", Shape: []int{0, 4}, Data: nil},
		{Name: "ids", DType: "I64", Shape: []int{2}, Data: Int64Bytes([]int64{7, 1 << 40})},
	}
	var buf bytes.Buffer
	if err := Write(&buf, in, map[string]string{"k": "v"}); err != nil {
		t.Fatal(err)
	}
	if hl := binary.LittleEndian.Uint64(buf.Bytes()); hl%8 != 0 {
		t.Errorf("header length %d is not a multiple of 8", hl)
	}
	f, err := Parse(buf.Bytes())
	if err != nil {
		t.Fatal(err)
	}
	for _, w := range in {
		g, ok := f.Tensor(w.Name)
		if !ok || g.DType != w.DType || !bytes.Equal(g.Data, w.Data) || len(g.Shape) != len(w.Shape) {
			t.Errorf("tensor %q: got %+v, want %+v", w.Name, g, w)
		}
	}
	if f.Metadata["k"] != "v" {
		t.Errorf("metadata %v", f.Metadata)
	}
}

func TestWriteRejects(t *testing.T) {
	for _, c := range []struct {
		name string
		t    []Tensor
		want string
	}{
		{"dup", []Tensor{{Name: "a", DType: "F32", Data: make([]byte, 4)}, {Name: "a", DType: "F32", Data: make([]byte, 4)}}, `"a": duplicate`},
		{"reserved", []Tensor{{Name: "__metadata__", DType: "F32", Data: make([]byte, 4)}}, "reserved"},
		{"dtype", []Tensor{{Name: "a", DType: "F7", Data: nil}}, `unknown dtype "F7"`},
		{"size", []Tensor{{Name: "a", DType: "F32", Shape: []int{2}, Data: make([]byte, 4)}}, "needs 8 bytes, got 4"},
		{"negative", []Tensor{{Name: "a", DType: "F32", Shape: []int{-1}}}, "negative dimension"},
	} {
		t.Run(c.name, func(t *testing.T) {
			err := Write(&bytes.Buffer{}, c.t, nil)
			if err == nil || !strings.Contains(err.Error(), c.want) {
				t.Fatalf("error %v, want it to contain %q", err, c.want)
			}
		})
	}
}

// TestParseBrokenHeaders covers every kind of header damage Parse must name.
func TestParseBrokenHeaders(t *testing.T) {
	f32x2 := Float32Bytes([]float32{1, 2})
	entry := `{"dtype":"F32","shape":[2],"data_offsets":[0,8]}`
	deep := `{"a":` + strings.Repeat("[", 40) + strings.Repeat("]", 40) + `}`
	hugeLen := make([]byte, 16)
	binary.LittleEndian.PutUint64(hugeLen, 1<<60)
	pastEnd := make([]byte, 16)
	binary.LittleEndian.PutUint64(pastEnd, 9)
	for _, c := range []struct {
		name string
		file []byte
		want []string // substrings of the error, in any order
	}{
		{"empty file", nil, []string{"too short"}},
		{"seven bytes", make([]byte, 7), []string{"too short"}},
		{"header length huge", hugeLen, []string{"header length 1152921504606846976 exceeds the limit"}},
		{"header length past end", pastEnd, []string{"header length 9 runs past the end of the 16-byte file"}},
		{"empty header", rawFile("", nil), []string{"bad JSON header"}},
		{"truncated JSON", rawFile(`{"a":{"dtype":"F3`, nil), []string{"bad JSON header"}},
		{"not an object", rawFile(`[1,2]`, nil), []string{"bad JSON header", "must be a JSON object"}},
		{"null", rawFile(`null`, nil), []string{"must be a JSON object"}},
		{"trailing garbage", rawFile(`{"a":`+entry+`}xx`, f32x2), []string{"invalid character 'x' after top-level value"}},
		{"second object", rawFile(`{}{}`, nil), []string{"after top-level value"}},
		{"NUL padding", rawFile(`{}`+"\x00\x00", nil), []string{"after top-level value"}},
		{"not UTF-8", rawFile("{\"a\xff\":"+entry+"}", f32x2), []string{"not valid UTF-8"}},
		{"duplicate tensor", rawFile(`{"a":`+entry+`,"a":`+entry+`}`, f32x2), []string{`tensor "a" appears twice`}},
		{"duplicate tensor, escaped", rawFile(`{"a":`+entry+`,"\u0061":`+entry+`}`, f32x2), []string{`tensor "a" appears twice`}},
		{"many keys, duplicate last", rawFile(`{"__metadata__":{"k0":"","k1":"","k2":"","k3":"","k4":"","k5":"","k6":"","k7":"","k8":"","k9":"","k10":"","k11":"","k12":"","k13":"","k14":"","k15":"","k16":"","k17":"","k3":""}}`, nil), []string{`key "k3" appears twice in entry "__metadata__"`}},
		{"duplicate field", rawFile(`{"a":{"dtype":"F32","dtype":"F16","shape":[2],"data_offsets":[0,8]}}`, f32x2), []string{`key "dtype" appears twice in entry "a"`}},
		{"duplicate metadata key", rawFile(`{"__metadata__":{"k":"1","k":"2"}}`, nil), []string{`key "k" appears twice in entry "__metadata__"`}},
		// The grammar has no nesting beyond entry fields: a nested value is
		// refused where it starts, at no cost.
		{"too deep", rawFile(deep, nil), []string{`tensor "a": bad header entry`, "want an object"}},
		{"too deep in metadata", rawFile(`{"__metadata__":{"k":`+strings.Repeat("[", 40)+strings.Repeat("]", 40)+`}}`, nil), []string{"__metadata__ is not a string map"}},
		{"metadata not strings", rawFile(`{"__metadata__":{"k":1}}`, nil), []string{"__metadata__ is not a string map"}},
		{"entry not object", rawFile(`{"a":5}`, nil), []string{`tensor "a": bad header entry`}},
		{"unknown field", rawFile(`{"a":{"dtype":"F32","shape":[2],"data_offsets":[0,8],"x":1}}`, f32x2), []string{`tensor "a"`, `unknown field "x"`}},
		{"missing dtype", rawFile(`{"a":{"shape":[2],"data_offsets":[0,8]}}`, f32x2), []string{`tensor "a"`, `no "dtype"`}},
		{"missing shape", rawFile(`{"a":{"dtype":"F32","data_offsets":[0,8]}}`, f32x2), []string{`tensor "a"`, `no "shape"`}},
		{"null shape", rawFile(`{"a":{"dtype":"F32","shape":null,"data_offsets":[0,8]}}`, f32x2), []string{`tensor "a"`, `no "shape"`}},
		{"missing offsets", rawFile(`{"a":{"dtype":"F32","shape":[2]}}`, f32x2), []string{`tensor "a"`, `no "data_offsets"`}},
		{"one offset", rawFile(`{"a":{"dtype":"F32","shape":[2],"data_offsets":[8]}}`, f32x2), []string{`tensor "a"`, "must hold two numbers"}},
		{"three offsets", rawFile(`{"a":{"dtype":"F32","shape":[2],"data_offsets":[0,8,8]}}`, f32x2), []string{`tensor "a"`, "must hold two numbers"}},
		{"fractional offset", rawFile(`{"a":{"dtype":"F32","shape":[2],"data_offsets":[0,8.5]}}`, f32x2), []string{`tensor "a"`, "bad header entry"}},
		{"unknown dtype", rawFile(`{"a":{"dtype":"F12","shape":[2],"data_offsets":[0,8]}}`, f32x2), []string{`tensor "a"`, `unknown dtype "F12"`}},
		{"dtype/shape mismatch", rawFile(`{"a":{"dtype":"F32","shape":[3],"data_offsets":[0,8]}}`, f32x2), []string{`tensor "a"`, "F32 shape [3] needs 12 bytes, data offsets give 8"}},
		{"F16 where F32 was written", rawFile(`{"a":{"dtype":"F16","shape":[2],"data_offsets":[0,8]}}`, f32x2), []string{`tensor "a"`, "needs 4 bytes"}},
		{"negative dim", rawFile(`{"a":{"dtype":"F32","shape":[-2],"data_offsets":[0,8]}}`, f32x2), []string{`tensor "a"`, "negative dimension"}},
		{"overflowing shape", rawFile(`{"a":{"dtype":"F32","shape":[4294967296,4294967296],"data_offsets":[0,8]}}`, f32x2), []string{`tensor "a"`, "overflows"}},
		{"too many dims", rawFile(`{"a":{"dtype":"F32","shape":[1,1,1,1,1,1,1,1,1],"data_offsets":[0,4]}}`, f32x2), []string{`tensor "a"`, "9 dimensions exceed the limit of 8"}},
		{"offsets past end", rawFile(`{"a":{"dtype":"F32","shape":[4],"data_offsets":[0,16]}}`, f32x2), []string{`tensor "a"`, "data offsets [0, 16) outside the 8-byte data section"}},
		{"negative offset", rawFile(`{"a":{"dtype":"F32","shape":[1],"data_offsets":[-4,0]}}`, f32x2), []string{`tensor "a"`, "outside"}},
		{"reversed offsets", rawFile(`{"a":{"dtype":"F32","shape":[0],"data_offsets":[8,0]}}`, f32x2), []string{`tensor "a"`, "outside"}},
		{"overlap", rawFile(`{"a":{"dtype":"F32","shape":[2],"data_offsets":[0,8]},"b":{"dtype":"F32","shape":[1],"data_offsets":[4,8]}}`, f32x2), []string{`tensor "b" (bytes 4..8) overlaps tensor "a"`}},
		{"same range twice", rawFile(`{"a":`+entry+`,"b":`+entry+`}`, f32x2), []string{`tensor "b"`, `overlaps tensor "a"`}},
	} {
		t.Run(c.name, func(t *testing.T) {
			f, err := Parse(c.file)
			if err == nil {
				t.Fatalf("parsed %+v, want an error", f)
			}
			msg := err.Error()
			if !strings.HasPrefix(msg, "safetensors: ") {
				t.Errorf("error %q does not start with the package name", msg)
			}
			for _, w := range c.want {
				if !strings.Contains(msg, w) {
					t.Errorf("error %q does not contain %q", msg, w)
				}
			}
		})
	}
}

// TestParseAcceptsWhitespaceAndEmpty checks the lenient corners the format
// allows: JSON whitespace padding, zero-size tensors anywhere, and gaps.
func TestParseAcceptsWhitespaceAndEmpty(t *testing.T) {
	data := Float32Bytes([]float32{1, 2, 3})
	// The metadata strings hold quotes, braces, commas and a value equal
	// to a tensor name: none of them may look like a key to the duplicate
	// check.
	header := "\n{ \"__metadata__\": {\"k\": \"a\", \"q\": \"x\\\"a\\\":{,[\\\\\"}, \"a\" : {\"dtype\":\"F32\",\"shape\":[1],\"data_offsets\":[8,12]},\t" +
		`"z":{"dtype":"BF16","shape":[0,5],"data_offsets":[4,4]}}` + " \r\n  "
	f, err := Parse(rawFile(header, data))
	if err != nil {
		t.Fatal(err)
	}
	a, _ := f.Tensor("a")
	if v, _ := a.Float32s(); len(v) != 1 || v[0] != 3 {
		t.Errorf("a = %v, want [3]", v)
	}
	if z, ok := f.Tensor("z"); !ok || len(z.Data) != 0 {
		t.Errorf("z = %+v", z)
	}
	if f.Metadata["q"] != `x"a":{,[\` || f.Metadata["k"] != "a" {
		t.Errorf("metadata %q", f.Metadata)
	}
}
