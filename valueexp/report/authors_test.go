package report

import (
	"fmt"
	"math"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"testing"

	"github.com/valueexploration/valueexp/hooks"
	"github.com/valueexploration/valueexp/internal/shareddata"
	"github.com/valueexploration/valueexp/valueexp/cvoice"
	"github.com/valueexploration/valueexp/valueexp/torchfile"
)

// authorsSets turns the authors' released Llama masks of one view (support
// side) into one pooled neuron set per value.
func authorsSets(t *testing.T, view string) *hooks.NeuronSetFile {
	t.Helper()
	dir := shareddata.Path(t, "cvoice", "authors-llama-masks")
	f := &hooks.NeuronSetFile{Format: hooks.NeuronSetsFormat, Version: hooks.NeuronSetsVersion,
		Model: &hooks.ModelShape{Name: "authors' Llama (32 x 14336)", Layers: 32, DModel: 4096, DMLP: 14336}}
	for _, v := range allValues() {
		raw, err := torchfile.Load(filepath.Join(dir, fmt.Sprintf("activation_mask_%s_%s_0.01", v.Chinese(), view)))
		if err != nil {
			t.Fatal(err)
		}
		s := hooks.NeuronSet{Name: v.Chinese(), Site: "mlp.hook_act"}
		for l, ten := range raw.([]any)[0].([]any) {
			ids, err := ten.(*torchfile.Tensor).Int32s()
			if err != nil {
				t.Fatal(err)
			}
			if len(ids) > 0 {
				s.Layers = append(s.Layers, hooks.LayerIndices{Layer: l, Indices: ids})
			}
		}
		f.NeuronSets = append(f.NeuronSets, s)
	}
	return f
}

// The released masks checked against the numbers valueexp/METHOD.md §6 quotes for
// them: per-layer totals over the 12 values and the mean pairwise Jaccard.
func TestAuthorsMasks(t *testing.T) {
	tests := []struct {
		view        string
		layerTotals string // "" when valueexp/METHOD.md gives none
		meanJaccard string
	}{
		{"decision", "336,170,110,537,406,368,424,541,736,949,929,872,1271,1657,1210,1095,908,901,837,773,642,715,784,1012,991,1025,1370,1727,2336,3543,3164,5220", "0.124"},
		{"semantic", "", "0.071"},
	}
	for _, tt := range tests {
		t.Run(tt.view, func(t *testing.T) {
			dir, md, _ := writeReport(t, Inputs{Neurons: authorsSets(t, tt.view), Title: "Authors' Llama masks, " + tt.view})
			mustContain(t, md, "Mean pairwise Jaccard "+tt.meanJaccard+" ")
			if tt.layerTotals != "" {
				for l, n := range strings.Split(tt.layerTotals, ",") {
					if _, err := strconv.Atoi(n); err != nil {
						t.Fatal(err)
					}
					row := fmt.Sprintf("\n| %d |", l)
					i := strings.Index(md, row)
					if i < 0 {
						t.Fatalf("no row for layer %d", l)
					}
					line := md[i+1 : i+1+strings.Index(md[i+1:], "\n")]
					if !strings.HasSuffix(line, "| "+n+" |") {
						t.Errorf("layer %d: row %q, want total %s", l, line, n)
					}
				}
			}
			if os.Getenv("REPORT_PREVIEW") != "" {
				copyDir(t, dir, filepath.Join(os.Getenv("REPORT_PREVIEW"), "authors-"+tt.view))
			}
		})
	}
}

// The authors' support-side counts at full size (12 tags × 32 × 14336):
// the VAPE and activation-probability figures render and the numbers are
// in range.
func TestAuthorsCounts(t *testing.T) {
	if testing.Short() {
		t.Skip("reads 12 count files of 32×14336")
	}
	dir := shareddata.Path(t, "cvoice", "authors-llama-counts")
	c, err := hooks.NewActProb(hooks.SiteMLPAct, 32, 14336, cvoice.NumValues)
	if err != nil {
		t.Fatal(err)
	}
	c.Model = "authors' Llama (32 x 14336), support view"
	for k, v := range allValues() {
		raw, err := torchfile.Load(filepath.Join(dir, v.Chinese()+"-support.pt"))
		if err != nil {
			t.Fatal(err)
		}
		m := raw.(map[string]any)
		oz, err := m["over_zero"].(*torchfile.Tensor).Int64s()
		if err != nil {
			t.Fatal(err)
		}
		tokens := uint64(m["token_num"].(float64))
		for l := range 32 {
			c.Tokens[k*32+l] = tokens
		}
		for i, x := range oz {
			c.Count[k*32*14336+i] = uint64(x)
		}
		c.TagNames = append(c.TagNames, v.Chinese())
	}
	out, md, _ := writeReport(t, Inputs{Counts: c})
	mustContain(t, md, "| 富强 | Prosperity | — | 65155 |", "### pooled over languages")
	// The VAPE cut-off lies within [0, ln 12].
	i := strings.Index(md, "| VAPE cut-off | ")
	if i < 0 {
		t.Fatal("no VAPE cut-off")
	}
	f, err := strconv.ParseFloat(strings.Fields(md[i+len("| VAPE cut-off | "):])[0], 64)
	if err != nil || f < 0 || f > math.Log(12) {
		t.Errorf("VAPE cut-off %v (%v) outside [0, ln 12]", f, err)
	}
	if os.Getenv("REPORT_PREVIEW") != "" {
		copyDir(t, out, filepath.Join(os.Getenv("REPORT_PREVIEW"), "authors-counts"))
	}
}

// copyDir copies a report to the preview folder.
func copyDir(t *testing.T, from, to string) {
	t.Helper()
	if err := os.CopyFS(to, os.DirFS(from)); err != nil {
		t.Fatal(err)
	}
}
