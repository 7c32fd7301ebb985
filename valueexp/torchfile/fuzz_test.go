package torchfile

import (
	"archive/zip"
	"bytes"
	"io"
	"os"
	"path/filepath"
	"testing"

	"github.com/valueexploration/valueexp/internal/shareddata"
)

// fuzzStorage resolves any well-formed storage record to a zero-filled
// storage of at most 64 elements, so tensor rebuilding and the accessors'
// bounds checks are exercised without real archive data.
func fuzzStorage(pid any) (any, error) {
	rec, ok := pid.([]any)
	if !ok || len(rec) != 5 {
		return nil, io.ErrUnexpectedEOF
	}
	cls, ok := rec[1].(StorageClass)
	n, ok2 := rec[4].(int64)
	if !ok || !ok2 || n < 0 {
		return nil, io.ErrUnexpectedEOF
	}
	return &Storage{DType: cls.DType, Data: make([]byte, min(n, 64)*int64(ElemSize(cls.DType)))}, nil
}

// realPickles returns the data.pkl bytes of one counts file and one mask
// file from the shared reference data, when present (never copied into
// the repository).
func realPickles() [][]byte {
	root := shareddata.Root()
	if root == "" {
		return nil
	}
	var out [][]byte
	for _, p := range []string{
		filepath.Join(root, "cvoice", "authors-llama-counts", "富强-support.pt"),
		filepath.Join(root, "cvoice", "authors-llama-masks", "activation_mask_富强_decision_0.01"),
	} {
		zr, err := zip.OpenReader(p)
		if err != nil {
			continue
		}
		for _, f := range zr.File {
			if filepath.Base(f.Name) == "data.pkl" {
				if rc, err := f.Open(); err == nil {
					if b, err := io.ReadAll(rc); err == nil {
						out = append(out, b)
					}
					rc.Close()
				}
			}
		}
		zr.Close()
	}
	return out
}

func FuzzUnpickle(f *testing.F) {
	f.Add((&pk{}).proto(2).tensor("IntStorage", "0", 6, 1, []int32{2, 2}, []int32{1, 2}).op('.').b)
	f.Add((&pk{}).proto(2).op('}', 'q', 0, '(').str("n").float(1.5).str("l").op(']', '(', 'K', 1, 'M', 2, 0, 'e', 'u', '.').b)
	f.Add((&pk{}).proto(4).shortStr("collections").shortStr("OrderedDict").op(0x93, ')', 'R', 0x94, '}', 'b', '.').b)
	f.Add([]byte{0x80, 2, ']', 'q', 0, 'h', 0, 'a', '.'})
	f.Add((&pk{}).proto(2).global("os", "system").op('.').b)
	f.Add(persidBomb(64, 8))
	for _, b := range realPickles() {
		f.Add(b)
	}
	f.Fuzz(func(t *testing.T, data []byte) {
		// A small budget makes the fuzzer meet the budget checks too.
		v, err := UnpickleWith("fuzz.pkl", data, fuzzStorage, Options{MaxBytes: 64 << 20})
		if err != nil {
			return
		}
		// Every tensor that survives rebuilding must be readable in bounds.
		var walk func(any)
		walk = func(v any) {
			switch x := v.(type) {
			case *Tensor:
				if x.Numel() > 1<<12 {
					return // legal expanded views; reading them is only slow
				}
				x.Float64s()
				x.Int64s()
			case []any:
				for _, e := range x {
					walk(e)
				}
			case map[string]any:
				for _, e := range x {
					walk(e)
				}
			}
		}
		walk(v)
	})
}

// FuzzRead feeds whole archives: a valid one built in memory and, when
// present, a real counts file's bytes.
func FuzzRead(f *testing.F) {
	p := (&pk{}).proto(2).tensor("FloatStorage", "0", 4, 0, []int32{2, 2}, []int32{2, 1}).op('.')
	f.Add(torchZip(f, p.b, map[string][]byte{"0": le32f(1, 2, 3, 4)}, "little"))
	f.Add(archiveOf(f, zipMember{name: "data.pkl", data: p.b}, zipMember{name: "data/0", data: make([]byte, 1<<12), deflate: true}))
	if root := shareddata.Root(); root != "" {
		if b, err := os.ReadFile(filepath.Join(root, "cvoice", "authors-llama-masks", "activation_mask_富强_decision_0.01")); err == nil {
			f.Add(b)
		}
	}
	f.Fuzz(func(t *testing.T, data []byte) {
		v, err := ReadWith(bytes.NewReader(data), int64(len(data)), "fuzz.pt", Options{MaxBytes: 64 << 20})
		if err != nil {
			return
		}
		if x, ok := v.(*Tensor); ok {
			x.Float64s()
		}
	})
}
