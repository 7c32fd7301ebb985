package cvoice

import (
	"bytes"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/valueexploration/valueexp/valueexp/cvoice/xlsx/xlsxtest"
)

// FuzzReadJSONL: the reader never panics, and whatever it accepts is valid,
// survives a write/read round trip unchanged, and has unique ids.
func FuzzReadJSONL(f *testing.F) {
	f.Add(validAct + "\n" + validEval + "\n")
	f.Add(act("no_rationale", "true", "rationale", "", "source", `"s"`))
	f.Add(`{"id": "a", "id": "b"}`)
	f.Add("\ufeff\n\n" + act("value", `"rule of law"`))
	f.Add(`{"id":"x","value":"友善","language":"zh","split":"evaluation","conflict":"c","context":"\u0000","aligned":"a","violating":"b","rationale":""}`)
	f.Add("[1,2]\n{}")
	f.Fuzz(func(t *testing.T, input string) {
		items, err := ReadJSONL(strings.NewReader(input), "fuzz.jsonl")
		if err != nil {
			return
		}
		if err := checkItems(items); err != nil {
			t.Fatalf("accepted invalid items: %v", err)
		}
		var buf bytes.Buffer
		if err := WriteJSONL(&buf, items); err != nil {
			t.Fatalf("cannot write accepted items: %v", err)
		}
		back, err := ReadJSONL(&buf, "again.jsonl")
		if err != nil {
			t.Fatalf("cannot reread written items: %v", err)
		}
		if len(back) != len(items) {
			t.Fatalf("round trip: %d items became %d", len(items), len(back))
		}
		for i := range items {
			if back[i] != items[i] {
				t.Fatalf("round trip changed item %d: %+v → %+v", i, items[i], back[i])
			}
		}
	})
}

// FuzzImportXLSX: arbitrary cell texts in either layout never panic the
// importer, and every imported item is valid.
func FuzzImportXLSX(f *testing.F) {
	f.Add("Type", "Context", "Action1", "Action2", "诚信 vs 个人形象", "story", "a", "b", "诚信")
	f.Add("冲突类型", "决策困境", "选择A", "选择B", "诚信 vs 个人形象", "story", "A. a", "B. b", "Sheet1")
	f.Add("Type", "Context", "Action1", "Action2", "vs", " ", "B.", "A.", "Integrity")
	f.Fuzz(func(t *testing.T, h0, h1, h2, h3, c0, c1, c2, c3, sheet string) {
		dir := t.TempDir()
		p := filepath.Join(dir, "诚信-final.xlsx")
		data := xlsxtest.Build(xlsxtest.Sheet{Name: sheet, Rows: [][]string{{h0, h1, h2, h3}, {c0, c1, c2, c3}}})
		if err := os.WriteFile(p, data, 0o644); err != nil {
			t.Fatal(err)
		}
		res, err := ImportXLSXWith(ImportOptions{SkipIncomplete: true}, p)
		if err != nil {
			return
		}
		if err := checkItems(res.Items); err != nil {
			t.Fatalf("imported invalid items: %v", err)
		}
	})
}
