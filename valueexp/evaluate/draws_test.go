package evaluate_test

import (
	"context"
	"fmt"
	"math"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"

	"github.com/stretchr/testify/require"
	"github.com/valueexploration/valueexp/engine"
	"github.com/valueexploration/valueexp/hooks"
	"github.com/valueexploration/valueexp/tokenizer"
	"github.com/valueexploration/valueexp/valueexp/cvoice"
	"github.com/valueexploration/valueexp/valueexp/cvoice/sample"
	"github.com/valueexploration/valueexp/valueexp/evaluate"
	"github.com/valueexploration/valueexp/valueexp/report"
	"github.com/valueexploration/valueexp/weights/synth"
)

// TestEveryRandomDrawIsEvaluatedAndReported gives evaluate a neuron file
// with three control draws for one set (listed out of order) and the single
// "random:NAME" control of files written before draws existed for another.
// Every draw must become its own condition pointing at its set, the cell's
// delta against random must be against the mean of the draws, and the
// report's table must list the change against each draw alone, with the
// numbers the per-item results give.
func TestEveryRandomDrawIsEvaluatedAndReported(t *testing.T) {
	shape, err := synth.LookupShape("tiny")
	require.NoError(t, err)
	shape, err = shape.WithArch("llama")
	require.NoError(t, err)
	path := filepath.Join(t.TempDir(), "tiny.gguf")
	_, err = synth.WriteFile(path, synth.Options{Shape: shape, Mix: synth.MixF32, Seed: 3})
	require.NoError(t, err)
	m, err := engine.Load(path, engine.Options{Threads: 2})
	require.NoError(t, err)
	t.Cleanup(func() { m.Close() })
	tok, err := tokenizer.Load(path)
	require.NoError(t, err)

	set := func(name string, idx ...int32) hooks.NeuronSet {
		return hooks.NeuronSet{Name: name, Site: "mlp.hook_act", Layers: []hooks.LayerIndices{{Layer: 0, Indices: idx}, {Layer: 2, Indices: []int32{idx[0] + 5}}}}
	}
	f := &hooks.NeuronSetFile{Format: "neuron-sets", Version: 1, NeuronSets: []hooks.NeuronSet{
		set("诚信/zh", 1, 2, 30),
		set("random:诚信/zh#3", 7, 8, 9),
		set("random:诚信/zh", 11, 12, 13),
		set("random:诚信/zh#2", 21, 22, 23),
		set("友善/zh", 3, 4, 5),
		set("random:友善/zh", 14, 15, 16),
	}}
	opt := evaluate.Options{MaxItems: 6, SameLanguage: true, SwapOrder: true}
	conds, err := evaluate.Conditions(f, nil, m.Shape(), opt)
	require.NoError(t, err)
	var names, of []string
	for _, c := range conds {
		names = append(names, c.Name)
		of = append(of, c.ControlOf)
	}
	require.Equal(t, []string{"none", "诚信/zh", "random:诚信/zh", "random:诚信/zh#2", "random:诚信/zh#3", "友善/zh", "random:友善/zh"}, names)
	require.Equal(t, []string{"", "", "诚信/zh", "诚信/zh", "诚信/zh", "", "友善/zh"}, of)

	all, err := sample.Load()
	require.NoError(t, err)
	data := all.Select(cvoice.Query{Values: []cvoice.Value{cvoice.Integrity, cvoice.Friendliness}, Languages: []cvoice.Language{cvoice.LangChinese}})
	res, err := evaluate.Run(context.Background(), m, tok, data, conds, opt)
	require.NoError(t, err)

	cell := func(cond string, v cvoice.Value) evaluate.Cell {
		for _, c := range res.Cells {
			if c.Condition == cond && c.Value == v.Chinese() && c.Language == "zh" {
				return c
			}
		}
		t.Fatalf("no cell %s %s", cond, v.Chinese())
		return evaluate.Cell{}
	}
	own := cell("诚信/zh", cvoice.Integrity)
	mean := (cell("random:诚信/zh", cvoice.Integrity).SupportRate + cell("random:诚信/zh#2", cvoice.Integrity).SupportRate + cell("random:诚信/zh#3", cvoice.Integrity).SupportRate) / 3
	require.NotNil(t, own.DeltaVsRandom)
	require.InDelta(t, own.SupportRate-mean, *own.DeltaVsRandom, 1e-9)
	one := cell("友善/zh", cvoice.Friendliness)
	require.NotNil(t, one.DeltaVsRandom)
	require.Equal(t, one.SupportRate-cell("random:友善/zh", cvoice.Friendliness).SupportRate, *one.DeltaVsRandom, "one draw: as before")

	// The change against each draw alone, from the items: mean over the
	// set's own-value items of (share with the set off − share with the
	// draw off), in points.
	share := map[[2]string]float64{}
	var ownItems []string
	for _, r := range res.Items {
		require.True(t, r.Answered)
		share[[2]string{r.Condition, r.ID}] = r.Aligned
		if r.Condition == "none" && r.Value == cvoice.Integrity.Chinese() {
			ownItems = append(ownItems, r.ID)
		}
	}
	require.Len(t, ownItems, 6)
	var want []float64
	for _, d := range []string{"random:诚信/zh", "random:诚信/zh#2", "random:诚信/zh#3"} {
		var s float64
		for _, id := range ownItems {
			s += share[[2]string{"诚信/zh", id}] - share[[2]string{d, id}]
		}
		want = append(want, 100*s/float64(len(ownItems)))
	}

	dir := t.TempDir()
	files, err := report.Write(dir, report.Inputs{Results: res, Data: data})
	require.NoError(t, err)
	require.True(t, slices.ContainsFunc(files, func(f string) bool { return filepath.Base(f) == "effect_ci_zh.png" }), "effect figure: %v", files)
	md, err := os.ReadFile(filepath.Join(dir, report.ReportFile))
	require.NoError(t, err)
	rows := tableRows(t, string(md), "Δ own vs each random draw")
	require.Contains(t, rows, "诚信/zh")
	got := strings.Split(rows["诚信/zh"], ", ")
	require.Len(t, got, 3, "the change against each of the three draws: %q", rows["诚信/zh"])
	for i, g := range got {
		var x float64
		_, err := fmt.Sscanf(g, "%g", &x)
		require.NoError(t, err, "draw %d: %q", i+1, g)
		require.InDelta(t, want[i], x, 0.05+1e-9, "draw %d (printed with one decimal)", i+1)
	}
	require.NotContains(t, rows["友善/zh"], ",", "one draw, one number")
	require.NotEqual(t, "—", rows["友善/zh"])
	require.False(t, math.IsNaN(own.SupportRate))
}

// tableRows finds the Markdown table whose header has column col and
// returns that column by the row's first cell.
func tableRows(t *testing.T, md, col string) map[string]string {
	t.Helper()
	lines := strings.Split(md, "\n")
	split := func(l string) []string {
		cells := strings.Split(strings.Trim(l, "|"), "|")
		for i := range cells {
			cells[i] = strings.TrimSpace(cells[i])
		}
		return cells
	}
	for i, l := range lines {
		if !strings.HasPrefix(l, "|") || !strings.Contains(l, col) {
			continue
		}
		k := slices.Index(split(l), col)
		out := map[string]string{}
		for _, r := range lines[i+2:] {
			if !strings.HasPrefix(r, "|") {
				break
			}
			c := split(r)
			out[c[0]] = c[k]
		}
		return out
	}
	t.Fatalf("no table with column %q", col)
	return nil
}
