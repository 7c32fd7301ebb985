package torchfile

import (
	"archive/zip"
	"bytes"
	"errors"
	"fmt"
	"io"
	"os"
	"strings"
)

// maxStorageBytes bounds a single storage read from an archive, so a forged
// header cannot make the reader allocate without limit.
const maxStorageBytes = 1 << 34

// Load reads the torch.save file at path and returns its unpickled content
// (see Unpickle for the Go types used).
func Load(path string) (any, error) {
	f, err := os.Open(path)
	if err != nil {
		return nil, fmt.Errorf("torchfile: %w", err)
	}
	defer f.Close()
	st, err := f.Stat()
	if err != nil {
		return nil, fmt.Errorf("torchfile: %s: %w", path, err)
	}
	return Read(f, st.Size(), path)
}

// Read decodes a torch.save zip archive of the given size from r. name
// labels errors (usually the file path).
func Read(r io.ReaderAt, size int64, name string) (any, error) {
	zr, err := zip.NewReader(r, size)
	if err != nil {
		return nil, fmt.Errorf("torchfile: %s: not a torch.save zip archive: %w", name, err)
	}
	a := archive{name: name, files: map[string]*zip.File{}, storages: map[string]*Storage{}}
	var pkl string
	for _, f := range zr.File {
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
		b, err := readZip(f, 16)
		if err != nil {
			return nil, fmt.Errorf("torchfile: %s: %s: %w", name, f.Name, err)
		}
		switch order := strings.TrimSpace(string(b)); order {
		case "little":
		case "big":
			a.bigEndian = true
		default:
			return nil, fmt.Errorf("torchfile: %s: byteorder %q, want little or big", name, order)
		}
	}
	data, err := readZip(a.files[pkl], maxStringLen)
	if err != nil {
		return nil, fmt.Errorf("torchfile: %s: %s: %w", name, pkl, err)
	}
	return Unpickle(name, data, a.loadStorage)
}

type archive struct {
	name      string
	prefix    string
	bigEndian bool
	files     map[string]*zip.File
	storages  map[string]*Storage
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
	data, err := readZip(f, numel*es)
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

// readZip reads a whole record, refusing more than limit bytes.
func readZip(f *zip.File, limit int64) ([]byte, error) {
	if f == nil {
		return nil, errors.New("record missing")
	}
	if f.UncompressedSize64 > uint64(limit) {
		return nil, fmt.Errorf("record of %d bytes exceeds %d", f.UncompressedSize64, limit)
	}
	rc, err := f.Open()
	if err != nil {
		return nil, err
	}
	defer rc.Close()
	// The declared size is only a hint from the file: preallocate little
	// for untrusted headers and let real data grow the buffer.
	var buf bytes.Buffer
	buf.Grow(int(min(f.UncompressedSize64, 1<<20)))
	if _, err := io.Copy(&buf, io.LimitReader(rc, limit+1)); err != nil {
		return nil, err
	}
	if int64(buf.Len()) > limit {
		return nil, fmt.Errorf("record exceeds %d bytes", limit)
	}
	return buf.Bytes(), nil
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
