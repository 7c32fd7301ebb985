package weights

import (
	"bytes"
	"encoding/json"
	"fmt"
	"io"
	"os"
	"strings"
)

// Limits on the JSON files of a Hugging Face folder. Real ones are far
// smaller: a config.json is a few KiB, the shard index of a model with 100k
// tensors about 9 MiB.
const (
	maxHFConfigBytes  = 4 << 20
	maxHFIndexBytes   = 64 << 20
	maxHFIndexEntries = 1 << 20
	maxTokenIDs       = 1024 // bos/eos ids in a config (real ones list a few)
)

// readLimited reads a whole file of at most limit bytes, failing before it
// reads more; what is a limit for names the file's role in the error.
func readLimited(path string, limit int64, what string) ([]byte, error) {
	f, err := os.Open(path)
	if err != nil {
		return nil, err
	}
	defer f.Close()
	if st, err := f.Stat(); err == nil && st.Size() > limit {
		return nil, fmt.Errorf("%s: %d bytes exceed the limit of %d for %s", path, st.Size(), limit, what)
	}
	// The size may change under us: read one byte past the limit to know.
	b, err := io.ReadAll(io.LimitReader(f, limit+1))
	if err != nil {
		return nil, fmt.Errorf("%s: %w", path, err)
	}
	if int64(len(b)) > limit {
		return nil, fmt.Errorf("%s: more than %d bytes, the limit for %s", path, limit, what)
	}
	return b, nil
}

// parseHFIndex reads a model.safetensors.index.json: its weight_map from
// tensor name to shard file name. Every shard name must be a plain file name
// (no path), so an index cannot make Open read files outside the folder.
//
// Memory: the index may be at most maxHFIndexBytes and list at most
// maxHFIndexEntries tensors, both checked before decoding; decoding then
// allocates at most 20 bytes per index byte plus 64 KiB (the map of the
// smallest possible entries comes to about 15; TestHFIndexMemoryBound
// measures it), and with at most a million entries about 160 MiB.
func parseHFIndex(b []byte, name string) (map[string]string, error) {
	if len(b) > maxHFIndexBytes {
		return nil, fmt.Errorf("%s: %d bytes exceed the limit of %d for a shard index", name, len(b), maxHFIndexBytes)
	}
	// Every entry holds a `":` (end of a key); there are at most that many.
	if n := bytes.Count(b, []byte(`":`)); n > maxHFIndexEntries+16 {
		return nil, fmt.Errorf("%s: %d keys exceed the limit of %d tensors", name, n, maxHFIndexEntries)
	}
	var idx struct {
		WeightMap map[string]string `json:"weight_map"`
	}
	if err := json.Unmarshal(b, &idx); err != nil {
		return nil, fmt.Errorf("%s: bad JSON: %w", name, err)
	}
	if len(idx.WeightMap) == 0 {
		return nil, fmt.Errorf("%s: empty or missing weight_map", name)
	}
	for tensor, f := range idx.WeightMap {
		if !plainFileName(f) {
			return nil, fmt.Errorf("%s: tensor %q: shard name %q must be a plain file name", name, tensor, f)
		}
	}
	return idx.WeightMap, nil
}

// plainFileName reports whether f names a file in the folder itself: "../x"
// or "/etc/x" would let an index read files elsewhere.
func plainFileName(f string) bool {
	return f != "" && f != "." && f != ".." && !strings.ContainsAny(f, "/\\\x00")
}
