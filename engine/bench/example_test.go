package bench_test

import (
	"context"
	"fmt"
	"os"
	"path/filepath"

	"github.com/valueexploration/valueexp/engine"
	"github.com/valueexploration/valueexp/engine/bench"
	"github.com/valueexploration/valueexp/weights/synth"
)

// Time prompt processing and generation on a small random model.
func ExampleRunner() {
	dir, _ := os.MkdirTemp("", "bench")
	defer os.RemoveAll(dir)
	shape, _ := synth.LookupShape("tiny")
	shape, _ = shape.WithArch("llama")
	path := filepath.Join(dir, "tiny.gguf")
	if _, err := synth.WriteFile(path, synth.Options{Shape: shape, Mix: synth.MixF16, Seed: 1}); err != nil {
		fmt.Println(err)
		return
	}
	m, err := engine.Load(path, engine.Options{Threads: 1})
	if err != nil {
		fmt.Println(err)
		return
	}
	defer m.Close()
	r := bench.NewRunner(m, 3)
	for _, t := range []bench.Test{{Kind: bench.Prompt, N: 64}, {Kind: bench.Generation, N: 16}} {
		res, err := r.Run(context.Background(), t)
		if err != nil {
			fmt.Println(err)
			return
		}
		mean, sd := bench.MeanStd(res.TokensPerSecond())
		fmt.Println(t.Name(), len(res.Times), "repetitions,", mean > 0 && sd >= 0)
	}
	// Output:
	// pp64 3 repetitions, true
	// tg16 3 repetitions, true
}
