package cvoice

import (
	"errors"
	"fmt"
	"path/filepath"
	"regexp"
	"slices"
	"strings"

	"github.com/valueexploration/valueexp/valueexp/cvoice/xlsx"
)

// The authors' two workbook layouts (valueexp/METHOD.md §2.2), told apart by header.
var (
	// evaluationHeader is test-zh-200.xlsx: one sheet per value, named by it.
	evaluationHeader = []string{"Type", "Context", "Action1", "Action2"}
	// activationHeader is {value}-final.xlsx: one sheet, the value in the
	// file name; options carry "A. "/"B. " prefixes.
	activationHeader = []string{"冲突类型", "决策困境", "选择A", "选择B"}
)

// ImportOptions adjusts ImportXLSXWith.
type ImportOptions struct {
	// SkipIncomplete turns a row with some but not all of its four cells
	// filled from an error into an entry of ImportResult.Skipped. The
	// authors' test-zh-200.xlsx has 9 such rows (a story without actions);
	// their published per-sheet counts leave them out.
	SkipIncomplete bool
}

// ImportResult is what an import produced.
type ImportResult struct {
	Items []Item
	// Skipped lists incomplete rows left out under SkipIncomplete.
	Skipped []SkippedRow
}

// SkippedRow names an incomplete row and its empty required cells.
type SkippedRow struct {
	File, Sheet string
	Row         int
	Empty       []string // header names of the empty cells, e.g. ["Action2"]
}

func (s SkippedRow) String() string {
	return fmt.Sprintf("%s: sheet %s: row %d: empty %s", s.File, s.Sheet, s.Row, strings.Join(s.Empty, ", "))
}

// ImportXLSX reads the authors' C-voice workbooks, telling the layout of
// each sheet by its header, and returns their items in file, sheet and row
// order. It is strict: any incomplete row is an error naming file, sheet and
// row ("test-zh-200.xlsx: sheet 诚信: row 17: empty Action2"). Use
// ImportXLSXWith to skip such rows instead.
//
// Evaluation sheets (header Type, Context, Action1, Action2; sheet named by
// the value) become zh evaluation items with ids zh-eval-{slug}-{row:04d};
// activation sheets (header 冲突类型, 决策困境, 选择A, 选择B; file named
// {value}-final.xlsx) become zh activation items with ids
// zh-act-{slug}-{row:04d} and NoRationale set, since the authors' dilemmas
// have none. Action1/选择A is the aligned choice; the conflict is the text
// after "vs" in the first column, normalised (see ConflictFromType).
// Completely empty rows and sheets are skipped. Extra columns are accepted
// only when their data cells are all empty, so no text is silently dropped.
func ImportXLSX(paths ...string) ([]Item, error) {
	res, err := ImportXLSXWith(ImportOptions{}, paths...)
	return res.Items, err
}

// ImportXLSXWith is ImportXLSX with options. It reports up to
// MaxReportedErrors problems at once; ids must be unique across all files.
func ImportXLSXWith(opts ImportOptions, paths ...string) (ImportResult, error) {
	var res ImportResult
	var errs []error
	seen := map[string]string{}
	for _, p := range paths {
		wb, err := xlsx.Open(p)
		if err != nil {
			errs = append(errs, fmt.Errorf("cvoice: %w", err))
			continue
		}
		file := filepath.Base(p)
		for _, sh := range wb.Sheets {
			items, skipped, sheetErrs := importSheet(opts, file, sh)
			errs = append(errs, sheetErrs...)
			res.Skipped = append(res.Skipped, skipped...)
			for _, it := range items {
				if first, dup := seen[it.ID]; dup {
					errs = append(errs, fmt.Errorf("%s: duplicate id %q (also from %s)", it.Source, it.ID, first))
					continue
				}
				if err := checkLineLength(it); err != nil {
					errs = append(errs, fmt.Errorf("%s: item %s: %w", it.Source, it.ID, err))
					continue
				}
				seen[it.ID] = it.Source
				res.Items = append(res.Items, it)
			}
		}
	}
	if len(errs) > 0 {
		return ImportResult{}, joinErrors(errs)
	}
	return res, nil
}

// ImportAuthors imports the authors' folder (test-zh-200.xlsx and the twelve
// {value}-final.xlsx) skipping incomplete rows, the one choice under which
// the result matches the authors' published counts.
func ImportAuthors(dir string) (ImportResult, error) {
	finals, err := filepath.Glob(filepath.Join(dir, "*-final.xlsx"))
	if err != nil {
		return ImportResult{}, fmt.Errorf("cvoice: %w", err)
	}
	slices.Sort(finals)
	paths := append([]string{filepath.Join(dir, "test-zh-200.xlsx")}, finals...)
	return ImportXLSXWith(ImportOptions{SkipIncomplete: true}, paths...)
}

// reOptionPrefix matches the "A. " / "B. " the activation workbooks put before
// each option (also "A．", "A、", "A:" and no space).
var reOptionPrefix = regexp.MustCompile(`^\s*([ABab])\s*[.．、:：]\s*`)

func importSheet(opts ImportOptions, file string, sh xlsx.Sheet) ([]Item, []SkippedRow, []error) {
	where := func(row int) string { return fmt.Sprintf("%s: sheet %s: row %d", file, sh.Name, row) }
	var rows []xlsx.Row
	for _, r := range sh.Rows {
		if !r.Blank() {
			rows = append(rows, r)
		}
	}
	if len(rows) == 0 {
		return nil, nil, nil
	}
	header := rows[0]
	var split Split
	var names []string
	switch {
	case headerIs(header, evaluationHeader):
		split, names = Evaluation, evaluationHeader
	case headerIs(header, activationHeader):
		split, names = Activation, activationHeader
	default:
		return nil, nil, []error{fmt.Errorf("%s: unrecognised header %q (want %s or %s)", where(header.Num),
			firstCells(header, 4), strings.Join(evaluationHeader, ", "), strings.Join(activationHeader, ", "))}
	}
	value, err := sheetValue(split, file, sh.Name)
	if err != nil {
		return nil, nil, []error{err}
	}
	var (
		items   []Item
		skipped []SkippedRow
		errs    []error
	)
	for _, r := range rows[1:] {
		var extra []string
		for _, c := range r.Cells {
			if c.Col >= len(names) && strings.TrimSpace(c.Text) != "" {
				extra = append(extra, fmt.Sprintf("%s%d", xlsx.ColumnName(c.Col), r.Num))
			}
		}
		if len(extra) > 0 {
			errs = append(errs, fmt.Errorf("%s: unexpected data in %s beyond the %d header columns", where(r.Num), strings.Join(extra, ", "), len(names)))
			continue
		}
		cells := make([]string, len(names))
		var empty []string
		for i := range names {
			cells[i] = strings.TrimSpace(r.Value(i))
			if cells[i] == "" {
				empty = append(empty, names[i])
			}
		}
		if len(empty) > 0 {
			if opts.SkipIncomplete {
				skipped = append(skipped, SkippedRow{File: file, Sheet: sh.Name, Row: r.Num, Empty: empty})
			} else {
				errs = append(errs, fmt.Errorf("%s: empty %s", where(r.Num), strings.Join(empty, ", ")))
			}
			continue
		}
		it := Item{
			Value:     value,
			Language:  LangChinese,
			Split:     split,
			Conflict:  ConflictFromType(cells[0]),
			Context:   cells[1],
			Aligned:   cells[2],
			Violating: cells[3],
			Source:    where(r.Num),
		}
		if split == Evaluation {
			it.ID = fmt.Sprintf("zh-eval-%s-%04d", value.Slug(), r.Num)
		} else {
			it.ID = fmt.Sprintf("zh-act-%s-%04d", value.Slug(), r.Num)
			it.NoRationale = true
			var perr error
			if it.Aligned, perr = stripOption(it.Aligned, "A"); perr == nil {
				it.Violating, perr = stripOption(it.Violating, "B")
			}
			if perr != nil {
				errs = append(errs, fmt.Errorf("%s: %w", where(r.Num), perr))
				continue
			}
		}
		if it.Conflict == "" {
			errs = append(errs, fmt.Errorf("%s: %s %q names no conflict", where(r.Num), names[0], cells[0]))
			continue
		}
		if err := it.Validate(); err != nil {
			errs = append(errs, fmt.Errorf("%s: %w", where(r.Num), err))
			continue
		}
		items = append(items, it)
	}
	return items, skipped, errs
}

// stripOption removes the option letter want from s. A missing prefix is
// fine; the other letter means the columns are swapped, which would invert
// aligned and violating, so it is an error.
func stripOption(s, want string) (string, error) {
	m := reOptionPrefix.FindStringSubmatch(s)
	if m == nil {
		return s, nil
	}
	if !strings.EqualFold(m[1], want) {
		return "", fmt.Errorf("option %q starts with %q where %s. was expected (columns swapped?)", abbreviate(s), m[1], want)
	}
	rest := strings.TrimSpace(s[len(m[0]):])
	if rest == "" {
		return "", fmt.Errorf("option %q has only its letter", s)
	}
	return rest, nil
}

func headerIs(r xlsx.Row, want []string) bool {
	for i, w := range want {
		if !strings.EqualFold(strings.TrimSpace(r.Value(i)), w) {
			return false
		}
	}
	return true
}

func firstCells(r xlsx.Row, n int) []string {
	out := make([]string, n)
	for i := range out {
		out[i] = r.Value(i)
	}
	return out
}

// sheetValue decides which value a sheet holds: evaluation sheets are named
// by it; activation workbooks by their file name "{value}-final.xlsx" (the
// sheet is usually "Sheet1"), falling back to the sheet name.
func sheetValue(split Split, file, sheet string) (Value, error) {
	if split == Activation {
		stem := strings.TrimSuffix(file, filepath.Ext(file))
		stem = strings.TrimSuffix(stem, "-final")
		if v, ok := LookupValue(stem); ok {
			return v, nil
		}
	}
	if v, ok := LookupValue(sheet); ok {
		return v, nil
	}
	if split == Activation {
		return 0, fmt.Errorf("%s: sheet %s: neither the file name nor the sheet name is one of the 12 values (want e.g. 诚信-final.xlsx)", file, sheet)
	}
	return 0, errors.New(file + ": sheet " + sheet + ": sheet name is not one of the 12 values (want one of " + valueNames() + ")")
}
