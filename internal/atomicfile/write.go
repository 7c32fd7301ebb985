package atomicfile

import (
	"fmt"
	"io"
	"os"
	"path/filepath"
)

// Write is WriteFile for content produced by a writer (an encoder that
// streams): it creates or replaces path with what produce writes. On any
// error the temporary file is removed and path is left as it was. The file
// gets mode 0644, as the project's other outputs (CreateTemp's are private).
func Write(path string, produce func(io.Writer) error) error {
	return write(path, 0o644, produce)
}

func write(path string, perm os.FileMode, produce func(io.Writer) error) error {
	tmp, err := os.CreateTemp(filepath.Dir(path), "."+filepath.Base(path)+".tmp*")
	if err != nil {
		return fmt.Errorf("writing %s: %w", path, err)
	}
	err = produce(tmp)
	if err == nil {
		err = tmp.Chmod(perm)
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
