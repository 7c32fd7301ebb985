package report

import (
	"fmt"
	"math"
	"strings"
)

// doc accumulates Markdown text.
type doc struct {
	strings.Builder
}

func (d *doc) p(format string, a ...any) {
	fmt.Fprintf(d, format, a...)
	d.WriteString("\n\n")
}

func (d *doc) line(format string, a ...any) {
	fmt.Fprintf(d, format, a...)
	d.WriteString("\n")
}

// table writes a Markdown table; cells are escaped.
func (d *doc) table(header []string, rows [][]string) {
	esc := func(s string) string {
		s = strings.ReplaceAll(s, "|", `\|`)
		return strings.ReplaceAll(s, "\n", " ")
	}
	for i, h := range header {
		header[i] = esc(h)
	}
	d.line("| %s |", strings.Join(header, " | "))
	sep := make([]string, len(header))
	for i := range sep {
		sep[i] = "---"
		if i > 0 && numericColumn(rows, i) {
			sep[i] = "---:"
		}
	}
	d.line("|%s|", strings.Join(sep, "|"))
	for _, r := range rows {
		cells := make([]string, len(r))
		for i, c := range r {
			cells[i] = esc(c)
		}
		d.line("| %s |", strings.Join(cells, " | "))
	}
	d.WriteString("\n")
}

// image writes a Markdown image reference.
func (d *doc) image(file, alt string) {
	d.p("![%s](%s)", alt, file)
}

// num formats x with prec decimals, "n/a" for NaN.
func num(x float64, prec int) string {
	if math.IsNaN(x) || math.IsInf(x, 0) {
		return "n/a"
	}
	s := fmt.Sprintf("%.*f", prec, x)
	if strings.Trim(s, "-0.") == "" {
		s = strings.TrimPrefix(s, "-")
	}
	return s
}

// signed formats a change with an explicit sign, "n/a" for NaN.
func signed(x float64, prec int) string {
	s := num(x, prec)
	if s == "n/a" || strings.HasPrefix(s, "-") || strings.Trim(s, "0.") == "" {
		return s
	}
	return "+" + s
}

// numericColumn reports whether every cell of column i reads as a number
// (or a placeholder), so the column is right-aligned.
func numericColumn(rows [][]string, i int) bool {
	for _, r := range rows {
		if i >= len(r) {
			continue
		}
		c := strings.TrimSpace(r[i])
		if c == "" || c == "—" || c == "n/a" {
			continue
		}
		if !strings.ContainsAny(c[:1], "+-0123456789") {
			return false
		}
	}
	return true
}

// plural writes n and the noun, with an "s" unless n is 1.
func plural(n int, noun string) string {
	if n == 1 {
		return fmt.Sprintf("%d %s", n, noun)
	}
	return fmt.Sprintf("%d %ss", n, noun)
}
