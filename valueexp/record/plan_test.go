package record

import (
	"context"
	"path/filepath"
	"testing"
)

// TestPlanTextMatchesRun checks that PlanText predicts the tokens and
// passes a run then processes, for a whole job and for a shard, with a
// context length that cuts some texts.
func TestPlanTextMatchesRun(t *testing.T) {
	m := loadModel(t, writeRandomLlama(t, 5))
	for _, tc := range []struct {
		name   string
		shard  Shard
		batch  int
		ctxLen int
	}{
		{"whole", Whole, 1024, 0},
		{"shard 1/3", Shard{Index: 1, Count: 3}, 700, 0},
		{"cut at the context", Whole, 600, 300},
	} {
		t.Run(tc.name, func(t *testing.T) {
			j := testJob(t, m, filepath.Join(t.TempDir(), "c.safetensors"), 4)
			j.Shard, j.BatchTokens = tc.shard, tc.batch
			saved := m.Config.ContextLength
			m.Config.ContextLength = tc.ctxLen
			defer func() { m.Config.ContextLength = saved }()
			p, err := j.PlanText()
			if err != nil {
				t.Fatal(err)
			}
			var last Progress
			j.Progress = func(pr Progress) { last = pr }
			res, err := j.Run(context.Background())
			if err != nil {
				t.Fatal(err)
			}
			var counted uint64
			for k := range res.Counts.Prob.Tags {
				counted += res.Counts.Prob.Tokens[k*res.Counts.Prob.Layers]
			}
			if p.Texts != last.ItemsTotal || p.Tokens != last.Tokens || uint64(p.Tokens) != counted || p.Passes != last.Batches || p.Cut != res.Counts.Manifest.Truncated {
				t.Fatalf("plan %+v; run: %d texts, %d tokens (%d counted), %d passes, %d cut", p, last.ItemsTotal, last.Tokens, counted, last.Batches, res.Counts.Manifest.Truncated)
			}
			if tc.ctxLen > 0 && p.Cut == 0 {
				t.Fatal("the context length cut no text; the case tests nothing")
			}
		})
	}
}
