package selection

import (
	"cmp"
	"fmt"
	"math"
	"slices"
)

// VAPEParams are the knobs of the LAPE/VAPE selection (valueexp/METHOD.md §3.5).
type VAPEParams struct {
	// TopRate is the fraction of all L×D neurons kept, lowest entropy first.
	TopRate float64
	// FilterRate places the filter threshold: the k-th smallest of all K×L×D
	// probabilities with k = round(FilterRate·K·L·D). A neuron with no tag
	// strictly above it is never selected.
	FilterRate float64
	// ActivationBarRatio places the assignment bar the same way; a selected
	// neuron joins every tag whose probability is strictly above it.
	ActivationBarRatio float64
	// Normaliser divides the counts (ByTokens, or ByQuestions to reproduce
	// the authors' masks).
	Normaliser Normaliser
}

// LAPEDefaults are LAPE's shipped settings, recommended for VAPE over the
// 12 values (valueexp/METHOD.md §7 item 1): 1 %, 95th percentile, 95th percentile.
func LAPEDefaults() VAPEParams {
	return VAPEParams{TopRate: 0.01, FilterRate: 0.95, ActivationBarRatio: 0.95}
}

// AuthorsDecision are the settings of the authors' "decision" masks
// (support vs conflict, valueexp/METHOD.md §3.6), including their question_num
// normalisation.
func AuthorsDecision() VAPEParams {
	return VAPEParams{TopRate: 0.01, FilterRate: 0.95, ActivationBarRatio: 0.95, Normaliser: ByQuestions}
}

// AuthorsSemantic are the settings of the authors' "semantic" masks.
func AuthorsSemantic() VAPEParams {
	return VAPEParams{TopRate: 0.01, FilterRate: 0.50, ActivationBarRatio: 0.50, Normaliser: ByQuestions}
}

// VAPE selects the tag-specific neurons of c by activation-probability
// entropy across tags, following the LAPE identify.py routine step by step
// (valueexp/METHOD.md §3.3–3.5):
//
//  1. p[k][l,j] = OverZero[k][l,j] / normaliser[k], in float64;
//  2. p̂ = p normalised over tags (all-zero neurons: p̂ = 0);
//  3. H = −Σ p̂ ln p̂ with 0·ln 0 = 0;
//  4. thr = k-th smallest of all p, k = round(FilterRate·K·L·D) with
//     Python's round-half-to-even; neurons with no p > thr get H = +Inf;
//  5. keep the round(TopRate·L·D) neurons of smallest H over all layers;
//     equal entropies keep layer-major index order;
//  6. bar = k-th smallest of all p at ActivationBarRatio; a kept neuron
//     belongs to every tag with p > bar.
//
// Both thresholds are global percentiles of all K×L×D probabilities, as in
// identify.py (the bar is not recomputed over the kept neurons).
// identify.py works in torch's default float32; float64 here reproduces
// all 48 released Llama masks exactly (the closest entropies at the cut
// differ by about 5e-8 relative, and none tie), see
// TestVAPEReproducesAuthorsMasks. torch.topk's order among exactly equal
// entropies is unspecified; this implementation breaks such ties by index.
//
// Unlike identify.py, every tag gets its list even when it receives no
// neurons (the bincount-split quirk is not reproduced).
func VAPE(c Counts, p VAPEParams) (*Selection, error) {
	div, err := c.validate(p.Normaliser)
	if err != nil {
		return nil, err
	}
	for _, r := range []struct {
		name string
		v    float64
	}{{"top rate", p.TopRate}, {"filter rate", p.FilterRate}, {"activation bar ratio", p.ActivationBarRatio}} {
		if !(r.v >= 0 && r.v <= 1) {
			return nil, fmt.Errorf("selection: VAPE %s %v outside [0,1]", r.name, r.v)
		}
	}
	K, n := len(c.Tags), c.Layers*c.Dim
	total := K * n

	// probs is laid out [neuron][tag] like the [L,D,K] tensor of identify.py.
	probs := make([]float64, total)
	for k, oz := range c.OverZero {
		for i, v := range oz {
			if v < 0 {
				return nil, fmt.Errorf("selection: tag %q: negative count %d at layer %d neuron %d", c.Tags[k], v, i/c.Dim, i%c.Dim)
			}
			probs[i*K+k] = ratio(float64(v), c.divisor(div, p.Normaliser, k, i))
		}
	}

	scratch := slices.Clone(probs)
	thr, err := kthSmallest(scratch, p.FilterRate, "filter rate")
	if err != nil {
		return nil, err
	}
	bar, err := kthSmallest(scratch, p.ActivationBarRatio, "activation bar ratio")
	if err != nil {
		return nil, err
	}

	type scored struct {
		idx     int32
		entropy float64
	}
	candidates := make([]scored, 0, n/8)
	for i := range n {
		row := probs[i*K : (i+1)*K]
		above := false
		for _, v := range row {
			if v > thr {
				above = true
				break
			}
		}
		if above {
			candidates = append(candidates, scored{int32(i), entropy(row)})
		}
	}
	want := int(math.RoundToEven(float64(n) * p.TopRate))
	// Neurons filtered out have entropy +Inf in identify.py; if they are
	// needed to fill the quota they can never clear the bar when bar ≥ thr,
	// and they are appended in index order otherwise.
	slices.SortFunc(candidates, func(a, b scored) int {
		return cmp.Or(cmp.Compare(a.entropy, b.entropy), cmp.Compare(a.idx, b.idx))
	})
	kept := make([]int32, 0, want)
	for _, s := range candidates[:min(want, len(candidates))] {
		kept = append(kept, s.idx)
	}
	if len(kept) < want {
		inCand := make([]bool, n)
		for _, s := range candidates {
			inCand[s.idx] = true
		}
		for i := 0; i < n && len(kept) < want; i++ {
			if !inCand[i] {
				kept = append(kept, int32(i))
			}
		}
	}
	slices.Sort(kept)

	sel := newSelection(c.Tags, c.Layers, c.Dim, Params{
		Method: "vape", TopRate: p.TopRate, FilterRate: p.FilterRate,
		ActivationBarRatio: p.ActivationBarRatio, Normaliser: p.Normaliser,
		FilterThreshold: thr, ActivationBar: bar, Candidates: len(candidates),
	})
	for _, i := range kept {
		l, j := int(i)/c.Dim, int32(int(i)%c.Dim)
		for k := range K {
			if probs[int(i)*K+k] > bar {
				sel.Neurons[k][l] = append(sel.Neurons[k][l], j)
			}
		}
	}
	return sel, nil
}

// kthSmallest returns torch.kthvalue(round(len·rate)): the 1-indexed k-th
// smallest value, with k rounded half to even as Python's round() does. It
// reorders vals (any permutation of the data gives the same answer).
func kthSmallest(vals []float64, rate float64, what string) (float64, error) {
	k := int(math.RoundToEven(float64(len(vals)) * rate))
	if k < 1 || k > len(vals) {
		return 0, fmt.Errorf("selection: %s %v gives k=%d, outside 1..%d", what, rate, k, len(vals))
	}
	return quickselect(vals, k-1), nil
}

// quickselect returns the value of rank r (0-indexed) of vals, which it
// partially reorders. Three-way partitioning keeps it linear on data with
// many repeated values, as activation counts have (zeros above all).
func quickselect(vals []float64, r int) float64 {
	lo, hi := 0, len(vals) // search window [lo, hi)
	for hi-lo > 16 {
		a, b, c := vals[lo], vals[lo+(hi-lo)/2], vals[hi-1]
		pivot := max(min(a, b), min(max(a, b), c)) // median of three
		lt, i, gt := lo, lo, hi
		for i < gt {
			switch v := vals[i]; {
			case v < pivot:
				vals[lt], vals[i] = vals[i], vals[lt]
				lt++
				i++
			case v > pivot:
				gt--
				vals[gt], vals[i] = vals[i], vals[gt]
			default:
				i++
			}
		}
		switch {
		case r < lt:
			hi = lt
		case r >= gt:
			lo = gt
		default:
			return pivot
		}
	}
	slices.Sort(vals[lo:hi])
	return vals[r]
}

// entropy returns −Σ p̂ ln p̂ of a row normalised to sum 1, with 0·ln 0 = 0;
// an all-zero row has entropy 0, as identify.py's NaN→0 gives.
func entropy(row []float64) float64 {
	sum := 0.0
	for _, v := range row {
		sum += v
	}
	if sum == 0 {
		return 0
	}
	h := 0.0
	for _, v := range row {
		if q := v / sum; q > 0 {
			h -= q * math.Log(q)
		}
	}
	return h
}
