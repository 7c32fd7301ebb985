package atomicfile

import (
	"errors"
	"io"
	"os"
	"path/filepath"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

func TestWriteReplacesWholeOrNothing(t *testing.T) {
	dir := t.TempDir()
	path := filepath.Join(dir, "out")
	require.NoError(t, os.WriteFile(path, []byte("old"), 0o600))
	// A hard link keeps the old file reachable: writing in place would
	// change what it shows.
	link := filepath.Join(dir, "link")
	require.NoError(t, os.Link(path, link))

	boom := errors.New("disk full")
	err := Write(path, func(w io.Writer) error {
		io.WriteString(w, "half")
		return boom
	})
	assert.ErrorIs(t, err, boom)
	got, _ := os.ReadFile(path)
	assert.Equal(t, "old", string(got), "a failed write changed the file")

	require.NoError(t, Write(path, func(w io.Writer) error {
		_, err := io.WriteString(w, "new")
		return err
	}))
	got, _ = os.ReadFile(path)
	assert.Equal(t, "new", string(got))
	old, _ := os.ReadFile(link)
	assert.Equal(t, "old", string(old), "the old file was rewritten in place")
	st, err := os.Stat(path)
	require.NoError(t, err)
	assert.Equal(t, os.FileMode(0o644), st.Mode().Perm())
	ents, _ := os.ReadDir(dir)
	assert.Len(t, ents, 2, "temporary files left behind")
}
