package main

import (
	"context"
	"fmt"
	"math"
	"strings"
	"time"

	"github.com/valueexploration/valueexp/engine"
	"github.com/valueexploration/valueexp/hooks"
	"github.com/valueexploration/valueexp/tokenizer"
)

// stopList collects repeated --stop flags.
type stopList []string

func (s *stopList) String() string     { return strings.Join(*s, ",") }
func (s *stopList) Set(v string) error { *s = append(*s, v); return nil }

func runGenerate(e *env, args []string) error {
	fs := newFlags(e, "generate", "--model PATH --prompt TEXT [--max-tokens 64] [--temp T] [--top-k K] [--top-p P] [--min-p P] [--repeat-penalty R] [--seed 1] [--stop STRING] [--chat [--system TEXT]] [--threads N] [--no-mmap] [--neurons FILE (--deactivate NAMES | --scale NAME=FACTOR) [--compare]]")
	model := fs.String("model", "", "model `PATH`: a .gguf file, a .safetensors file or a Hugging Face folder")
	prompt := fs.String("prompt", "", "prompt `TEXT`")
	n := fs.Int("max-tokens", 64, "maximum number of tokens to generate")
	temp := fs.Float64("temp", 0, "sampling temperature `T` (0: greedy)")
	topK := fs.Int("top-k", 0, "keep the K most likely tokens (0: all)")
	topP := fs.Float64("top-p", 0, "nucleus sampling threshold `P` (0: off)")
	minP := fs.Float64("min-p", 0, "drop tokens below the fraction `P` of the top probability")
	repeat := fs.Float64("repeat-penalty", 1, "repetition penalty `R` (1: off)")
	seed := fs.Uint64("seed", 1, "sampling seed")
	chat := fs.Bool("chat", false, "wrap the prompt in the model's chat template as a user turn")
	system := fs.String("system", "", "system message `TEXT` for --chat")
	threads := fs.Int("threads", 0, "worker threads (0: all cores)")
	noMmap := fs.Bool("no-mmap", false, noMmapUsage)
	ctxLen := fs.Int("ctx", 0, "context length `N` the prompt and the generated tokens may reach, as llama.cpp's -c: above a LongRoPE model's original context (Phi-3.5, Phi-4-mini) it selects the long rope factors (0: the original context)")
	compare := fs.Bool("compare", false, "print the plain model's text and the intervened model's text side by side")
	var stops stopList
	fs.Var(&stops, "stop", "stop `STRING` (repeatable)")
	var iv interventions
	iv.register(fs)
	fs.alias("n", "max-tokens")
	fs.alias("t", "threads")
	if err := parseFlags(fs, args, false); err != nil {
		return err
	}
	if *model == "" || *prompt == "" {
		return usageErr("--model and --prompt are required")
	}
	if err := checkSamplingFlags(*n, *temp, *topK, *topP, *minP, *repeat); err != nil {
		return err
	}
	if *compare && !iv.any() {
		return usageErr("--compare needs --neurons with --deactivate or --scale")
	}
	if *ctxLen < 0 {
		return usageErr("--ctx %d: want a context length of 0 or more", *ctxLen)
	}
	m, tok, err := loadModelAndTokenizerOpts(*model, engine.Options{Threads: *threads, ContextLength: *ctxLen, InMemory: *noMmap})
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
		var timer genTimer
		opt.OnToken = timer.wrap(opt.OnToken)
		out, err := m.Generate(context.Background(), []engine.Prompt{{Tokens: ids, Tag: -1}}, opt)
		if err != nil {
			return err
		}
		st.finish(out[0].Text)
		fmt.Fprintln(e.stdout)
		fmt.Fprintf(e.stderr, "[%d prompt tokens, %d generated, finish: %s; %s]\n", len(ids), len(out[0].Tokens), out[0].Finish, timer.rates(len(ids)))
		return nil
	}
	for _, run := range []struct {
		label string
		h     *hooks.Hooks
	}{{"plain model", nil}, {"with " + describeInterventions(&iv), h}} {
		opt.Hooks = run.h
		var timer genTimer
		opt.OnToken = timer.wrap(nil)
		out, err := m.Generate(context.Background(), []engine.Prompt{{Tokens: ids, Tag: -1}}, opt)
		if err != nil {
			return err
		}
		fmt.Fprintf(e.stdout, "=== %s (%d tokens, finish: %s)\n%s\n\n", run.label, len(out[0].Tokens), out[0].Finish, out[0].Text)
		fmt.Fprintf(e.stderr, "[%s: %d prompt tokens, %d generated; %s]\n", run.label, len(ids), len(out[0].Tokens), timer.rates(len(ids)))
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

// checkSamplingFlags refuses values the engine would refuse, before the
// model is loaded, naming the flag rather than the engine's option field.
func checkSamplingFlags(maxTokens int, temp float64, topK int, topP, minP, repeat float64) error {
	switch {
	case maxTokens <= 0:
		return usageErr("--max-tokens (-n) must be positive, got %d", maxTokens)
	case temp < 0 || math.IsNaN(temp):
		return usageErr("--temp must be 0 (greedy) or positive, got %g", temp)
	case topK < 0:
		return usageErr("--top-k must not be negative, got %d", topK)
	case !(topP >= 0 && topP <= 1):
		return usageErr("--top-p must be in [0, 1], got %g", topP)
	case !(minP >= 0 && minP <= 1):
		return usageErr("--min-p must be in [0, 1], got %g", minP)
	case !(repeat >= 0):
		return usageErr("--repeat-penalty must not be negative, got %g", repeat)
	}
	return nil
}

// genTimer measures a single-prompt Generate from its OnToken calls: prompt
// processing from the start to the first sampled token (the prefill), and
// generation from the first to the last sampled token (one decode step each).
type genTimer struct {
	start, first, last time.Time
	n                  int
}

// wrap returns an OnToken that records the time and then calls next.
func (g *genTimer) wrap(next func(int, int32) error) func(int, int32) error {
	g.start = time.Now()
	return func(seq int, t int32) error {
		now := time.Now()
		if g.n == 0 {
			g.first = now
		}
		g.last = now
		g.n++
		if next != nil {
			return next(seq, t)
		}
		return nil
	}
}

// rates formats prompt and generation speed in tokens per second.
func (g *genTimer) rates(promptTokens int) string {
	if g.n == 0 {
		return "no token sampled"
	}
	s := "prompt " + tokensPerSecond(promptTokens, g.first.Sub(g.start))
	if g.n > 1 {
		s += ", generation " + tokensPerSecond(g.n-1, g.last.Sub(g.first))
	}
	return s
}

func tokensPerSecond(n int, d time.Duration) string {
	if d <= 0 {
		return fmt.Sprintf("%d tokens in < 1 µs", n)
	}
	return fmt.Sprintf("%.1f tokens/s", float64(n)/d.Seconds())
}
