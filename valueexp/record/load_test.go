package record

import (
	"encoding/binary"
	"fmt"
	"os"
	"path/filepath"
	"runtime"
	"strings"
	"testing"
)

// TestLoadRefusesAModelWithoutReadingIt gives Load what an unlucky user
// gives merge or identify: a model's .safetensors (here a 512 MiB sparse
// file with one F32 tensor and no manifest). Load read it whole before
// refusing it; it must refuse from the header, allocating almost nothing.
func TestLoadRefusesAModelWithoutReadingIt(t *testing.T) {
	const size = 512 << 20
	hdr := []byte(fmt.Sprintf(`{"__metadata__":{"format":"pt"},"model.embed_tokens.weight":{"dtype":"F32","shape":[%d],"data_offsets":[0,%d]}}`, size/4, size))
	path := filepath.Join(t.TempDir(), "model.safetensors")
	f, err := os.Create(path)
	if err != nil {
		t.Fatal(err)
	}
	var nb [8]byte
	binary.LittleEndian.PutUint64(nb[:], uint64(len(hdr)))
	if _, err := f.Write(append(nb[:], hdr...)); err != nil {
		t.Fatal(err)
	}
	if err := f.Truncate(int64(8 + len(hdr) + size)); err != nil { // sparse: no disk used
		t.Fatal(err)
	}
	f.Close()

	var before, after runtime.MemStats
	runtime.ReadMemStats(&before)
	_, err = Load(path)
	runtime.ReadMemStats(&after)
	if err == nil || !strings.Contains(err.Error(), "not a counts file") {
		t.Errorf("Load(model) = %v, want an error saying it is not a counts file", err)
	}
	if got := after.TotalAlloc - before.TotalAlloc; got > 1<<20 {
		t.Errorf("Load allocated %d MiB to refuse a model file", got>>20)
	}
}
