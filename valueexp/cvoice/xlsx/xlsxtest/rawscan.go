package xlsxtest

import (
	"archive/zip"
	"html"
	"io"
	"path"
	"regexp"
	"strings"
	"testing"
)

// RawSheet is what RawScan sees in one worksheet.
type RawSheet struct {
	Name         string
	NonEmptyRows []int             // row numbers with any non-blank cell
	Cells        map[string]string // "C17" → text
}

var (
	reSheet    = regexp.MustCompile(`<sheet\b[^>]*?\bname="([^"]*)"[^>]*?\br:id="([^"]*)"`)
	reRel      = regexp.MustCompile(`<Relationship\b([^>]*)>`)
	reRelID    = regexp.MustCompile(`\bId="([^"]*)"`)
	reTarget   = regexp.MustCompile(`\bTarget="([^"]*)"`)
	reSI       = regexp.MustCompile(`(?s)<si>(.*?)</si>`)
	rePhonetic = regexp.MustCompile(`(?s)<rPh\b.*?</rPh>`)
	reT        = regexp.MustCompile(`(?s)<t(?:\s[^>]*)?>(.*?)</t>`)
	reRow      = regexp.MustCompile(`(?s)<row\b([^>]*?)(?:/>|>(.*?)</row>)`)
	reRowNum   = regexp.MustCompile(`\br="(\d+)"`)
	reCell     = regexp.MustCompile(`(?s)<c\b([^>]*?)(?:/>|>(.*?)</c>)`)
	reRef      = regexp.MustCompile(`\br="([A-Z]+\d+)"`)
	reType     = regexp.MustCompile(`\bt="([a-zA-Z]+)"`)
	reV        = regexp.MustCompile(`(?s)<v>(.*?)</v>`)
)

// RawScan reads an .xlsx with regular expressions instead of an XML parser:
// a second, independent opinion on sheet names, cell texts and which rows
// have any text. It handles only what the authors' files contain.
func RawScan(t testing.TB, file string) []RawSheet {
	t.Helper()
	zr, err := zip.OpenReader(file)
	if err != nil {
		t.Fatal(err)
	}
	defer zr.Close()
	part := func(name string) string {
		for _, f := range zr.File {
			if strings.TrimPrefix(f.Name, "/") == name {
				rc, err := f.Open()
				if err != nil {
					t.Fatal(err)
				}
				defer rc.Close()
				b, err := io.ReadAll(rc)
				if err != nil {
					t.Fatal(err)
				}
				return string(b)
			}
		}
		return ""
	}
	var shared []string
	for _, m := range reSI.FindAllStringSubmatch(part("xl/sharedStrings.xml"), -1) {
		var sb strings.Builder
		for _, tm := range reT.FindAllStringSubmatch(rePhonetic.ReplaceAllString(m[1], ""), -1) {
			sb.WriteString(html.UnescapeString(tm[1]))
		}
		shared = append(shared, sb.String())
	}
	targets := map[string]string{}
	for _, m := range reRel.FindAllStringSubmatch(part("xl/_rels/workbook.xml.rels"), -1) {
		id, target := reRelID.FindStringSubmatch(m[1]), reTarget.FindStringSubmatch(m[1])
		if id != nil && target != nil {
			targets[id[1]] = target[1]
		}
	}
	var out []RawSheet
	for _, m := range reSheet.FindAllStringSubmatch(part("xl/workbook.xml"), -1) {
		target := targets[m[2]]
		name := path.Join("xl", target)
		if strings.HasPrefix(target, "/") {
			name = strings.TrimPrefix(target, "/")
		}
		rs := RawSheet{Name: html.UnescapeString(m[1]), Cells: map[string]string{}}
		for _, row := range reRow.FindAllStringSubmatch(part(name), -1) {
			num := reRowNum.FindStringSubmatch(row[1])
			nonEmpty := false
			for _, c := range reCell.FindAllStringSubmatch(row[2], -1) {
				ref := reRef.FindStringSubmatch(c[1])
				typ := reType.FindStringSubmatch(c[1])
				text := ""
				if typ != nil && typ[1] == "inlineStr" {
					for _, tm := range reT.FindAllStringSubmatch(rePhonetic.ReplaceAllString(c[2], ""), -1) {
						text += html.UnescapeString(tm[1])
					}
				} else if v := reV.FindStringSubmatch(c[2]); v != nil {
					text = html.UnescapeString(v[1])
					if typ != nil && typ[1] == "s" {
						i := 0
						for _, ch := range text {
							i = i*10 + int(ch-'0')
						}
						text = shared[i]
					}
				}
				if ref != nil {
					rs.Cells[ref[1]] = text
				}
				if strings.TrimSpace(text) != "" {
					nonEmpty = true
				}
			}
			if nonEmpty && num != nil {
				n := 0
				for _, ch := range num[1] {
					n = n*10 + int(ch-'0')
				}
				rs.NonEmptyRows = append(rs.NonEmptyRows, n)
			}
		}
		out = append(out, rs)
	}
	return out
}
