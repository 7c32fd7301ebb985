package engine

import (
	"context"
	"os"
	"sync"
	"testing"

	"github.com/valueexploration/valueexp/hooks"
)

// benchModelPath returns the model the benchmarks run: $VALUEEXP_BENCH_MODEL
// (for example a `valueexp synth --shape qwen2.5-0.5b` file), or else a
// random F32 model with Qwen2.5-0.5B's layer shape (hidden 896, 14/2 heads,
// head dim 64, ffn 4864, q/k/v biases) but 4 layers and a 4096-token
// vocabulary, written once per test binary.
func benchModelPath(b *testing.B) string {
	if p := os.Getenv("VALUEEXP_BENCH_MODEL"); p != "" {
		return p
	}
	benchOnce.Do(func() {
		_, benchHF = writeRandomModel(b, randSpec{Arch: "qwen2", Layers: 4, Hidden: 896, FFN: 4864, Heads: 14, KV: 2, HeadDim: 64, Vocab: 4096, Seed: 11})
	})
	return benchHF
}

var (
	benchOnce sync.Once
	benchHF   string
)

// BenchmarkHookOverhead times a 128-token prefill three ways: with no hooks,
// with activation-probability counting at mlp.hook_act on every layer, and
// as a statistics pass (counting, stopping after the last hook_act, no LM
// head). Compare "plain" with the same benchmark built with
// -tags valueexp_nohooks (every hook site compiled out) to see what the
// hook sites cost when unused.
func BenchmarkHookOverhead(b *testing.B) {
	m, err := Load(benchModelPath(b), Options{})
	if err != nil {
		b.Fatal(err)
	}
	defer m.Close()
	c := m.Config
	toks := randTokens(1, 128, c.VocabSize)
	run := func(b *testing.B, h *hooks.Hooks, stop *hooks.Point, logits LogitsMode) {
		s := m.NewSequence()
		b.ResetTimer()
		for i := 0; i < b.N; i++ {
			s.Reset()
			if _, err := m.Forward(context.Background(), []Input{{Seq: s, Tokens: toks, Logits: logits}}, RunOptions{Hooks: h, StopAfter: stop}); err != nil {
				b.Fatal(err)
			}
		}
		b.ReportMetric(float64(len(toks))*float64(b.N)/b.Elapsed().Seconds(), "tokens/s")
	}
	counter := func(b *testing.B) *hooks.Hooks {
		ap, err := hooks.NewActProb(hooks.SiteMLPAct, c.Layers, c.FFNSize, 1)
		if err != nil {
			b.Fatal(err)
		}
		h := hooks.New(c.Layers)
		if err := h.Observe("blocks.*.mlp.hook_act", ap); err != nil {
			b.Fatal(err)
		}
		return h
	}
	b.Run("plain", func(b *testing.B) { run(b, nil, nil, LastLogits) })
	b.Run("count", func(b *testing.B) { run(b, counter(b), nil, LastLogits) })
	b.Run("stats", func(b *testing.B) {
		last := hooks.Point{Layer: c.Layers - 1, Site: hooks.SiteMLPAct}
		run(b, counter(b), &last, NoLogits)
	})
}

// BenchmarkDecodeStep times one single-token decode step at position 64.
func BenchmarkDecodeStep(b *testing.B) {
	m, err := Load(benchModelPath(b), Options{})
	if err != nil {
		b.Fatal(err)
	}
	defer m.Close()
	toks := randTokens(2, 64, m.Config.VocabSize)
	s := m.NewSequence()
	if _, err := m.Forward(context.Background(), []Input{{Seq: s, Tokens: toks}}, RunOptions{}); err != nil {
		b.Fatal(err)
	}
	b.ResetTimer()
	for i := 0; i < b.N; i++ {
		s.Truncate(64)
		if _, err := m.Forward(context.Background(), []Input{{Seq: s, Tokens: []int32{5}}}, RunOptions{}); err != nil {
			b.Fatal(err)
		}
	}
	b.ReportMetric(float64(b.N)/b.Elapsed().Seconds(), "tokens/s")
}
