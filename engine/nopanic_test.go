package engine_test

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/valueexploration/valueexp/engine"
	"github.com/valueexploration/valueexp/hooks"
	"github.com/valueexploration/valueexp/tokenizer"
	"github.com/valueexploration/valueexp/weights"
	"github.com/valueexploration/valueexp/weights/synth"
)

// writeTiny writes synth's 4-layer "tiny" llama (hidden 128, FFN 384, 4
// heads of 32, 2 KV heads) into t.TempDir.
func writeTiny(t *testing.T) string {
	t.Helper()
	shape, err := synth.LookupShape("tiny")
	require.NoError(t, err)
	shape, err = shape.WithArch("llama")
	require.NoError(t, err)
	path := filepath.Join(t.TempDir(), "tiny.gguf")
	_, err = synth.WriteFile(path, synth.Options{Shape: shape, Mix: synth.MixQ8_0, Seed: 1})
	require.NoError(t, err)
	return path
}

// apiCase is one call of the public API with input a user could get wrong.
// want is a fragment of the error that names the problem; "" means the call
// must succeed.
type apiCase struct {
	name string
	call func() error
	want string
}

// runCases runs each case in a subtest, turning a panic into a failure.
func runCases(t *testing.T, cases []apiCase) {
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			var err error
			require.NotPanics(t, func() { err = c.call() })
			if c.want == "" {
				assert.NoError(t, err)
				return
			}
			require.Error(t, err)
			assert.Contains(t, err.Error(), c.want)
		})
	}
}

// TestPublicAPINoPanic walks the public API of engine, hooks, tokenizer and
// the weights entry points with out-of-range and malformed input (token
// ids, layers, neuron indices, hook names, empty prompts and slices, token
// budgets, nil arguments, wrong widths), and checks that each call returns
// an error naming the problem instead of panicking.
func TestPublicAPINoPanic(t *testing.T) {
	path := writeTiny(t)
	m, err := engine.Load(path, engine.Options{Threads: 2})
	require.NoError(t, err)
	defer m.Close()
	c := m.Config
	require.Equal(t, []int{4, 128, 384, 4, 2, 32}, []int{c.Layers, c.HiddenSize, c.FFNSize, c.Heads, c.KVHeads, c.HeadDim})
	tok, err := tokenizer.Load(path)
	require.NoError(t, err)
	other, err := engine.Load(path, engine.Options{Threads: 1})
	require.NoError(t, err)
	defer other.Close()

	ctx := context.Background()
	good := []int32{1, 1143, 1159}
	gen := func(p []engine.Prompt, o engine.GenerateOptions) func() error {
		return func() error {
			_, err := m.Generate(ctx, p, o)
			return err
		}
	}
	genHooks := func(h *hooks.Hooks) func() error {
		return gen([]engine.Prompt{{Tokens: good}}, engine.GenerateOptions{MaxTokens: 2, Hooks: h})
	}
	fwd := func(in []engine.Input, o engine.RunOptions) func() error {
		return func() error {
			_, err := m.Forward(ctx, in, o)
			return err
		}
	}
	// hooksWith registers hook at pattern on a registry for the model; the
	// registration error is returned by the generation it sets up.
	hooksWith := func(pattern string, hook any) func() error {
		return func() error {
			h := hooks.New(c.Layers)
			var err error
			switch x := hook.(type) {
			case hooks.Editor:
				err = h.Edit(pattern, x)
			case hooks.Observer:
				err = h.Observe(pattern, x)
			}
			if err != nil {
				return err
			}
			return genHooks(h)()
		}
	}
	mustEdit := func(idx map[int][]int32) *hooks.NeuronEdit {
		e, err := hooks.NewNeuronEdit(hooks.OpZero, 0, idx, hooks.When{})
		require.NoError(t, err)
		return e
	}
	mustVec := func(vecs map[int][]float32) *hooks.AddVector {
		a, err := hooks.NewAddVector(vecs, 1, false, hooks.When{})
		require.NoError(t, err)
		return a
	}
	mustCount := func(layers, dim int) *hooks.ActProb {
		a, err := hooks.NewActProb(hooks.SiteMLPAct, layers, dim, 1)
		require.NoError(t, err)
		return a
	}
	notModel := filepath.Join(t.TempDir(), "notes.txt")
	require.NoError(t, os.WriteFile(notModel, []byte("not a model\n"), 0o644))
	emptyDir := t.TempDir()

	runCases(t, []apiCase{
		// engine: loading
		{"Load/missing", func() error {
			_, err := engine.Load(filepath.Join(emptyDir, "nope.gguf"), engine.Options{})
			return err
		}, "nope.gguf"},
		{"Load/empty path", func() error { _, err := engine.Load("", engine.Options{}); return err }, "no model path given; a model path must be"},
		{"Load/text file", func() error { _, err := engine.Load(notModel, engine.Options{}); return err }, "notes.txt"},
		{"Load/empty folder", func() error { _, err := engine.Load(emptyDir, engine.Options{}); return err }, "holds neither config.json nor a .gguf file; a model path must be"},
		{"New/nil", func() error { _, err := engine.New(nil, engine.Options{}); return err }, "nil"},
		{"New/no tensors", func() error { _, err := engine.New(&weights.Model{Path: "x"}, engine.Options{}); return err }, "token_embd.weight"},

		// engine: Generate options and prompts
		{"Generate/MaxTokens 0", gen([]engine.Prompt{{Tokens: good}}, engine.GenerateOptions{}), "MaxTokens"},
		{"Generate/MaxTokens -3", gen([]engine.Prompt{{Tokens: good}}, engine.GenerateOptions{MaxTokens: -3}), "MaxTokens"},
		{"Generate/no prompts", gen(nil, engine.GenerateOptions{MaxTokens: 2}), ""},
		{"Generate/empty prompt", gen([]engine.Prompt{{Tokens: good}, {}}, engine.GenerateOptions{MaxTokens: 2}), "prompt 1 is empty"},
		{"Generate/negative token", gen([]engine.Prompt{{Tokens: []int32{1, -7}}}, engine.GenerateOptions{MaxTokens: 2}), "id -7 outside the vocabulary"},
		{"Generate/huge token", gen([]engine.Prompt{{Tokens: []int32{1 << 30}}}, engine.GenerateOptions{MaxTokens: 2}), "outside the vocabulary"},
		{"Generate/prompt fills context", gen([]engine.Prompt{{Tokens: good}}, engine.GenerateOptions{MaxTokens: 2, MaxContext: 3}), "context length of 3"},
		{"Generate/negative temperature", gen([]engine.Prompt{{Tokens: good}}, engine.GenerateOptions{MaxTokens: 2, Sampling: engine.Sampling{Temperature: -1}}), "temperature"},
		{"Generate/top-p 2", gen([]engine.Prompt{{Tokens: good}}, engine.GenerateOptions{MaxTokens: 2, Sampling: engine.Sampling{TopP: 2}}), "top-p"},
		{"Generate/negative top-k", gen([]engine.Prompt{{Tokens: good}}, engine.GenerateOptions{MaxTokens: 2, Sampling: engine.Sampling{TopK: -1}}), "top-k"},
		{"Generate/stop strings without decoder", gen([]engine.Prompt{{Tokens: good}}, engine.GenerateOptions{MaxTokens: 2, StopStrings: []string{"x"}}), "Decoder"},
		{"Generate/empty stop string", gen([]engine.Prompt{{Tokens: good}}, engine.GenerateOptions{MaxTokens: 2, StopStrings: []string{""}, Decoder: tok}), ""},
		{"Generate/OnToken error", gen([]engine.Prompt{{Tokens: good}}, engine.GenerateOptions{MaxTokens: 2,
			OnToken: func(int, int32) error { return errors.New("reader went away") }}), "reader went away"},

		// engine: hooks that do not fit the model, seen at registration or
		// before the first forward pass
		{"Generate/hooks for 7 layers", genHooks(hooks.New(7)), "built for 7 layers, the model has 4"},
		{"Generate/neuron beyond FFN", hooksWith("blocks.2.mlp.hook_act", mustEdit(map[int][]int32{2: {17, 2048}})),
			"index 2048 is beyond the 384 columns of mlp.hook_act"},
		{"Generate/neuron beyond hidden", hooksWith("blocks.*.hook_resid_post", mustEdit(map[int][]int32{1: {200}})),
			"index 200 is beyond the 128 columns of hook_resid_post"},
		{"Generate/neuron beyond vocab", hooksWith("hook_logits", mustEdit(map[int][]int32{-1: {5000}})),
			"index 5000 is beyond the 2130 columns of hook_logits"},
		{"Edit/layer beyond model, star", hooksWith("blocks.*.mlp.hook_act", mustEdit(map[int][]int32{4: {17}})),
			"indices for layer 4, but the model has 4 layers"},
		{"Edit/one layer beyond model", hooksWith("blocks.*.mlp.hook_act", mustEdit(map[int][]int32{1: {3}, 9: {17}})),
			"indices for layer 9"},
		{"Edit/layer 4 by name", hooksWith("blocks.4.mlp.hook_act", mustEdit(map[int][]int32{4: {17}})),
			"layer 4 out of range for a model with 4 layers"},
		{"Generate/add vector too short", hooksWith("blocks.1.hook_resid_post", mustVec(map[int][]float32{1: {1, 2, 3, 4, 5}})),
			"vector has 5 entries, hook_resid_post has 128 columns"},
		{"Generate/add vector beyond model", hooksWith("blocks.*.hook_resid_post", mustVec(map[int][]float32{0: make([]float32, 128), 6: {1}})),
			"vector for layer 6"},
		{"Generate/counter of wrong width", hooksWith("blocks.*.mlp.hook_act", mustCount(c.Layers, c.FFNSize+1)),
			"385 neurons per layer, mlp.hook_act has 384 columns"},
		{"Generate/counter of more layers", hooksWith("blocks.*.mlp.hook_act", mustCount(c.Layers+2, c.FFNSize)),
			"6 layers, the model 4"},
		{"Generate/dropped registration error", func() error {
			h := hooks.New(c.Layers)
			_ = h.Edit("blocks.4.mlp.hook_act", mustEdit(map[int][]int32{4: {17}})) // error dropped, as in the old README
			return genHooks(h)()
		}, "a registration failed, so these hooks are incomplete: hooks: pattern \"blocks.4.mlp.hook_act\": layer 4 out of range for a model with 4 layers"},
		{"Generate/moments of wrong width", hooksWith("blocks.*.mlp.hook_post", func() hooks.Observer {
			mo, err := hooks.NewMoments(hooks.SiteMLPPost, c.Layers, c.HiddenSize, 1)
			require.NoError(t, err)
			return mo
		}()), "moments at blocks.0.mlp.hook_post has 128 neurons per layer, mlp.hook_post has 384 columns"},
		{"Generate/topk of more layers", hooksWith("blocks.*.hook_resid_post", func() hooks.Observer {
			tk, err := hooks.NewTopK(hooks.SiteResidPost, 9, c.HiddenSize, 2)
			require.NoError(t, err)
			return tk
		}()), "topk has 9 layers, the model 4"},
		{"Generate/editor that panics", hooksWith("blocks.1.mlp.hook_act", hooks.EditorFunc(func(p hooks.Point, t hooks.Tensor, r *hooks.Rows) {
			t.Data[len(t.Data)+1] = 0
		})), "hook at blocks.1.mlp.hook_act failed: runtime error: index out of range"},
		{"Generate/observer that panics", hooksWith("hook_logits", hooks.ObserverFunc(func(hooks.Point, hooks.Tensor, *hooks.Rows) {
			panic("observer gave up")
		})), "hook at hook_logits failed: observer gave up"},

		// engine: Forward and sequences
		{"Forward/no inputs", fwd(nil, engine.RunOptions{}), ""},
		{"Forward/no tokens", fwd([]engine.Input{{Seq: m.NewSequence()}}, engine.RunOptions{}), ""},
		{"Forward/nil sequence", fwd([]engine.Input{{Tokens: good}}, engine.RunOptions{}), "input 0 has no sequence"},
		{"Forward/zero Sequence", fwd([]engine.Input{{Seq: &engine.Sequence{}, Tokens: good}}, engine.RunOptions{}), "not made by this model"},
		{"Forward/other model's sequence", fwd([]engine.Input{{Seq: other.NewSequence(), Tokens: good}}, engine.RunOptions{}), "not made by this model"},
		{"Forward/same sequence twice", func() error {
			s := m.NewSequence()
			return fwd([]engine.Input{{Seq: s, Tokens: good}, {Seq: s, Tokens: good}}, engine.RunOptions{})()
		}, "only once"},
		{"Forward/StopAfter layer 9", fwd([]engine.Input{{Seq: m.NewSequence(), Tokens: good}},
			engine.RunOptions{StopAfter: &hooks.Point{Layer: 9, Site: hooks.SiteMLPAct}}), "layer outside [0, 4)"},
		{"Forward/StopAfter bad site", fwd([]engine.Input{{Seq: m.NewSequence(), Tokens: good}},
			engine.RunOptions{StopAfter: &hooks.Point{Layer: 1, Site: hooks.Site(200)}}), "StopAfter"},
		{"Forward/continue stopped sequence", func() error {
			s := m.NewSequence()
			stop := hooks.Point{Layer: 0, Site: hooks.SiteResidMid}
			if err := fwd([]engine.Input{{Seq: s, Tokens: good}}, engine.RunOptions{StopAfter: &stop})(); err != nil {
				return err
			}
			return fwd([]engine.Input{{Seq: s, Tokens: good}}, engine.RunOptions{})()
		}, "stopped early"},
		{"Forward/canceled", func() error {
			cctx, cancel := context.WithCancel(ctx)
			cancel()
			_, err := m.Forward(cctx, []engine.Input{{Seq: m.NewSequence(), Tokens: good}}, engine.RunOptions{})
			return err
		}, "canceled"},
		{"Forward/closed model", func() error {
			closed, err := engine.Load(path, engine.Options{Threads: 2})
			require.NoError(t, err)
			s := closed.NewSequence()
			require.NoError(t, closed.Close())
			require.NoError(t, closed.Close(), "closing twice")
			_, err = closed.Forward(ctx, []engine.Input{{Seq: s, Tokens: good}}, engine.RunOptions{})
			return err
		}, "model is closed"},
		{"Generate/closed model", func() error {
			closed, err := engine.Load(path, engine.Options{})
			require.NoError(t, err)
			require.NoError(t, closed.Close())
			_, err = closed.Generate(ctx, []engine.Prompt{{Tokens: good}}, engine.GenerateOptions{MaxTokens: 1})
			return err
		}, "model is closed"},
		{"Sequence/Truncate and Clone", func() error {
			s := &engine.Sequence{}
			s.Truncate(-3)
			s.Clone().Reset()
			m.NewSequence().Clone().Truncate(1 << 30)
			return nil
		}, ""},
		{"Sampler/empty logits", func() error {
			for _, s := range []engine.Sampling{{}, {Temperature: 1, TopK: 5, TopP: 0.5, RepetitionPenalty: 1.2}} {
				if id := engine.NewSampler(s).Sample(nil, []int32{-1, 1 << 30}); id != -1 {
					return fmt.Errorf("sampled %d from no logits", id)
				}
			}
			return nil
		}, ""},
		{"Sampler/history outside logits", func() error {
			engine.NewSampler(engine.Sampling{RepetitionPenalty: 2}).Sample([]float32{1, 2}, []int32{-5, 7, 1 << 30})
			return nil
		}, ""},
		{"CutAtStop/empty", func() error { engine.CutAtStop("", []string{"", "x"}); return nil }, ""},

		// hooks: names and patterns
		{"Edit/nil editor", func() error { return hooks.New(4).Edit("blocks.0.mlp.hook_act", nil) }, "nil editor"},
		{"Observe/nil observer", func() error { return hooks.New(4).Observe("blocks.0.mlp.hook_act", nil) }, "nil observer"},
		{"Edit/nil Hooks", func() error { var h *hooks.Hooks; return h.Edit("hook_embed", mustEdit(map[int][]int32{-1: {1}})) }, "nil *Hooks"},
		{"Edit/unknown site", func() error { return hooks.New(4).Edit("blocks.2.mlp.hook_nope", mustEdit(map[int][]int32{2: {1}})) }, `unknown block site "mlp.hook_nope"`},
		{"Edit/empty name", func() error { return hooks.New(4).Edit("", mustEdit(map[int][]int32{2: {1}})) }, "unknown hook point"},
		{"Edit/negative layer", func() error { return hooks.New(4).Edit("blocks.-1.mlp.hook_act", mustEdit(map[int][]int32{2: {1}})) }, "not a non-negative decimal"},
		{"Edit/huge layer", func() error {
			return hooks.New(4).Edit("blocks.99999999999999999999.mlp.hook_act", mustEdit(map[int][]int32{2: {1}}))
		}, "out of range"},
		{"Edit/huge range", func() error {
			return hooks.New(4).Edit("blocks.{0..2147483647}.mlp.hook_act", mustEdit(map[int][]int32{2: {1}}))
		}, "out of range for a model with 4 layers"},
		{"Edit/reversed range", func() error {
			return hooks.New(4).Edit("blocks.{3..1}.mlp.hook_act", mustEdit(map[int][]int32{2: {1}}))
		}, "reversed"},
		{"Edit/unbalanced brace", func() error { return hooks.New(4).Edit("blocks.{1.mlp.hook_act", mustEdit(map[int][]int32{2: {1}})) }, "hooks"},
		{"Edit/model-level site in a block", func() error { return hooks.New(4).Edit("blocks.1.hook_logits", mustEdit(map[int][]int32{1: {1}})) }, "unknown block site"},
		{"New/negative layers", func() error { return hooks.New(-3).Edit("blocks.*.mlp.hook_act", mustEdit(map[int][]int32{0: {1}})) }, "matches no layer"},
		{"Match/negative layer count", func() error { _, err := hooks.Match("blocks.*.hook_resid_pre", -1); return err }, "negative layer count"},
		{"ParsePoint/garbage", func() error { _, err := hooks.ParsePoint("blocks..x"); return err }, "blocks..x"},
		{"ParseSite/garbage", func() error { _, err := hooks.ParseSite("hook_nope"); return err }, "hook_nope"},
		{"Dispatch/point outside the model", func() error {
			h := hooks.New(4)
			h.Dispatch(hooks.Point{Layer: 99, Site: hooks.Site(250)}, hooks.Tensor{}, nil)
			var nilH *hooks.Hooks
			nilH.Dispatch(hooks.Point{Layer: -5}, hooks.Tensor{}, nil)
			_ = hooks.Point{Layer: 3, Site: hooks.Site(99)}.String()
			return nil
		}, ""},

		// hooks: editors and statistics
		{"NewNeuronEdit/unknown op", func() error { _, err := hooks.NewNeuronEdit(9, 0, nil, hooks.When{}); return err }, "unknown op"},
		{"NewNeuronEdit/layer -2", func() error {
			_, err := hooks.NewNeuronEdit(hooks.OpZero, 0, map[int][]int32{-2: {1}}, hooks.When{})
			return err
		}, "layer -2"},
		{"NewNeuronEdit/huge layer", func() error {
			_, err := hooks.NewNeuronEdit(hooks.OpZero, 0, map[int][]int32{1 << 40: {1}}, hooks.When{})
			return err
		}, "layer 1099511627776"},
		{"NewNeuronEdit/negative index", func() error {
			_, err := hooks.NewNeuronEdit(hooks.OpZero, 0, map[int][]int32{0: {3, -1}}, hooks.When{})
			return err
		}, "negative index -1"},
		{"NewNeuronEdit/no layers", func() error { return hooks.New(4).Edit("blocks.*.mlp.hook_act", mustEdit(nil)) }, "applies to none"},
		{"NewAddVector/empty vector", func() error {
			_, err := hooks.NewAddVector(map[int][]float32{0: {}}, 1, false, hooks.When{})
			return err
		}, "empty vector"},
		{"NewAddVector/huge layer", func() error {
			_, err := hooks.NewAddVector(map[int][]float32{1 << 40: {1}}, 1, false, hooks.When{})
			return err
		}, "layer 1099511627776"},
		{"NewActProb/model-level site", func() error { _, err := hooks.NewActProb(hooks.SiteLogits, 4, 4, 1); return err }, "not a block site"},
		{"NewActProb/bad site", func() error { _, err := hooks.NewActProb(hooks.Site(200), 4, 4, 1); return err }, "not a block site"},
		{"NewActProb/zero dims", func() error { _, err := hooks.NewActProb(hooks.SiteMLPAct, 0, -1, 1); return err }, "must be positive"},
		{"NewActProb/too large", func() error { _, err := hooks.NewActProb(hooks.SiteMLPAct, 1<<20, 1<<20, 1<<20); return err }, "too large"},
		{"NewMoments/zero tags", func() error { _, err := hooks.NewMoments(hooks.SiteMLPAct, 4, 4, 0); return err }, "must be positive"},
		{"NewTopK/zero k", func() error { _, err := hooks.NewTopK(hooks.SiteMLPAct, 4, 4, 0); return err }, "must be positive"},
		{"ActProb.Merge/nil", func() error { return mustCount(4, 4).Merge(nil) }, "nil"},
		{"ActProb.Merge/other shape", func() error { return mustCount(4, 4).Merge(mustCount(4, 5)) }, "shape mismatch"},
		{"Moments.Merge/nil", func() error {
			mo, err := hooks.NewMoments(hooks.SiteMLPAct, 1, 1, 1)
			require.NoError(t, err)
			return mo.Merge(nil)
		}, "nil"},
		{"TopK.Merge/nil", func() error {
			tk, err := hooks.NewTopK(hooks.SiteMLPAct, 1, 1, 1)
			require.NoError(t, err)
			return tk.Merge(nil)
		}, "nil"},
		{"ParseActProb/empty", func() error { _, err := hooks.ParseActProb(nil); return err }, "actprob"},
		{"LoadActProb/missing", func() error { _, err := hooks.LoadActProb(filepath.Join(emptyDir, "c.safetensors")); return err }, "c.safetensors"},
		{"ReadNeuronSets/empty object", func() error { _, err := hooks.ReadNeuronSets(strings.NewReader("{}")); return err }, "format"},
		{"ReadNeuronSets/empty input", func() error { _, err := hooks.ReadNeuronSets(strings.NewReader("")); return err }, "neuron sets"},
		{"LoadNeuronSets/missing", func() error { _, err := hooks.LoadNeuronSets(filepath.Join(emptyDir, "s.json")); return err }, "s.json"},
		{"NeuronSetFile.Validate/zero shape", func() error {
			return (&hooks.NeuronSetFile{Format: hooks.NeuronSetsFormat, Version: 1}).Validate(hooks.ModelShape{})
		}, "positive"},
		{"NeuronSetFile.Validate/index beyond width", func() error {
			f := &hooks.NeuronSetFile{Format: hooks.NeuronSetsFormat, Version: 1, NeuronSets: []hooks.NeuronSet{
				{Name: "x", Site: "mlp.hook_act", Layers: []hooks.LayerIndices{{Layer: 2, Indices: []int32{2048}}}}}}
			return f.Validate(m.Shape())
		}, "index 2048 out of range [0, 384)"},
		{"ZeroSets/nil file", func() error { return hooks.ZeroSets(hooks.New(4), nil, nil, hooks.When{}) }, "nil file"},
		{"ZeroSets/nil hooks", func() error {
			f := &hooks.NeuronSetFile{Format: hooks.NeuronSetsFormat, Version: 1, NeuronSets: []hooks.NeuronSet{
				{Name: "x", Site: "mlp.hook_act", Layers: []hooks.LayerIndices{{Layer: 2, Indices: []int32{1}}}}}}
			return hooks.ZeroSets(nil, f, nil, hooks.When{})
		}, "nil *Hooks"},
		{"ZeroSets/unknown name", func() error {
			f := &hooks.NeuronSetFile{Format: hooks.NeuronSetsFormat, Version: 1}
			return hooks.ZeroSets(hooks.New(4), f, []string{"诚信"}, hooks.When{})
		}, "诚信"},
		{"ZeroSets/index beyond width", func() error {
			f := &hooks.NeuronSetFile{Format: hooks.NeuronSetsFormat, Version: 1, NeuronSets: []hooks.NeuronSet{
				{Name: "x", Site: "mlp.hook_act", Layers: []hooks.LayerIndices{{Layer: 2, Indices: []int32{2048}}}}}}
			h := hooks.New(c.Layers)
			if err := hooks.ZeroSets(h, f, nil, hooks.When{}); err != nil {
				return err
			}
			return genHooks(h)()
		}, "index 2048 is beyond the 384 columns"},

		// tokenizer
		{"tokenizer.Load/missing", func() error { _, err := tokenizer.Load(filepath.Join(emptyDir, "t.json")); return err }, "t.json"},
		{"tokenizer.Load/empty path", func() error { _, err := tokenizer.Load(""); return err }, "tokenizer"},
		{"tokenizer.Load/folder without tokenizer.json", func() error { _, err := tokenizer.Load(emptyDir); return err }, "tokenizer.json"},
		{"tokenizer.Load/text file", func() error { _, err := tokenizer.Load(notModel); return err }, "notes.txt"},
		{"tokenizer.ParseHF/empty", func() error { _, err := tokenizer.ParseHF(nil, nil); return err }, "tokenizer"},
		{"tokenizer.ParseHF/no model", func() error { _, err := tokenizer.ParseHF([]byte("{}"), nil); return err }, "tokenizer"},
		{"tokenizer.FromGGUF/nil", func() error { _, err := tokenizer.FromGGUF(nil); return err }, "nil"},
		{"Tokenizer/ids outside the vocabulary", func() error {
			bad := []int32{-1, -1 << 31, 1 << 30, int32(tok.VocabSize())}
			if s := tok.Decode(bad); s != "" {
				return fmt.Errorf("Decode(%v) = %q", bad, s)
			}
			d := tok.NewStreamDecoder()
			for _, id := range bad {
				d.Next(id)
				_ = tok.TokenString(id)
				_ = tok.IsControl(id)
				_ = tok.IsEOS(id)
			}
			d.Flush()
			return nil
		}, ""},
		{"Tokenizer/odd text", func() error {
			for _, s := range []string{"", "\xff\xfe\x00", strings.Repeat("诚", 3000), "<s></s><unk>"} {
				ids := tok.Encode(s, tokenizer.EncodeOptions{AddSpecial: true, ParseSpecial: true})
				_ = tok.Decode(ids)
			}
			return nil
		}, ""},
		{"RenderTemplate/no template", func() error {
			// Synthetic models carry a chat template; an empty one is refused.
			_, err := tokenizer.RenderTemplate("", []tokenizer.Message{{Role: "user", Content: "hi"}}, tokenizer.ChatOptions{}, "", "")
			return err
		}, "template"},
		{"RenderTemplate/unknown template", func() error {
			_, err := tokenizer.RenderTemplate("{{ nothing we know }}", nil, tokenizer.ChatOptions{}, "", "")
			return err
		}, "template"},

		// weights entry points
		{"weights.Open/missing", func() error { _, err := weights.Open(filepath.Join(emptyDir, "m.gguf")); return err }, "m.gguf"},
		{"weights.Open/text file", func() error { _, err := weights.Open(notModel); return err }, "notes.txt"},
		{"weights.OpenGGUF/text file", func() error { _, err := weights.OpenGGUF(notModel); return err }, "notes.txt"},
		{"weights.ParseGGUF/empty", func() error { _, err := weights.ParseGGUF(nil, "empty"); return err }, "empty"},
		{"weights.ParseHFConfig/empty", func() error { _, err := weights.ParseHFConfig(nil, "config.json"); return err }, "config.json"},
		{"weights.ParseDType/unknown", func() error { _, err := weights.ParseDType("Q9_9"); return err }, "Q9_9"},
		{"Model.Tensor/unknown", func() error { _, err := m.Weights.Tensor("blk.99.ffn_up.weight"); return err }, "blk.99.ffn_up.weight"},
		{"Tensor.DequantizeRow/bad row", func() error {
			tt, err := m.Weights.Tensor("token_embd.weight")
			require.NoError(t, err)
			return tt.DequantizeRow(make([]float32, 128), -1)
		}, "row -1 out of range"},
		{"Tensor.DequantizeRow/short destination", func() error {
			tt, err := m.Weights.Tensor("token_embd.weight")
			require.NoError(t, err)
			return tt.DequantizeRow(make([]float32, 5), 0)
		}, "destination holds 5 values, a row has 128"},
		{"weights.Dequantize/short source", func() error { return weights.Dequantize(make([]float32, 32), []byte{1, 2}, weights.Q8_0) }, "Q8_0"},
		{"weights.Quantize/short destination", func() error { return weights.Quantize(make([]byte, 3), make([]float32, 32), weights.Q8_0) }, "Q8_0"},
		{"weights.Quantize/partial block", func() error { return weights.Quantize(make([]byte, 64), make([]float32, 31), weights.Q8_0) }, "31"},
		{"weights.WriteGGUF/nil tensor", func() error { return weights.WriteGGUF(&bytes.Buffer{}, nil, []*weights.Tensor{nil}) }, "tensor"},
		{"synth.WriteFile/zero options", func() error {
			_, err := synth.WriteFile(filepath.Join(emptyDir, "z.gguf"), synth.Options{})
			return err
		}, "synth"},
		{"synth.WriteFile/vocabulary too small", func() error {
			s, err := synth.LookupShape("tiny")
			require.NoError(t, err)
			s, err = s.WithArch("qwen2")
			require.NoError(t, err)
			_, err = synth.WriteFile(filepath.Join(emptyDir, "v.gguf"), synth.Options{Shape: s, Mix: synth.MixF32, Vocab: 10})
			return err
		}, "vocabulary 10"},
	})

	// The model still works after all of the above, and a sequence that a
	// failing hook interrupted can be continued.
	s := m.NewSequence()
	h := hooks.New(c.Layers)
	require.NoError(t, h.Observe("blocks.3.hook_resid_post", hooks.ObserverFunc(func(hooks.Point, hooks.Tensor, *hooks.Rows) { panic("stop") })))
	_, err = m.Forward(ctx, []engine.Input{{Seq: s, Tokens: good}}, engine.RunOptions{Hooks: h})
	require.ErrorContains(t, err, "hook at blocks.3.hook_resid_post failed: stop")
	assert.Equal(t, 0, s.Len(), "a failed pass adds no tokens")
	_, err = m.Forward(ctx, []engine.Input{{Seq: s, Tokens: good}}, engine.RunOptions{})
	require.NoError(t, err)
	assert.Equal(t, len(good), s.Len())
}
