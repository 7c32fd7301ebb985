// Package xlsxtest builds small .xlsx files for tests, written independently
// of the reader in package xlsx: plain string templates, no shared code.
package xlsxtest

import (
	"archive/zip"
	"bytes"
	"encoding/xml"
	"fmt"
	"os"
	"path/filepath"
	"sort"
	"strings"
	"testing"
)

// Sheet is a worksheet to build. Rows[i] becomes spreadsheet row i+1 and
// Rows[i][j] column j; an empty string writes no cell, as Excel does.
type Sheet struct {
	Name string
	Rows [][]string
	// Inline writes cells as inline strings (t="inlineStr") instead of
	// shared strings.
	Inline bool
}

// Build returns the bytes of a workbook holding sheets, in order.
func Build(sheets ...Sheet) []byte {
	parts := map[string]string{
		"[Content_Types].xml": `<?xml version="1.0" encoding="UTF-8"?><Types xmlns="http://schemas.openxmlformats.org/package/2006/content-types"><Default Extension="xml" ContentType="application/xml"/></Types>`,
		"_rels/.rels":         `<?xml version="1.0" encoding="UTF-8"?><Relationships xmlns="http://schemas.openxmlformats.org/package/2006/relationships"><Relationship Id="rId1" Type="http://schemas.openxmlformats.org/officeDocument/2006/relationships/officeDocument" Target="xl/workbook.xml"/></Relationships>`,
	}
	var shared []string
	index := map[string]int{}
	var wb, rels strings.Builder
	wb.WriteString(`<?xml version="1.0" encoding="UTF-8"?><workbook xmlns="http://schemas.openxmlformats.org/spreadsheetml/2006/main" xmlns:r="http://schemas.openxmlformats.org/officeDocument/2006/relationships"><sheets>`)
	rels.WriteString(`<?xml version="1.0" encoding="UTF-8"?><Relationships xmlns="http://schemas.openxmlformats.org/package/2006/relationships">`)
	for i, s := range sheets {
		fmt.Fprintf(&wb, `<sheet name="%s" sheetId="%d" r:id="rId%d"/>`, esc(s.Name), i+1, i+1)
		fmt.Fprintf(&rels, `<Relationship Id="rId%d" Type="http://schemas.openxmlformats.org/officeDocument/2006/relationships/worksheet" Target="worksheets/sheet%d.xml"/>`, i+1, i+1)
		var sx strings.Builder
		sx.WriteString(`<?xml version="1.0" encoding="UTF-8"?><worksheet xmlns="http://schemas.openxmlformats.org/spreadsheetml/2006/main"><sheetData>`)
		for r, row := range s.Rows {
			fmt.Fprintf(&sx, `<row r="%d">`, r+1)
			for c, text := range row {
				if text == "" {
					continue
				}
				ref := fmt.Sprintf("%s%d", colName(c), r+1)
				if s.Inline {
					fmt.Fprintf(&sx, `<c r="%s" t="inlineStr"><is><t xml:space="preserve">%s</t></is></c>`, ref, esc(text))
					continue
				}
				k, ok := index[text]
				if !ok {
					k = len(shared)
					index[text] = k
					shared = append(shared, text)
				}
				fmt.Fprintf(&sx, `<c r="%s" t="s"><v>%d</v></c>`, ref, k)
			}
			sx.WriteString(`</row>`)
		}
		sx.WriteString(`</sheetData></worksheet>`)
		parts[fmt.Sprintf("xl/worksheets/sheet%d.xml", i+1)] = sx.String()
	}
	wb.WriteString(`</sheets></workbook>`)
	fmt.Fprintf(&rels, `<Relationship Id="rId%d" Type="http://schemas.openxmlformats.org/officeDocument/2006/relationships/sharedStrings" Target="sharedStrings.xml"/></Relationships>`, len(sheets)+1)
	var ss strings.Builder
	fmt.Fprintf(&ss, `<?xml version="1.0" encoding="UTF-8"?><sst xmlns="http://schemas.openxmlformats.org/spreadsheetml/2006/main" count="%d" uniqueCount="%d">`, len(shared), len(shared))
	for _, s := range shared {
		fmt.Fprintf(&ss, `<si><t xml:space="preserve">%s</t></si>`, esc(s))
	}
	ss.WriteString(`</sst>`)
	parts["xl/workbook.xml"] = wb.String()
	parts["xl/_rels/workbook.xml.rels"] = rels.String()
	parts["xl/sharedStrings.xml"] = ss.String()
	return Zip(parts)
}

// Zip returns a zip archive holding parts (name → content), deflated, in
// name order so the bytes are deterministic.
func Zip(parts map[string]string) []byte {
	names := make([]string, 0, len(parts))
	for n := range parts {
		names = append(names, n)
	}
	sort.Strings(names)
	var buf bytes.Buffer
	zw := zip.NewWriter(&buf)
	for _, n := range names {
		w, err := zw.Create(n)
		if err != nil {
			panic(err) // writing to a bytes.Buffer cannot fail
		}
		if _, err := w.Write([]byte(parts[n])); err != nil {
			panic(err)
		}
	}
	if err := zw.Close(); err != nil {
		panic(err)
	}
	return buf.Bytes()
}

// WriteFile builds a workbook and writes it as dir/name, returning the path.
func WriteFile(tb testing.TB, dir, name string, sheets ...Sheet) string {
	tb.Helper()
	p := filepath.Join(dir, name)
	if err := os.WriteFile(p, Build(sheets...), 0o644); err != nil {
		tb.Fatal(err)
	}
	return p
}

func esc(s string) string {
	var b strings.Builder
	if err := xml.EscapeText(&b, []byte(s)); err != nil {
		panic(err) // strings.Builder never fails
	}
	return b.String()
}

func colName(c int) string {
	name := ""
	for n := c + 1; n > 0; n = (n - 1) / 26 {
		name = string(rune('A'+(n-1)%26)) + name
	}
	return name
}
