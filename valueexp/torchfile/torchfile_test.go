package torchfile

import (
	"archive/zip"
	"bytes"
	"encoding/binary"
	"errors"
	"io/fs"
	"math"
	"path/filepath"
	"reflect"
	"slices"
	"strings"
	"testing"

	"github.com/valueexploration/valueexp/internal/shareddata"
)

func readBytes(tb testing.TB, data []byte) (any, error) {
	tb.Helper()
	return Read(bytes.NewReader(data), int64(len(data)), "test.pt")
}

// TestReadViews covers strided views of one shared storage: contiguous,
// transposed, and offset with a stride, each checked against the element
// order worked out by hand from storage [0 1 2 3 4 5].
func TestReadViews(t *testing.T) {
	p := (&pk{}).proto(2).op('}').put(0).op('(')
	p.str("rows").tensor("FloatStorage", "0", 6, 0, []int32{2, 3}, []int32{3, 1})
	p.str("cols").tensor("FloatStorage", "0", 6, 0, []int32{3, 2}, []int32{1, 3})
	p.str("odd").tensor("FloatStorage", "0", 6, 1, []int32{2}, []int32{2})
	p.str("scalar").tensor("FloatStorage", "0", 6, 5, []int32{}, []int32{})
	p.op('u', '.')
	v, err := readBytes(t, torchZip(t, p.b, map[string][]byte{"0": le32f(0, 1, 2, 3, 4, 5)}, "little"))
	if err != nil {
		t.Fatal(err)
	}
	m := v.(map[string]any)
	tests := []struct {
		key  string
		want []float64
	}{
		{"rows", []float64{0, 1, 2, 3, 4, 5}},
		{"cols", []float64{0, 3, 1, 4, 2, 5}},
		{"odd", []float64{1, 3}},
		{"scalar", []float64{5}},
	}
	for _, tt := range tests {
		tensor := m[tt.key].(*Tensor)
		got, err := tensor.Float64s()
		if err != nil {
			t.Fatalf("%s: %v", tt.key, err)
		}
		if !slices.Equal(got, tt.want) {
			t.Errorf("%s: got %v, want %v", tt.key, got, tt.want)
		}
		if tensor.DType != "float32" {
			t.Errorf("%s: dtype %s", tt.key, tensor.DType)
		}
	}
	if _, err := m["rows"].(*Tensor).Int64s(); err == nil {
		t.Error("float tensor read as integers without error")
	}
}

func TestReadDTypes(t *testing.T) {
	i64 := binary.LittleEndian.AppendUint64(nil, uint64(1<<40))
	i64 = binary.LittleEndian.AppendUint64(i64, math.MaxUint64) // −1
	f64 := binary.LittleEndian.AppendUint64(nil, math.Float64bits(-2.5))
	tests := []struct {
		class  string
		data   []byte
		numel  int32
		floats []float64
		ints   []int64 // nil when the dtype is not integral
	}{
		{"DoubleStorage", f64, 1, []float64{-2.5}, nil},
		// binary16: 1.0, −2.0, 65504 (max), 2^−24 (smallest subnormal).
		{"HalfStorage", []byte{0x00, 0x3c, 0x00, 0xc0, 0xff, 0x7b, 0x01, 0x00}, 4, []float64{1, -2, 65504, math.Ldexp(1, -24)}, nil},
		// bfloat16 is the top half of a float32: 0x3f80 = 1, 0xc040 = −3.
		{"BFloat16Storage", []byte{0x80, 0x3f, 0x40, 0xc0}, 2, []float64{1, -3}, nil},
		{"LongStorage", i64, 2, []float64{1 << 40, -1}, []int64{1 << 40, -1}},
		{"ShortStorage", []byte{0xff, 0xff, 0x10, 0x00}, 2, []float64{-1, 16}, []int64{-1, 16}},
		{"CharStorage", []byte{0x80}, 1, []float64{-128}, []int64{-128}},
		{"ByteStorage", []byte{0x80}, 1, []float64{128}, []int64{128}},
		{"BoolStorage", []byte{0, 1}, 2, []float64{0, 1}, []int64{0, 1}},
	}
	for _, tt := range tests {
		t.Run(tt.class, func(t *testing.T) {
			p := (&pk{}).proto(2).tensor(tt.class, "0", tt.numel, 0, []int32{tt.numel}, []int32{1}).op('.')
			v, err := readBytes(t, torchZip(t, p.b, map[string][]byte{"0": tt.data}, "little"))
			if err != nil {
				t.Fatal(err)
			}
			tensor := v.(*Tensor)
			f, err := tensor.Float64s()
			if err != nil || !slices.Equal(f, tt.floats) {
				t.Errorf("Float64s = %v, %v; want %v", f, err, tt.floats)
			}
			i, err := tensor.Int64s()
			if tt.ints == nil {
				if err == nil {
					t.Errorf("Int64s on %s succeeded", tensor.DType)
				}
			} else if err != nil || !slices.Equal(i, tt.ints) {
				t.Errorf("Int64s = %v, %v; want %v", i, err, tt.ints)
			}
		})
	}
}

func TestReadBigEndian(t *testing.T) {
	p := (&pk{}).proto(2).tensor("IntStorage", "0", 2, 0, []int32{2}, []int32{1}).op('.')
	data := []byte{0, 0, 1, 2, 0xff, 0xff, 0xff, 0xfe} // 258, −2 big-endian
	v, err := readBytes(t, torchZip(t, p.b, map[string][]byte{"0": data}, "big"))
	if err != nil {
		t.Fatal(err)
	}
	got, err := v.(*Tensor).Int32s()
	if err != nil || !slices.Equal(got, []int32{258, -2}) {
		t.Fatalf("got %v, %v; want [258 -2]", got, err)
	}
}

func TestInt32sOverflow(t *testing.T) {
	tensor := &Tensor{DType: "int64", Shape: []int{1}, Stride: []int{1}, Data: binary.LittleEndian.AppendUint64(nil, 1<<33)}
	if _, err := tensor.Int32s(); err == nil || !strings.Contains(err.Error(), "overflows int32") {
		t.Fatalf("err = %v", err)
	}
}

// TestUnpickleContainers exercises the non-tensor opcodes a torch pickle
// may hold, with the value expected written out by hand.
func TestUnpickleContainers(t *testing.T) {
	p := (&pk{}).proto(4).op(0x95, 0, 0, 0, 0, 0, 0, 0, 0)    // FRAME (length unused)
	p.global("collections", "OrderedDict").op(')', 'R', 0x94) // memo 0
	p.op('(')
	p.shortStr("list").op(']', 0x94, '(').op('K', 7).op('M', 0x34, 0x12).op(0x8a, 1, 0xff).op(0x8a, 0).op('e') // 7, 0x1234, −1, 0
	p.shortStr("tuple").op('N', 0x88).float(0.5).op(0x87)
	p.shortStr("nested").op('}').shortStr("k").op(']').shortStr("v").op('a', 's')
	p.shortStr("bytes").op('C', 2, 'h', 'i')
	p.shortStr("mod").shortStr("_codecs").shortStr("encode").op(0x93).shortStr("\u00e9").shortStr("latin1").op(0x86, 'R')
	p.op('u')
	p.op('}', 'b') // BUILD with attribute state on the OrderedDict, dropped
	p.op('.')
	got, err := Unpickle("containers", p.b, nil)
	if err != nil {
		t.Fatal(err)
	}
	want := map[string]any{
		"list":   []any{int64(7), int64(0x1234), int64(-1), int64(0)},
		"tuple":  []any{nil, true, 0.5},
		"nested": map[string]any{"k": []any{"v"}},
		"bytes":  []byte("hi"),
		"mod":    []byte{0xe9},
	}
	if !reflect.DeepEqual(got, want) {
		t.Fatalf("got %#v\nwant %#v", got, want)
	}
}

func TestUnpickleMemoSharing(t *testing.T) {
	// [x, x] where x = [1] is memoised: both entries must be the same list.
	p := (&pk{}).proto(2).op(']').put(0).op('(').op(']').put(1).op('K', 1, 'a').get(1).op('e', '.')
	got, err := Unpickle("memo", p.b, nil)
	if err != nil {
		t.Fatal(err)
	}
	l := got.([]any)
	if !reflect.DeepEqual(l, []any{[]any{int64(1)}, []any{int64(1)}}) {
		t.Fatalf("got %#v", got)
	}
}

func TestUnpickleRejects(t *testing.T) {
	tests := []struct {
		name string
		data []byte
		want string
	}{
		{"forbidden global", (&pk{}).proto(2).global("os", "system").str("echo").op(0x85, 'R', '.').b, `global "os.system" is not allowed`},
		{"forbidden stack global", (&pk{}).proto(4).shortStr("builtins").shortStr("eval").op(0x93, '.').b, `"builtins.eval"`},
		{"unknown opcode INST", []byte{0x80, 2, 'i', 'o', 's', '\n', 's', 'y', 's', 't', 'e', 'm', '\n', '.'}, "unsupported pickle opcode 0x69"},
		{"truncated string", []byte{0x80, 2, 'X', 9, 0, 0, 0, 'a', '.'}, "unexpected end"},
		{"no STOP", []byte{0x80, 2, 'N'}, "without STOP"},
		{"protocol 1", []byte{0x80, 1, 'N', '.'}, "protocol 1"},
		{"undefined memo", []byte{0x80, 2, 'h', 3, '.'}, "memo key 3"},
		{"stack underflow", []byte{0x80, 2, 'a', '.'}, "underflow"},
		{"extra stack items", []byte{0x80, 2, 'N', 'N', '.'}, "2 values"},
		{"append to dict", []byte{0x80, 2, '}', 'N', 'a', '.'}, "want a list"},
		{"int key", []byte{0x80, 2, '}', 'K', 1, 'N', 's', '.'}, "only string keys"},
		{"self-reference", []byte{0x80, 2, ']', 'q', 0, 'h', 0, 'a', '.'}, "self-referencing"},
		{"persistent id without loader", []byte{0x80, 2, 'N', 'Q', '.'}, "no loader"},
		{"reduce on non-global", []byte{0x80, 2, 'N', ')', 'R', '.'}, "want an allowed global"},
		{"huge long", []byte{0x80, 2, 0x8a, 9, 1, 2, 3, 4, 5, 6, 7, 8, 9, '.'}, "does not fit"},
		{"bad utf8", []byte{0x80, 2, 0x8c, 1, 0xff, '.'}, "UTF-8"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			_, err := Unpickle("bad.pkl", tt.data, nil)
			if err == nil || !strings.Contains(err.Error(), tt.want) || !strings.Contains(err.Error(), "bad.pkl") {
				t.Fatalf("err = %v, want one naming bad.pkl and containing %q", err, tt.want)
			}
		})
	}
}

func TestReadRejects(t *testing.T) {
	view := func(offset int32, shape, stride []int32) []byte {
		return (&pk{}).proto(2).tensor("FloatStorage", "0", 4, offset, shape, stride).op('.').b
	}
	four := map[string][]byte{"0": le32f(1, 2, 3, 4)}
	tests := []struct {
		name string
		data []byte
		want string
	}{
		{"not a zip", []byte("hello"), "not a torch.save zip"},
		{"no data.pkl", zipOf(t, "archive/version", "3"), "no <prefix>/data.pkl"},
		{"view past the end", torchZip(t, view(1, []int32{4}, []int32{1}), four, "little"), "reaches element 4"},
		{"stride past the end", torchZip(t, view(0, []int32{2, 2}, []int32{1, 3}), four, "little"), "reaches element 4"},
		{"expanded beyond limit", torchZip(t, view(0, []int32{1 << 11, 1 << 11}, []int32{0, 0}), four, "little"), "elements from a storage of 4"},
		{"rank mismatch", torchZip(t, view(0, []int32{4}, []int32{1, 1}), four, "little"), "differ in rank"},
		{"missing storage", torchZip(t, view(0, []int32{4}, []int32{1}), nil, "little"), "missing"},
		{"short storage", torchZip(t, view(0, []int32{4}, []int32{1}), map[string][]byte{"0": le32f(1)}, "little"), "4 bytes, want 16"},
		{"bad byteorder", torchZip(t, view(0, []int32{4}, []int32{1}), four, "middle"), "byteorder"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			_, err := readBytes(t, tt.data)
			if err == nil || !strings.Contains(err.Error(), tt.want) || !strings.Contains(err.Error(), "test.pt") {
				t.Fatalf("err = %v, want one naming test.pt and containing %q", err, tt.want)
			}
		})
	}
}

// authorsQuestions are the row counts of the authors' {value}-final.xlsx
// files (cvoice/README.md), which the counts files record as question_num.
var authorsQuestions = map[string]int64{
	"富强": 216, "民主": 232, "文明": 207, "和谐": 237, "自由": 284, "平等": 205,
	"公正": 203, "法治": 200, "爱国": 198, "敬业": 201, "诚信": 203, "友善": 201,
}

func TestLoadAuthorsCounts(t *testing.T) {
	dir := shareddata.Path(t, "cvoice", "authors-llama-counts")
	files, err := filepath.Glob(filepath.Join(dir, "*.pt"))
	if err != nil || len(files) != 24 {
		t.Fatalf("found %d files (%v), want 24", len(files), err)
	}
	for _, f := range files {
		t.Run(filepath.Base(f), func(t *testing.T) {
			v, err := Load(f)
			if err != nil {
				t.Fatal(err)
			}
			m := v.(map[string]any)
			if len(m) != 3 {
				t.Errorf("keys %v, want token_num, question_num, over_zero", m)
			}
			tokens, ok := m["token_num"].(float64)
			if !ok || tokens <= 0 {
				t.Fatalf("token_num = %#v", m["token_num"])
			}
			value := strings.SplitN(filepath.Base(f), "-", 2)[0]
			if q := m["question_num"]; q != authorsQuestions[value] {
				t.Errorf("question_num = %#v, want %d", q, authorsQuestions[value])
			}
			oz := m["over_zero"].(*Tensor)
			if oz.DType != "int32" || !slices.Equal(oz.Shape, []int{32, 14336}) || !slices.Equal(oz.Stride, []int{14336, 1}) || oz.Offset != 0 {
				t.Fatalf("over_zero %s %v %v %d", oz.DType, oz.Shape, oz.Stride, oz.Offset)
			}
			counts, err := oz.Int32s()
			if err != nil {
				t.Fatal(err)
			}
			// A neuron fires on at most every counted token.
			for i, c := range counts {
				if c < 0 || float64(c) > tokens {
					t.Fatalf("over_zero[%d][%d] = %d outside [0, %v]", i/14336, i%14336, c, tokens)
				}
			}
		})
	}
}

// maskSizes are released selection totals quoted in valueexp/METHOD.md §3.6.
var maskSizes = map[string][2]int{"富强_decision": {2504, 4401}, "平等_decision": {4043, 1967}}

func TestLoadAuthorsMasks(t *testing.T) {
	dir := shareddata.Path(t, "cvoice", "authors-llama-masks")
	files, err := filepath.Glob(filepath.Join(dir, "activation_mask_*"))
	if err != nil || len(files) != 24 {
		t.Fatalf("found %d files (%v), want 24", len(files), err)
	}
	for _, f := range files {
		t.Run(filepath.Base(f), func(t *testing.T) {
			v, err := Load(f)
			if err != nil {
				t.Fatal(err)
			}
			sides := v.([]any)
			if len(sides) != 2 {
				t.Fatalf("%d sides, want 2", len(sides))
			}
			var totals [2]int
			for s, side := range sides {
				layers := side.([]any)
				if len(layers) != 32 {
					t.Fatalf("side %d: %d layers, want 32", s, len(layers))
				}
				for l, x := range layers {
					tensor := x.(*Tensor)
					if tensor.DType != "int64" || len(tensor.Shape) != 1 {
						t.Fatalf("side %d layer %d: %s %v", s, l, tensor.DType, tensor.Shape)
					}
					ids, err := tensor.Int64s()
					if err != nil {
						t.Fatal(err)
					}
					for i, id := range ids {
						if id < 0 || id >= 14336 || (i > 0 && ids[i-1] >= id) {
							t.Fatalf("side %d layer %d: ids not sorted unique in range at %d", s, l, i)
						}
					}
					totals[s] += len(ids)
				}
			}
			key := strings.TrimSuffix(strings.TrimPrefix(filepath.Base(f), "activation_mask_"), "_0.01")
			if want, ok := maskSizes[key]; ok && totals != want {
				t.Errorf("totals %v, want %v", totals, want)
			}
		})
	}
}

func TestLoadMissingFile(t *testing.T) {
	_, err := Load(filepath.Join(t.TempDir(), "none.pt"))
	if !errors.Is(err, fs.ErrNotExist) {
		t.Fatalf("err = %v, want fs.ErrNotExist", err)
	}
}

func zipOf(tb testing.TB, name, content string) []byte {
	var buf bytes.Buffer
	zw := zip.NewWriter(&buf)
	w, err := zw.Create(name)
	if err != nil {
		tb.Fatal(err)
	}
	w.Write([]byte(content))
	if err := zw.Close(); err != nil {
		tb.Fatal(err)
	}
	return buf.Bytes()
}
