package torchfile

import (
	"archive/zip"
	"errors"
	"fmt"
	"io"
	"os"
	"strings"
)

// maxStorageBytes bounds a single storage read from an archive, so a forged
// header cannot make the reader allocate without limit.
const maxStorageBytes = 1 << 34

// zipEntryBytes is charged per archive member for archive/zip's record of
// it (plus its name): the central directory is read before anything else.
const zipEntryBytes = 256

// Load reads the torch.save file at path and returns its unpickled content
// (see Unpickle for the Go types used), within DefaultMaxBytes (see
// LoadWith).
func Load(path string) (any, error) {
	return LoadWith(path, Options{})
}

// LoadWith is Load with an explicit memory budget.
//
// Memory: everything the read allocates is charged against one budget,
// opt.MaxBytes (DefaultMaxBytes if 0): about 256 bytes per archive member
// plus its name, the pickle's bytes, what the pickle VM builds (itself at
// most 1 MiB + 64 bytes per pickle byte), every storage at its declared
// size (checked against the member's size before it is inflated, so a
// small deflated member cannot expand past the budget), and every later
// Int64s/Int32s/Float64s of a returned tensor. A file that needs more is
// refused with an error wrapping ErrBudget. Go's own overheads come on
// top (at most about as much again, from slice growth).
func LoadWith(path string, opt Options) (any, error) {
	f, err := os.Open(path)
	if err != nil {
		return nil, fmt.Errorf("torchfile: %w", err)
	}
	defer f.Close()
	st, err := f.Stat()
	if err != nil {
		return nil, fmt.Errorf("torchfile: %s: %w", path, err)
	}
	return ReadWith(f, st.Size(), path, opt)
}

// Read decodes a torch.save zip archive of the given size from r. name
// labels errors (usually the file path). Its memory is bounded as
// LoadWith's, with DefaultMaxBytes.
func Read(r io.ReaderAt, size int64, name string) (any, error) {
	return ReadWith(r, size, name, Options{})
}

// ReadWith is Read with an explicit memory budget (see LoadWith).
func ReadWith(r io.ReaderAt, size int64, name string, opt Options) (any, error) {
	zr, err := zip.NewReader(r, size)
	if err != nil {
		return nil, fmt.Errorf("torchfile: %s: not a torch.save zip archive: %w", name, err)
	}
	b := newBudget(opt)
	a := archive{name: name, files: map[string]*zip.File{}, storages: map[string]*Storage{}, b: b}
	var pkl string
	for _, f := range zr.File {
		if err := b.charge(zipEntryBytes+int64(len(f.Name)), "the archive's directory"); err != nil {
			return nil, fmt.Errorf("torchfile: %s: %w", name, err)
		}
		a.files[f.Name] = f
		if strings.HasSuffix(f.Name, "/data.pkl") && strings.Count(f.Name, "/") == 1 {
			if pkl != "" {
				return nil, fmt.Errorf("torchfile: %s: two data.pkl records (%s, %s)", name, pkl, f.Name)
			}
			pkl = f.Name
		}
	}
	if pkl == "" {
		return nil, fmt.Errorf("torchfile: %s: no <prefix>/data.pkl record (legacy non-zip torch.save files are not supported)", name)
	}
	a.prefix = strings.TrimSuffix(pkl, "data.pkl")
	if f, ok := a.files[a.prefix+"byteorder"]; ok {
		bo, err := readZip(f, 16, nil)
		if err != nil {
			return nil, fmt.Errorf("torchfile: %s: %s: %w", name, f.Name, err)
		}
		switch order := strings.TrimSpace(string(bo)); order {
		case "little":
		case "big":
			a.bigEndian = true
		default:
			return nil, fmt.Errorf("torchfile: %s: byteorder %q, want little or big", name, order)
		}
	}
	data, err := readZip(a.files[pkl], maxStringLen, b)
	if err != nil {
		return nil, fmt.Errorf("torchfile: %s: %s: %w", name, pkl, err)
	}
	v, err := unpickle(data, a.loadStorage, b)
	if err != nil {
		return nil, fmt.Errorf("torchfile: %s: %w", name, err)
	}
	return v, nil
}

type archive struct {
	name      string
	prefix    string
	bigEndian bool
	files     map[string]*zip.File
	storages  map[string]*Storage
	b         *budget
}

// loadStorage resolves ("storage", storage class, key, location, numel).
// Storages are cached by key because several tensors may view one.
func (a *archive) loadStorage(pid any) (any, error) {
	rec, ok := pid.([]any)
	if !ok || len(rec) != 5 {
		return nil, fmt.Errorf("persistent id %v, want a 5-tuple (\"storage\", type, key, location, numel)", pid)
	}
	kind, _ := rec[0].(string)
	cls, okCls := rec[1].(StorageClass)
	key, okKey := rec[2].(string)
	numel, okN := rec[4].(int64)
	if kind != "storage" || !okCls || !okKey || !okN {
		return nil, fmt.Errorf("persistent id %v is not a storage record", pid)
	}
	if st, ok := a.storages[key]; ok {
		if st.DType != cls.DType {
			return nil, fmt.Errorf("storage %q used as both %s and %s", key, st.DType, cls.DType)
		}
		return st, nil
	}
	es := int64(ElemSize(cls.DType))
	if numel < 0 || numel > maxStorageBytes/es {
		return nil, fmt.Errorf("storage %q: bad element count %d", key, numel)
	}
	f, ok := a.files[a.prefix+"data/"+key]
	if !ok {
		return nil, fmt.Errorf("storage %q: record %sdata/%s missing", key, a.prefix, key)
	}
	if f.UncompressedSize64 != uint64(numel*es) {
		return nil, fmt.Errorf("storage %q: record %s holds %d bytes, want %d (%d × %s)", key, f.Name, f.UncompressedSize64, numel*es, numel, cls.DType)
	}
	data, err := readZip(f, numel*es, a.b)
	if err != nil {
		return nil, fmt.Errorf("storage %q: %w", key, err)
	}
	if int64(len(data)) != numel*es {
		return nil, fmt.Errorf("storage %q: %d bytes, want %d (%d × %s)", key, len(data), numel*es, numel, cls.DType)
	}
	if a.bigEndian {
		swapElements(data, int(es))
	}
	st := &Storage{DType: cls.DType, Data: data}
	a.storages[key] = st
	return st, nil
}

// readZip reads a whole record of at most limit bytes, charging its
// declared size to b (if not nil) before allocating; the record must hold
// exactly what its header declares, so a deflated record cannot inflate
// beyond what was charged.
func readZip(f *zip.File, limit int64, b *budget) ([]byte, error) {
	if f == nil {
		return nil, errors.New("record missing")
	}
	n := f.UncompressedSize64
	if n > uint64(limit) {
		return nil, fmt.Errorf("record of %d bytes exceeds %d", n, limit)
	}
	if err := b.charge(int64(n), "record "+f.Name); err != nil {
		return nil, err
	}
	rc, err := f.Open()
	if err != nil {
		return nil, err
	}
	defer rc.Close()
	buf := make([]byte, n)
	if _, err := io.ReadFull(rc, buf); err != nil {
		return nil, fmt.Errorf("record shorter than its declared %d bytes: %w", n, err)
	}
	// Reading on to the end also makes archive/zip check the CRC.
	var one [1]byte
	k, err := rc.Read(one[:])
	if k > 0 {
		return nil, fmt.Errorf("record longer than its declared %d bytes", n)
	}
	if err != nil && err != io.EOF {
		return nil, err
	}
	return buf, nil
}

func swapElements(b []byte, size int) {
	if size < 2 {
		return
	}
	for i := 0; i+size <= len(b); i += size {
		for l, r := i, i+size-1; l < r; l, r = l+1, r-1 {
			b[l], b[r] = b[r], b[l]
		}
	}
}
