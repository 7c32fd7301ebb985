package cvoice

import (
	"bytes"
	"errors"
	"strings"
	"testing"

	"github.com/valueexploration/valueexp/valueexp/cvoice/xlsx/xlsxtest"
)

// itemWithLine returns a valid item whose JSONL line, newline included, is
// exactly n bytes.
func itemWithLine(t *testing.T, n int) Item {
	t.Helper()
	it := Item{ID: "zh-act-integrity-0001", Value: Integrity, Language: LangChinese, Split: Activation, Conflict: "财富", Aligned: "a", Violating: "b", NoRationale: true}
	var buf bytes.Buffer
	if err := encodeItem(&buf, it); err != nil {
		t.Fatal(err)
	}
	it.Context = strings.Repeat("x", n-buf.Len())
	return it
}

// TestLineLimitAgreesWithReader checks that the writer's limit is the
// reader's: the longest line WriteJSONL writes is read back, one byte more
// is refused by both.
func TestLineLimitAgreesWithReader(t *testing.T) {
	longest := itemWithLine(t, MaxLineBytes)
	var buf bytes.Buffer
	if err := WriteJSONL(&buf, []Item{longest}); err != nil {
		t.Fatalf("writing a %d-byte line: %v", MaxLineBytes, err)
	}
	if buf.Len() != MaxLineBytes {
		t.Fatalf("line is %d bytes, want %d", buf.Len(), MaxLineBytes)
	}
	if items, err := ReadJSONL(&buf, "max.jsonl"); err != nil || len(items) != 1 {
		t.Fatalf("reading the longest written line: %v", err)
	}

	over := itemWithLine(t, MaxLineBytes+1)
	buf.Reset()
	if err := WriteJSONL(&buf, []Item{over}); !errors.Is(err, ErrLineTooLong) || !strings.Contains(err.Error(), over.ID) || buf.Len() != 0 {
		t.Errorf("writing a line one byte over: %v (%d bytes written), want ErrLineTooLong naming %s", err, buf.Len(), over.ID)
	}
	var enc bytes.Buffer
	if err := encodeItem(&enc, over); err != nil {
		t.Fatal(err)
	}
	if _, err := ReadJSONL(&enc, "over.jsonl"); !errors.Is(err, ErrLineTooLong) {
		t.Errorf("reading a line one byte over: %v, want ErrLineTooLong", err)
	}
}

// TestImportRefusesOverlongItem is issue 14 case 11a: a workbook cell long
// enough to make a JSONL line that record refuses is refused at import,
// naming the file, sheet and row.
func TestImportRefusesOverlongItem(t *testing.T) {
	story := strings.Repeat("很长", MaxLineBytes/6+1) // 3 bytes a character: over the limit
	p := writeSheets(t, "eval.xlsx", xlsxtest.Sheet{Name: "诚信", Inline: true, Rows: [][]string{
		evalHeaderRow,
		{"诚信 vs 个人形象", "short story", "keep word", "break word"},
		{"诚信 vs 个人形象", story, "keep word", "break word"},
	}})
	_, err := ImportXLSX(p)
	if !errors.Is(err, ErrLineTooLong) || !strings.Contains(err.Error(), "eval.xlsx: sheet 诚信: row 3") {
		t.Fatalf("err = %v, want ErrLineTooLong naming eval.xlsx row 3", err)
	}
}
