package main

import (
	"cmp"
	"fmt"
	"io"
	"math"
	"slices"
	"strings"
	"unicode"

	"github.com/valueexploration/valueexp/valueexp/evaluate"
)

// printLargestEffects prints the n cells where switching a neuron set off
// moved the support for the value-aligned option most from the plain
// model's, largest |Δ| first, with the random control's Δ beside it: the
// table to look at before opening the results file. Random controls are
// not ranked themselves. Nothing is printed when only the plain model ran.
func printLargestEffects(w io.Writer, res *evaluate.Results, n int) {
	kind := map[string]string{}
	for _, c := range res.Conditions {
		kind[c.Name] = c.Kind
	}
	var cells []evaluate.Cell
	for _, c := range res.Cells {
		if c.DeltaVsNone != nil && kind[c.Condition] != "random" && c.Condition != "none" {
			cells = append(cells, c)
		}
	}
	if len(cells) == 0 {
		return
	}
	slices.SortStableFunc(cells, func(a, b evaluate.Cell) int {
		return cmp.Or(cmp.Compare(math.Abs(*b.DeltaVsNone), math.Abs(*a.DeltaVsNone)),
			cmp.Compare(a.Condition, b.Condition), cmp.Compare(a.Value, b.Value), cmp.Compare(a.Language, b.Language))
	})
	shown := min(n, len(cells))
	fmt.Fprintf(w, "largest effects (%d of %d cells): support for the aligned option, in points, with neurons switched off\n", shown, len(cells))
	fmt.Fprintf(w, "  %s %s %8s %9s %9s\n", padRight("switched off", 18), padRight("evaluated on", 20), "support", "Δ plain", "Δ random")
	for _, c := range cells[:shown] {
		random := "-"
		if c.DeltaVsRandom != nil {
			random = fmt.Sprintf("%+.1f", *c.DeltaVsRandom)
		}
		fmt.Fprintf(w, "  %s %s %8.1f %9s %9s\n", padRight(c.Condition, 18), padRight(c.ValueEnglish+" "+c.Language, 20),
			c.SupportRate, fmt.Sprintf("%+.1f", *c.DeltaVsNone), random)
	}
}

// padRight pads s with spaces to width terminal columns, counting Han
// characters (set names such as 诚信/zh) as two columns.
func padRight(s string, width int) string {
	w := 0
	for _, r := range s {
		w++
		if unicode.Is(unicode.Han, r) {
			w++
		}
	}
	return s + strings.Repeat(" ", max(0, width-w))
}
