package identify

import (
	"archive/zip"
	"encoding/binary"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

// ptFile writes a torch.save-style counts file: {"over_zero": int32
// [rows, cols] tensor, "token_num": tokens, "question_num": questions},
// assembled opcode by opcode (what torch.save writes with protocol 2).
func ptFile(t *testing.T, name string, rows, cols int32, oz []int32, tokens, questions int32) string {
	t.Helper()
	var p []byte
	op := func(b ...byte) { p = append(p, b...) }
	str := func(s string) {
		op('X')
		p = binary.LittleEndian.AppendUint32(p, uint32(len(s)))
		op([]byte(s)...)
	}
	num := func(v int32) {
		op('J')
		p = binary.LittleEndian.AppendUint32(p, uint32(v))
	}
	global := func(m, n string) { op('c'); op([]byte(m + "\n" + n + "\n")...) }
	op(0x80, 2, '}', '(')
	str("over_zero")
	global("torch._utils", "_rebuild_tensor_v2")
	op('(', '(')
	str("storage")
	global("torch", "IntStorage")
	str("0")
	str("cpu")
	num(rows * cols)
	op('t', 'Q')
	num(0)
	op('(')
	num(rows)
	num(cols)
	op('t', '(')
	num(cols)
	num(1)
	op('t', 0x89)
	global("collections", "OrderedDict")
	op(')', 'R', 't', 'R')
	str("token_num")
	num(tokens)
	str("question_num")
	num(questions)
	op('u', '.')

	var data []byte
	for _, v := range oz {
		data = binary.LittleEndian.AppendUint32(data, uint32(v))
	}
	path := filepath.Join(t.TempDir(), name)
	f, err := os.Create(path)
	if err != nil {
		t.Fatal(err)
	}
	zw := zip.NewWriter(f)
	for _, m := range []struct {
		name string
		data []byte
	}{{"archive/data.pkl", p}, {"archive/data/0", data}, {"archive/byteorder", []byte("little")}} {
		w, err := zw.CreateHeader(&zip.FileHeader{Name: m.name, Method: zip.Store})
		if err != nil {
			t.Fatal(err)
		}
		w.Write(m.data)
	}
	if err := zw.Close(); err != nil {
		t.Fatal(err)
	}
	if err := f.Close(); err != nil {
		t.Fatal(err)
	}
	return path
}

// TestLoadPTValidatesCounts is issue 14 case 11c: over_zero above
// token_num (and negative counts) are refused, naming the file and the
// element; a consistent file loads.
func TestLoadPTValidatesCounts(t *testing.T) {
	good := ptFile(t, "富强-support.pt", 2, 2, []int32{0, 3, 5, 1}, 5, 2)
	c, _, err := LoadPT(good)
	if err != nil {
		t.Fatal(err)
	}
	if c.Tokens[0] != 5 || c.OverZero[0][2] != 5 || c.Questions[0] != 2 {
		t.Errorf("loaded %+v", c)
	}
	for _, tc := range []struct {
		name     string
		oz       []int32
		tok, qst int32
		want     string
	}{
		{"over_zero > token_num", []int32{0, 3, 6, 1}, 5, 2, "over_zero[1][0] = 6"},
		{"negative count", []int32{0, -1, 5, 1}, 5, 2, "over_zero[0][1] = -1"},
		{"negative token_num", []int32{0, 0, 0, 0}, -1, 2, "token_num -1"},
		{"negative question_num", []int32{0, 0, 0, 0}, 5, -2, "question_num -2"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			path := ptFile(t, "x.pt", 2, 2, tc.oz, tc.tok, tc.qst)
			_, _, err := LoadPT(path)
			if err == nil || !strings.Contains(err.Error(), tc.want) || !strings.Contains(err.Error(), path) {
				t.Errorf("err = %v, want one naming %s and %q", err, path, tc.want)
			}
		})
	}
}
