package report

import (
	"encoding/json"
	"fmt"
	"math"
	"path/filepath"
	"slices"
	"strings"

	"github.com/valueexploration/valueexp/valueexp/cvoice"
	"github.com/valueexploration/valueexp/valueexp/evaluate"
	"github.com/valueexploration/valueexp/valueexp/stats"
)

// Decimals used everywhere a number of that kind is printed, in figures
// and tables alike (cells.csv keeps full precision).
const (
	pointDecimals   = 1 // support rates (%) and their changes (points), intervals included
	choiceDecimals  = 3 // aligned-choice rates (fractions)
	jaccardDecimals = 3 // overlaps
)

// pointFormat is the fmt verb of a signed change in figures.
var pointFormat = fmt.Sprintf("%%+.%df", pointDecimals)

// StatsInput turns evaluation results into the statistics' input: every
// item result becomes an outcome of the cell (condition, its item's value,
// its item's language). Value and language are the item's own fields when
// every item carries them (results written since evaluate records them;
// data may then be nil), else they are looked up in data. An item the data
// does not hold or places differently, or a cell whose item count disagrees
// with the results' own cell, is an error: the data is not the one the
// results were computed on. Results without per-item outcomes give an error
// too.
func StatsInput(res *evaluate.Results, data *cvoice.Dataset) (stats.Input, error) {
	if len(res.Items) == 0 {
		return stats.Input{}, fmt.Errorf("results: no per-item outcomes (field \"items\"), so no intervals can be computed")
	}
	own := ItemsCarryGroups(res)
	if data == nil && !own {
		return stats.Input{}, fmt.Errorf("results: per-item outcomes need the evaluation data to know each item's value and language")
	}
	in := stats.Input{Outcomes: map[stats.Key][]stats.Outcome{}}
	for _, c := range newResultTable(res).conds {
		sc := stats.Condition{Name: c.Name, Kind: c.Kind}
		if c.Kind == "random" {
			sc.ControlOf = c.Of
		}
		in.Conditions = append(in.Conditions, sc)
	}
	var byID map[string]cvoice.Item
	if data != nil {
		byID = make(map[string]cvoice.Item, data.Len())
		for it := range data.All() {
			byID[it.ID] = it
		}
	}
	for i, r := range res.Items {
		var k stats.Key
		if own {
			// The item's own value and language; data given as well must
			// agree with them.
			v, _ := cvoice.LookupValue(r.Value)
			k = stats.Key{Condition: r.Condition, Value: v.Chinese(), Language: r.Language}
			if data != nil {
				it, ok := byID[r.ID]
				switch {
				case !ok:
					return stats.Input{}, fmt.Errorf("results: item %q (condition %q) is not in the evaluation data given", r.ID, r.Condition)
				case it.Value != v || string(it.Language) != r.Language:
					return stats.Input{}, fmt.Errorf("results: items[%d] (id %q) has value %s, language %s, but the evaluation data given has %s, %s",
						i, r.ID, v.Chinese(), r.Language, it.Value.Chinese(), it.Language)
				}
			}
		} else {
			it, ok := byID[r.ID]
			if !ok {
				return stats.Input{}, fmt.Errorf("results: item %q (condition %q) is not in the evaluation data given", r.ID, r.Condition)
			}
			k = stats.Key{Condition: r.Condition, Value: it.Value.Chinese(), Language: string(it.Language)}
		}
		in.Outcomes[k] = append(in.Outcomes[k], stats.Outcome{Item: r.ID, Share: r.Aligned, Answered: r.Answered})
	}
	for _, c := range res.Cells {
		v, ok := cvoice.LookupValue(c.Value)
		if !ok {
			v, _ = cvoice.LookupValue(c.ValueEnglish)
		}
		k := stats.Key{Condition: c.Condition, Value: v.Chinese(), Language: c.Language}
		out := in.Outcomes[k]
		answered := 0
		for _, o := range out {
			if o.Answered {
				answered++
			}
		}
		if len(out) != c.Items || answered != c.Answered {
			return stats.Input{}, fmt.Errorf("results: cell (condition %q, value %s, language %s) counts %d items, %d answered, but the per-item outcomes matched to the data give %d and %d",
				c.Condition, v.Chinese(), c.Language, c.Items, c.Answered, len(out), answered)
		}
	}
	return in, nil
}

// ItemsCarryGroups reports whether every per-item result of res names its
// value and language (fields "value" and "language", a known value and zh
// or en), so that no evaluation data is needed to place it in its cell.
func ItemsCarryGroups(res *evaluate.Results) bool {
	if res == nil || len(res.Items) == 0 {
		return false
	}
	for _, r := range res.Items {
		if _, ok := cvoice.LookupValue(r.Value); !ok || r.Value == "" {
			return false
		}
		if r.Language != string(cvoice.LangChinese) && r.Language != string(cvoice.LangEnglish) {
			return false
		}
	}
	return true
}

// mismatches lists what says the inputs do not belong together: neuron sets
// selected from other counts than the ones given, and results computed
// with other neuron sets than the ones given.
func (w *writer) mismatches() []string {
	var out []string
	if ns := w.in.Neurons; ns != nil && w.in.CountsSHA256 != "" {
		var from []string
		for _, s := range ns.NeuronSets {
			if _, _, ok := parseControl(s.Name); ok {
				continue
			}
			var p struct {
				SHA []string `json:"counts_sha256"`
			}
			if len(s.Provenance) == 0 || json.Unmarshal(s.Provenance, &p) != nil {
				continue
			}
			for _, h := range p.SHA {
				if !slices.Contains(from, h) {
					from = append(from, h)
				}
			}
		}
		if len(from) > 0 && !slices.Contains(from, strings.ToLower(w.in.CountsSHA256)) {
			out = append(out, fmt.Sprintf("the neuron sets%s were selected from counts with sha256 %s, but the counts given%s have sha256 %s",
				fileParen(w.in.NeuronsFile), shortList(from), fileParen(w.in.CountsFile), short(w.in.CountsSHA256)))
		}
	}
	if sha, res := w.in.NeuronsSHA256, w.in.Results; sha != "" && res != nil && res.Job != nil && res.Job.NeuronsSHA256 != "" {
		// The results name the neuron file they were computed from: compare
		// the files, not only the sets' names and sizes.
		if !strings.EqualFold(sha, res.Job.NeuronsSHA256) {
			out = append(out, fmt.Sprintf("the results%s were computed from a neuron file with sha256 %s, but the neuron file given%s has sha256 %s",
				fileParen(w.in.ResultsFile), short(res.Job.NeuronsSHA256), fileParen(w.in.NeuronsFile), short(sha)))
		}
	} else if ns, res := w.in.Neurons, w.in.Results; ns != nil && res != nil {
		var bad []string
		for _, c := range res.Conditions {
			name := c.Set
			if name == "" {
				name = c.Name
			}
			switch {
			case c.Kind == "deactivate", c.Kind == "random" && strings.HasPrefix(name, "random:"):
			case c.Kind == "random" && c.ControlOf != "":
				name = c.ControlOf // drawn by evaluate with the controlled set's sizes
			default:
				continue
			}
			s, ok := ns.Find(name)
			switch {
			case !ok:
				bad = append(bad, fmt.Sprintf("%s (not in the file)", name))
			case s.Size() != c.Neurons:
				bad = append(bad, fmt.Sprintf("%s (%d neurons in the file, %d in the results)", name, s.Size(), c.Neurons))
			}
		}
		if len(bad) > 0 {
			more := ""
			if len(bad) > 3 {
				more = fmt.Sprintf(" and %d more", len(bad)-3)
				bad = bad[:3]
			}
			out = append(out, fmt.Sprintf("the results%s were computed with other neuron sets than the file given%s: %s%s",
				fileParen(w.in.ResultsFile), fileParen(w.in.NeuronsFile), strings.Join(bad, "; "), more))
		}
	}
	if w.statsErr != nil {
		out = append(out, w.statsErr.Error())
	}
	return out
}

// parseControl recognises a random control's name: "random:NAME" (draw 1)
// or "random:NAME#d" (draw d), as identify writes them.
func parseControl(name string) (string, int, bool) {
	rest, ok := strings.CutPrefix(name, "random:")
	if !ok || rest == "" {
		return "", 0, false
	}
	if i := strings.LastIndexByte(rest, '#'); i > 0 && i+1 < len(rest) && rest[i+1] != '0' {
		d := 0
		for _, r := range rest[i+1:] {
			if r < '0' || r > '9' || d > 1<<20 {
				return rest, 1, true
			}
			d = 10*d + int(r-'0')
		}
		if d >= 2 {
			return rest[:i], d, true
		}
	}
	return rest, 1, true
}

// fileParen writes " (`name`)" for a path, "" for none.
func fileParen(path string) string {
	if path == "" {
		return ""
	}
	return " (`" + filepath.Base(path) + "`)"
}

func shortList(hs []string) string {
	out := make([]string, len(hs))
	for i, h := range hs {
		out[i] = short(h)
	}
	return strings.Join(out, ", ")
}

// emptySets lists the deactivated conditions that switch off no neuron.
func (w *writer) emptySets() []string {
	var out []string
	if w.res == nil {
		return nil
	}
	for _, c := range w.in.Results.Conditions {
		if c.Kind == "deactivate" && c.Neurons == 0 {
			out = append(out, c.Name)
		}
	}
	return out
}

// analysis returns the statistics of a cell, or nil.
func (w *writer) stat(cond string, v cvoice.Value, lang string) *stats.Cell {
	if w.an == nil {
		return nil
	}
	return w.an.Cell(stats.Key{Condition: cond, Value: v.Chinese(), Language: lang})
}

// interval writes [lo, hi] with the point decimals, "" when undefined.
func interval(iv stats.Interval) string {
	if math.IsNaN(iv.Lo) || math.IsNaN(iv.Hi) {
		return ""
	}
	return fmt.Sprintf("[%s, %s]", num(iv.Lo, pointDecimals), num(iv.Hi, pointDecimals))
}

// pText writes a p-value to three significant digits, "<0.001" below.
func pText(p float64) string {
	switch {
	case math.IsNaN(p):
		return "n/a"
	case p < 0.001:
		return "<0.001"
	}
	return fmt.Sprintf("%.3f", p)
}

// deltaText writes a change with its interval and a star when it survives
// the correction: "-10.0* [-14.2, -5.8]". With statistics the change shown
// is the paired one the interval belongs to (over the items answered under
// both conditions; against the mean of all random draws), else x, the
// difference of the two cells' rates.
func deltaText(x float64, d *stats.Delta) string {
	if d == nil {
		return signed(x, pointDecimals)
	}
	s := signed(d.Mean, pointDecimals)
	if d.Significant {
		s += "*"
	}
	if iv := interval(d.CI); iv != "" {
		s += " " + iv
	}
	return s
}

// supportText writes a cell's support rate, or "n/a" with the share of
// answers that did not parse when none did: an unparsed answer is never
// shown as 0 % support.
func supportText(c *evaluate.Cell, rate float64) string {
	if c == nil {
		return "—"
	}
	if c.Answered == 0 {
		return fmt.Sprintf("n/a (%d/%d unparsed)", c.ParseFailures, c.Items)
	}
	return num(rate, pointDecimals)
}
