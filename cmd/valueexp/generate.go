package main

import (
	"context"
	"fmt"
	"strings"

	"github.com/valueexploration/valueexp/engine"
	"github.com/valueexploration/valueexp/hooks"
	"github.com/valueexploration/valueexp/tokenizer"
)

// stopList collects repeated --stop flags.
type stopList []string

func (s *stopList) String() string     { return strings.Join(*s, ",") }
func (s *stopList) Set(v string) error { *s = append(*s, v); return nil }

func runGenerate(e *env, args []string) error {
	fs := newFlags(e, "generate", "--model PATH --prompt TEXT [-n 64] [--temp 0] [--seed 1] [--chat] [--neurons FILE --deactivate NAMES [--compare]]")
	model := fs.String("model", "", "model `PATH`: a .gguf file, a .safetensors file or a Hugging Face folder")
	prompt := fs.String("prompt", "", "prompt `TEXT`")
	n := fs.Int("n", 64, "maximum number of tokens to generate")
	temp := fs.Float64("temp", 0, "sampling temperature (0: greedy)")
	topK := fs.Int("top-k", 0, "keep the K most likely tokens (0: all)")
	topP := fs.Float64("top-p", 0, "nucleus sampling threshold (0: off)")
	minP := fs.Float64("min-p", 0, "drop tokens below this fraction of the top probability")
	repeat := fs.Float64("repeat-penalty", 1, "repetition penalty (1: off)")
	seed := fs.Uint64("seed", 1, "sampling seed")
	chat := fs.Bool("chat", false, "wrap the prompt in the model's chat template as a user turn")
	system := fs.String("system", "", "system message for --chat")
	threads := fs.Int("threads", 0, "worker threads (0: all cores)")
	compare := fs.Bool("compare", false, "print the plain model's text and the intervened model's text side by side")
	var stops stopList
	fs.Var(&stops, "stop", "stop `STRING` (repeatable)")
	var iv interventions
	iv.register(fs)
	if err := parseFlags(fs, args, false); err != nil {
		return err
	}
	if *model == "" || *prompt == "" {
		return usageErr("--model and --prompt are required")
	}
	if *compare && !iv.any() {
		return usageErr("--compare needs --neurons with --deactivate or --scale")
	}
	m, tok, err := loadModelAndTokenizer(*model, *threads)
	if err != nil {
		return err
	}
	defer m.Close()
	text := *prompt
	if *chat {
		var msgs []tokenizer.Message
		if *system != "" {
			msgs = append(msgs, tokenizer.Message{Role: "system", Content: *system})
		}
		msgs = append(msgs, tokenizer.Message{Role: "user", Content: text})
		if text, err = tok.RenderChat(msgs, true); err != nil {
			return err
		}
	}
	// A rendered chat template carries its own special tokens; a raw prompt
	// gets the model's BOS rule.
	ids := tok.Encode(text, tokenizer.EncodeOptions{AddSpecial: !*chat, ParseSpecial: *chat})
	h, err := iv.hooks(m)
	if err != nil {
		return err
	}
	opt := engine.GenerateOptions{
		MaxTokens: *n,
		Sampling: engine.Sampling{Temperature: float32(*temp), TopK: *topK, TopP: float32(*topP),
			MinP: float32(*minP), RepetitionPenalty: float32(*repeat), Seed: *seed},
		StopTokens:  tok.EOS(),
		StopStrings: stops,
		Decoder:     tok,
	}
	if !*compare {
		opt.Hooks = h
		st := newStopStreamer(e.stdout, tok, stops)
		opt.OnToken = func(_ int, t int32) error { st.token(t); return nil }
		out, err := m.Generate(context.Background(), []engine.Prompt{{Tokens: ids, Tag: -1}}, opt)
		if err != nil {
			return err
		}
		st.finish(out[0].Text)
		fmt.Fprintln(e.stdout)
		fmt.Fprintf(e.stderr, "[%d prompt tokens, %d generated, finish: %s]\n", len(ids), len(out[0].Tokens), out[0].Finish)
		return nil
	}
	for _, run := range []struct {
		label string
		h     *hooks.Hooks
	}{{"plain model", nil}, {"with " + describeInterventions(&iv), h}} {
		opt.Hooks = run.h
		out, err := m.Generate(context.Background(), []engine.Prompt{{Tokens: ids, Tag: -1}}, opt)
		if err != nil {
			return err
		}
		fmt.Fprintf(e.stdout, "=== %s (%d tokens, finish: %s)\n%s\n\n", run.label, len(out[0].Tokens), out[0].Finish, out[0].Text)
	}
	return nil
}

func describeInterventions(iv *interventions) string {
	var parts []string
	if iv.deactivate != "" {
		parts = append(parts, "deactivated: "+iv.deactivate)
	}
	for _, s := range iv.scale {
		parts = append(parts, fmt.Sprintf("scaled: %s x%g", s.name, s.factor))
	}
	return strings.Join(parts, "; ")
}
