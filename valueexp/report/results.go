package report

import (
	"fmt"
	"math"
	"slices"

	"github.com/valueexploration/valueexp/valueexp/cvoice"
	"github.com/valueexploration/valueexp/valueexp/evaluate"
)

// cellKey addresses one cell of an evaluation.
type cellKey struct {
	cond  string
	value cvoice.Value
	lang  string
}

// condition is an evaluated condition with what the report needs to know.
type condition struct {
	Name    string
	Kind    string // "none", "deactivate", "random"
	Control string // name of the (first) random control of a deactivated set, if any
	// Controls are all its random control draws, in draw order.
	Controls []string
	Of       string // for a random control: the set it controls
	Own      cvoice.Value
	HasOwn   bool // the condition switches off a set that belongs to Own
	Neurons  int
}

// label is the condition's name in ASCII, for figures.
func (c condition) label() string {
	switch c.Kind {
	case "none":
		return "none (plain model)"
	case "random":
		if _, d, ok := parseControl(c.Name); ok && d > 1 {
			return fmt.Sprintf("random: %s #%d", asciiLabel(c.Of), d)
		}
		return "random: " + asciiLabel(c.Of)
	}
	return asciiLabel(c.Name)
}

// resultTable indexes an evaluate.Results for the report.
type resultTable struct {
	res   *evaluate.Results
	langs []string
	conds []condition
	cells map[cellKey]*evaluate.Cell
}

// newResultTable indexes res. Conditions are taken from res.Conditions or,
// for results without them, from the cells' condition names; they are
// ordered none, deactivated sets, random controls.
func newResultTable(res *evaluate.Results) *resultTable {
	t := &resultTable{res: res, cells: map[cellKey]*evaluate.Cell{}}
	var langs []string
	for i := range res.Cells {
		c := &res.Cells[i]
		v, ok := cvoice.LookupValue(c.Value)
		if !ok {
			if v, ok = cvoice.LookupValue(c.ValueEnglish); !ok {
				continue
			}
		}
		t.cells[cellKey{c.Condition, v, c.Language}] = c
		if !slices.Contains(langs, c.Language) {
			langs = append(langs, c.Language)
		}
	}
	t.langs = langOrder(langs)

	var conds []condition
	seen := map[string]bool{}
	add := func(c condition) {
		if seen[c.Name] {
			return
		}
		seen[c.Name] = true
		conds = append(conds, c)
	}
	for _, c := range res.Conditions {
		add(describeCondition(c.Name, c.Kind, c.Set, c.Value, c.ControlOf, c.Neurons))
	}
	for _, c := range res.Cells {
		add(describeCondition(c.Condition, "", "", "", "", 0))
	}
	controls := map[string][]string{}
	for _, c := range conds {
		if c.Kind == "random" {
			controls[c.Of] = append(controls[c.Of], c.Name)
		}
	}
	kindRank := map[string]int{"none": 0, "deactivate": 1, "random": 2}
	slices.SortStableFunc(conds, func(a, b condition) int { return kindRank[a.Kind] - kindRank[b.Kind] })
	for i := range conds {
		if conds[i].Kind == "deactivate" {
			if rcs := controls[conds[i].Name]; len(rcs) > 0 {
				conds[i].Control, conds[i].Controls = rcs[0], rcs
			}
		}
	}
	t.conds = conds
	return t
}

// describeCondition fills in a condition from what Results records, or
// guesses kind and value from the name when the fields are empty.
func describeCondition(name, kind, set, value, controlOf string, neurons int) condition {
	c := condition{Name: name, Kind: kind, Of: controlOf, Neurons: neurons}
	if c.Kind == "" {
		switch rest, isRandom := randomControlOf(name); {
		case name == "none":
			c.Kind = "none"
		case isRandom:
			c.Kind, c.Of = "random", rest
		default:
			c.Kind = "deactivate"
		}
	}
	if c.Kind == "random" && c.Of == "" {
		c.Of = set
		if rest, ok := randomControlOf(name); ok && c.Of == "" {
			c.Of = rest
		}
	}
	if v, ok := cvoice.LookupValue(value); ok {
		c.Own, c.HasOwn = v, true
	} else if c.Kind != "none" {
		base := set
		if base == "" {
			base = name
			if c.Kind == "random" {
				base = c.Of
			}
		}
		if tg, ok := ParseTag(base); ok {
			c.Own, c.HasOwn = tg.Value, true
		}
	}
	return c
}

// cell returns the cell, or nil.
func (t *resultTable) cell(cond string, v cvoice.Value, lang string) *evaluate.Cell {
	return t.cells[cellKey{cond, v, lang}]
}

// support returns the support rate of a cell, NaN when missing or when no
// item was answered.
func (t *resultTable) support(cond string, v cvoice.Value, lang string) float64 {
	c := t.cell(cond, v, lang)
	if c == nil || c.Answered == 0 {
		return math.NaN()
	}
	return c.SupportRate
}

// deltaVsNone is the change of support rate against the plain model: the
// recorded delta, else the difference of the two support rates; 0 for the
// plain model itself and NaN when it cannot be known.
func (t *resultTable) deltaVsNone(cond string, v cvoice.Value, lang string) float64 {
	c := t.cell(cond, v, lang)
	if c == nil || c.Answered == 0 {
		return math.NaN()
	}
	if cond == "none" {
		return 0
	}
	if c.DeltaVsNone != nil {
		return *c.DeltaVsNone
	}
	return c.SupportRate - t.support("none", v, lang)
}

// deltaVsRandom is the change of support rate against the set's random
// controls (the mean of their draws), NaN when there is none.
func (t *resultTable) deltaVsRandom(cond condition, v cvoice.Value, lang string) float64 {
	c := t.cell(cond.Name, v, lang)
	if c == nil || c.Answered == 0 {
		return math.NaN()
	}
	if c.DeltaVsRandom != nil {
		return *c.DeltaVsRandom
	}
	if len(cond.Controls) == 0 {
		return math.NaN()
	}
	// Against the mean of the draws, as evaluate records it.
	var sum float64
	for _, rc := range cond.Controls {
		sum += t.support(rc, v, lang)
	}
	return c.SupportRate - sum/float64(len(cond.Controls))
}

// specificity summarises one deactivated set on one language: the change on
// its own value, the mean change on the other values, and the own-value
// change against the random control.
type specificity struct {
	Cond               condition
	Own, Others, OwnVR float64
}

func (t *resultTable) specificity(lang string) []specificity {
	var out []specificity
	for _, c := range t.conds {
		if c.Kind != "deactivate" || !c.HasOwn {
			continue
		}
		s := specificity{Cond: c, Own: t.deltaVsNone(c.Name, c.Own, lang), OwnVR: t.deltaVsRandom(c, c.Own, lang)}
		var sum float64
		n := 0
		for v := range cvoice.Value(cvoice.NumValues) {
			if v == c.Own {
				continue
			}
			if d := t.deltaVsNone(c.Name, v, lang); !math.IsNaN(d) {
				sum += d
				n++
			}
		}
		s.Others = math.NaN()
		if n > 0 {
			s.Others = sum / float64(n)
		}
		out = append(out, s)
	}
	return out
}

// valuesIn returns the values that have at least one cell in lang.
func (t *resultTable) valuesIn(lang string) []cvoice.Value {
	var out []cvoice.Value
	for v := range cvoice.Value(cvoice.NumValues) {
		for _, c := range t.conds {
			if t.cell(c.Name, v, lang) != nil {
				out = append(out, v)
				break
			}
		}
	}
	return out
}
