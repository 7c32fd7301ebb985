package report

import (
	"strings"
	"testing"

	"github.com/stretchr/testify/require"
	"github.com/valueexploration/valueexp/hooks"
	"github.com/valueexploration/valueexp/valueexp/cvoice"
	"github.com/valueexploration/valueexp/valueexp/evaluate"
)

// withItemFields returns a copy of r whose items carry their value and
// language, as evaluate writes them now.
func withItemFields(t *testing.T, r *evaluate.Results, data *cvoice.Dataset) *evaluate.Results {
	t.Helper()
	out := *r
	out.Items = make([]evaluate.ItemResult, len(r.Items))
	for i, it := range r.Items {
		d, ok := data.ByID(it.ID)
		require.True(t, ok)
		it.Value, it.Language = d.Value.Chinese(), string(d.Language)
		out.Items[i] = it
	}
	return &out
}

// TestStatsFromItemFields checks that results whose items carry value and
// language need no --data: the statistics' input is the same as the one
// the data gives for the old file, and the report has its intervals. Data
// that places an item elsewhere is a mismatch.
func TestStatsFromItemFields(t *testing.T) {
	old, data := statsFixture(t)
	require.False(t, ItemsCarryGroups(old))
	cur := withItemFields(t, old, data)
	require.True(t, ItemsCarryGroups(cur))

	fromData, err := StatsInput(old, data)
	require.NoError(t, err)
	fromItems, err := StatsInput(cur, nil)
	require.NoError(t, err)
	require.Equal(t, fromData, fromItems)
	both, err := StatsInput(cur, data)
	require.NoError(t, err)
	require.Equal(t, fromData, both)

	_, err = StatsInput(old, nil)
	require.ErrorContains(t, err, "need the evaluation data")

	_, md, files := writeReport(t, Inputs{Results: cur})
	require.NotContains(t, md, "No confidence intervals")
	require.True(t, strings.Contains(strings.Join(files, " "), "effect_ci_zh.png"), "interval figure: %v", files)

	// An item the data puts under another value.
	moved := withItemFields(t, old, data)
	moved.Items[0].Value = cvoice.Friendliness.Chinese()
	_, err = StatsInput(moved, data)
	require.ErrorContains(t, err, `items[0] (id "zh-10-00") has value 友善, language zh, but the evaluation data given has 诚信, zh`)
	_, err = Write(t.TempDir(), Inputs{Results: moved, Data: data})
	require.ErrorContains(t, err, "--force")

	// One item without the fields: the data is needed again.
	part := withItemFields(t, old, data)
	part.Items[3].Language = ""
	require.False(t, ItemsCarryGroups(part))
	_, md, _ = writeReport(t, Inputs{Results: part})
	require.Contains(t, md, "**No confidence intervals:** the evaluation data the results were computed on was not given (--data).")
}

// TestReportComparesNeuronFileSHA checks that results naming the sha256 of
// their neuron file are refused with another neuron file (written with a
// warning under Force), even when its sets have the same names and sizes,
// and accepted with the same file.
func TestReportComparesNeuronFileSHA(t *testing.T) {
	r, data := statsFixture(t)
	ran := strings.Repeat("ab", 32)
	r.Job = &evaluate.Job{ModelFingerprint: "m", DataDigest: "d", NeuronsSHA256: ran, Settings: "s", Units: len(r.Items), Digest: "x"}
	ns := func() Inputs {
		in := Inputs{Results: r, Data: data, ResultsFile: "/r/results.json", NeuronsFile: "/n/neurons.json"}
		in.Neurons = neuronFileOf(r)
		return in
	}

	in := ns()
	in.NeuronsSHA256 = strings.Repeat("cd", 32)
	_, err := Write(t.TempDir(), in)
	require.ErrorContains(t, err, "the results (`results.json`) were computed from a neuron file with sha256 abababababababab…, but the neuron file given (`neurons.json`) has sha256 cdcdcdcdcdcdcdcd…")
	require.ErrorContains(t, err, "--force")
	in.Force = true
	_, md, _ := writeReport(t, in)
	require.True(t, strings.HasPrefix(md, "# ValueExploration report\n\n> **WARNING — THE INPUTS DO NOT BELONG TOGETHER"), "%.300s", md)
	require.Contains(t, md, "computed from a neuron file with sha256 abababababababab…")

	in = ns()
	in.NeuronsSHA256 = strings.ToUpper(ran)
	_, err = Write(t.TempDir(), in)
	require.NoError(t, err, "the same file")

	// Without the sha256 on either side, the sets' sizes are compared.
	in = ns()
	in.Neurons.NeuronSets[0].Layers[0].Indices = in.Neurons.NeuronSets[0].Layers[0].Indices[:3]
	_, err = Write(t.TempDir(), in)
	require.ErrorContains(t, err, "other neuron sets than the file given")
}

// neuronFileOf is a neuron file with a set of the recorded size for every
// deactivated set and random control of r.
func neuronFileOf(r *evaluate.Results) *hooks.NeuronSetFile {
	f := &hooks.NeuronSetFile{Format: hooks.NeuronSetsFormat, Version: hooks.NeuronSetsVersion}
	for _, c := range r.Conditions {
		if c.Kind == "none" {
			continue
		}
		idx := make([]int32, c.Neurons)
		for i := range idx {
			idx[i] = int32(i)
		}
		f.NeuronSets = append(f.NeuronSets, hooks.NeuronSet{Name: c.Set, Site: "mlp.hook_act", Layers: []hooks.LayerIndices{{Layer: 0, Indices: idx}}})
	}
	return f
}
