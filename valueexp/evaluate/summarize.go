package evaluate

import (
	"encoding/json"
	"math"

	"github.com/valueexploration/valueexp/valueexp/cvoice"
)

// summarize aggregates item results into cells and fills in the deltas
// against the plain model and against each set's random controls (the mean
// of their draws' support rates). A cell
// with a NaN item gets NaN rates (null in JSON), the item ids in NaNItems,
// and no deltas; the other cells are unaffected.
func summarize(conds []Condition, results []ItemResult) []Cell {
	type key struct {
		cond, value, lang string
	}
	type acc struct {
		items, answered int
		support, chosen float64
		nan             []string
	}
	accs := map[key]*acc{}
	for _, r := range results {
		k := key{r.Condition, r.Value, r.Language}
		a := accs[k]
		if a == nil {
			a = &acc{}
			accs[k] = a
		}
		a.items++
		if r.NaN {
			a.nan = append(a.nan, r.ID)
		}
		if !r.Answered {
			continue
		}
		a.answered++
		a.support += r.Aligned
		switch {
		case r.Aligned > 0.5:
			a.chosen++
		case r.Aligned == 0.5:
			a.chosen += 0.5
		}
	}
	var cells []Cell
	index := map[key]int{}
	for _, c := range conds {
		for _, v := range cvoice.Values() {
			for _, lang := range []cvoice.Language{cvoice.LangChinese, cvoice.LangEnglish} {
				k := key{c.Name, v.Chinese, string(lang)}
				a := accs[k]
				if a == nil {
					continue
				}
				cell := Cell{Condition: c.Name, Value: v.Chinese, ValueEnglish: v.English, Language: string(lang), Items: a.items, Answered: a.answered,
					ParseFailures: a.items - a.answered - len(a.nan), NaNItems: a.nan}
				cell.ParseFailureRate = float64(cell.ParseFailures) / float64(a.items)
				switch {
				case len(a.nan) > 0:
					cell.SupportRate, cell.AlignedChoiceRate = math.NaN(), math.NaN()
				case a.answered > 0:
					cell.SupportRate = 100 * a.support / float64(a.answered)
					cell.AlignedChoiceRate = a.chosen / float64(a.answered)
				}
				index[k] = len(cells)
				cells = append(cells, cell)
			}
		}
	}
	// A set's random controls: one or several draws. The delta against
	// them is against the mean support rate of the draws (one draw: its
	// rate, as before several draws existed).
	control := map[string][]string{}
	for _, c := range conds {
		if c.Kind == "random" {
			control[c.ControlOf] = append(control[c.ControlOf], c.Name)
		}
	}
	controlRate := func(rcs []string, value, lang string) (float64, bool) {
		var sum float64
		for _, rc := range rcs {
			j, ok := index[key{rc, value, lang}]
			if !ok {
				return 0, false
			}
			sum += cells[j].SupportRate
		}
		return sum / float64(len(rcs)), true
	}
	delta := func(a, b float64) *float64 {
		if math.IsNaN(a) || math.IsNaN(b) {
			return nil
		}
		d := a - b
		return &d
	}
	for i := range cells {
		c := &cells[i]
		if c.Condition != "none" {
			if j, ok := index[key{"none", c.Value, c.Language}]; ok {
				c.DeltaVsNone = delta(c.SupportRate, cells[j].SupportRate)
			}
		}
		if rcs, ok := control[c.Condition]; ok {
			if r, ok := controlRate(rcs, c.Value, c.Language); ok {
				c.DeltaVsRandom = delta(c.SupportRate, r)
			}
		}
	}
	return cells
}

// cellNaN is Cell's JSON form when its rates are not numbers: null rates.
type cellNaN struct {
	*cellAlias
	SupportRate       *float64 `json:"support_rate"`
	AlignedChoiceRate *float64 `json:"aligned_choice_rate"`
}

type cellAlias Cell

func finite(x float64) *float64 {
	if math.IsNaN(x) || math.IsInf(x, 0) {
		return nil
	}
	return &x
}

// MarshalJSON writes a cell, with null for rates that are NaN or infinite
// (JSON has no NaN), so one bad item never keeps results from being written.
func (c Cell) MarshalJSON() ([]byte, error) {
	a := cellAlias(c)
	if finite(c.SupportRate) != nil && finite(c.AlignedChoiceRate) != nil && finite(c.ParseFailureRate) != nil {
		return json.Marshal(a)
	}
	if finite(a.ParseFailureRate) == nil {
		a.ParseFailureRate = 0
	}
	return json.Marshal(cellNaN{cellAlias: &a, SupportRate: finite(c.SupportRate), AlignedChoiceRate: finite(c.AlignedChoiceRate)})
}

// UnmarshalJSON reads a cell; a null rate reads as NaN.
func (c *Cell) UnmarshalJSON(b []byte) error {
	var a cellAlias
	v := cellNaN{cellAlias: &a}
	if err := json.Unmarshal(b, &v); err != nil {
		return err
	}
	*c = Cell(a)
	c.SupportRate, c.AlignedChoiceRate = math.NaN(), math.NaN()
	if v.SupportRate != nil {
		c.SupportRate = *v.SupportRate
	}
	if v.AlignedChoiceRate != nil {
		c.AlignedChoiceRate = *v.AlignedChoiceRate
	}
	return nil
}
