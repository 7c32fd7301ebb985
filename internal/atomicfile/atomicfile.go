// Package atomicfile writes files so that a reader (or a run restarted
// after a crash) sees either the old content or the new, never a truncated
// mix: the data goes to a temporary file in the same folder, is synced, and
// is renamed over the target.
package atomicfile

import (
	"io"
	"os"
)

// WriteFile writes data to path atomically with permissions perm.
func WriteFile(path string, data []byte, perm os.FileMode) error {
	return write(path, perm, func(w io.Writer) error {
		_, err := w.Write(data)
		return err
	})
}
