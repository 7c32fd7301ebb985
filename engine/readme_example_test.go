package engine_test

import (
	"context"
	"fmt"
	"log"
	"os"
	"path/filepath"

	"github.com/valueexploration/valueexp/engine"
	"github.com/valueexploration/valueexp/hooks"
	"github.com/valueexploration/valueexp/tokenizer"
	"github.com/valueexploration/valueexp/weights/synth"
)

// From text to text with a hook: the program the README's "Using the engine
// from Go" section shows (TestReadmeGoBlock keeps the two identical). It
// writes a tiny random-weight model first, so it runs without downloads.
func Example_fromText() {
	// A tiny random-weight model, so that this runs anywhere. For a real
	// model, set path to a .gguf file or a Hugging Face folder instead.
	dir, err := os.MkdirTemp("", "valueexp-example")
	if err != nil {
		log.Fatal(err)
	}
	defer os.RemoveAll(dir)
	path := filepath.Join(dir, "tiny.gguf")
	shape, err := synth.LookupShape("tiny")
	if err != nil {
		log.Fatal(err)
	}
	if shape, err = shape.WithArch("llama"); err != nil {
		log.Fatal(err)
	}
	if _, err := synth.WriteFile(path, synth.Options{Shape: shape, Mix: synth.MixQ8_0, Seed: 1}); err != nil {
		log.Fatal(err)
	}

	m, err := engine.Load(path, engine.Options{})
	if err != nil {
		log.Fatal(err)
	}
	defer m.Close()
	tok, err := tokenizer.Load(path) // the same file, or the model's folder
	if err != nil {
		log.Fatal(err)
	}
	ids := tok.Encode("Once upon a time", tokenizer.EncodeOptions{AddSpecial: true})

	// Zero two neurons of layer 2 at every position, and count how often
	// each neuron of every layer fires (is > 0) after the edit.
	h := hooks.New(m.Config.Layers)
	edit, err := hooks.NewNeuronEdit(hooks.OpZero, 0, map[int][]int32{2: {17, 300}}, hooks.When{})
	if err != nil {
		log.Fatal(err)
	}
	if err := h.Edit("blocks.2.mlp.hook_act", edit); err != nil {
		log.Fatal(err)
	}
	counts, err := hooks.NewActProb(hooks.SiteMLPAct, m.Config.Layers, m.Config.FFNSize, 1)
	if err != nil {
		log.Fatal(err)
	}
	if err := h.Observe("blocks.*.mlp.hook_act", counts); err != nil {
		log.Fatal(err)
	}

	// Greedy decoding, with a repetition penalty so that the random model
	// does not repeat one word.
	opts := engine.GenerateOptions{MaxTokens: 8, Sampling: engine.Sampling{RepetitionPenalty: 1.5}, Hooks: h, Decoder: tok}
	out, err := m.Generate(context.Background(), []engine.Prompt{{Tokens: ids}}, opts)
	if err != nil {
		log.Fatal(err)
	}
	fmt.Println("prompt ids:", ids)
	fmt.Println("generated ids:", out[0].Tokens, out[0].Finish)
	fmt.Printf("text: %q\n", out[0].Text)
	fmt.Println("tokens seen by layer 2:", counts.Tokens[2])
	fmt.Printf("neuron 17 of layer 2 fired on %.0f%% of them (it is zeroed)\n", 100*counts.Prob(0, 2, 17))
	// Output:
	// prompt ids: [1 1143 1159 364 608]
	// generated ids: [2080 1373 1016 1481 1321 1600 829 1898] length
	// text: "文明 Call Cam Ro Govern impo state Patrio"
	// tokens seen by layer 2: 12
	// neuron 17 of layer 2 fired on 0% of them (it is zeroed)
}
