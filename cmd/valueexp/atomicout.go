package main

import (
	"fmt"
	"io"
	"os"
	"path/filepath"

	"github.com/valueexploration/valueexp/internal/outlock"
)

// lockOutput takes the lock of an --out file (OUT.lock, package outlock) so
// that a second live run writing the same file is refused instead of
// silently replacing the first one's result. The note about a stale lock
// taken over goes to stderr.
func lockOutput(e *env, out string) (release func(), err error) {
	lock, note, err := outlock.Acquire(out)
	if err != nil {
		return nil, err
	}
	if note != "" {
		fmt.Fprintln(e.stderr, note)
	}
	return func() {
		if err := lock.Release(); err != nil {
			fmt.Fprintln(e.stderr, err)
		}
	}, nil
}

// writeFileAtomic writes path through write: into a temporary file in the
// same folder that is renamed over path only once complete and synced, so an
// error, a full disk or a kill never leaves a half-written output (or
// destroys the previous one).
func writeFileAtomic(path string, write func(io.Writer) error) error {
	tmp, err := os.CreateTemp(filepath.Dir(path), "."+filepath.Base(path)+".tmp*")
	if err != nil {
		return err
	}
	err = write(tmp)
	if err == nil {
		// CreateTemp makes the file private; outputs get the usual mode.
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
		return fmt.Errorf("%s: %w", path, err)
	}
	return nil
}
