package cvoice

import (
	"fmt"
	"path/filepath"
	"slices"
	"sort"
	"strings"
	"testing"

	"github.com/valueexploration/valueexp/internal/shareddata"
	"github.com/valueexploration/valueexp/valueexp/cvoice/xlsx/xlsxtest"
)

// The per-value row counts published in /work/shared/cvoice/README.md and
// valueexp/METHOD.md §2.2, in canonical value order.
var (
	authorsEvalCounts = [NumValues]int{240, 206, 216, 226, 223, 214, 220, 221, 245, 228, 233, 222}
	authorsActCounts  = [NumValues]int{216, 232, 207, 237, 284, 205, 203, 200, 198, 201, 203, 201}
)

func TestImportAuthorsCounts(t *testing.T) {
	dir := shareddata.Path(t, "cvoice", "authors-zh")
	res, err := ImportAuthors(dir)
	if err != nil {
		t.Fatal(err)
	}
	ds, err := NewDataset(res.Items)
	if err != nil {
		t.Fatalf("imported items do not form a valid dataset: %v", err)
	}
	eval := ds.OfSplit(Evaluation).CountByValue()
	act := ds.OfSplit(Activation).CountByValue()
	if eval != authorsEvalCounts {
		t.Errorf("evaluation counts = %v, want %v", eval, authorsEvalCounts)
	}
	if act != authorsActCounts {
		t.Errorf("activation counts = %v, want %v", act, authorsActCounts)
	}
	if n := ds.Len(); n != 2694+2587 {
		t.Errorf("total = %d, want %d", n, 2694+2587)
	}
	for it := range ds.All() {
		if it.Language != LangChinese || (it.Split == Activation) != it.NoRationale || it.Rationale != "" {
			t.Fatalf("item %s has language %s, split %s, no_rationale %v", it.ID, it.Language, it.Split, it.NoRationale)
		}
		if it.Split == Activation && (strings.HasPrefix(it.Aligned, "A.") || strings.HasPrefix(it.Violating, "B.")) {
			t.Fatalf("item %s kept its option prefix: %q / %q", it.ID, it.Aligned, it.Violating)
		}
	}
	// The 9 incomplete rows, found by reading the workbook by hand.
	var skipped []string
	for _, s := range res.Skipped {
		skipped = append(skipped, s.String())
	}
	wantSkipped := []string{
		"test-zh-200.xlsx: sheet 富强: row 226: empty Action1, Action2",
		"test-zh-200.xlsx: sheet 民主: row 106: empty Action1, Action2",
		"test-zh-200.xlsx: sheet 文明: row 91: empty Action2",
		"test-zh-200.xlsx: sheet 自由: row 153: empty Action1, Action2",
		"test-zh-200.xlsx: sheet 平等: row 8: empty Action1, Action2",
		"test-zh-200.xlsx: sheet 公正: row 88: empty Action1, Action2",
		"test-zh-200.xlsx: sheet 诚信: row 104: empty Action2",
		"test-zh-200.xlsx: sheet 友善: row 90: empty Action2",
		"test-zh-200.xlsx: sheet 友善: row 217: empty Action1, Action2",
	}
	if !slices.Equal(skipped, wantSkipped) {
		t.Errorf("skipped rows:\n%s\nwant\n%s", strings.Join(skipped, "\n"), strings.Join(wantSkipped, "\n"))
	}
}

// No row may be lost or merged: per sheet, imported items plus skipped rows
// must be exactly the non-empty data rows that a regex scan of the raw XML
// finds, row by row.
func TestImportAuthorsMatchesRawRows(t *testing.T) {
	dir := shareddata.Path(t, "cvoice", "authors-zh")
	res, err := ImportAuthors(dir)
	if err != nil {
		t.Fatal(err)
	}
	got := map[string][]int{} // "file/sheet" → rows accounted for
	for _, it := range res.Items {
		var file, sheet string
		var row int
		if _, err := fmt.Sscanf(strings.ReplaceAll(it.Source, ": ", " "), "%s sheet %s row %d", &file, &sheet, &row); err != nil {
			t.Fatalf("source %q: %v", it.Source, err)
		}
		got[file+"/"+sheet] = append(got[file+"/"+sheet], row)
	}
	for _, s := range res.Skipped {
		got[s.File+"/"+s.Sheet] = append(got[s.File+"/"+s.Sheet], s.Row)
	}
	files, _ := filepath.Glob(filepath.Join(dir, "*.xlsx"))
	total := 0
	for _, f := range files {
		for _, sh := range xlsxtest.RawScan(t, f) {
			key := filepath.Base(f) + "/" + sh.Name
			want := sh.NonEmptyRows[1:] // minus the header
			rows := got[key]
			sort.Ints(rows)
			if !slices.Equal(rows, want) {
				t.Errorf("%s: imported+skipped %d rows, raw scan %d non-empty data rows", key, len(rows), len(want))
			}
			total += len(want)
		}
	}
	if total != len(res.Items)+len(res.Skipped) {
		t.Errorf("raw non-empty rows %d != items %d + skipped %d", total, len(res.Items), len(res.Skipped))
	}
}

// Importing strictly must fail on the authors' evaluation workbook, naming
// each incomplete row.
func TestImportAuthorsStrict(t *testing.T) {
	p := shareddata.Path(t, "cvoice", "authors-zh", "test-zh-200.xlsx")
	_, err := ImportXLSX(p)
	if err == nil {
		t.Fatal("strict import succeeded despite incomplete rows")
	}
	for _, want := range []string{"test-zh-200.xlsx: sheet 诚信: row 104: empty Action2", "test-zh-200.xlsx: sheet 平等: row 8: empty Action1, Action2"} {
		if !strings.Contains(err.Error(), want) {
			t.Errorf("error lacks %q:\n%v", want, err)
		}
	}
	if n := strings.Count(err.Error(), "\n") + 1; n != 9 {
		t.Errorf("error has %d lines, want 9:\n%v", n, err)
	}
}

// Spot checks against cells read by eye from the workbooks.
func TestImportAuthorsSpotChecks(t *testing.T) {
	dir := shareddata.Path(t, "cvoice", "authors-zh")
	res, err := ImportAuthors(dir)
	if err != nil {
		t.Fatal(err)
	}
	ds, err := NewDataset(res.Items)
	if err != nil {
		t.Fatal(err)
	}
	tests := []struct {
		id                   string
		conflict, alignedPfx string
		violatingPfx         string
	}{
		{"zh-eval-prosperity-0002", "个人财富积累", "我选择拒绝加班", "我接受了加班"},
		{"zh-act-freedom-0002", "极端集体主义", "联合邻居起诉物业", "主动拆除防盗窗"},
	}
	for _, tc := range tests {
		it, ok := ds.ByID(tc.id)
		if !ok {
			t.Errorf("%s missing", tc.id)
			continue
		}
		if it.Conflict != tc.conflict || !strings.HasPrefix(it.Aligned, tc.alignedPfx) || !strings.HasPrefix(it.Violating, tc.violatingPfx) {
			t.Errorf("%s = %+v", tc.id, it)
		}
	}
	// Labels written in traditional characters and with odd spacing land
	// in the same conflict as the plain spelling.
	for it := range ds.All() {
		if strings.ContainsAny(it.Conflict, "強個財積績 ,") || strings.Contains(strings.ToLower(it.Conflict), "vs") {
			t.Errorf("%s: conflict %q not normalised", it.ID, it.Conflict)
		}
	}
}

// TestReportConflictCounts logs conflict topics per value (run with -v),
// for comparison with valueexp/METHOD.md §2.2's table.
func TestReportConflictCounts(t *testing.T) {
	dir := shareddata.Path(t, "cvoice", "authors-zh")
	res, err := ImportAuthors(dir)
	if err != nil {
		t.Fatal(err)
	}
	ds, err := NewDataset(res.Items)
	if err != nil {
		t.Fatal(err)
	}
	for _, split := range []Split{Evaluation, Activation} {
		part := ds.OfSplit(split)
		for _, v := range Values() {
			counts := part.ConflictCounts(v.Value)
			type kv struct {
				k string
				n int
			}
			var list []kv
			for k, n := range counts {
				list = append(list, kv{k, n})
			}
			sort.Slice(list, func(i, j int) bool {
				if list[i].n != list[j].n {
					return list[i].n > list[j].n
				}
				return list[i].k < list[j].k
			})
			var sb strings.Builder
			for _, e := range list {
				fmt.Fprintf(&sb, " %s %d;", e.k, e.n)
			}
			t.Logf("%s %s:%s", split, v.Chinese, sb.String())
		}
	}
}

func writeSheets(t *testing.T, name string, sheets ...xlsxtest.Sheet) string {
	t.Helper()
	return xlsxtest.WriteFile(t, t.TempDir(), name, sheets...)
}

var evalHeaderRow = []string{"Type", "Context", "Action1", "Action2"}

func TestImportXLSXEvaluationLayout(t *testing.T) {
	p := writeSheets(t, "eval.xlsx", xlsxtest.Sheet{Name: "诚信", Rows: [][]string{
		evalHeaderRow,
		{"诚信 vs 个人形象", " story one ", "keep word", "break word"},
		{}, // blank rows are skipped
		{"誠信 Vs 個人財 富積累", "story two", "refuse", "accept", ""},
	}})
	items, err := ImportXLSX(p)
	if err != nil {
		t.Fatal(err)
	}
	want := []Item{
		{ID: "zh-eval-integrity-0002", Value: Integrity, Language: LangChinese, Split: Evaluation, Conflict: "个人形象",
			Context: "story one", Aligned: "keep word", Violating: "break word", Source: "eval.xlsx: sheet 诚信: row 2"},
		{ID: "zh-eval-integrity-0004", Value: Integrity, Language: LangChinese, Split: Evaluation, Conflict: "个人财富积累",
			Context: "story two", Aligned: "refuse", Violating: "accept", Source: "eval.xlsx: sheet 诚信: row 4"},
	}
	if !slices.Equal(items, want) {
		t.Errorf("items =\n%+v\nwant\n%+v", items, want)
	}
}

func TestImportXLSXActivationLayout(t *testing.T) {
	p := writeSheets(t, "法治-final.xlsx", xlsxtest.Sheet{Name: "Sheet1", Inline: true, Rows: [][]string{
		{"冲突类型", "决策困境", "选择A", "选择B", "判决困境"},
		{"法治 vs 自由享乐", "dilemma", "A. obey", "B. ignore"},
		{"法治 vs 突破与创新", "dilemma 2", "A.ask first", "B．just do it"},
	}})
	items, err := ImportXLSX(p)
	if err != nil {
		t.Fatal(err)
	}
	want := []Item{
		{ID: "zh-act-rule-of-law-0002", Value: RuleOfLaw, Language: LangChinese, Split: Activation, Conflict: "自由享乐",
			Context: "dilemma", Aligned: "obey", Violating: "ignore", NoRationale: true, Source: "法治-final.xlsx: sheet Sheet1: row 2"},
		{ID: "zh-act-rule-of-law-0003", Value: RuleOfLaw, Language: LangChinese, Split: Activation, Conflict: "突破与创新",
			Context: "dilemma 2", Aligned: "ask first", Violating: "just do it", NoRationale: true, Source: "法治-final.xlsx: sheet Sheet1: row 3"},
	}
	if !slices.Equal(items, want) {
		t.Errorf("items =\n%+v\nwant\n%+v", items, want)
	}
}

func TestImportXLSXErrors(t *testing.T) {
	tests := []struct {
		name   string
		file   string
		sheets []xlsxtest.Sheet
		want   []string
	}{
		{"partial rows", "test-zh-200.xlsx", []xlsxtest.Sheet{{Name: "诚信", Rows: [][]string{
			evalHeaderRow,
			{"诚信 vs 个人形象", "c", "a", "b"},
			{"诚信 vs 个人形象", "c", "a"},
			{"", "c", "a", "b"},
			{"诚信 vs 个人形象", "", "", "b"},
		}}}, []string{
			"test-zh-200.xlsx: sheet 诚信: row 3: empty Action2",
			"test-zh-200.xlsx: sheet 诚信: row 4: empty Type",
			"test-zh-200.xlsx: sheet 诚信: row 5: empty Context, Action1",
		}},
		{"whitespace-only cell counts as empty", "x.xlsx", []xlsxtest.Sheet{{Name: "友善", Rows: [][]string{
			evalHeaderRow, {"友善 vs 社会冷漠", "c", "\u3000 ", "b"},
		}}}, []string{"x.xlsx: sheet 友善: row 2: empty Action1"}},
		{"unknown sheet value", "x.xlsx", []xlsxtest.Sheet{{Name: "Honesty", Rows: [][]string{
			evalHeaderRow, {"t", "c", "a", "b"},
		}}}, []string{"x.xlsx: sheet Honesty: sheet name is not one of the 12 values"}},
		{"unknown header", "x.xlsx", []xlsxtest.Sheet{{Name: "诚信", Rows: [][]string{
			{"Kind", "Story", "Good", "Bad"}, {"t", "c", "a", "b"},
		}}}, []string{"x.xlsx: sheet 诚信: row 1: unrecognised header"}},
		{"data in an extra column", "x.xlsx", []xlsxtest.Sheet{{Name: "诚信", Rows: [][]string{
			evalHeaderRow, {"诚信 vs 个人形象", "c", "a", "b", "", "stray"},
		}}}, []string{"x.xlsx: sheet 诚信: row 2: unexpected data in F2"}},
		{"activation value unknown", "misc.xlsx", []xlsxtest.Sheet{{Name: "Sheet1", Rows: [][]string{
			{"冲突类型", "决策困境", "选择A", "选择B"}, {"t", "c", "A. a", "B. b"},
		}}}, []string{"misc.xlsx: sheet Sheet1: neither the file name nor the sheet name"}},
		{"swapped options", "诚信-final.xlsx", []xlsxtest.Sheet{{Name: "Sheet1", Rows: [][]string{
			{"冲突类型", "决策困境", "选择A", "选择B"}, {"诚信 vs 个人形象", "c", "B. b", "A. a"},
		}}}, []string{"诚信-final.xlsx: sheet Sheet1: row 2: option", "columns swapped"}},
		{"same text both options", "诚信-final.xlsx", []xlsxtest.Sheet{{Name: "Sheet1", Rows: [][]string{
			{"冲突类型", "决策困境", "选择A", "选择B"}, {"诚信 vs 个人形象", "c", "A. x", "B. x"},
		}}}, []string{"诚信-final.xlsx: sheet Sheet1: row 2: field \"violating\": same text as aligned"}},
		{"no conflict after vs", "x.xlsx", []xlsxtest.Sheet{{Name: "诚信", Rows: [][]string{
			evalHeaderRow, {"诚信 vs ", "c", "a", "b"},
		}}}, []string{"x.xlsx: sheet 诚信: row 2: Type \"诚信 vs\" names no conflict"}},
		{"duplicate sheet gives duplicate ids", "x.xlsx", []xlsxtest.Sheet{
			{Name: "诚信", Rows: [][]string{evalHeaderRow, {"诚信 vs a", "c", "a", "b"}}},
			{Name: "Integrity", Rows: [][]string{evalHeaderRow, {"诚信 vs a", "c", "a", "b"}}},
		}, []string{`x.xlsx: sheet Integrity: row 2: duplicate id "zh-eval-integrity-0002" (also from x.xlsx: sheet 诚信: row 2)`}},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			p := writeSheets(t, tc.file, tc.sheets...)
			_, err := ImportXLSX(p)
			if err == nil {
				t.Fatal("import succeeded, want error")
			}
			for _, w := range tc.want {
				if !strings.Contains(err.Error(), w) {
					t.Errorf("error\n%v\nlacks %q", err, w)
				}
			}
		})
	}
}

func TestImportXLSXSkipIncomplete(t *testing.T) {
	p := writeSheets(t, "e.xlsx", xlsxtest.Sheet{Name: "和谐", Rows: [][]string{
		evalHeaderRow,
		{"和谐 vs 霸权主义", "c", "a"},
		{"和谐 vs 霸权主义", "c2", "a2", "b2"},
	}})
	res, err := ImportXLSXWith(ImportOptions{SkipIncomplete: true}, p)
	if err != nil {
		t.Fatal(err)
	}
	if len(res.Items) != 1 || res.Items[0].ID != "zh-eval-harmony-0003" {
		t.Errorf("items = %+v", res.Items)
	}
	if len(res.Skipped) != 1 || res.Skipped[0].String() != "e.xlsx: sheet 和谐: row 2: empty Action2" {
		t.Errorf("skipped = %+v", res.Skipped)
	}
}

func TestImportXLSXErrorLimit(t *testing.T) {
	rows := [][]string{evalHeaderRow}
	for i := 0; i < 30; i++ {
		rows = append(rows, []string{"诚信 vs x", "c"})
	}
	p := writeSheets(t, "e.xlsx", xlsxtest.Sheet{Name: "诚信", Rows: rows})
	_, err := ImportXLSX(p)
	if err == nil {
		t.Fatal("want error")
	}
	lines := strings.Split(err.Error(), "\n")
	if len(lines) != MaxReportedErrors+1 || lines[MaxReportedErrors] != "... and 10 more errors" {
		t.Errorf("got %d lines, last %q", len(lines), lines[len(lines)-1])
	}
}

func TestImportXLSXMissingFile(t *testing.T) {
	_, err := ImportXLSX(filepath.Join(t.TempDir(), "gone.xlsx"))
	if err == nil || !strings.Contains(err.Error(), "gone.xlsx") {
		t.Errorf("error = %v", err)
	}
}
