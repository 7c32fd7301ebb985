// Package xlsx reads the cell text of Office Open XML spreadsheets (.xlsx).
//
// It is deliberately small: it understands only what is needed to pull
// strings out of data workbooks (the workbook's sheet list and relationships,
// shared strings with rich-text runs, inline strings, formula string results,
// numbers and booleans as their stored text). It ignores styles, formulas,
// dates and merged cells. Every size it reads is bounded by Limits, so a
// hostile or corrupt file (including a zip bomb) yields an error, not an
// exhausted machine.
package xlsx

import (
	"archive/zip"
	"bytes"
	"encoding/xml"
	"errors"
	"fmt"
	"io"
	"os"
	"path"
	"strconv"
	"strings"
)

// Limits bounds what Read accepts. The zero value of a field means "use the
// default" (see DefaultLimits).
type Limits struct {
	// MaxEntries is the largest number of entries the zip directory may list.
	MaxEntries int
	// MaxPartBytes is the largest uncompressed size of one XML part that is read.
	MaxPartBytes int64
	// MaxTotalBytes is the largest uncompressed size of all parts read together.
	MaxTotalBytes int64
	// MaxSheets is the largest number of sheets a workbook may declare.
	MaxSheets int
	// MaxRows is the largest spreadsheet row number accepted (Excel's is 1048576).
	MaxRows int
	// MaxColumns is the largest column number accepted (Excel's is 16384, "XFD").
	MaxColumns int
	// MaxSharedStrings is the largest number of shared strings accepted.
	MaxSharedStrings int
	// MaxResultBytes bounds the parsed workbook: every shared string, row
	// and cell is charged its text plus its Go bookkeeping (16 to 48
	// bytes), so a part of tiny elements cannot grow into a result many
	// times its size.
	MaxResultBytes int64
}

// maxXMLDepth bounds element nesting in the parts read token by token (a
// worksheet nests about five deep): encoding/xml keeps a record per open
// element, so a part of nothing but "<a>" would otherwise cost about 100
// bytes per 3 bytes of input.
const maxXMLDepth = 64

// Bytes charged to MaxResultBytes besides the text: a string header, a
// Cell, a Row.
const (
	stringCost = 16
	cellCost   = 32
	rowCost    = 48
)

// DefaultLimits returns limits generous for data workbooks of a few hundred
// MB uncompressed and small enough to keep a hostile file harmless.
func DefaultLimits() Limits {
	return Limits{
		MaxEntries:       10000,
		MaxPartBytes:     256 << 20,
		MaxTotalBytes:    1 << 30,
		MaxSheets:        1000,
		MaxRows:          1 << 20,
		MaxColumns:       1 << 14,
		MaxSharedStrings: 1 << 22,
		MaxResultBytes:   256 << 20,
	}
}

func (l Limits) withDefaults() Limits {
	d := DefaultLimits()
	if l.MaxEntries <= 0 {
		l.MaxEntries = d.MaxEntries
	}
	if l.MaxPartBytes <= 0 {
		l.MaxPartBytes = d.MaxPartBytes
	}
	if l.MaxTotalBytes <= 0 {
		l.MaxTotalBytes = d.MaxTotalBytes
	}
	if l.MaxSheets <= 0 {
		l.MaxSheets = d.MaxSheets
	}
	if l.MaxRows <= 0 {
		l.MaxRows = d.MaxRows
	}
	if l.MaxColumns <= 0 {
		l.MaxColumns = d.MaxColumns
	}
	if l.MaxSharedStrings <= 0 {
		l.MaxSharedStrings = d.MaxSharedStrings
	}
	if l.MaxResultBytes <= 0 {
		l.MaxResultBytes = d.MaxResultBytes
	}
	return l
}

// Workbook is the text content of a spreadsheet file, sheets in the order the
// workbook lists them (the tab order).
type Workbook struct {
	Sheets []Sheet
}

// Sheet is one worksheet: its tab name and the rows that have at least one
// cell element, in ascending row order.
type Sheet struct {
	Name string
	Rows []Row
}

// Row is one spreadsheet row. Cells are sparse: a cell absent from the file
// is absent here, so use Value to read by column.
type Row struct {
	// Num is the 1-based spreadsheet row number ("17" in "C17").
	Num   int
	Cells []Cell
}

// Cell is the text of one cell. Col is 0-based (A=0).
type Cell struct {
	Col  int
	Text string
}

// Value returns the text of the cell in 0-based column col, or "" when the
// row has no such cell.
func (r Row) Value(col int) string {
	for _, c := range r.Cells {
		if c.Col == col {
			return c.Text
		}
	}
	return ""
}

// Blank reports whether every cell of the row is empty or whitespace.
func (r Row) Blank() bool {
	for _, c := range r.Cells {
		if strings.TrimSpace(c.Text) != "" {
			return false
		}
	}
	return true
}

// Sheet returns the sheet with the given tab name, or nil.
func (w *Workbook) Sheet(name string) *Sheet {
	for i := range w.Sheets {
		if w.Sheets[i].Name == name {
			return &w.Sheets[i]
		}
	}
	return nil
}

// Open reads the workbook at path with DefaultLimits. Errors name the file.
func Open(filename string) (*Workbook, error) {
	f, err := os.Open(filename)
	if err != nil {
		return nil, fmt.Errorf("xlsx: %w", err)
	}
	defer f.Close()
	st, err := f.Stat()
	if err != nil {
		return nil, fmt.Errorf("xlsx: %s: %w", filename, err)
	}
	wb, err := Read(f, st.Size(), Limits{})
	if err != nil {
		return nil, fmt.Errorf("%s: %w", filename, err)
	}
	return wb, nil
}

// Read parses a workbook from r (size bytes long) within lim.
//
// Memory: parts are read one at a time, each at most MaxPartBytes and
// together at most MaxTotalBytes (whatever their zip headers claim), the
// XML decoder's state is bounded by maxXMLDepth, and the result by
// MaxResultBytes (up to twice that while slices grow). So the peak heap is
// about MaxPartBytes + 2 × MaxResultBytes plus the zip directory (at most
// MaxEntries records); with DefaultLimits, under 1 GiB.
func Read(r io.ReaderAt, size int64, lim Limits) (*Workbook, error) {
	lim = lim.withDefaults()
	zr, err := zip.NewReader(r, size)
	if err != nil {
		return nil, fmt.Errorf("xlsx: not a zip archive: %w", err)
	}
	if len(zr.File) > lim.MaxEntries {
		return nil, fmt.Errorf("xlsx: %d zip entries exceed the limit of %d", len(zr.File), lim.MaxEntries)
	}
	p := &pkg{files: make(map[string]*zip.File, len(zr.File)), lim: lim}
	for _, f := range zr.File {
		p.files[strings.TrimPrefix(f.Name, "/")] = f
	}
	return p.workbook()
}

// pkg is an opened archive plus the running count of bytes read from it.
type pkg struct {
	files map[string]*zip.File
	lim   Limits
	total int64
	out   int64 // bytes of result charged so far
}

// charge adds n bytes to the result, failing past MaxResultBytes.
func (p *pkg) charge(n int64) error {
	p.out += n
	if p.out > p.lim.MaxResultBytes {
		return fmt.Errorf("xlsx: the workbook's cells take more than the limit of %d bytes", p.lim.MaxResultBytes)
	}
	return nil
}

// read returns the uncompressed bytes of a part, or (nil, false, nil) when
// the part is absent. It never trusts the sizes in the zip header: the read
// itself is capped.
func (p *pkg) read(name string) ([]byte, bool, error) {
	f, ok := p.files[name]
	if !ok {
		return nil, false, nil
	}
	limit := p.lim.MaxPartBytes
	if rest := p.lim.MaxTotalBytes - p.total; rest < limit {
		limit = rest
	}
	if f.UncompressedSize64 > uint64(limit) {
		return nil, true, fmt.Errorf("xlsx: part %s: uncompressed size %d exceeds the limit of %d bytes", name, f.UncompressedSize64, limit)
	}
	rc, err := f.Open()
	if err != nil {
		return nil, true, fmt.Errorf("xlsx: part %s: %w", name, err)
	}
	defer rc.Close()
	// Allocate the declared size (already checked against the limit) at
	// once, and refuse a part that holds more than it declares: growing
	// a buffer instead would cost up to twice the part.
	data := make([]byte, f.UncompressedSize64)
	if _, err := io.ReadFull(rc, data); err != nil {
		return nil, true, fmt.Errorf("xlsx: part %s: shorter than its declared %d bytes: %w", name, len(data), err)
	}
	var one [1]byte
	if k, err := rc.Read(one[:]); k > 0 {
		return nil, true, fmt.Errorf("xlsx: part %s: more than its declared %d bytes uncompressed", name, len(data))
	} else if err != nil && err != io.EOF {
		return nil, true, fmt.Errorf("xlsx: part %s: %w", name, err)
	}
	p.total += int64(len(data))
	return data, true, nil
}

const (
	relTypeOfficeDocument = "/officeDocument"
	relTypeWorksheet      = "/worksheet"
	relTypeSharedStrings  = "/sharedStrings"
)

type relationship struct {
	ID     string `xml:"Id,attr"`
	Type   string `xml:"Type,attr"`
	Target string `xml:"Target,attr"`
	Mode   string `xml:"TargetMode,attr"`
}

type relationships struct {
	Rels []relationship `xml:"Relationship"`
}

// readRels parses the relationships part of source (the package root when
// source is ""). A missing part means no relationships.
func (p *pkg) readRels(source string) ([]relationship, error) {
	dir, base := path.Split(source)
	name := dir + "_rels/" + base + ".rels"
	data, ok, err := p.read(name)
	if err != nil || !ok {
		return nil, err
	}
	var rs relationships
	if err := xml.Unmarshal(data, &rs); err != nil {
		return nil, fmt.Errorf("xlsx: part %s: %w", name, err)
	}
	return rs.Rels, nil
}

// resolve turns a relationship target into a part name: absolute targets are
// relative to the package root, others to the source part's folder.
func resolve(source, target string) string {
	if strings.HasPrefix(target, "/") {
		return strings.TrimPrefix(path.Clean(target), "/")
	}
	return strings.TrimPrefix(path.Clean(path.Join(path.Dir(source), target)), "/")
}

func findRel(rels []relationship, typeSuffix string) (relationship, bool) {
	for _, r := range rels {
		if strings.HasSuffix(r.Type, typeSuffix) && r.Mode != "External" {
			return r, true
		}
	}
	return relationship{}, false
}

type workbookXML struct {
	Sheets []struct {
		Name string `xml:"name,attr"`
		// The r:id attribute; encoding/xml matches it by local name "id"
		// in the relationships namespace.
		RID string `xml:"http://schemas.openxmlformats.org/officeDocument/2006/relationships id,attr"`
		// Strict OOXML uses another namespace for the same attribute.
		StrictRID string `xml:"http://purl.oclc.org/ooxml/officeDocument/relationships id,attr"`
	} `xml:"sheets>sheet"`
}

func (p *pkg) workbook() (*Workbook, error) {
	wbName := "xl/workbook.xml"
	rootRels, err := p.readRels("")
	if err != nil {
		return nil, err
	}
	if r, ok := findRel(rootRels, relTypeOfficeDocument); ok {
		wbName = resolve("", r.Target)
	}
	data, ok, err := p.read(wbName)
	if err != nil {
		return nil, err
	}
	if !ok {
		return nil, fmt.Errorf("xlsx: no workbook part %s", wbName)
	}
	var wx workbookXML
	if err := xml.Unmarshal(data, &wx); err != nil {
		return nil, fmt.Errorf("xlsx: part %s: %w", wbName, err)
	}
	if len(wx.Sheets) > p.lim.MaxSheets {
		return nil, fmt.Errorf("xlsx: %d sheets exceed the limit of %d", len(wx.Sheets), p.lim.MaxSheets)
	}
	rels, err := p.readRels(wbName)
	if err != nil {
		return nil, err
	}
	var shared []string
	if r, ok := findRel(rels, relTypeSharedStrings); ok {
		name := resolve(wbName, r.Target)
		data, ok, err := p.read(name)
		if err != nil {
			return nil, err
		}
		if ok {
			if shared, err = parseSharedStrings(data, p); err != nil {
				return nil, fmt.Errorf("xlsx: part %s: %w", name, err)
			}
		}
	}
	byID := make(map[string]relationship, len(rels))
	for _, r := range rels {
		byID[r.ID] = r
	}
	wb := &Workbook{Sheets: make([]Sheet, 0, len(wx.Sheets))}
	for _, s := range wx.Sheets {
		rid := s.RID
		if rid == "" {
			rid = s.StrictRID
		}
		r, ok := byID[rid]
		if !ok || !strings.HasSuffix(r.Type, relTypeWorksheet) {
			// Chart sheets and dialog sheets have no cells; skip them.
			continue
		}
		name := resolve(wbName, r.Target)
		data, ok, err := p.read(name)
		if err != nil {
			return nil, err
		}
		if !ok {
			return nil, fmt.Errorf("xlsx: sheet %q: missing part %s", s.Name, name)
		}
		rows, err := parseSheet(data, shared, p)
		if err != nil {
			return nil, fmt.Errorf("xlsx: sheet %q: %w", s.Name, err)
		}
		wb.Sheets = append(wb.Sheets, Sheet{Name: s.Name, Rows: rows})
	}
	return wb, nil
}

// parseSharedStrings reads the <si> items of a shared-strings part. Each
// item's text is its <t> or the concatenation of its rich-text runs' <t>;
// phonetic hints (<rPh>) are not part of the text.
func parseSharedStrings(data []byte, p *pkg) ([]string, error) {
	lim := p.lim
	d := xml.NewDecoder(bytes.NewReader(data))
	var out []string
	var sb strings.Builder
	inItem, inText, phonetic := false, false, 0
	depth := 0
	for {
		tok, err := d.Token()
		if err == io.EOF {
			break
		}
		if err != nil {
			return nil, err
		}
		if err := checkDepth(tok, &depth); err != nil {
			return nil, err
		}
		switch t := tok.(type) {
		case xml.StartElement:
			switch t.Name.Local {
			case "si":
				if inItem {
					return nil, errors.New("nested <si>")
				}
				inItem = true
				sb.Reset()
			case "rPh":
				phonetic++
			case "t":
				inText = inItem && phonetic == 0
			}
		case xml.EndElement:
			switch t.Name.Local {
			case "si":
				if !inItem {
					return nil, errors.New("unbalanced </si>")
				}
				inItem = false
				if len(out) >= lim.MaxSharedStrings {
					return nil, fmt.Errorf("more than %d shared strings", lim.MaxSharedStrings)
				}
				if err := p.charge(stringCost + int64(sb.Len())); err != nil {
					return nil, err
				}
				out = append(out, sb.String())
			case "rPh":
				phonetic--
			case "t":
				inText = false
			}
		case xml.CharData:
			if inText {
				sb.Write(t)
			}
		}
	}
	return out, nil
}

// cellState gathers one <c> element while the decoder walks through it.
type cellState struct {
	col      int
	typ      string
	value    strings.Builder // text of <v>
	inline   strings.Builder // text of <is>'s <t> elements
	inV      bool
	inIS     bool
	inT      bool
	phonetic int
}

// parseSheet reads the rows of a worksheet part.
func parseSheet(data []byte, shared []string, p *pkg) ([]Row, error) {
	lim := p.lim
	depth := 0
	d := xml.NewDecoder(bytes.NewReader(data))
	var (
		rows    []Row
		cur     *Row
		cell    *cellState
		lastRow int
		lastCol int
	)
	for {
		tok, err := d.Token()
		if err == io.EOF {
			break
		}
		if err != nil {
			return nil, err
		}
		if err := checkDepth(tok, &depth); err != nil {
			return nil, err
		}
		switch t := tok.(type) {
		case xml.StartElement:
			switch t.Name.Local {
			case "row":
				if cur != nil {
					return nil, fmt.Errorf("row %d: nested <row>", cur.Num)
				}
				num := lastRow + 1
				if s := attr(t, "r"); s != "" {
					n, err := strconv.Atoi(s)
					if err != nil || n < 1 {
						return nil, fmt.Errorf("row %q: bad row number", s)
					}
					num = n
				}
				if num <= lastRow {
					return nil, fmt.Errorf("row %d: out of order after row %d", num, lastRow)
				}
				if num > lim.MaxRows {
					return nil, fmt.Errorf("row %d: beyond the limit of %d rows", num, lim.MaxRows)
				}
				lastRow, lastCol = num, -1
				cur = &Row{Num: num}
			case "c":
				if cur == nil {
					return nil, errors.New("cell outside a row")
				}
				if cell != nil {
					return nil, fmt.Errorf("row %d: nested <c>", cur.Num)
				}
				col := lastCol + 1
				if ref := attr(t, "r"); ref != "" {
					c, r, err := ParseRef(ref)
					if err != nil {
						return nil, fmt.Errorf("row %d: %w", cur.Num, err)
					}
					if r != cur.Num {
						return nil, fmt.Errorf("row %d: cell %s belongs to row %d", cur.Num, ref, r)
					}
					col = c
				}
				if col <= lastCol {
					return nil, fmt.Errorf("row %d: cell in column %s out of order", cur.Num, ColumnName(col))
				}
				if col >= lim.MaxColumns {
					return nil, fmt.Errorf("row %d: column %d beyond the limit of %d", cur.Num, col+1, lim.MaxColumns)
				}
				lastCol = col
				cell = &cellState{col: col, typ: attr(t, "t")}
			case "v":
				if cell != nil && !cell.inIS {
					cell.inV = true
				}
			case "is":
				if cell != nil {
					cell.inIS = true
				}
			case "rPh":
				if cell != nil {
					cell.phonetic++
				}
			case "t":
				if cell != nil && cell.inIS && cell.phonetic == 0 {
					cell.inT = true
				}
			}
		case xml.EndElement:
			switch t.Name.Local {
			case "row":
				if cur == nil {
					return nil, errors.New("unbalanced </row>")
				}
				if len(cur.Cells) > 0 {
					if err := p.charge(rowCost); err != nil {
						return nil, err
					}
					rows = append(rows, *cur)
				}
				cur = nil
			case "c":
				if cell == nil || cur == nil {
					return nil, errors.New("unbalanced </c>")
				}
				text, err := cellText(cell, shared)
				if err != nil {
					return nil, fmt.Errorf("cell %s%d: %w", ColumnName(cell.col), cur.Num, err)
				}
				// A shared string's text was charged once, with the
				// shared strings.
				cost := int64(cellCost)
				if cell.typ != "s" {
					cost += int64(len(text))
				}
				if err := p.charge(cost); err != nil {
					return nil, err
				}
				cur.Cells = append(cur.Cells, Cell{Col: cell.col, Text: text})
				cell = nil
			case "v":
				if cell != nil {
					cell.inV = false
				}
			case "is":
				if cell != nil {
					cell.inIS = false
				}
			case "rPh":
				if cell != nil {
					cell.phonetic--
				}
			case "t":
				if cell != nil {
					cell.inT = false
				}
			}
		case xml.CharData:
			if cell == nil {
				continue
			}
			if cell.inV {
				cell.value.Write(t)
			} else if cell.inT {
				cell.inline.Write(t)
			}
		}
	}
	if cur != nil || cell != nil {
		return nil, errors.New("unterminated row or cell")
	}
	return rows, nil
}

// checkDepth tracks element nesting and refuses more than maxXMLDepth.
func checkDepth(tok xml.Token, depth *int) error {
	switch tok.(type) {
	case xml.StartElement:
		*depth++
		if *depth > maxXMLDepth {
			return fmt.Errorf("elements nested deeper than %d", maxXMLDepth)
		}
	case xml.EndElement:
		*depth--
	}
	return nil
}

func cellText(c *cellState, shared []string) (string, error) {
	switch c.typ {
	case "s":
		s := strings.TrimSpace(c.value.String())
		if s == "" {
			return "", nil
		}
		i, err := strconv.Atoi(s)
		if err != nil || i < 0 || i >= len(shared) {
			return "", fmt.Errorf("shared string index %q out of range (have %d)", s, len(shared))
		}
		return shared[i], nil
	case "inlineStr":
		return c.inline.String(), nil
	case "b":
		switch strings.TrimSpace(c.value.String()) {
		case "1":
			return "TRUE", nil
		case "0":
			return "FALSE", nil
		case "":
			return "", nil
		default:
			return "", fmt.Errorf("bad boolean %q", c.value.String())
		}
	default:
		// "n" (or no type), "str" (formula result), "e" (error), "d" (ISO
		// date): the stored text is the value.
		return c.value.String(), nil
	}
}

func attr(e xml.StartElement, local string) string {
	for _, a := range e.Attr {
		if a.Name.Local == local && a.Name.Space == "" {
			return a.Value
		}
	}
	return ""
}

// ParseRef splits an A1-style cell reference ("C17", "$C$17") into a 0-based
// column and a 1-based row.
func ParseRef(ref string) (col, row int, err error) {
	s := strings.ReplaceAll(ref, "$", "")
	i := 0
	col = 0
	for i < len(s) && s[i] >= 'A' && s[i] <= 'Z' {
		col = col*26 + int(s[i]-'A'+1)
		i++
		if i > 3 {
			return 0, 0, fmt.Errorf("cell reference %q: column too long", ref)
		}
	}
	if i == 0 || i == len(s) {
		return 0, 0, fmt.Errorf("cell reference %q: want letters then digits", ref)
	}
	digits := s[i:]
	if len(digits) > 7 || digits[0] == '0' {
		return 0, 0, fmt.Errorf("cell reference %q: bad row", ref)
	}
	for _, ch := range digits {
		if ch < '0' || ch > '9' {
			return 0, 0, fmt.Errorf("cell reference %q: want letters then digits", ref)
		}
		row = row*10 + int(ch-'0')
	}
	return col - 1, row, nil
}

// ColumnName returns the letters of a 0-based column ("A" for 0, "AA" for 26).
func ColumnName(col int) string {
	if col < 0 {
		return "?"
	}
	var b []byte
	for n := col + 1; n > 0; n = (n - 1) / 26 {
		b = append([]byte{byte('A' + (n-1)%26)}, b...)
	}
	return string(b)
}
