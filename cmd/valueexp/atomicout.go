package main

import (
	"fmt"
	"os"

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

// checkOutNotInput refuses an --out that names one of the command's input
// files (the model, a data file, a workbook): the output would replace it,
// and a model or the authors' workbook is not something a run should
// destroy on a slip of the keyboard. Inputs that do not exist yet, or are
// folders, are skipped.
func checkOutNotInput(out string, inputs ...string) error {
	ost, err := os.Stat(out)
	if err != nil {
		return nil // a new file cannot be an input
	}
	for _, in := range inputs {
		if in == "" || in == "-" {
			continue
		}
		ist, err := os.Stat(in)
		if err != nil || ist.IsDir() {
			continue
		}
		if os.SameFile(ost, ist) {
			return usageErr("--out %s is the input file %s; writing it would destroy that input", out, in)
		}
	}
	return nil
}
