// Package atomicfile writes output files so that no reader, crash or failed
// write ever sees a half-written one: the content goes to a temporary file
// in the same folder, which is synced and renamed over the final name only
// once complete. The previous file, if any, stays intact until that rename.
package atomicfile

import (
	"fmt"
	"io"
	"os"
	"path/filepath"
)

// Write creates or replaces path with what write writes. On any error the
// temporary file is removed and path is left as it was. The file gets mode
// 0644, as the project's other outputs (CreateTemp's own are private).
func Write(path string, write func(io.Writer) error) error {
	tmp, err := os.CreateTemp(filepath.Dir(path), "."+filepath.Base(path)+".tmp*")
	if err != nil {
		return err
	}
	err = write(tmp)
	if err == nil {
		err = tmp.Chmod(0o644)
	}
	if err == nil {
		err = tmp.Sync()
	}
	if cerr := tmp.Close(); err == nil {
		err = cerr
	}
	if err == nil {
		err = os.Rename(tmp.Name(), path)
	}
	if err != nil {
		os.Remove(tmp.Name())
		return fmt.Errorf("writing %s: %w", path, err)
	}
	return nil
}
