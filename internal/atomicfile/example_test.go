package atomicfile_test

import (
	"fmt"
	"os"
	"path/filepath"

	"github.com/valueexploration/valueexp/internal/atomicfile"
)

func ExampleWriteFile() {
	dir, err := os.MkdirTemp("", "atomicfile")
	if err != nil {
		fmt.Println(err)
		return
	}
	defer os.RemoveAll(dir)
	p := filepath.Join(dir, "results.json")
	if err := atomicfile.WriteFile(p, []byte(`{"done": 3}`), 0o644); err != nil {
		fmt.Println(err)
		return
	}
	b, _ := os.ReadFile(p)
	fmt.Println(string(b))
	// Output: {"done": 3}
}
