package stats

import (
	"cmp"
	"fmt"
	"hash/fnv"
	"math"
	"slices"
)

// Outcome is one item's answer under one condition.
type Outcome struct {
	// Item identifies the item; outcomes of different conditions are
	// paired by it.
	Item string
	// Share is the support for the aligned option in [0, 1]; read only when
	// Answered.
	Share float64
	// Answered is false for an answer that could not be parsed (generate
	// mode): such items are left out of every rate and every pair.
	Answered bool
}

// Condition describes one evaluated condition.
type Condition struct {
	Name string
	Kind string // "none" (the plain model), "deactivate" or "random"
	// ControlOf names the deactivated set a random condition controls.
	// Several random conditions (draws) may control one set.
	ControlOf string
}

// Key addresses a cell: a condition, an evaluated value and a language.
type Key struct {
	Condition, Value, Language string
}

// Input is what Analyze works on: the conditions and, per cell, the
// outcome of every item of that value and language.
type Input struct {
	Conditions []Condition
	Outcomes   map[Key][]Outcome
}

// Options control Analyze. Zero fields take the defaults.
type Options struct {
	Level           float64    // confidence level of the intervals (0.95)
	Alpha           float64    // significance level after correction (0.05)
	BootstrapReps   int        // resamples per bootstrap interval (2000)
	PermutationReps int        // sign patterns drawn when not enumerated (10000)
	Seed            uint64     // seeds every random draw (each cell draws its own stream)
	Correction      Correction // across each family (default Holm–Bonferroni)
}

// withDefaults fills in the zero fields.
func (o Options) withDefaults() Options {
	if o.Level == 0 {
		o.Level = 0.95
	}
	if o.Alpha == 0 {
		o.Alpha = 0.05
	}
	if o.BootstrapReps == 0 {
		o.BootstrapReps = 2000
	}
	if o.PermutationReps == 0 {
		o.PermutationReps = 10000
	}
	return o
}

// Delta is a paired change of one cell against a baseline over the items
// answered under both.
type Delta struct {
	Pairs int // items in the comparison
	// Mean is the mean paired change of support, in points (×100), with its
	// bootstrap interval over the pairs and the permutation test's p.
	Mean     float64
	CI       Interval
	P        float64
	Adjusted float64 // P corrected across the family; NaN outside one
	// Significant: Adjusted ≤ Alpha.
	Significant bool
	// ChoiceMean is the change of the aligned-choice rate (a fraction), with
	// the exact sign test's p and its corrected value.
	ChoiceMean        float64
	ChoiceP           float64
	ChoiceAdjusted    float64
	ChoiceSignificant bool
	// DrawMeans, against random controls only: the mean paired change
	// against each draw alone (points), the control's own spread.
	DrawMeans []float64
}

// Cell is the analysis of one cell.
type Cell struct {
	Key
	Kind     string
	Items    int // outcomes given
	Answered int // outcomes answered
	// Support is the mean share ×100 with its bootstrap interval (points).
	Support   float64
	SupportCI Interval
	// Chosen counts items whose aligned share exceeds ½ (a tie counts ½);
	// ChoiceRate = Chosen/Answered with its Clopper–Pearson interval (a
	// half count uses the floor for the lower and the ceiling for the upper
	// bound, which only widens it).
	Chosen     float64
	ChoiceRate float64
	ChoiceCI   Interval
	// VsNone and VsRandom are nil where there is no baseline (the plain
	// model itself, a set without random controls, no common items).
	VsNone, VsRandom *Delta
}

// Analysis is the result of Analyze.
type Analysis struct {
	Options Options // with defaults filled in
	Cells   []Cell  // in the order of the conditions, then value, then language
	index   map[Key]int
}

// Cell returns the analysis of a cell, or nil.
func (a *Analysis) Cell(k Key) *Cell {
	if i, ok := a.index[k]; ok {
		return &a.Cells[i]
	}
	return nil
}

// Count returns how many cells of kind in language lang (all languages for
// "") have a change against the given baseline ("none" or "random") that
// survives the correction, and how many were tested.
func (a *Analysis) Count(kind, baseline, lang string) (significant, tested int) {
	for i := range a.Cells {
		c := &a.Cells[i]
		if c.Kind != kind || (lang != "" && c.Language != lang) {
			continue
		}
		d := c.VsNone
		if baseline == "random" {
			d = c.VsRandom
		}
		if d == nil || math.IsNaN(d.Adjusted) {
			continue
		}
		tested++
		if d.Significant {
			significant++
		}
	}
	return significant, tested
}

// choice is an item's aligned choice: 1 above ½, ½ at ½, else 0.
func choice(share float64) float64 {
	switch {
	case share > 0.5:
		return 1
	case share == 0.5:
		return 0.5
	}
	return 0
}

// streamSeed derives the seed of one computation from the options' seed
// and what is computed, so a cell's numbers do not depend on which other
// cells are analysed or in what order.
func streamSeed(seed uint64, parts ...string) uint64 {
	h := fnv.New64a()
	for _, p := range parts {
		h.Write([]byte(p))
		h.Write([]byte{0})
	}
	return seed ^ h.Sum64()
}

// Analyze computes every cell's rates with their intervals and the paired
// changes of every deactivated set (and random control) against the plain
// model and against the set's random controls, then corrects the p-values
// within each family: one family per comparison (vs plain, vs random),
// condition kind and language, so the 12 sets × 12 values of one language
// form one family, as the issue asks.
func Analyze(in Input, opt Options) (*Analysis, error) {
	opt = opt.withDefaults()
	if err := checkLevel(opt.Level); err != nil {
		return nil, err
	}
	if !(opt.Alpha > 0 && opt.Alpha < 1) {
		return nil, fmt.Errorf("stats: significance level %g not in (0, 1)", opt.Alpha)
	}
	if opt.BootstrapReps < 1 || opt.PermutationReps < 1 {
		return nil, fmt.Errorf("stats: %d bootstrap and %d permutation resamples", opt.BootstrapReps, opt.PermutationReps)
	}
	order := map[string]int{}
	kinds := map[string]string{}
	controls := map[string][]string{}
	for i, c := range in.Conditions {
		if _, dup := order[c.Name]; dup {
			return nil, fmt.Errorf("stats: condition %q listed twice", c.Name)
		}
		switch c.Kind {
		case "none", "deactivate", "random":
		default:
			return nil, fmt.Errorf("stats: condition %q: kind %q", c.Name, c.Kind)
		}
		order[c.Name], kinds[c.Name] = i, c.Kind
		if c.Kind == "random" && c.ControlOf != "" {
			controls[c.ControlOf] = append(controls[c.ControlOf], c.Name)
		}
	}
	var none string
	for _, c := range in.Conditions {
		if c.Kind == "none" {
			none = c.Name
			break
		}
	}
	keys := make([]Key, 0, len(in.Outcomes))
	for k := range in.Outcomes {
		if _, ok := order[k.Condition]; !ok {
			return nil, fmt.Errorf("stats: outcomes for unknown condition %q", k.Condition)
		}
		keys = append(keys, k)
	}
	slices.SortFunc(keys, func(a, b Key) int {
		return cmp.Or(cmp.Compare(order[a.Condition], order[b.Condition]), cmp.Compare(a.Value, b.Value), cmp.Compare(a.Language, b.Language))
	})
	// Each cell's answered shares by item, for pairing.
	byItem := make(map[Key]map[string]float64, len(keys))
	for _, k := range keys {
		m := map[string]float64{}
		for _, o := range in.Outcomes[k] {
			if o.Answered {
				if math.IsNaN(o.Share) || o.Share < 0 || o.Share > 1 {
					return nil, fmt.Errorf("stats: cell %v: item %q: share %g not in [0, 1]", k, o.Item, o.Share)
				}
				if _, dup := m[o.Item]; dup {
					return nil, fmt.Errorf("stats: cell %v: item %q twice", k, o.Item)
				}
				m[o.Item] = o.Share
			}
		}
		byItem[k] = m
	}

	a := &Analysis{Options: opt, index: make(map[Key]int, len(keys))}
	for _, k := range keys {
		c, err := analyseCell(k, kinds[k.Condition], in.Outcomes[k], opt)
		if err != nil {
			return nil, err
		}
		if c.Kind != "none" && none != "" {
			base := byItem[Key{none, k.Value, k.Language}]
			if base != nil {
				c.VsNone, err = pairedDelta(k, "none", in.Outcomes[k], []map[string]float64{base}, opt)
				if err != nil {
					return nil, err
				}
			}
		}
		if c.Kind == "deactivate" {
			var draws []map[string]float64
			for _, name := range controls[k.Condition] {
				if m := byItem[Key{name, k.Value, k.Language}]; m != nil {
					draws = append(draws, m)
				}
			}
			if len(draws) > 0 {
				c.VsRandom, err = pairedDelta(k, "random", in.Outcomes[k], draws, opt)
				if err != nil {
					return nil, err
				}
			}
		}
		a.index[k] = len(a.Cells)
		a.Cells = append(a.Cells, c)
	}
	if err := a.correct(); err != nil {
		return nil, err
	}
	return a, nil
}

// analyseCell computes a cell's rates and intervals.
func analyseCell(k Key, kind string, out []Outcome, opt Options) (Cell, error) {
	c := Cell{Key: k, Kind: kind, Items: len(out), Support: math.NaN(), ChoiceRate: math.NaN(), SupportCI: nanInterval, ChoiceCI: nanInterval}
	var shares []float64
	for _, o := range out {
		if !o.Answered {
			continue
		}
		shares = append(shares, o.Share)
		c.Chosen += choice(o.Share)
	}
	c.Answered = len(shares)
	if c.Answered == 0 {
		return c, nil
	}
	var sum float64
	for _, s := range shares {
		sum += s
	}
	c.Support = 100 * sum / float64(c.Answered)
	ci, err := BootstrapMean(shares, opt.Level, opt.BootstrapReps, streamSeed(opt.Seed, "support", k.Condition, k.Value, k.Language))
	if err != nil {
		return c, err
	}
	c.SupportCI = ci.Scale(100)
	c.ChoiceRate = c.Chosen / float64(c.Answered)
	lo, err := ClopperPearson(int(math.Floor(c.Chosen)), c.Answered, opt.Level)
	if err != nil {
		return c, err
	}
	hi, err := ClopperPearson(int(math.Ceil(c.Chosen)), c.Answered, opt.Level)
	if err != nil {
		return c, err
	}
	c.ChoiceCI = Interval{lo.Lo, hi.Hi}
	return c, nil
}

// pairedDelta compares a cell's answered items with the mean of the
// baselines (one for the plain model, one per random draw) over the items
// answered under the cell and at least one baseline.
func pairedDelta(k Key, against string, out []Outcome, bases []map[string]float64, opt Options) (*Delta, error) {
	var d, dc []float64
	perDraw := make([][]float64, len(bases))
	for _, o := range out {
		if !o.Answered {
			continue
		}
		var sum, csum float64
		n := 0
		for j, b := range bases {
			if s, ok := b[o.Item]; ok {
				sum += s
				csum += choice(s)
				n++
				perDraw[j] = append(perDraw[j], o.Share-s)
			}
		}
		if n == 0 {
			continue
		}
		d = append(d, o.Share-sum/float64(n))
		dc = append(dc, choice(o.Share)-csum/float64(n))
	}
	if len(d) == 0 {
		return nil, nil
	}
	delta := &Delta{Pairs: len(d), Adjusted: math.NaN(), ChoiceAdjusted: math.NaN()}
	delta.Mean = 100 * mean(d)
	delta.ChoiceMean = mean(dc)
	seed := streamSeed(opt.Seed, "delta-"+against, k.Condition, k.Value, k.Language)
	ci, err := BootstrapMean(d, opt.Level, opt.BootstrapReps, seed)
	if err != nil {
		return nil, err
	}
	delta.CI = ci.Scale(100)
	if delta.P, err = PermutationTest(d, opt.PermutationReps, seed+1); err != nil {
		return nil, err
	}
	delta.ChoiceP, _, _ = SignTest(dc)
	if against == "random" {
		for _, x := range perDraw {
			if len(x) > 0 {
				delta.DrawMeans = append(delta.DrawMeans, 100*mean(x))
			}
		}
	}
	return delta, nil
}

func mean(x []float64) float64 {
	var s float64
	for _, v := range x {
		s += v
	}
	return s / float64(len(x))
}

// correct adjusts the p-values of every family and marks what survives.
func (a *Analysis) correct() error {
	type family struct{ against, kind, lang string }
	members := map[family][]*Delta{}
	var fams []family
	for i := range a.Cells {
		c := &a.Cells[i]
		for _, x := range []struct {
			against string
			d       *Delta
		}{{"none", c.VsNone}, {"random", c.VsRandom}} {
			if x.d == nil {
				continue
			}
			f := family{x.against, c.Kind, c.Language}
			if members[f] == nil {
				fams = append(fams, f)
			}
			members[f] = append(members[f], x.d)
		}
	}
	for _, f := range fams {
		ds := members[f]
		ps, cps := make([]float64, len(ds)), make([]float64, len(ds))
		for i, d := range ds {
			ps[i], cps[i] = d.P, d.ChoiceP
		}
		adj, err := a.Options.Correction.Adjust(ps)
		if err != nil {
			return err
		}
		cadj, err := a.Options.Correction.Adjust(cps)
		if err != nil {
			return err
		}
		for i, d := range ds {
			d.Adjusted, d.ChoiceAdjusted = adj[i], cadj[i]
			d.Significant = adj[i] <= a.Options.Alpha
			d.ChoiceSignificant = cadj[i] <= a.Options.Alpha
		}
	}
	return nil
}
