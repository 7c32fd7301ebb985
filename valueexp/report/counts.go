package report

import (
	"encoding/json"
	"math"
	"slices"

	"github.com/valueexploration/valueexp/hooks"
	"github.com/valueexploration/valueexp/valueexp/cvoice"
	"github.com/valueexploration/valueexp/valueexp/record"
)

// parseManifest reads valueexp/record's manifest from a counts file's
// metadata, if any. Unlike record.Parse it decodes loosely (unknown fields
// are ignored), so a report never fails on a counts file from a newer build.
func parseManifest(meta map[string]string) (*record.Manifest, bool) {
	s, ok := meta[record.ManifestKey]
	if !ok {
		return nil, false
	}
	var m record.Manifest
	if json.Unmarshal([]byte(s), &m) != nil {
		return nil, false
	}
	return &m, true
}

// countGroup is the value tags of one language in a counts file.
type countGroup struct {
	Lang string
	Tags [cvoice.NumValues]int // tag index per value, -1 when absent
}

func (g *countGroup) present() []int {
	var out []int
	for _, k := range g.Tags {
		if k >= 0 {
			out = append(out, k)
		}
	}
	return out
}

// countGroups splits the counter's tags into languages by their names.
// Tags without names, or whose names do not parse, are left out.
func countGroups(c *hooks.ActProb) []*countGroup {
	byLang := map[string]*countGroup{}
	var order []string
	for k, name := range c.TagNames {
		t, ok := ParseTag(name)
		if !ok {
			continue
		}
		g := byLang[t.Lang]
		if g == nil {
			g = &countGroup{Lang: t.Lang}
			for i := range g.Tags {
				g.Tags[i] = -1
			}
			byLang[t.Lang] = g
			order = append(order, t.Lang)
		}
		if g.Tags[t.Value] < 0 {
			g.Tags[t.Value] = k
		}
	}
	var out []*countGroup
	for _, l := range langOrder(order) {
		out = append(out, byLang[l])
	}
	return out
}

// vapeStats are the LAPE/VAPE quantities of one language group computed
// with the LAPE defaults (valueexp/METHOD.md §3.5), for the distribution figures.
type vapeStats struct {
	Probs       []float64 // every p^k_{l,j} of the group
	Threshold   float64   // the filter_rate quantile of Probs
	Entropy     []float64 // VAPE of every neuron with some activation
	Candidates  []float64 // VAPE of neurons passing the filter
	Cutoff      float64   // VAPE of the last neuron LAPE would keep (NaN if none)
	Selected    int       // neurons at or below Cutoff among the candidates
	Values      int       // tags (values) in the group
	FilterRate  float64
	TopRate     float64
	ZeroNeurons int // neurons never active for any value
}

// kthSmallestRate returns the round(rate·n)-th smallest (1-based, at least
// the first) of vals, as torch.kthvalue does in LAPE.
func kthSmallestRate(vals []float64, rate float64) float64 {
	if len(vals) == 0 {
		return math.NaN()
	}
	s := slices.Clone(vals)
	slices.Sort(s)
	k := int(math.Round(rate * float64(len(s))))
	k = max(1, min(len(s), k))
	return s[k-1]
}

// computeVAPE evaluates the LAPE selection statistics over group g.
func computeVAPE(c *hooks.ActProb, g *countGroup, filterRate, topRate float64) *vapeStats {
	tags := g.present()
	st := &vapeStats{Values: len(tags), FilterRate: filterRate, TopRate: topRate, Cutoff: math.NaN(), Threshold: math.NaN()}
	if len(tags) == 0 {
		return st
	}
	L, D := c.Layers, c.Dim
	st.Probs = make([]float64, 0, len(tags)*L*D)
	for _, k := range tags {
		for l := range L {
			for j := range D {
				st.Probs = append(st.Probs, c.Prob(k, l, j))
			}
		}
	}
	st.Threshold = kthSmallestRate(st.Probs, filterRate)
	p := make([]float64, len(tags))
	for l := range L {
		for j := range D {
			sum, pass := 0.0, false
			for i, k := range tags {
				p[i] = c.Prob(k, l, j)
				sum += p[i]
				pass = pass || p[i] > st.Threshold
			}
			if sum == 0 {
				st.ZeroNeurons++
				continue
			}
			h := 0.0
			for _, x := range p {
				if x > 0 {
					q := x / sum
					h -= q * math.Log(q)
				}
			}
			st.Entropy = append(st.Entropy, h)
			if pass {
				st.Candidates = append(st.Candidates, h)
			}
		}
	}
	keep := int(math.Round(topRate * float64(L*D)))
	if keep > 0 && len(st.Candidates) > 0 {
		s := slices.Clone(st.Candidates)
		slices.Sort(s)
		keep = min(keep, len(s))
		st.Cutoff = s[keep-1]
		st.Selected = keep
	}
	return st
}

// tokensPerTag returns the tokens counted for tag k (layer 0; every layer
// sees the same tokens unless a run stopped between layers).
func tokensPerTag(c *hooks.ActProb, k int) uint64 {
	if c.Layers == 0 {
		return 0
	}
	return c.Tokens[k*c.Layers]
}

// meanProb returns the mean activation probability of tag k over all
// neurons and layers.
func meanProb(c *hooks.ActProb, k int) float64 {
	var sum float64
	n := 0
	for l := range c.Layers {
		if c.Tokens[k*c.Layers+l] == 0 {
			continue
		}
		for j := range c.Dim {
			sum += c.Prob(k, l, j)
			n++
		}
	}
	if n == 0 {
		return math.NaN()
	}
	return sum / float64(n)
}
