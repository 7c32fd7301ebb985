package engine_test

import (
	"context"
	"errors"
	"fmt"
	"log"
	"os"
	"path/filepath"

	"github.com/valueexploration/valueexp/engine"
	"github.com/valueexploration/valueexp/hooks"
	"github.com/valueexploration/valueexp/weights/synth"
)

// tinyModel writes synth's 4-layer "tiny" llama shape (hidden 128, FFN 384)
// with Q8_0 matrices into a temporary folder and returns its path and a
// function that removes it. Any GGUF, .safetensors file or Hugging Face
// folder can take its place.
func tinyModel() (path string, cleanup func()) {
	dir, err := os.MkdirTemp("", "engine-example")
	if err != nil {
		log.Fatal(err)
	}
	shape, err := synth.LookupShape("tiny")
	if err != nil {
		log.Fatal(err)
	}
	if shape, err = shape.WithArch("llama"); err != nil {
		log.Fatal(err)
	}
	path = filepath.Join(dir, "tiny.gguf")
	if _, err := synth.WriteFile(path, synth.Options{Shape: shape, Mix: synth.MixQ8_0, Seed: 1}); err != nil {
		log.Fatal(err)
	}
	return path, func() { os.RemoveAll(dir) }
}

// Greedy generation from token ids.
func Example() {
	path, cleanup := tinyModel()
	defer cleanup()
	m, err := engine.Load(path, engine.Options{Threads: 2})
	if err != nil {
		log.Fatal(err)
	}
	defer m.Close()
	prompt := []int32{1, 1143, 1159, 364, 608} // BOS "Once upon a time" in synth's vocabulary
	out, err := m.Generate(context.Background(), []engine.Prompt{{Tokens: prompt}}, engine.GenerateOptions{MaxTokens: 8})
	if err != nil {
		log.Fatal(err)
	}
	fmt.Println(len(out[0].Tokens), out[0].Finish)
	fmt.Println(out[0].Tokens)
	// Output:
	// 8 length
	// [2080 1373 1373 1373 1373 1373 1373 1373]
}

// Switching neurons off: zero three FFN neurons of layer 2 at every position
// and compare the next-token logits with the plain model's.
func Example_deactivate() {
	path, cleanup := tinyModel()
	defer cleanup()
	m, err := engine.Load(path, engine.Options{})
	if err != nil {
		log.Fatal(err)
	}
	defer m.Close()
	edit, err := hooks.NewNeuronEdit(hooks.OpZero, 0, map[int][]int32{2: {5, 40, 99}}, hooks.When{})
	if err != nil {
		log.Fatal(err)
	}
	h := hooks.New(m.Config.Layers)
	if err := h.Edit("blocks.2.mlp.hook_act", edit); err != nil {
		log.Fatal(err)
	}
	prompt := []int32{1, 1143, 1159, 364, 608}
	run := func(h *hooks.Hooks) []float32 {
		out, err := m.Forward(context.Background(), []engine.Input{{Seq: m.NewSequence(), Tokens: prompt}}, engine.RunOptions{Hooks: h})
		if err != nil {
			log.Fatal(err)
		}
		return out[0]
	}
	plain, edited := run(nil), run(h)
	changed := 0
	for i := range plain {
		if plain[i] != edited[i] {
			changed++
		}
	}
	fmt.Println("vocabulary:", len(plain))
	fmt.Println("all logits changed:", changed == len(plain))
	// Output:
	// vocabulary: 2130
	// all logits changed: true
}

// Counting how often each FFN neuron fires, per tag, over a packed batch,
// skipping the LM head.
func Example_count() {
	path, cleanup := tinyModel()
	defer cleanup()
	m, err := engine.Load(path, engine.Options{})
	if err != nil {
		log.Fatal(err)
	}
	defer m.Close()
	c := m.Config
	counts, err := hooks.NewActProb(hooks.SiteMLPAct, c.Layers, c.FFNSize, 2)
	if err != nil {
		log.Fatal(err)
	}
	h := hooks.New(c.Layers)
	if err := h.Observe("blocks.*.mlp.hook_act", counts); err != nil {
		log.Fatal(err)
	}
	last := hooks.Point{Layer: c.Layers - 1, Site: hooks.SiteMLPAct}
	in := []engine.Input{
		{Seq: m.NewSequence(), Tokens: []int32{1, 1143, 1159, 364}, Tag: 0, Logits: engine.NoLogits},
		{Seq: m.NewSequence(), Tokens: []int32{1, 608, 400}, Tag: 1, Logits: engine.NoLogits},
	}
	if _, err := m.Forward(context.Background(), in, engine.RunOptions{Hooks: h, StopAfter: &last}); err != nil {
		log.Fatal(err)
	}
	fmt.Println("layers, neurons:", c.Layers, c.FFNSize)
	fmt.Println("tokens counted per layer, tag 0:", counts.Tokens[:c.Layers])
	fmt.Println("tokens counted per layer, tag 1:", counts.Tokens[c.Layers:])
	// Output:
	// layers, neurons: 4 384
	// tokens counted per layer, tag 0: [4 4 4 4]
	// tokens counted per layer, tag 1: [3 3 3 3]
}

// A model file with NaN or Inf weights: Forward says which tensor holds
// them instead of returning NaN logits.
func ExampleNonFiniteError() {
	m, err := engine.Load("model.gguf", engine.Options{})
	if err != nil {
		log.Fatal(err) // NaN in a norm or bias is found here
	}
	defer m.Close()
	_, err = m.Forward(context.Background(), []engine.Input{{Seq: m.NewSequence(), Tokens: []int32{1, 2, 3}}}, engine.RunOptions{})
	var nf *engine.NonFiniteError
	if errors.As(err, &nf) {
		for _, t := range nf.Tensors {
			fmt.Println(t.Tensor, t.NaN, t.Inf, t.FirstRow, t.FirstCol)
		}
	}
}

// A LongRoPE model (Phi-3.5, Phi-4-mini) rotates with its short factors up
// to its original context and refuses longer sequences; a context length
// above the original context selects the long factors, as llama.cpp's -c
// does. synth's phi3 toy has an original context of 512 positions.
func ExampleOptions_contextLength() {
	dir, err := os.MkdirTemp("", "engine-example")
	if err != nil {
		log.Fatal(err)
	}
	defer os.RemoveAll(dir)
	shape, err := synth.LookupShape("tiny")
	if err != nil {
		log.Fatal(err)
	}
	if shape, err = shape.WithArch("phi3"); err != nil {
		log.Fatal(err)
	}
	path := filepath.Join(dir, "phi3.gguf")
	if _, err := synth.WriteFile(path, synth.Options{Shape: shape, Mix: synth.MixQ8_0, Layers: 1, Seed: 1}); err != nil {
		log.Fatal(err)
	}
	long := make([]int32, 600)
	for i := range long {
		long[i] = int32(300 + i%500)
	}
	for _, ctx := range []int{0, 2048} {
		m, err := engine.Load(path, engine.Options{Threads: 2, ContextLength: ctx})
		if err != nil {
			log.Fatal(err)
		}
		_, err = m.Forward(context.Background(), []engine.Input{{Seq: m.NewSequence(), Tokens: long}}, engine.RunOptions{})
		fmt.Printf("context length %d: error: %v\n", ctx, err != nil)
		m.Close()
	}
	// Output:
	// context length 0: error: true
	// context length 2048: error: false
}
