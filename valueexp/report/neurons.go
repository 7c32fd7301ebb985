package report

import (
	"math"
	"slices"

	"github.com/valueexploration/valueexp/hooks"
	"github.com/valueexploration/valueexp/valueexp/cvoice"
)

// valueSets holds, for one language group, the neuron set of each value
// (nil where the file has none).
type valueSets struct {
	Lang string
	Sets [cvoice.NumValues]*hooks.NeuronSet
}

// count returns how many values have a set.
func (g *valueSets) count() int {
	n := 0
	for _, s := range g.Sets {
		if s != nil {
			n++
		}
	}
	return n
}

// neuronInventory sorts the sets of a file into value sets per language,
// random controls and anything else.
type neuronInventory struct {
	Groups   []*valueSets       // in order zh, en, pooled, then others by first appearance
	Controls []*hooks.NeuronSet // random same-size controls
	Other    []*hooks.NeuronSet // sets whose names name no value
	Layers   int                // number of layers (from the model shape, else the highest layer seen + 1)
	Dup      []string           // value sets that appeared twice for one value and language (the first is kept)
}

// inventory classifies the sets of f.
func inventory(f *hooks.NeuronSetFile) *neuronInventory {
	inv := &neuronInventory{}
	byLang := map[string]*valueSets{}
	var order []string
	for i := range f.NeuronSets {
		s := &f.NeuronSets[i]
		for _, l := range s.Layers {
			inv.Layers = max(inv.Layers, l.Layer+1)
		}
		if _, ok := randomControlOf(s.Name); ok || provenanceMethod(s.Provenance) == "random" {
			inv.Controls = append(inv.Controls, s)
			continue
		}
		t, ok := ParseTag(s.Name)
		if !ok {
			inv.Other = append(inv.Other, s)
			continue
		}
		g := byLang[t.Lang]
		if g == nil {
			g = &valueSets{Lang: t.Lang}
			byLang[t.Lang] = g
			order = append(order, t.Lang)
		}
		if g.Sets[t.Value] != nil {
			inv.Dup = append(inv.Dup, s.Name)
			continue
		}
		g.Sets[t.Value] = s
	}
	if f.Model != nil && f.Model.Layers > 0 {
		inv.Layers = max(inv.Layers, f.Model.Layers)
	}
	for _, l := range langOrder(order) {
		inv.Groups = append(inv.Groups, byLang[l])
	}
	return inv
}

// langOrder puts zh first, en second, pooled third, then the rest as found.
func langOrder(langs []string) []string {
	rank := func(l string) int {
		switch l {
		case "zh":
			return 0
		case "en":
			return 1
		case "":
			return 2
		}
		return 3
	}
	out := slices.Clone(langs)
	slices.SortStableFunc(out, func(a, b string) int { return rank(a) - rank(b) })
	return out
}

// group returns the value sets of lang, or nil.
func (inv *neuronInventory) group(lang string) *valueSets {
	for _, g := range inv.Groups {
		if g.Lang == lang {
			return g
		}
	}
	return nil
}

// perLayer returns the number of neurons of s in each of layers layers.
func perLayer(s *hooks.NeuronSet, layers int) []int {
	out := make([]int, layers)
	if s == nil {
		return out
	}
	for _, l := range s.Layers {
		if l.Layer >= 0 && l.Layer < layers {
			out[l.Layer] += len(l.Indices)
		}
	}
	return out
}

// neuronKeys returns the set's neurons as sorted, unique layer<<32|index keys.
func neuronKeys(s *hooks.NeuronSet) []uint64 {
	if s == nil {
		return nil
	}
	keys := make([]uint64, 0, s.Size())
	for _, l := range s.Layers {
		for _, j := range l.Indices {
			keys = append(keys, uint64(uint32(l.Layer))<<32|uint64(uint32(j)))
		}
	}
	// Files are validated to be sorted, but sort anyway: a hand-made set
	// must not give a wrong intersection.
	slices.Sort(keys)
	return slices.Compact(keys)
}

// intersect counts the common elements of two sorted, unique slices.
func intersect(a, b []uint64) int {
	n, i, j := 0, 0, 0
	for i < len(a) && j < len(b) {
		switch {
		case a[i] < b[j]:
			i++
		case a[i] > b[j]:
			j++
		default:
			n++
			i++
			j++
		}
	}
	return n
}

// jaccard returns |A∩B| / |A∪B| and the intersection size; NaN when both
// sets are empty (or missing), where overlap is undefined.
func jaccard(a, b []uint64) (float64, int) {
	in := intersect(a, b)
	union := len(a) + len(b) - in
	if union == 0 {
		return math.NaN(), 0
	}
	return float64(in) / float64(union), in
}

// overlapMatrix returns the 12×12 Jaccard matrix and intersection sizes of
// a group's value sets. Missing or empty sets give NaN rows and columns.
func overlapMatrix(g *valueSets) (jac [][]float64, inter [][]int) {
	keys := make([][]uint64, cvoice.NumValues)
	for v, s := range g.Sets {
		keys[v] = neuronKeys(s)
	}
	jac = make([][]float64, cvoice.NumValues)
	inter = make([][]int, cvoice.NumValues)
	for u := range cvoice.NumValues {
		jac[u] = make([]float64, cvoice.NumValues)
		inter[u] = make([]int, cvoice.NumValues)
		for v := range cvoice.NumValues {
			if g.Sets[u] == nil || g.Sets[v] == nil {
				jac[u][v] = math.NaN()
				continue
			}
			jac[u][v], inter[u][v] = jaccard(keys[u], keys[v])
		}
	}
	return jac, inter
}

// sharedByAll counts the neurons in every one of the group's 12 sets (0
// when a value has no set).
func sharedByAll(g *valueSets) int {
	var common []uint64
	for v, s := range g.Sets {
		if s == nil {
			return 0
		}
		k := neuronKeys(s)
		if v == 0 {
			common = k
			continue
		}
		out := common[:0:0]
		i, j := 0, 0
		for i < len(common) && j < len(k) {
			switch {
			case common[i] < k[j]:
				i++
			case common[i] > k[j]:
				j++
			default:
				out = append(out, common[i])
				i++
				j++
			}
		}
		common = out
	}
	return len(common)
}

// pairwiseJaccardStats returns the mean, min and max Jaccard over the
// distinct pairs u<v with a defined value, and how many pairs that was.
func pairwiseJaccardStats(jac [][]float64) (mean, lo, hi float64, n int) {
	lo, hi = math.Inf(1), math.Inf(-1)
	var sum float64
	for u := range jac {
		for v := u + 1; v < len(jac[u]); v++ {
			x := jac[u][v]
			if math.IsNaN(x) {
				continue
			}
			sum += x
			lo, hi = math.Min(lo, x), math.Max(hi, x)
			n++
		}
	}
	if n == 0 {
		return math.NaN(), math.NaN(), math.NaN(), 0
	}
	return sum / float64(n), lo, hi, n
}
