// Package bench measures the engine's throughput the way llama.cpp's
// llama-bench does, so that the two can be compared on one GGUF file:
//
//   - pp (prompt processing): n random tokens, BOS first, in one Forward on
//     an empty sequence, with logits for the last token only;
//   - tg (text generation): n single-token decode steps from an empty
//     sequence, the first token BOS and the others random;
//   - st (statistics pass, this project's own test): a pp batch with an
//     ActProb counter on every layer's mlp.hook_act and StopAfter at the last
//     one, so the later work and the LM head are skipped, as in
//     valueexp record.
//
// Each test runs once as a warm-up (tg: one token, as llama-bench), then
// Reps times; throughput is tokens per second per repetition, reported as
// mean and sample standard deviation.
package bench

import (
	"context"
	"fmt"
	"math"
	"math/rand/v2"
	"time"

	"github.com/valueexploration/valueexp/engine"
	"github.com/valueexploration/valueexp/hooks"
)

// Kind is a test type.
type Kind string

// The test types.
const (
	Prompt     Kind = "pp"
	Generation Kind = "tg"
	Statistics Kind = "st"
)

// Test is one measurement to run.
type Test struct {
	Kind Kind
	N    int // tokens: prompt length for pp and st, generated tokens for tg
}

// Name returns llama-bench's test name, such as "pp512" or "tg128".
func (t Test) Name() string { return fmt.Sprintf("%s%d", t.Kind, t.N) }

// Result is one test's measurements.
type Result struct {
	Test    Test
	Threads int
	// Times holds each repetition's wall time (warm-up excluded).
	Times []time.Duration
}

// NPrompt returns the prompt tokens of the test (llama-bench's n_prompt).
func (r *Result) NPrompt() int {
	if r.Test.Kind == Generation {
		return 0
	}
	return r.Test.N
}

// NGen returns the generated tokens of the test (llama-bench's n_gen).
func (r *Result) NGen() int {
	if r.Test.Kind == Generation {
		return r.Test.N
	}
	return 0
}

// TokensPerSecond returns the throughput of each repetition.
func (r *Result) TokensPerSecond() []float64 {
	ts := make([]float64, len(r.Times))
	for i, d := range r.Times {
		ts[i] = float64(r.Test.N) / d.Seconds()
	}
	return ts
}

// MeanStd returns the mean and the sample standard deviation (n-1 in the
// denominator, 0 for a single value) of xs.
func MeanStd(xs []float64) (mean, sd float64) {
	if len(xs) == 0 {
		return math.NaN(), math.NaN()
	}
	for _, x := range xs {
		mean += x
	}
	mean /= float64(len(xs))
	if len(xs) < 2 {
		return mean, 0
	}
	var ss float64
	for _, x := range xs {
		ss += (x - mean) * (x - mean)
	}
	return mean, math.Sqrt(ss / float64(len(xs)-1))
}

// Runner runs tests on one model.
type Runner struct {
	Model *engine.Model
	// Reps is the number of measured repetitions (at least 1).
	Reps int
	// Seed selects the random tokens.
	Seed uint64
	// BOS is the first token of every test (-1: a random one, as
	// llama-bench does when the vocabulary adds no BOS).
	BOS int32
}

// NewRunner returns a runner for m with the model's BOS token.
func NewRunner(m *engine.Model, reps int) *Runner {
	return &Runner{Model: m, Reps: reps, Seed: 1, BOS: int32(m.Config.BOS)}
}

// Run runs the warm-up and the repetitions of t.
func (r *Runner) Run(ctx context.Context, t Test) (*Result, error) {
	if t.N <= 0 {
		return nil, fmt.Errorf("bench: %s: token count must be positive", t.Name())
	}
	if r.Reps < 1 {
		return nil, fmt.Errorf("bench: %d repetitions; need at least 1", r.Reps)
	}
	var once func(n int) (time.Duration, error)
	warm := t.N
	switch t.Kind {
	case Prompt:
		once = func(n int) (time.Duration, error) { return r.prompt(ctx, n, nil) }
	case Statistics:
		once = r.statistics(ctx)
	case Generation:
		once = func(n int) (time.Duration, error) { return r.generate(ctx, n) }
		warm = 1
	default:
		return nil, fmt.Errorf("bench: unknown test kind %q", t.Kind)
	}
	res := &Result{Test: t, Threads: r.Model.Threads()}
	if _, err := once(warm); err != nil {
		return nil, fmt.Errorf("bench: %s warm-up: %w", t.Name(), err)
	}
	for i := 0; i < r.Reps; i++ {
		d, err := once(t.N)
		if err != nil {
			return nil, fmt.Errorf("bench: %s: %w", t.Name(), err)
		}
		res.Times = append(res.Times, d)
	}
	return res, nil
}

// tokens returns n token ids for one repetition: BOS, then uniform random ids.
func (r *Runner) tokens(rng *rand.Rand, n int) []int32 {
	V := r.Model.Config.VocabSize
	ids := make([]int32, n)
	for i := range ids {
		ids[i] = int32(rng.IntN(V))
	}
	if r.BOS >= 0 && int(r.BOS) < V {
		ids[0] = r.BOS
	}
	return ids
}

func (r *Runner) rng() *rand.Rand { return rand.New(rand.NewPCG(r.Seed, 0x62656e6368)) }

// prompt times one Forward of n tokens on a fresh sequence, logits for the
// last token only (or none, with StopAfter).
func (r *Runner) prompt(ctx context.Context, n int, opt *engine.RunOptions) (time.Duration, error) {
	m := r.Model
	ids := r.tokens(r.rng(), n)
	in := []engine.Input{{Seq: m.NewSequence(), Tokens: ids, Tag: 0, Logits: engine.LastLogits}}
	ro := engine.RunOptions{}
	if opt != nil {
		ro = *opt
		in[0].Logits = engine.NoLogits
	}
	start := time.Now()
	_, err := m.Forward(ctx, in, ro)
	return time.Since(start), err
}

// statistics returns a prompt run with an ActProb counter on every layer's
// mlp.hook_act and StopAfter at the last layer's.
func (r *Runner) statistics(ctx context.Context) func(n int) (time.Duration, error) {
	return func(n int) (time.Duration, error) {
		c := r.Model.Config
		counts, err := hooks.NewActProb(hooks.SiteMLPAct, c.Layers, c.FFNSize, 1)
		if err != nil {
			return 0, err
		}
		h := hooks.New(c.Layers)
		if err := h.Observe("blocks.*.mlp.hook_act", counts); err != nil {
			return 0, err
		}
		last, _ := h.LastPoint()
		d, err := r.prompt(ctx, n, &engine.RunOptions{Hooks: h, StopAfter: &last})
		if err != nil {
			return 0, err
		}
		if got := counts.Tokens[c.Layers-1]; got != uint64(n) {
			return 0, fmt.Errorf("statistics pass counted %d tokens at the last layer, want %d", got, n)
		}
		return d, nil
	}
}

// generate times n single-token Forward calls on a fresh sequence, each
// returning the logits of its token, as llama-bench's tg does (it feeds
// random tokens rather than sampled ones, so sampling is not timed).
func (r *Runner) generate(ctx context.Context, n int) (time.Duration, error) {
	m := r.Model
	ids := r.tokens(r.rng(), n)
	seq := m.NewSequence()
	in := []engine.Input{{Seq: seq, Tag: -1, Logits: engine.LastLogits}}
	start := time.Now()
	for i := 0; i < n; i++ {
		in[0].Tokens = ids[i : i+1]
		if _, err := m.Forward(ctx, in, engine.RunOptions{Phase: hooks.Decode, Step: i}); err != nil {
			return 0, err
		}
	}
	return time.Since(start), nil
}
