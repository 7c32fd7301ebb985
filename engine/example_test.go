package engine_test

import (
	"context"
	"errors"
	"fmt"
	"log"

	"github.com/valueexploration/valueexp/engine"
	"github.com/valueexploration/valueexp/hooks"
)

// Greedy generation from token ids.
func Example() {
	path := "stories260K.gguf" // any GGUF, .safetensors file or Hugging Face folder
	m, err := engine.Load(path, engine.Options{Threads: 2})
	if err != nil {
		log.Fatal(err)
	}
	defer m.Close()
	prompt := []int32{1, 403, 407, 261, 378} // BOS "Once upon a time"
	out, err := m.Generate(context.Background(), []engine.Prompt{{Tokens: prompt}}, engine.GenerateOptions{MaxTokens: 8})
	if err != nil {
		log.Fatal(err)
	}
	fmt.Println(out[0].Tokens) // [432 383 286 261 376 298 315 421] for stories260K
}

// Switching neurons off: zero three FFN neurons of layer 2 at every position
// and compare the next-token logits with the plain model's.
func Example_deactivate() {
	path := "stories260K.gguf" // any GGUF, .safetensors file or Hugging Face folder
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
	prompt := []int32{1, 403, 407, 261, 378}
	run := func(h *hooks.Hooks) []float32 {
		out, err := m.Forward(context.Background(), []engine.Input{{Seq: m.NewSequence(), Tokens: prompt}}, engine.RunOptions{Hooks: h})
		if err != nil {
			log.Fatal(err)
		}
		return out[0]
	}
	plain, edited := run(nil), run(h)
	changed := false
	for i := range plain {
		changed = changed || plain[i] != edited[i]
	}
	fmt.Println("changed:", changed)
}

// Counting how often each FFN neuron fires, per tag, over a packed batch,
// skipping the LM head.
func Example_count() {
	path := "stories260K.gguf" // any GGUF, .safetensors file or Hugging Face folder
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
		{Seq: m.NewSequence(), Tokens: []int32{1, 403, 407, 261}, Tag: 0, Logits: engine.NoLogits},
		{Seq: m.NewSequence(), Tokens: []int32{1, 385, 328}, Tag: 1, Logits: engine.NoLogits},
	}
	if _, err := m.Forward(context.Background(), in, engine.RunOptions{Hooks: h, StopAfter: &last}); err != nil {
		log.Fatal(err)
	}
	fmt.Println("tokens counted per layer:", counts.Tokens[:c.Layers])
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
