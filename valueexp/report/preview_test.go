package report

import (
	"encoding/json"
	"fmt"
	"os"
	"path/filepath"
	"testing"

	"github.com/valueexploration/valueexp/valueexp/cvoice"
	"github.com/valueexploration/valueexp/valueexp/evaluate"
)

// TestPreview writes example reports under $REPORT_PREVIEW for a person to
// look at: the fixtures, and a full grid of 24 sets with random controls.
func TestPreview(t *testing.T) {
	dir := os.Getenv("REPORT_PREVIEW")
	if dir == "" {
		t.Skip("set REPORT_PREVIEW=DIR to write preview reports")
	}
	if _, err := Write(filepath.Join(dir, "fixture"), Inputs{Counts: fixtureCounts(), Neurons: fixtureNeurons(), Results: fixtureResults(true), Demo: true}); err != nil {
		t.Fatal(err)
	}
	// The fixture inputs as files, for trying "valueexp report" by hand.
	if err := fixtureNeurons().Save(filepath.Join(dir, "neurons.json")); err != nil {
		t.Fatal(err)
	}
	if err := fixtureCounts().Save(filepath.Join(dir, "counts.safetensors")); err != nil {
		t.Fatal(err)
	}
	rj, err := json.MarshalIndent(fixtureResults(true), "", "  ")
	if err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(filepath.Join(dir, "results.json"), rj, 0o644); err != nil {
		t.Fatal(err)
	}
	deg := degenerateInputs(t)
	for i, in := range deg {
		if _, err := Write(filepath.Join(dir, fmt.Sprintf("degenerate%d", i)), in); err != nil {
			t.Fatal(err)
		}
	}
	if _, err := Write(filepath.Join(dir, "grid"), Inputs{Neurons: fixtureNeurons(), Results: gridResults()}); err != nil {
		t.Fatal(err)
	}
}

// gridResults evaluates every value set of both languages with a random
// control, on both languages: 49 conditions.
func gridResults() *evaluate.Results {
	r := &evaluate.Results{Model: "grid", Mode: evaluate.Generation, SwapOrder: true}
	conds := []evaluate.Condition{{Name: "none", Kind: "none"}}
	for _, lang := range []string{"zh", "en"} {
		for v := range cvoice.Value(cvoice.NumValues) {
			name := v.Chinese() + "/" + lang
			conds = append(conds, evaluate.Condition{Name: name, Kind: "deactivate", Set: name, Value: v.Chinese()})
		}
	}
	n := len(conds)
	for _, c := range conds[1:n] {
		conds = append(conds, evaluate.Condition{Name: "random:" + c.Name, Kind: "random", Set: c.Name, Value: c.Value, ControlOf: c.Name})
	}
	r.Conditions = conds
	for i, c := range conds {
		for _, lang := range []string{"zh", "en"} {
			for v := range cvoice.Value(cvoice.NumValues) {
				s := 70 - float64((i*7+int(v)*3)%11)
				if c.Kind == "deactivate" && c.Value == v.Chinese() {
					s -= 25
				}
				r.Cells = append(r.Cells, evaluate.Cell{Condition: c.Name, Value: v.Chinese(), ValueEnglish: v.English(), Language: lang, Items: 100, Answered: 97, ParseFailures: 3, SupportRate: s, AlignedChoiceRate: s / 100})
			}
		}
	}
	return r
}
