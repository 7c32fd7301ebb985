package main

import (
	"fmt"

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
