package synth_test

import (
	"context"
	"errors"
	"fmt"
	"os"
	"path/filepath"

	"github.com/valueexploration/valueexp/weights"
	"github.com/valueexploration/valueexp/weights/synth"
)

// Write a two-layer model in the shape of Qwen2.5-0.5B with Q4_K_M's type
// mix and read its configuration back. Its 896-wide rows are not a multiple
// of 256, so most matrices fall back from Q4_K to Q5_0 and Q6_K to Q8_0, as
// in llama-quantize; ffn_down rows (4864) take real Q4_K and, in the last
// layer, Q6_K.
func ExampleWriteFile() {
	dir, _ := os.MkdirTemp("", "synth")
	defer os.RemoveAll(dir)
	shape, err := synth.LookupShape("qwen2.5-0.5b")
	if err != nil {
		fmt.Println(err)
		return
	}
	path := filepath.Join(dir, "qwen.gguf")
	sum, err := synth.WriteFile(path, synth.Options{Shape: shape, Mix: synth.MixQ4_K, Layers: 2, Vocab: 4096, Seed: 1})
	if err != nil {
		fmt.Println(err)
		return
	}
	fmt.Println(sum.Plan.Name())
	fmt.Println(sum.Plan.TypeCounts())
	m, err := weights.Open(path)
	if err != nil {
		fmt.Println(err)
		return
	}
	defer m.Close()
	c := m.Config
	fmt.Println(c.Arch, c.HiddenSize, c.Layers, c.Heads, c.KVHeads, c.FFNSize, c.VocabSize, c.TiedEmbeddings, c.AttnBias)
	// Output:
	// valueexp synth qwen2.5-0.5b-2L-V4096 q4_k (random weights)
	// map[F32:11 Q5_0:11 Q8_0:2 Q4_K:1 Q6_K:1]
	// qwen2 896 2 14 2 4864 4096 true true
}

// A cancelled write (the CLI cancels on SIGINT or SIGTERM) returns the
// cancellation and leaves no file, not even the temporary one.
func ExampleWriteFileContext() {
	dir, _ := os.MkdirTemp("", "synth")
	defer os.RemoveAll(dir)
	shape, _ := synth.LookupShape("tiny")
	shape, _ = shape.WithArch("llama")
	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	_, err := synth.WriteFileContext(ctx, filepath.Join(dir, "m.gguf"), synth.Options{Shape: shape, Mix: synth.MixF32})
	fmt.Println(errors.Is(err, context.Canceled))
	left, _ := os.ReadDir(dir)
	fmt.Println(len(left), "files")
	// Output:
	// true
	// 0 files
}
