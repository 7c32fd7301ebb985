package selection

import (
	"cmp"
	"fmt"
	"math"
	"slices"
	"strings"
)

// DiffParams are the knobs of the two-way activation-difference selection
// (ValueLocate-style, valueexp/METHOD.md §3.8).
type DiffParams struct {
	// TopN neurons with the largest difference are always kept (the
	// reference code's min_required = 2000). Zero keeps none this way.
	TopN int
	// MinDelta adds every further neuron whose difference is ≥ MinDelta
	// (0.1 in the reference code). +Inf disables the threshold.
	MinDelta float64
	// Normaliser divides the counts; ByTokens gives probabilities.
	Normaliser Normaliser
}

// Diff ranks neurons by Δ = P_pos − P_neg, where each group's probability
// pools its tags (summed counts over summed normalisers), and keeps the TopN
// largest plus any with Δ ≥ MinDelta. The result has two tags: the
// positive group's neurons (ranked by Δ) and, by the same rule applied to
// −Δ, the negative group's. Equal differences keep layer-major index order.
func Diff(c Counts, pos, neg []string, p DiffParams) (*Selection, error) {
	div, err := c.validate(p.Normaliser)
	if err != nil {
		return nil, err
	}
	if p.TopN < 0 || math.IsNaN(p.MinDelta) {
		return nil, fmt.Errorf("selection: diff: bad parameters TopN=%d MinDelta=%v", p.TopN, p.MinDelta)
	}
	posIdx, err := c.tagIndices(pos)
	if err != nil {
		return nil, fmt.Errorf("selection: diff: positive group: %w", err)
	}
	negIdx, err := c.tagIndices(neg)
	if err != nil {
		return nil, fmt.Errorf("selection: diff: negative group: %w", err)
	}
	for _, i := range posIdx {
		if slices.Contains(negIdx, i) {
			return nil, fmt.Errorf("selection: diff: tag %q is in both groups", c.Tags[i])
		}
	}
	n := c.Layers * c.Dim
	pp, err := c.pooled(posIdx, div, p.Normaliser)
	if err != nil {
		return nil, err
	}
	pn, err := c.pooled(negIdx, div, p.Normaliser)
	if err != nil {
		return nil, err
	}
	delta := make([]float64, n)
	for i := range delta {
		delta[i] = pp[i] - pn[i]
	}
	tags := []string{strings.Join(pos, "+"), strings.Join(neg, "+")}
	sel := newSelection(tags, c.Layers, c.Dim, Params{Method: "diff", TopN: p.TopN, MinDelta: p.MinDelta, Normaliser: p.Normaliser})
	for side, sign := range []float64{1, -1} {
		order := make([]int32, n)
		for i := range order {
			order[i] = int32(i)
		}
		slices.SortStableFunc(order, func(a, b int32) int { return cmp.Compare(sign*delta[b], sign*delta[a]) })
		var kept []int32
		for rank, i := range order {
			if rank < p.TopN || sign*delta[i] >= p.MinDelta {
				kept = append(kept, i)
			} else {
				break // order is descending, so nothing further can pass
			}
		}
		slices.Sort(kept)
		for _, i := range kept {
			l := int(i) / c.Dim
			sel.Neurons[side][l] = append(sel.Neurons[side][l], int32(int(i)%c.Dim))
		}
	}
	return sel, nil
}

func (c *Counts) tagIndices(names []string) ([]int, error) {
	if len(names) == 0 {
		return nil, fmt.Errorf("no tags")
	}
	out := make([]int, 0, len(names))
	for _, name := range names {
		i := slices.Index(c.Tags, name)
		if i < 0 {
			return nil, fmt.Errorf("unknown tag %q", name)
		}
		if slices.Contains(out, i) {
			return nil, fmt.Errorf("tag %q listed twice", name)
		}
		out = append(out, i)
	}
	return out, nil
}

// pooled returns Σ_k counts[k] / Σ_k div[k] over the tags in idx.
// With per-layer token totals (GroupTokens) the totals are pooled per layer.
func (c *Counts) pooled(idx []int, div []float64, norm Normaliser) ([]float64, error) {
	n := c.Layers * c.Dim
	sum := make([]float64, n)
	if c.GroupTokens != nil && norm == ByTokens {
		for _, k := range idx {
			for i, v := range c.OverZero[k] {
				if v < 0 {
					return nil, fmt.Errorf("selection: tag %q: negative count %d at layer %d neuron %d", c.Tags[k], v, i/c.Dim, i%c.Dim)
				}
				sum[i] += float64(v)
			}
		}
		for i := range sum {
			total := 0.0
			for _, k := range idx {
				total += c.GroupTokens[k][i/c.Dim]
			}
			sum[i] = ratio(sum[i], total)
		}
		return sum, nil
	}
	total := 0.0
	for _, k := range idx {
		total += div[k]
		for i, v := range c.OverZero[k] {
			if v < 0 {
				return nil, fmt.Errorf("selection: tag %q: negative count %d at layer %d neuron %d", c.Tags[k], v, i/c.Dim, i%c.Dim)
			}
			sum[i] += float64(v)
		}
	}
	for i := range sum {
		sum[i] /= total
	}
	return sum, nil
}
