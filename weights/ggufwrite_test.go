package weights

import (
	"bytes"
	"fmt"
	"testing"
)

// TestWriteGGUFRoundTrip writes every metadata value type, nested arrays and
// tensors of several dtypes, and parses the result back.
func TestWriteGGUFRoundTrip(t *testing.T) {
	kv := []KV{
		{"general.architecture", "llama"},
		{"u8", uint8(7)}, {"i8", int8(-7)}, {"u16", uint16(700)}, {"i16", int16(-700)},
		{"u32", uint32(70000)}, {"i32", int32(-70000)}, {"f32", float32(1.5)}, {"b", true},
		{"s", "你好"}, {"u64", uint64(1 << 40)}, {"i64", int64(-1 << 40)}, {"f64", 2.25},
		{"as", []string{"a", "", "丙"}}, {"af", []float32{1, 2}}, {"ai", []int32{-1, 5}}, {"ab", []bool{true, false}},
		{"nested", []any{[]int32{1, 2}, []string{"x"}}},
	}
	f32 := &Tensor{Name: "a", DType: F32, Shape: []int{2, 3}, Data: Float32Bytes([]float32{1, 2, 3, 4, 5, 6})}
	q8 := &Tensor{Name: "b", DType: Q8_0, Shape: []int{1, 32}, Data: make([]byte, 34)}
	var buf bytes.Buffer
	if err := WriteGGUF(&buf, kv, []*Tensor{f32, q8}); err != nil {
		t.Fatal(err)
	}
	g, err := ParseGGUF(buf.Bytes(), "mem")
	if err != nil {
		t.Fatal(err)
	}
	if len(g.KV) != len(kv) {
		t.Fatalf("%d keys, want %d", len(g.KV), len(kv))
	}
	for i, e := range kv {
		if g.KV[i].Key != e.Key || fmt.Sprintf("%#v", g.KV[i].Value) != fmt.Sprintf("%#v", e.Value) {
			t.Errorf("key %d: got %s=%#v, want %s=%#v", i, g.KV[i].Key, g.KV[i].Value, e.Key, e.Value)
		}
	}
	a, ok := g.Tensor("a")
	if !ok || fmt.Sprint(a.Shape) != "[2 3]" || !bytes.Equal(a.Data, f32.Data) {
		t.Errorf("tensor a: %+v", a)
	}
	b, ok := g.Tensor("b")
	if !ok || b.DType != Q8_0 || len(b.Data) != 34 {
		t.Errorf("tensor b: %+v", b)
	}
}
