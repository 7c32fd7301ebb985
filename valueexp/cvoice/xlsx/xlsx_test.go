package xlsx_test

import (
	"archive/zip"
	"bytes"
	"fmt"
	"os"
	"path/filepath"
	"reflect"
	"strings"
	"testing"

	"github.com/valueexploration/valueexp/internal/shareddata"
	"github.com/valueexploration/valueexp/valueexp/cvoice/xlsx"
	"github.com/valueexploration/valueexp/valueexp/cvoice/xlsx/xlsxtest"
)

func TestParseRef(t *testing.T) {
	tests := []struct {
		ref      string
		col, row int
		wantErr  bool
	}{
		{"A1", 0, 1, false},
		{"C17", 2, 17, false},
		{"Z9", 25, 9, false},
		{"AA1", 26, 1, false},
		{"AZ3", 51, 3, false},
		{"XFD1048576", 16383, 1048576, false},
		{"$B$2", 1, 2, false},
		{"", 0, 0, true},
		{"17", 0, 0, true},
		{"C", 0, 0, true},
		{"c17", 0, 0, true},
		{"C07", 0, 0, true},
		{"C1x", 0, 0, true},
		{"ABCD1", 0, 0, true},
		{"A123456789", 0, 0, true},
	}
	for _, tc := range tests {
		col, row, err := xlsx.ParseRef(tc.ref)
		if (err != nil) != tc.wantErr {
			t.Errorf("ParseRef(%q) error = %v, want error %v", tc.ref, err, tc.wantErr)
			continue
		}
		if !tc.wantErr && (col != tc.col || row != tc.row) {
			t.Errorf("ParseRef(%q) = %d, %d; want %d, %d", tc.ref, col, row, tc.col, tc.row)
		}
	}
}

func TestColumnNameRoundTrip(t *testing.T) {
	for _, tc := range []struct {
		col  int
		name string
	}{{0, "A"}, {25, "Z"}, {26, "AA"}, {27, "AB"}, {701, "ZZ"}, {702, "AAA"}, {16383, "XFD"}} {
		if got := xlsx.ColumnName(tc.col); got != tc.name {
			t.Errorf("ColumnName(%d) = %q, want %q", tc.col, got, tc.name)
		}
		col, _, err := xlsx.ParseRef(tc.name + "1")
		if err != nil || col != tc.col {
			t.Errorf("ParseRef(%q) = %d, %v; want %d", tc.name+"1", col, err, tc.col)
		}
	}
}

func read(t *testing.T, data []byte) *xlsx.Workbook {
	t.Helper()
	wb, err := xlsx.Read(bytes.NewReader(data), int64(len(data)), xlsx.Limits{})
	if err != nil {
		t.Fatalf("Read: %v", err)
	}
	return wb
}

func TestReadBuiltWorkbook(t *testing.T) {
	for _, inline := range []bool{false, true} {
		t.Run(fmt.Sprintf("inline=%v", inline), func(t *testing.T) {
			data := xlsxtest.Build(
				xlsxtest.Sheet{Name: "诚信", Inline: inline, Rows: [][]string{
					{"Type", "Context", "Action1", "Action2"},
					{"诚信 vs 个人形象", "a <story> & more", "", "line1\nline2"},
					{},
					{"x", "", "", "", "", "far"},
				}},
				xlsxtest.Sheet{Name: "Second", Inline: inline, Rows: [][]string{{"only"}}},
			)
			wb := read(t, data)
			if len(wb.Sheets) != 2 || wb.Sheets[0].Name != "诚信" || wb.Sheets[1].Name != "Second" {
				t.Fatalf("sheets = %+v", wb.Sheets)
			}
			s := wb.Sheet("诚信")
			// The empty third row has no cells, so it is not listed.
			if got := []int{s.Rows[0].Num, s.Rows[1].Num, s.Rows[2].Num}; len(s.Rows) != 3 || !reflect.DeepEqual(got, []int{1, 2, 4}) {
				t.Fatalf("row numbers = %v (len %d), want [1 2 4]", got, len(s.Rows))
			}
			r := s.Rows[1]
			if r.Value(0) != "诚信 vs 个人形象" || r.Value(1) != "a <story> & more" || r.Value(2) != "" || r.Value(3) != "line1\nline2" {
				t.Errorf("row 2 = %+v", r.Cells)
			}
			if got := s.Rows[2].Value(5); got != "far" {
				t.Errorf("F4 = %q, want far", got)
			}
			if wb.Sheet("missing") != nil {
				t.Error("Sheet(missing) != nil")
			}
		})
	}
}

// Parts of a workbook written by hand, to cover what the builder does not:
// rich-text runs, phonetic hints, numbers, booleans, formula strings, cells
// without references, absolute relationship targets.
func handWorkbook(sheetXML, sharedXML string) []byte {
	return xlsxtest.Zip(map[string]string{
		"_rels/.rels":                `<Relationships xmlns="http://schemas.openxmlformats.org/package/2006/relationships"><Relationship Id="rId1" Type="http://schemas.openxmlformats.org/officeDocument/2006/relationships/officeDocument" Target="/xl/workbook.xml"/></Relationships>`,
		"xl/workbook.xml":            `<workbook xmlns="http://schemas.openxmlformats.org/spreadsheetml/2006/main" xmlns:r="http://schemas.openxmlformats.org/officeDocument/2006/relationships"><sheets><sheet name="S" sheetId="1" r:id="rId7"/></sheets></workbook>`,
		"xl/_rels/workbook.xml.rels": `<Relationships xmlns="http://schemas.openxmlformats.org/package/2006/relationships"><Relationship Id="rId7" Type="http://schemas.openxmlformats.org/officeDocument/2006/relationships/worksheet" Target="/xl/worksheets/s.xml"/><Relationship Id="rId8" Type="http://schemas.openxmlformats.org/officeDocument/2006/relationships/sharedStrings" Target="strings.xml"/></Relationships>`,
		"xl/strings.xml":             sharedXML,
		"xl/worksheets/s.xml":        sheetXML,
	})
}

func TestReadCellKinds(t *testing.T) {
	shared := `<sst xmlns="http://schemas.openxmlformats.org/spreadsheetml/2006/main">` +
		`<si><t>plain</t></si>` +
		`<si><r><rPr><b/></rPr><t>rich </t></r><r><t>text</t></r><rPh sb="0" eb="1"><t>PHONETIC</t></rPh></si>` +
		`<si><t xml:space="preserve">  padded  </t></si>` +
		`</sst>`
	sheet := `<worksheet xmlns="http://schemas.openxmlformats.org/spreadsheetml/2006/main"><sheetData>` +
		`<row r="1"><c r="A1" t="s"><v>0</v></c><c r="C1" t="s"><v>1</v></c><c t="s"><v>2</v></c></row>` +
		`<row><c r="A2"><v>3.25</v></c><c r="B2" t="b"><v>1</v></c><c r="C2" t="str"><f>A1</f><v>formula</v></c><c r="D2" t="inlineStr"><is><r><t>in</t></r><r><t>line</t></r></is></c><c r="E2" s="3"/></row>` +
		`<row r="5"><c r="B5" t="e"><v>#N/A</v></c></row>` +
		`</sheetData></worksheet>`
	wb := read(t, handWorkbook(sheet, shared))
	rows := wb.Sheets[0].Rows
	want := []xlsx.Row{
		{Num: 1, Cells: []xlsx.Cell{{0, "plain"}, {2, "rich text"}, {3, "  padded  "}}},
		{Num: 2, Cells: []xlsx.Cell{{0, "3.25"}, {1, "TRUE"}, {2, "formula"}, {3, "inline"}, {4, ""}}},
		{Num: 5, Cells: []xlsx.Cell{{1, "#N/A"}}},
	}
	if !reflect.DeepEqual(rows, want) {
		t.Errorf("rows =\n%+v\nwant\n%+v", rows, want)
	}
	if rows[1].Blank() || rows[2].Blank() {
		t.Error("rows with text reported blank")
	}
	if (xlsx.Row{Num: 1, Cells: []xlsx.Cell{{0, " "}, {1, ""}}}).Blank() != true {
		t.Error("whitespace-only row should be blank")
	}
}

func TestReadErrors(t *testing.T) {
	okShared := `<sst><si><t>x</t></si></sst>`
	tests := []struct {
		name, sheet, want string
	}{
		{"shared index out of range", `<worksheet><sheetData><row r="1"><c r="A1" t="s"><v>1</v></c></row></sheetData></worksheet>`, "shared string index"},
		{"negative shared index", `<worksheet><sheetData><row r="1"><c r="A1" t="s"><v>-1</v></c></row></sheetData></worksheet>`, "shared string index"},
		{"rows out of order", `<worksheet><sheetData><row r="2"><c r="A2"><v>1</v></c></row><row r="1"><c r="A1"><v>1</v></c></row></sheetData></worksheet>`, "out of order"},
		{"duplicate row", `<worksheet><sheetData><row r="2"><c r="A2"><v>1</v></c></row><row r="2"><c r="B2"><v>1</v></c></row></sheetData></worksheet>`, "out of order"},
		{"cells out of order", `<worksheet><sheetData><row r="1"><c r="B1"><v>1</v></c><c r="A1"><v>1</v></c></row></sheetData></worksheet>`, "out of order"},
		{"cell in wrong row", `<worksheet><sheetData><row r="1"><c r="A2"><v>1</v></c></row></sheetData></worksheet>`, "belongs to row 2"},
		{"bad ref", `<worksheet><sheetData><row r="1"><c r="1A"><v>1</v></c></row></sheetData></worksheet>`, "cell reference"},
		{"bad row number", `<worksheet><sheetData><row r="zero"><c><v>1</v></c></row></sheetData></worksheet>`, "bad row number"},
		{"row beyond limit", `<worksheet><sheetData><row r="1048577"><c><v>1</v></c></row></sheetData></worksheet>`, "limit"},
		{"bad boolean", `<worksheet><sheetData><row r="1"><c r="A1" t="b"><v>2</v></c></row></sheetData></worksheet>`, "boolean"},
		{"broken xml", `<worksheet><sheetData><row r="1"><c r="A1"><v>1</v></row>`, "sheet \"S\""},
		{"unterminated", `<worksheet><sheetData><row r="1"><c r="A1"><v>1</v></c>`, ""},
		{"cell outside row", `<worksheet><sheetData><c r="A1"><v>1</v></c></sheetData></worksheet>`, "outside a row"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			data := handWorkbook(tc.sheet, okShared)
			_, err := xlsx.Read(bytes.NewReader(data), int64(len(data)), xlsx.Limits{})
			if err == nil {
				t.Fatal("Read succeeded, want error")
			}
			if !strings.Contains(err.Error(), tc.want) {
				t.Errorf("error %q does not mention %q", err, tc.want)
			}
		})
	}
}

func TestReadNotAWorkbook(t *testing.T) {
	for name, data := range map[string][]byte{
		"empty":       nil,
		"text":        []byte("Type,Context\n"),
		"zip without": xlsxtest.Zip(map[string]string{"hello.txt": "hi"}),
	} {
		if _, err := xlsx.Read(bytes.NewReader(data), int64(len(data)), xlsx.Limits{}); err == nil {
			t.Errorf("%s: Read succeeded, want error", name)
		}
	}
}

// A part that inflates far beyond the limit must be refused whether or not
// its zip header tells the truth about its size.
func TestReadZipBomb(t *testing.T) {
	huge := `<worksheet><sheetData>` + strings.Repeat(" ", 8<<20) + `</sheetData></worksheet>`
	data := handWorkbook(huge, `<sst/>`)
	if len(data) > 64<<10 {
		t.Fatalf("test archive is %d bytes; expected it to compress well", len(data))
	}
	lim := xlsx.Limits{MaxPartBytes: 1 << 20}
	_, err := xlsx.Read(bytes.NewReader(data), int64(len(data)), lim)
	if err == nil || !strings.Contains(err.Error(), "exceeds the limit") {
		t.Errorf("honest header: error = %v, want a size-limit error", err)
	}

	// Rewrite the archive so the header understates the size (a lying bomb).
	lying := understate(t, data, "xl/worksheets/s.xml")
	_, err = xlsx.Read(bytes.NewReader(lying), int64(len(lying)), lim)
	if err == nil {
		t.Fatal("lying header: Read succeeded, want error")
	}

	tot := xlsx.Limits{MaxTotalBytes: 1 << 20}
	if _, err := xlsx.Read(bytes.NewReader(data), int64(len(data)), tot); err == nil {
		t.Error("total limit: Read succeeded, want error")
	}
	few := xlsx.Limits{MaxEntries: 2}
	if _, err := xlsx.Read(bytes.NewReader(data), int64(len(data)), few); err == nil {
		t.Error("entry limit: Read succeeded, want error")
	}
}

// understate copies a zip archive, storing the named entry with a declared
// uncompressed size of 100 bytes via the raw-copy API.
func understate(t *testing.T, data []byte, name string) []byte {
	t.Helper()
	zr, err := zip.NewReader(bytes.NewReader(data), int64(len(data)))
	if err != nil {
		t.Fatal(err)
	}
	var buf bytes.Buffer
	zw := zip.NewWriter(&buf)
	for _, f := range zr.File {
		hdr := f.FileHeader
		if f.Name == name {
			hdr.UncompressedSize64 = 100
		}
		w, err := zw.CreateRaw(&hdr)
		if err != nil {
			t.Fatal(err)
		}
		raw, err := f.OpenRaw()
		if err != nil {
			t.Fatal(err)
		}
		var b bytes.Buffer
		if _, err := b.ReadFrom(raw); err != nil {
			t.Fatal(err)
		}
		if _, err := w.Write(b.Bytes()); err != nil {
			t.Fatal(err)
		}
	}
	if err := zw.Close(); err != nil {
		t.Fatal(err)
	}
	return buf.Bytes()
}

func TestOpenMissingFile(t *testing.T) {
	_, err := xlsx.Open(filepath.Join(t.TempDir(), "nope.xlsx"))
	if err == nil || !strings.Contains(err.Error(), "nope.xlsx") {
		t.Errorf("error = %v, want it to name the file", err)
	}
}

func TestOpenNamesFileInErrors(t *testing.T) {
	p := filepath.Join(t.TempDir(), "bad.xlsx")
	if err := os.WriteFile(p, []byte("not a zip"), 0o644); err != nil {
		t.Fatal(err)
	}
	_, err := xlsx.Open(p)
	if err == nil || !strings.Contains(err.Error(), "bad.xlsx") {
		t.Errorf("error = %v, want it to name the file", err)
	}
}

// The authors' workbooks: every sheet's non-empty rows as seen by Read must
// match an independent scan of the raw XML (xlsxtest.RawScan).
func TestAuthorsWorkbooksMatchRawScan(t *testing.T) {
	dir := shareddata.Path(t, "cvoice", "authors-zh")
	files, err := filepath.Glob(filepath.Join(dir, "*.xlsx"))
	if err != nil || len(files) != 13 {
		t.Fatalf("want 13 workbooks in %s, got %d (%v)", dir, len(files), err)
	}
	for _, f := range files {
		wb, err := xlsx.Open(f)
		if err != nil {
			t.Fatal(err)
		}
		raw := xlsxtest.RawScan(t, f)
		if len(raw) != len(wb.Sheets) {
			t.Fatalf("%s: %d sheets, raw scan found %d", f, len(wb.Sheets), len(raw))
		}
		for i, s := range wb.Sheets {
			var got []int
			for _, r := range s.Rows {
				if !r.Blank() {
					got = append(got, r.Num)
				}
			}
			if !reflect.DeepEqual(got, raw[i].NonEmptyRows) {
				t.Errorf("%s sheet %s: non-empty rows differ from raw scan (%d vs %d)", filepath.Base(f), s.Name, len(got), len(raw[i].NonEmptyRows))
			}
			if s.Name != raw[i].Name {
				t.Errorf("%s: sheet %d named %q, raw scan says %q", filepath.Base(f), i, s.Name, raw[i].Name)
			}
			for _, r := range s.Rows {
				for _, c := range r.Cells {
					if want := raw[i].Cells[fmt.Sprintf("%s%d", xlsx.ColumnName(c.Col), r.Num)]; want != c.Text {
						t.Fatalf("%s sheet %s cell %s%d = %q, raw scan %q", filepath.Base(f), s.Name, xlsx.ColumnName(c.Col), r.Num, c.Text, want)
					}
				}
			}
		}
	}
}

func BenchmarkOpenAuthorsEvaluation(b *testing.B) {
	p := shareddata.Path(b, "cvoice", "authors-zh", "test-zh-200.xlsx")
	data, err := os.ReadFile(p)
	if err != nil {
		b.Fatal(err)
	}
	b.SetBytes(int64(len(data)))
	for b.Loop() {
		if _, err := xlsx.Read(bytes.NewReader(data), int64(len(data)), xlsx.Limits{}); err != nil {
			b.Fatal(err)
		}
	}
}
