package weights

import (
	"context"
	"encoding/binary"
	"fmt"
	"math"
	"runtime"
	"sync"
)

// NonFinite describes the NaN and ±Inf values of one tensor, as the engine
// reads them (after dequantization: a quantized block with a NaN scale is
// NaN in every element).
type NonFinite struct {
	Tensor string `json:"tensor"` // canonical name
	// FileName is the name the file stores the tensor under, when it differs.
	FileName string `json:"file_name,omitempty"`
	File     string `json:"file"`
	NaN      int64  `json:"nan"`
	Inf      int64  `json:"inf"`
	// FirstRow and FirstCol locate the first non-finite value (logical row).
	FirstRow int `json:"first_row"`
	FirstCol int `json:"first_col"`
}

// String says what the tensor holds: `tensor "blk.0.ffn_up.weight" holds 3
// NaN and 0 Inf values (first at row 4, column 17)`.
func (n NonFinite) String() string {
	name := fmt.Sprintf("%q", n.Tensor)
	if n.FileName != "" {
		name += fmt.Sprintf(" (%q in the file)", n.FileName)
	}
	return fmt.Sprintf("tensor %s holds %d NaN and %d Inf values (first at row %d, column %d)", name, n.NaN, n.Inf, n.FirstRow, n.FirstCol)
}

// ScanRows counts the NaN and ±Inf values in logical rows [lo, hi) of t and
// returns nil when there are none. F32, F16 and BF16 rows are checked on
// their bits; other types are dequantized a row at a time (one row of
// scratch memory).
func (t *Tensor) ScanRows(lo, hi int) (*NonFinite, error) {
	if lo < 0 || hi > t.Rows() || lo > hi {
		return nil, fmt.Errorf("tensor %q: rows [%d, %d) outside [0, %d)", t.Name, lo, hi, t.Rows())
	}
	var res *NonFinite
	note := func(row, col int, nan bool) {
		if res == nil {
			res = &NonFinite{Tensor: t.Name, File: t.File, FirstRow: row, FirstCol: col}
		}
		if nan {
			res.NaN++
		} else {
			res.Inf++
		}
	}
	cols := t.Cols()
	var buf []float32
	for r := lo; r < hi; r++ {
		row := t.Row(r)
		switch t.DType {
		case F32:
			for c := 0; c < cols; c++ {
				if b := binary.LittleEndian.Uint32(row[4*c:]); b&0x7f800000 == 0x7f800000 {
					note(r, c, b&0x007fffff != 0)
				}
			}
		case F16:
			for c := 0; c < cols; c++ {
				if b := binary.LittleEndian.Uint16(row[2*c:]); b&0x7c00 == 0x7c00 {
					note(r, c, b&0x03ff != 0)
				}
			}
		case BF16:
			for c := 0; c < cols; c++ {
				if b := binary.LittleEndian.Uint16(row[2*c:]); b&0x7f80 == 0x7f80 {
					note(r, c, b&0x007f != 0)
				}
			}
		default:
			if buf == nil {
				buf = make([]float32, cols)
			}
			if err := t.DequantizeRow(buf, r); err != nil {
				return nil, err
			}
			for c, v := range buf {
				if math.IsNaN(float64(v)) {
					note(r, c, true)
				} else if math.IsInf(float64(v), 0) {
					note(r, c, false)
				}
			}
		}
	}
	return res, nil
}

// Scan is ScanRows over the whole tensor.
func (t *Tensor) Scan() (*NonFinite, error) { return t.ScanRows(0, t.Rows()) }

// CheckFinite scans every tensor of m, with up to threads goroutines (0:
// GOMAXPROCS), and returns those holding NaN or ±Inf in Names order. It reads
// every byte of every weight file, so it takes about as long as reading the
// model from disk once; ctx stops it between tensors.
func CheckFinite(ctx context.Context, m *Model, threads int) ([]NonFinite, error) {
	if threads <= 0 {
		threads = runtime.GOMAXPROCS(0)
	}
	names := m.Names()
	found := make([]*NonFinite, len(names))
	errs := make([]error, len(names))
	next := make(chan int)
	var wg sync.WaitGroup
	for g := 0; g < min(threads, max(1, len(names))); g++ {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for i := range next {
				found[i], errs[i] = m.Tensors[names[i]].Scan()
			}
		}()
	}
	var ctxErr error
feed:
	for i := range names {
		if ctxErr = ctx.Err(); ctxErr != nil {
			break
		}
		select {
		case next <- i:
		case <-ctx.Done():
			ctxErr = ctx.Err()
			break feed
		}
	}
	close(next)
	wg.Wait()
	if ctxErr != nil {
		return nil, ctxErr
	}
	var out []NonFinite
	for i, f := range found {
		if errs[i] != nil {
			return nil, errs[i]
		}
		if f != nil {
			f.FileName = m.FileNames[names[i]]
			out = append(out, *f)
		}
	}
	return out, nil
}
