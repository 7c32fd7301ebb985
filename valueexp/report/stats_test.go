package report

import (
	"encoding/csv"
	"fmt"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"testing"

	"github.com/valueexploration/valueexp/hooks"
	"github.com/valueexploration/valueexp/valueexp/cvoice"
	"github.com/valueexploration/valueexp/valueexp/evaluate"
	"github.com/valueexploration/valueexp/valueexp/stats"
)

// statsFixture is an evaluation with per-item outcomes on 20 zh items of
// 诚信 and 20 of 友善. The plain model gives every item 0.7. Switching
// off 诚信/zh gives 诚信 items 0.3 (a fall of 40 points on every item) and
// 友善 items 0.7 ± 0.01 alternately (no change). Its two random draws give
// 0.7 ± 0.01 everywhere. So exactly one cell, (诚信/zh, 诚信), differs
// from the plain model and from its controls, whatever the correction.
func statsFixture(t *testing.T) (*evaluate.Results, *cvoice.Dataset) {
	t.Helper()
	var items []cvoice.Item
	for _, v := range []cvoice.Value{cvoice.Integrity, cvoice.Friendliness} {
		for i := range 20 {
			items = append(items, cvoice.Item{ID: fmt.Sprintf("zh-%d-%02d", v, i), Value: v, Language: cvoice.LangChinese, Split: cvoice.Evaluation,
				Conflict: "c", Context: "story", Aligned: "a", Violating: "b"})
		}
	}
	data, err := cvoice.NewDataset(items)
	if err != nil {
		t.Fatal(err)
	}
	r := &evaluate.Results{Format: ResultsFormat, Version: 1, Model: "m", Mode: evaluate.Likelihood, SwapOrder: true, Data: "fixture",
		Conditions: []evaluate.Condition{
			{Name: "none", Kind: "none"},
			{Name: "诚信/zh", Kind: "deactivate", Set: "诚信/zh", Value: "诚信", Language: "zh", Neurons: 8},
			{Name: "random:诚信/zh", Kind: "random", Set: "random:诚信/zh", Value: "诚信", Language: "zh", Neurons: 8, ControlOf: "诚信/zh"},
			{Name: "random:诚信/zh#2", Kind: "random", Set: "random:诚信/zh#2", Value: "诚信", Language: "zh", Neurons: 8, ControlOf: "诚信/zh"},
		}}
	for _, c := range r.Conditions {
		for i, it := range items {
			share := 0.7
			if c.Kind != "none" {
				share += 0.01 * float64(1-2*(i%2))
			}
			if c.Kind == "deactivate" && it.Value == cvoice.Integrity {
				share = 0.3
			}
			r.Items = append(r.Items, evaluate.ItemResult{Condition: c.Name, ID: it.ID, Aligned: share, Orders: []float64{share, share}, Answered: true})
		}
	}
	r.Cells = cellsOf(r, data)
	return r, data
}

// cellsOf aggregates item results into cells as evaluate does: mean share
// ×100, choices above ½ (a tie ½), deltas left to the report.
func cellsOf(r *evaluate.Results, data *cvoice.Dataset) []evaluate.Cell {
	var cells []evaluate.Cell
	for _, c := range r.Conditions {
		for _, v := range cvoice.Values() {
			cell := evaluate.Cell{Condition: c.Name, Value: v.Chinese, ValueEnglish: v.English, Language: "zh"}
			var sum, chosen float64
			for _, ir := range r.Items {
				it, _ := data.ByID(ir.ID)
				if ir.Condition != c.Name || it.Value != v.Value {
					continue
				}
				cell.Items++
				if !ir.Answered {
					continue
				}
				cell.Answered++
				sum += ir.Aligned
				switch {
				case ir.Aligned > 0.5:
					chosen++
				case ir.Aligned == 0.5:
					chosen += 0.5
				}
			}
			if cell.Items == 0 {
				continue
			}
			cell.ParseFailures = cell.Items - cell.Answered
			cell.ParseFailureRate = float64(cell.ParseFailures) / float64(cell.Items)
			if cell.Answered > 0 {
				cell.SupportRate = 100 * sum / float64(cell.Answered)
				cell.AlignedChoiceRate = chosen / float64(cell.Answered)
			}
			cells = append(cells, cell)
		}
	}
	return cells
}

func readCSV(t *testing.T, path string) map[string][]string {
	t.Helper()
	f, err := os.Open(path)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	recs, err := csv.NewReader(f).ReadAll()
	if err != nil {
		t.Fatal(err)
	}
	out := map[string][]string{"header": recs[0]}
	for _, r := range recs[1:] {
		out[r[0]+"|"+r[2]+"|"+r[4]] = r
	}
	return out
}

func column(t *testing.T, rows map[string][]string, key, col string) string {
	t.Helper()
	for i, h := range rows["header"] {
		if h == col {
			return rows[key][i]
		}
	}
	t.Fatalf("cells.csv has no column %q", col)
	return ""
}

// The report draws intervals, marks what survives the correction and says
// in words how many effects stand out from the random controls.
func TestReportStatistics(t *testing.T) {
	r, data := statsFixture(t)
	dir, md, files := writeReport(t, Inputs{Results: r, Data: data})
	mustContain(t, md,
		"**Uncertainty.** Intervals are 95 %",
		"Holm–Bonferroni",
		// 2 sets × values cells in zh: only 诚信 moves, by −40 on every item.
		"Of 2 cells (deactivated sets × evaluated values) in Chinese (zh), **1 differs from the plain model**; **1 of 2 is distinguishable from their random controls**; on their own value, 1 of 1 sets differs from their random controls",
		"](effect_ci_zh.png)",
		// Every plain-model item is 0.7: a zero-width interval at 70.0.
		"| 诚信 Integrity | 70.0 | 1.000 | 0/20 | [70.0, 70.0] |",
		// The fall of 40 points on every item: the interval is the point.
		"| 诚信/zh | 8 | 诚信 Integrity | -40.0* [-40.0, -40.0] |",
		// Against the two draws, 0.7 ± 0.01 alternately: both average 0.7.
		"| -40.0, -40.0 |",
	)
	found := false
	for _, f := range files {
		found = found || filepath.Base(f) == "effect_ci_zh.png"
	}
	if !found {
		t.Error("effect_ci_zh.png not written")
	}
	rows := readCSV(t, filepath.Join(dir, "cells.csv"))
	if got := column(t, rows, "诚信/zh|诚信|zh", "significant_vs_none"); got != "yes" {
		t.Errorf("诚信 cell significant_vs_none = %q", got)
	}
	if got := column(t, rows, "诚信/zh|友善|zh", "significant_vs_none"); got != "no" {
		t.Errorf("友善 cell significant_vs_none = %q", got)
	}
	if got := column(t, rows, "诚信/zh|诚信|zh", "significant_vs_random"); got != "yes" {
		t.Errorf("诚信 cell significant_vs_random = %q", got)
	}
	// 20 pairs all −0.4: every sign pattern but the two uniform ones has a
	// smaller |Σ|, so the sampled p is (1 + hits)/(1 + 10000) with hits ≈
	// 10000·2/2^20: at most 3/10001.
	if p, err := strconv.ParseFloat(column(t, rows, "诚信/zh|诚信|zh", "p_vs_none"), 64); err != nil || p > 3.0/10001 {
		t.Errorf("p_vs_none = %g (%v), want at most 3/10001", p, err)
	}
	// BH as an option says so.
	in := Inputs{Results: r, Data: data}
	in.Stats.Correction = stats.BenjaminiHochberg
	_, md, _ = writeReport(t, in)
	mustContain(t, md, "Benjamini–Hochberg")
}

// With 4 items per cell the smallest permutation p is 2/16, so over 2 cells
// nothing can survive: the report says so instead of a bare "0 differ".
func TestReportSaysWhenNothingCanBeSignificant(t *testing.T) {
	r, data := statsFixture(t)
	keep := map[string]bool{}
	for _, v := range []int{10, 11} {
		for i := range 4 {
			keep[fmt.Sprintf("zh-%d-%02d", v, i)] = true
		}
	}
	var items []evaluate.ItemResult
	for _, it := range r.Items {
		if keep[it.ID] {
			items = append(items, it)
		}
	}
	r.Items = items
	r.Cells = cellsOf(r, data)
	_, md, _ := writeReport(t, Inputs{Results: r, Data: data})
	mustContain(t, md, "**0 differ from the plain model**",
		"**With at most 4 paired items per cell, no cell could survive the correction over 2 cells whatever the data** (the smallest possible p is 0.125)")
	r, data = statsFixture(t)
	_, md, _ = writeReport(t, Inputs{Results: r, Data: data})
	if strings.Contains(md, "no cell could survive") {
		t.Error("20 items per cell: the report says nothing could survive")
	}
}

// Without the data, per-item outcomes cannot be placed in cells: the report
// says there are no intervals, and why.
func TestReportWithoutData(t *testing.T) {
	r, _ := statsFixture(t)
	_, md, _ := writeReport(t, Inputs{Results: r})
	mustContain(t, md, "**No confidence intervals:** the evaluation data the results were computed on was not given (--data).")
	if strings.Contains(md, "effect_ci_") {
		t.Error("interval figure without statistics")
	}
}

func TestReportRefusesMismatchedInputs(t *testing.T) {
	r, data := statsFixture(t)
	neurons := func(size int, sha string) *hooks.NeuronSetFile {
		idx := make([]int32, size)
		for i := range idx {
			idx[i] = int32(i)
		}
		prov := fmt.Sprintf(`{"method":"vape","counts_files":["c.safetensors"],"counts_sha256":[%q]}`, sha)
		f := &hooks.NeuronSetFile{Format: hooks.NeuronSetsFormat, Version: hooks.NeuronSetsVersion}
		for _, name := range []string{"诚信/zh", "random:诚信/zh", "random:诚信/zh#2"} {
			f.NeuronSets = append(f.NeuronSets, hooks.NeuronSet{Name: name, Site: "mlp.hook_act", Layers: []hooks.LayerIndices{{Layer: 0, Indices: idx}}, Provenance: []byte(prov)})
		}
		return f
	}
	good := strings.Repeat("ab", 32)
	for _, tt := range []struct {
		name string
		in   Inputs
		want string
	}{
		{"counts of another run", Inputs{Neurons: neurons(8, good), CountsSHA256: strings.Repeat("cd", 32), Results: r, Data: data},
			"were selected from counts with sha256 abababababababab…, but the counts given (`counts.safetensors`) have sha256 cdcdcdcdcdcdcdcd…"},
		{"results of another neuron file", Inputs{Neurons: neurons(6, good), CountsSHA256: good, Results: r, Data: data},
			"were computed with other neuron sets than the file given (`neurons.json`): 诚信/zh (6 neurons in the file, 8 in the results)"},
		{"data of another run", Inputs{Results: r, Data: func() *cvoice.Dataset { d, _ := cvoice.NewDataset(data.Items()[:39]); return d }()},
			`item "zh-11-19" (condition "none") is not in the evaluation data given`},
	} {
		t.Run(tt.name, func(t *testing.T) {
			in := tt.in
			in.CountsFile, in.NeuronsFile = "/x/counts.safetensors", "/y/neurons.json"
			_, err := Write(t.TempDir(), in)
			if err == nil || !strings.Contains(err.Error(), tt.want) || !strings.Contains(err.Error(), "--force") {
				t.Fatalf("Write: %v\nwant a refusal containing %q", err, tt.want)
			}
			in.Force = true
			_, md, _ := writeReport(t, in)
			if !strings.HasPrefix(md, "# ValueExploration report\n\n> **WARNING — THE INPUTS DO NOT BELONG TOGETHER; THIS REPORT WAS FORCED (--force).**\n> - ") || !strings.Contains(md, tt.want) {
				t.Errorf("forced report does not open with the warning:\n%.600s", md)
			}
		})
	}
	// Matching inputs pass.
	if _, err := Write(t.TempDir(), Inputs{Neurons: neurons(8, good), CountsSHA256: good, Results: r, Data: data}); err != nil {
		t.Errorf("matching inputs: %v", err)
	}
}

// Generate mode: a cell whose answers all failed to parse reads "n/a" with
// its parse-failure rate in the tables and in cells.csv, never 0 %.
func TestUnparsedIsNotZero(t *testing.T) {
	r, data := statsFixture(t)
	r.Mode = evaluate.Generation
	for i := range r.Items {
		if r.Items[i].Condition == "诚信/zh" && strings.HasPrefix(r.Items[i].ID, "zh-11-") { // 友善 items
			r.Items[i].Answered, r.Items[i].Aligned, r.Items[i].Orders = false, 0, []float64{-1, -1}
		}
	}
	r.Cells = cellsOf(r, data)
	dir, md, _ := writeReport(t, Inputs{Results: r, Data: data})
	mustContain(t, md, "n/a (20/20 unparsed)")
	rows := readCSV(t, filepath.Join(dir, "cells.csv"))
	key := "诚信/zh|友善|zh"
	for col, want := range map[string]string{"support_rate": "n/a", "aligned_choice_rate": "n/a", "parse_failure_rate": "1", "answered": "0",
		"delta_support_vs_none": "n/a", "support_ci_lo": "n/a", "p_vs_none": "n/a", "significant_vs_none": "n/a"} {
		if got := column(t, rows, key, col); got != want {
			t.Errorf("%s: %s = %q, want %q", key, col, got, want)
		}
	}
}

// Switching off an empty set is warned about.
func TestEmptySetWarns(t *testing.T) {
	r := fixtureResults(true)
	r.Conditions[1].Neurons = 0
	_, md, _ := writeReport(t, Inputs{Results: r})
	mustContain(t, md, "**Empty sets switched off:** 诚信/zh.")
}
