package engine

import (
	"context"
	"os"
	"testing"

	"github.com/valueexploration/valueexp/hooks"
)

// BenchmarkSmallModelStats times the demo's workload: a statistics pass
// (activation counting at every mlp.hook_act, no LM head) over a packed
// batch of 2048 tokens in texts of 300 to 700 tokens, on a small model
// ($VALUEEXP_SMALL_MODEL, for example `valueexp synth --shape tiny
// --dtype f32`, or else a random one of that shape: hidden 128, 4 layers,
// head dim 32). Attention and per-call overheads dominate at this size.
func BenchmarkSmallModelStats(b *testing.B) {
	path := os.Getenv("VALUEEXP_SMALL_MODEL")
	if path == "" {
		_, path = writeRandomModel(b, randSpec{Arch: "qwen2", Layers: 4, Hidden: 128, FFN: 512, Heads: 4, KV: 2, HeadDim: 32, Vocab: 512, Seed: 5})
	}
	m, err := Load(path, Options{})
	if err != nil {
		b.Fatal(err)
	}
	defer m.Close()
	c := m.Config
	ap, err := hooks.NewActProb(hooks.SiteMLPAct, c.Layers, c.FFNSize, 1)
	if err != nil {
		b.Fatal(err)
	}
	h := hooks.New(c.Layers)
	if err := h.Observe("blocks.*.mlp.hook_act", ap); err != nil {
		b.Fatal(err)
	}
	last := hooks.Point{Layer: c.Layers - 1, Site: hooks.SiteMLPAct}
	lens := []int{312, 655, 420, 530, 131}
	var in []Input
	total := 0
	for i, n := range lens {
		in = append(in, Input{Seq: m.NewSequence(), Tokens: randTokens(uint64(i+1), n, c.VocabSize), Logits: NoLogits})
		total += n
	}
	b.ResetTimer()
	for i := 0; i < b.N; i++ {
		for _, x := range in {
			x.Seq.Reset()
		}
		if _, err := m.Forward(context.Background(), in, RunOptions{Hooks: h, StopAfter: &last}); err != nil {
			b.Fatal(err)
		}
	}
	b.ReportMetric(float64(total)*float64(b.N)/b.Elapsed().Seconds(), "tokens/s")
}
