package safetensors

import (
	"encoding/binary"
	"os"
	"path/filepath"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

func TestReadMetadata(t *testing.T) {
	le := func(n uint64) []byte { var b [8]byte; binary.LittleEndian.PutUint64(b[:], n); return b[:] }
	hdr := `{"__metadata__":{"format":"x"},"t":{"dtype":"F32","shape":[1],"data_offsets":[0,4]}}`
	for _, tc := range []struct {
		name    string
		content []byte
		want    map[string]string
		wantErr string
	}{
		{"ok", append(append(le(uint64(len(hdr))), hdr...), 0, 0, 0, 0), map[string]string{"format": "x"}, ""},
		{"no metadata", append(le(2), "{}"...), map[string]string{}, ""},
		{"empty file", nil, nil, "no header length"},
		{"header longer than the file", append(le(1<<40), "{}"...), nil, "header of 1099511627776 bytes"},
		{"header beyond the limit", append(le(MaxHeaderBytes+1), "{}"...), nil, "header of"},
		{"not json", append(le(3), "{x}"...), nil, "header"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			p := filepath.Join(t.TempDir(), "f.safetensors")
			require.NoError(t, os.WriteFile(p, tc.content, 0o644))
			got, err := ReadMetadata(p)
			if tc.wantErr != "" {
				assert.ErrorContains(t, err, tc.wantErr)
				return
			}
			require.NoError(t, err)
			assert.Equal(t, tc.want, got)
		})
	}
}

// FuzzReadMetadata: any file gives metadata or an error, never a panic, and
// metadata only when the header fits in the file.
func FuzzReadMetadata(f *testing.F) {
	f.Add([]byte("\x02\x00\x00\x00\x00\x00\x00\x00{}"))
	f.Add([]byte("\x1f\x00\x00\x00\x00\x00\x00\x00{\"__metadata__\":{\"format\":\"x\"}}"))
	f.Add([]byte("\xff\xff\xff\xff\xff\xff\xff\xff{}"))
	f.Add([]byte{})
	dir := f.TempDir()
	f.Fuzz(func(t *testing.T, b []byte) {
		p := filepath.Join(dir, "f")
		if err := os.WriteFile(p, b, 0o644); err != nil {
			t.Skip(err)
		}
		meta, err := ReadMetadata(p)
		if err == nil && (len(b) < 8 || binary.LittleEndian.Uint64(b)+8 > uint64(len(b)) || meta == nil) {
			t.Fatalf("accepted a header longer than the %d-byte file (or nil metadata)", len(b))
		}
	})
}
