package bench

import (
	"context"
	"math"
	"path/filepath"
	"testing"

	"github.com/valueexploration/valueexp/engine"
	"github.com/valueexploration/valueexp/weights/synth"
)

func tinyModel(tb testing.TB, threads int) *engine.Model {
	tb.Helper()
	s, err := synth.LookupShape("tiny")
	if err != nil {
		tb.Fatal(err)
	}
	if s, err = s.WithArch("qwen2"); err != nil {
		tb.Fatal(err)
	}
	path := filepath.Join(tb.TempDir(), "tiny.gguf")
	if _, err := synth.WriteFile(path, synth.Options{Shape: s, Mix: synth.MixQ8_0, Layers: 2, Seed: 1}); err != nil {
		tb.Fatal(err)
	}
	m, err := engine.Load(path, engine.Options{Threads: threads})
	if err != nil {
		tb.Fatal(err)
	}
	tb.Cleanup(func() { m.Close() })
	return m
}

func TestMeanStd(t *testing.T) {
	for _, c := range []struct {
		xs       []float64
		mean, sd float64
	}{
		{[]float64{1, 2, 3, 4}, 2.5, 1.2909944487358056}, // sqrt(5/3)
		{[]float64{10, 10, 10}, 10, 0},
		{[]float64{7}, 7, 0},
		{[]float64{2, 4, 4, 4, 5, 5, 7, 9}, 5, 2.138089935299395}, // sqrt(32/7)
	} {
		m, s := MeanStd(c.xs)
		if math.Abs(m-c.mean) > 1e-12 || math.Abs(s-c.sd) > 1e-12 {
			t.Errorf("MeanStd(%v) = %g, %g; want %g, %g", c.xs, m, s, c.mean, c.sd)
		}
	}
	if m, _ := MeanStd(nil); !math.IsNaN(m) {
		t.Errorf("MeanStd(nil) mean = %g, want NaN", m)
	}
}

func TestRunEveryKind(t *testing.T) {
	m := tinyModel(t, 2)
	r := NewRunner(m, 3)
	for _, c := range []struct {
		test          Test
		name          string
		nPrompt, nGen int
	}{
		{Test{Prompt, 24}, "pp24", 24, 0},
		{Test{Generation, 5}, "tg5", 0, 5},
		{Test{Statistics, 24}, "st24", 24, 0},
	} {
		res, err := r.Run(context.Background(), c.test)
		if err != nil {
			t.Fatal(err)
		}
		if c.test.Name() != c.name || res.NPrompt() != c.nPrompt || res.NGen() != c.nGen || res.Threads != 2 {
			t.Errorf("%s: name %s n_prompt %d n_gen %d threads %d", c.name, c.test.Name(), res.NPrompt(), res.NGen(), res.Threads)
		}
		if len(res.Times) != 3 {
			t.Fatalf("%s: %d samples, want 3", c.name, len(res.Times))
		}
		for i, ts := range res.TokensPerSecond() {
			if want := float64(c.test.N) / res.Times[i].Seconds(); ts != want || ts <= 0 {
				t.Errorf("%s: sample %d is %g t/s, want %g", c.name, i, ts, want)
			}
		}
	}
}

func TestRunErrors(t *testing.T) {
	m := tinyModel(t, 1)
	r := NewRunner(m, 1)
	if _, err := r.Run(context.Background(), Test{Prompt, 0}); err == nil {
		t.Error("pp0 accepted")
	}
	if _, err := r.Run(context.Background(), Test{"xx", 4}); err == nil {
		t.Error("unknown kind accepted")
	}
	r.Reps = 0
	if _, err := r.Run(context.Background(), Test{Prompt, 4}); err == nil {
		t.Error("0 repetitions accepted")
	}
	r.Reps = 1
	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	if _, err := r.Run(ctx, Test{Prompt, 8}); err == nil {
		t.Error("a cancelled context was not reported")
	}
}

// The random prompt starts with the model's BOS and stays in the vocabulary.
func TestTokens(t *testing.T) {
	m := tinyModel(t, 1)
	r := NewRunner(m, 1)
	ids := r.tokens(r.rng(), 1000)
	if ids[0] != int32(m.Config.BOS) {
		t.Errorf("first token %d, want BOS %d", ids[0], m.Config.BOS)
	}
	distinct := map[int32]bool{}
	for _, id := range ids {
		if id < 0 || int(id) >= m.Config.VocabSize {
			t.Fatalf("token %d outside the vocabulary", id)
		}
		distinct[id] = true
	}
	if len(distinct) < 500 {
		t.Errorf("only %d distinct ids in 1000 draws from %d", len(distinct), m.Config.VocabSize)
	}
}

func BenchmarkPromptTiny(b *testing.B) {
	m := tinyModel(b, 0)
	r := NewRunner(m, 1)
	for b.Loop() {
		if _, err := r.prompt(context.Background(), 128, nil); err != nil {
			b.Fatal(err)
		}
	}
}
