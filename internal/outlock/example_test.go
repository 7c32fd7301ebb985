package outlock_test

import (
	"errors"
	"fmt"
	"os"
	"path/filepath"

	"github.com/valueexploration/valueexp/internal/outlock"
)

func Example() {
	dir, _ := os.MkdirTemp("", "outlock")
	defer os.RemoveAll(dir)
	out := filepath.Join(dir, "counts.safetensors")

	lock, _, err := outlock.Acquire(out)
	if err != nil {
		fmt.Println(err)
		return
	}
	// A second run on the same output is refused while the first holds it.
	_, _, err = outlock.Acquire(out)
	fmt.Println(errors.Is(err, outlock.ErrLocked))
	lock.Release()
	// Output: true
}
