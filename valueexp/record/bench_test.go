package record

import (
	"context"
	"path/filepath"
	"testing"
)

// BenchmarkRunText measures a whole text-mode run (tokenizing, packed
// prefills stopped after the last hook_act, counting, saving) on the tiny
// random model, reporting counted tokens per second.
func BenchmarkRunText(b *testing.B) {
	m := loadModel(b, writeRandomLlama(b, 9))
	j := testJob(b, m, filepath.Join(b.TempDir(), "c.safetensors"), 4)
	j.Fresh = true
	var tokens uint64
	b.ResetTimer()
	for range b.N {
		res, err := j.Run(context.Background())
		if err != nil {
			b.Fatal(err)
		}
		p := res.Counts.Prob
		for k := range p.Tags {
			tokens += p.Tokens[k*p.Layers]
		}
	}
	b.ReportMetric(float64(tokens)/b.Elapsed().Seconds(), "tokens/s")
}
