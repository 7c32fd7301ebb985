package xlsx_test

import (
	"bytes"
	"testing"

	"github.com/valueexploration/valueexp/valueexp/cvoice/xlsx"
	"github.com/valueexploration/valueexp/valueexp/cvoice/xlsx/xlsxtest"
)

// fuzzLimits keeps each fuzz input cheap while still exercising the limits.
var fuzzLimits = xlsx.Limits{MaxPartBytes: 1 << 20, MaxTotalBytes: 4 << 20, MaxRows: 1000, MaxColumns: 100, MaxSharedStrings: 1000}

// checkWorkbook asserts the invariants Read promises for any workbook it
// accepts: ascending row numbers and, within a row, ascending columns.
func checkWorkbook(t *testing.T, wb *xlsx.Workbook) {
	for _, s := range wb.Sheets {
		last := 0
		for _, r := range s.Rows {
			if r.Num <= last || r.Num > fuzzLimits.MaxRows {
				t.Fatalf("sheet %q: row %d after %d", s.Name, r.Num, last)
			}
			last = r.Num
			lastCol := -1
			for _, c := range r.Cells {
				if c.Col <= lastCol || c.Col >= fuzzLimits.MaxColumns {
					t.Fatalf("sheet %q row %d: column %d after %d", s.Name, r.Num, c.Col, lastCol)
				}
				lastCol = c.Col
			}
		}
	}
}

// FuzzRead feeds whole archives to Read.
func FuzzRead(f *testing.F) {
	f.Add(xlsxtest.Build(xlsxtest.Sheet{Name: "诚信", Rows: [][]string{{"Type", "Context", "Action1", "Action2"}, {"诚信 vs 个人形象", "c", "a", "b"}}}))
	f.Add(xlsxtest.Build(xlsxtest.Sheet{Name: "Sheet1", Inline: true, Rows: [][]string{{"冲突类型", "决策困境", "选择A", "选择B"}, {"x", "", "A. y", "B. z"}}}))
	f.Add([]byte("PK\x03\x04"))
	f.Add([]byte{})
	f.Fuzz(func(t *testing.T, data []byte) {
		wb, err := xlsx.Read(bytes.NewReader(data), int64(len(data)), fuzzLimits)
		if err == nil {
			checkWorkbook(t, wb)
		}
	})
}

// FuzzSheetParts wraps fuzzed worksheet and shared-string XML in a valid
// archive, so the fuzzer spends its time in the XML handling.
func FuzzSheetParts(f *testing.F) {
	f.Add(`<worksheet><sheetData><row r="1"><c r="A1" t="s"><v>0</v></c><c r="C1" t="inlineStr"><is><r><t>a</t></r><r><t>b</t></r></is></c></row><row><c><v>1.5</v></c><c t="b"><v>0</v></c></row></sheetData></worksheet>`,
		`<sst><si><r><t>rich</t></r><rPh><t>ph</t></rPh></si><si><t>x</t></si></sst>`)
	f.Add(`<worksheet><sheetData><row r="3"><c r="B3" t="str"><f>1</f><v>s</v></c></row></sheetData></worksheet>`, `<sst/>`)
	f.Add(`<row r="1"><c r="A1" t="s"><v>9</v></c></row>`, `<si><t>`)
	f.Fuzz(func(t *testing.T, sheet, shared string) {
		data := handWorkbook(sheet, shared)
		wb, err := xlsx.Read(bytes.NewReader(data), int64(len(data)), fuzzLimits)
		if err == nil {
			checkWorkbook(t, wb)
		}
	})
}
