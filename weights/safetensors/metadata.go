package safetensors

import (
	"encoding/binary"
	"encoding/json"
	"fmt"
	"io"
	"os"
)

// ReadMetadata returns the "__metadata__" map of the safetensors file at
// path, reading only its header: a caller can refuse a file that is not
// the kind it wants (a model given where a counts file belongs) without
// reading gigabytes of tensor data first.
//
// Memory: the header, at most MaxHeaderBytes and never more than the file
// holds, plus its decoded metadata; tensor entries are skipped.
func ReadMetadata(path string) (map[string]string, error) {
	f, err := os.Open(path)
	if err != nil {
		return nil, err
	}
	defer f.Close()
	st, err := f.Stat()
	if err != nil {
		return nil, err
	}
	var nb [8]byte
	if _, err := io.ReadFull(f, nb[:]); err != nil {
		return nil, fmt.Errorf("safetensors: %s: no header length: %w", path, err)
	}
	n := binary.LittleEndian.Uint64(nb[:])
	if n > MaxHeaderBytes || n > uint64(st.Size())-8 {
		return nil, fmt.Errorf("safetensors: %s: header of %d bytes in a %d-byte file", path, n, st.Size())
	}
	hdr := make([]byte, n)
	if _, err := io.ReadFull(f, hdr); err != nil {
		return nil, fmt.Errorf("safetensors: %s: reading the header: %w", path, err)
	}
	var h struct {
		Meta map[string]string `json:"__metadata__"`
	}
	if err := json.Unmarshal(hdr, &h); err != nil {
		return nil, fmt.Errorf("safetensors: %s: header: %w", path, err)
	}
	if h.Meta == nil {
		h.Meta = map[string]string{}
	}
	return h.Meta, nil
}
