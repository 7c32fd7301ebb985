package torchfile

import (
	"archive/zip"
	"bytes"
	"errors"
	"testing"

	"github.com/valueexploration/valueexp/internal/memtest"
)

// smallStorage resolves any storage record to a 4-element storage.
func smallStorage(pid any) (any, error) {
	rec, ok := pid.([]any)
	if !ok || len(rec) != 5 {
		return nil, errors.New("not a storage record")
	}
	cls, ok := rec[1].(StorageClass)
	if !ok {
		return nil, errors.New("no storage class")
	}
	return &Storage{DType: cls.DType, Data: make([]byte, 4*ElemSize(cls.DType))}, nil
}

// persidBomb is issue 14 case 2's "DUP bomb": a tuple of n items built
// from n DUPs and memoised, then named in records persistent ids: each
// record exports the whole tuple again (n × 16 bytes for about 30 bytes of
// pickle).
func persidBomb(n, records int) []byte {
	p := (&pk{}).proto(2).op('(', 'K', 1)
	p.b = append(p.b, bytes.Repeat([]byte{'2'}, n)...)
	p.op('t').put(0).op('0')
	p.op(']')
	for range records {
		p.op('(').str("storage").global("torch", "FloatStorage").str("0").get(0).op('K', 1, 't', 'Q', 'a')
	}
	return p.op('.').b
}

// zipMember is one record of a hand-built archive.
type zipMember struct {
	name    string
	data    []byte
	deflate bool
}

func archiveOf(tb testing.TB, members ...zipMember) []byte {
	tb.Helper()
	var buf bytes.Buffer
	zw := zip.NewWriter(&buf)
	for _, m := range members {
		method := zip.Store
		if m.deflate {
			method = zip.Deflate
		}
		w, err := zw.CreateHeader(&zip.FileHeader{Name: "archive/" + m.name, Method: method})
		if err != nil {
			tb.Fatal(err)
		}
		if _, err := w.Write(m.data); err != nil {
			tb.Fatal(err)
		}
	}
	if err := zw.Close(); err != nil {
		tb.Fatal(err)
	}
	return buf.Bytes()
}

// TestUnpicklePersidBomb is the regression test of the DUP bomb: before the
// budget a 12 KB pickle allocated about 150 MB; now it is refused within
// the VM's share (1 MiB + 64 bytes per pickle byte).
func TestUnpicklePersidBomb(t *testing.T) {
	data := persidBomb(6000, 400)
	var err error
	grew := memtest.Measure(func() { _, err = Unpickle("bomb.pkl", data, smallStorage) }).Total
	if !errors.Is(err, ErrBudget) {
		t.Fatalf("err = %v, want ErrBudget", err)
	}
	limit := uint64(2*(vmBaseBytes+vmBytesPerPickleByte*len(data))) + 1<<20
	if grew > limit {
		t.Errorf("a %d-byte pickle allocated %d bytes, bound %d", len(data), grew, limit)
	}
	// The same shape with few records is an ordinary pickle.
	if _, err := Unpickle("ok.pkl", persidBomb(6000, 2), smallStorage); err != nil {
		t.Errorf("two records: %v", err)
	}
}

// TestReadAdversarial feeds archives built to exhaust memory and checks
// each is refused cleanly with the total allocation under twice the
// budget (slice growth) plus a little.
func TestReadAdversarial(t *testing.T) {
	const budgetBytes = 16 << 20
	int32Tensor := func(numel int32, shape, stride []int32) []byte {
		return (&pk{}).proto(2).tensor("IntStorage", "0", numel, 0, shape, stride).op('.').b
	}
	big := make([]byte, 32<<20) // zeros: deflates to about 32 KB
	tests := []struct {
		name    string
		archive []byte
		convert bool // the read succeeds; Int64s must be refused
		want    error
	}{
		{"deflated storage beyond the budget", archiveOf(t,
			zipMember{name: "data.pkl", data: int32Tensor(8<<20, []int32{8 << 20}, []int32{1})},
			zipMember{name: "data/0", data: big, deflate: true}), false, ErrBudget},
		{"deflated pickle beyond the budget", archiveOf(t,
			zipMember{name: "data.pkl", data: big, deflate: true}), false, ErrBudget},
		{"int32 widened beyond the budget", archiveOf(t,
			zipMember{name: "data.pkl", data: int32Tensor(2<<20, []int32{2 << 20}, []int32{1})},
			zipMember{name: "data/0", data: big[:8<<20], deflate: true}), true, ErrBudget},
		{"expanded view beyond the budget", archiveOf(t,
			zipMember{name: "data.pkl", data: int32Tensor(3<<20, []int32{1 << 20}, []int32{0})},
			zipMember{name: "data/0", data: big[:12<<20], deflate: true}), true, ErrBudget},
		{"persid bomb", archiveOf(t,
			zipMember{name: "data.pkl", data: persidBomb(6000, 400)},
			zipMember{name: "data/0", data: big[:4]}), false, ErrBudget},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			var err error
			grew := memtest.Measure(func() {
				var v any
				v, err = ReadWith(bytes.NewReader(tc.archive), int64(len(tc.archive)), "bomb.pt", Options{MaxBytes: budgetBytes})
				if err == nil && tc.convert {
					if tn, ok := v.(*Tensor); ok {
						_, err = tn.Int64s()
					}
				}
			}).Total
			if !errors.Is(err, tc.want) {
				t.Fatalf("err = %v, want %v", err, tc.want)
			}
			if limit := uint64(2*budgetBytes + 1<<20); grew > limit {
				t.Errorf("allocated %d bytes, bound %d", grew, limit)
			}
		})
	}
}

// TestReadStorageSizeMustMatch checks that a storage record longer than its
// declared element count is refused before it is read.
func TestReadStorageSizeMustMatch(t *testing.T) {
	p := (&pk{}).proto(2).tensor("IntStorage", "0", 4, 0, []int32{4}, []int32{1}).op('.').b
	a := archiveOf(t, zipMember{name: "data.pkl", data: p}, zipMember{name: "data/0", data: make([]byte, 1<<20), deflate: true})
	_, err := ReadWith(bytes.NewReader(a), int64(len(a)), "x.pt", Options{})
	if err == nil || !bytes.Contains([]byte(err.Error()), []byte("holds 1048576 bytes, want 16")) {
		t.Fatalf("err = %v, want a size mismatch", err)
	}
}

// TestBudgetAllowsOrdinaryFiles checks that the budget is not in the way of
// a file of the kind this package is for: a 32 × 11008 int32 over_zero
// read and widened to int64 well within the default.
func TestBudgetAllowsOrdinaryFiles(t *testing.T) {
	const L, D = 32, 11008
	p := (&pk{}).proto(2).tensor("IntStorage", "0", L*D, 0, []int32{L, D}, []int32{D, 1}).op('.').b
	a := archiveOf(t, zipMember{name: "data.pkl", data: p}, zipMember{name: "data/0", data: make([]byte, 4*L*D)})
	v, err := Read(bytes.NewReader(a), int64(len(a)), "oz.pt")
	if err != nil {
		t.Fatal(err)
	}
	if _, err := v.(*Tensor).Int64s(); err != nil {
		t.Fatal(err)
	}
}
