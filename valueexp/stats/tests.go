// Package stats gives the uncertainty of an evaluation's support rates and
// of their changes (valueexp/METHOD.md §5.2, §7): per cell a 95 % interval
// for the support rate (a seeded bootstrap over items) and for the
// aligned-choice rate (the exact Clopper–Pearson interval), and per
// deactivated set the paired change against the plain model and against its
// random controls, over the same items, with an interval, a p-value (paired
// permutation test for support, exact sign test for choices) and a
// multiple-testing correction across the sets × values matrix
// (Holm–Bonferroni by default, Benjamini–Hochberg as an option).
//
// Everything random is seeded, so the same inputs and seed give the same
// numbers on every platform. The building blocks (ClopperPearson,
// BootstrapMean, SignTest, PermutationTest, Holm, BenjaminiHochberg) are
// exported for reuse and tested against hand-computed values.
package stats

import (
	"fmt"
	"math"
	"math/bits"
	"math/rand/v2"
	"slices"

	"gonum.org/v1/gonum/stat"
	"gonum.org/v1/gonum/stat/distuv"
)

// Interval is a confidence interval [Lo, Hi]; both are NaN when there is
// nothing to estimate from.
type Interval struct {
	Lo, Hi float64
}

// nanInterval is the interval of an empty sample.
var nanInterval = Interval{math.NaN(), math.NaN()}

// Scale returns the interval multiplied by f (for percentages).
func (iv Interval) Scale(f float64) Interval { return Interval{iv.Lo * f, iv.Hi * f} }

// Contains reports whether x lies in the interval.
func (iv Interval) Contains(x float64) bool { return iv.Lo <= x && x <= iv.Hi }

// checkLevel accepts confidence levels strictly between 0 and 1.
func checkLevel(level float64) error {
	if !(level > 0 && level < 1) {
		return fmt.Errorf("stats: confidence level %g not in (0, 1)", level)
	}
	return nil
}

// ClopperPearson returns the exact two-sided binomial confidence interval
// for k successes in n trials: the bounds are the α/2 quantile of
// Beta(k, n−k+1) and the 1−α/2 quantile of Beta(k+1, n−k), with 0 and 1 at
// k = 0 and k = n. Its coverage is at least level for every true rate.
func ClopperPearson(k, n int, level float64) (Interval, error) {
	if err := checkLevel(level); err != nil {
		return Interval{}, err
	}
	if n < 0 || k < 0 || k > n {
		return Interval{}, fmt.Errorf("stats: Clopper–Pearson: %d successes in %d trials", k, n)
	}
	if n == 0 {
		return nanInterval, nil
	}
	alpha := 1 - level
	iv := Interval{0, 1}
	if k > 0 {
		iv.Lo = distuv.Beta{Alpha: float64(k), Beta: float64(n - k + 1)}.Quantile(alpha / 2)
	}
	if k < n {
		iv.Hi = distuv.Beta{Alpha: float64(k + 1), Beta: float64(n - k)}.Quantile(1 - alpha/2)
	}
	return iv, nil
}

// newRand returns the generator of a seeded procedure. The stream constant
// keeps it apart from other seeded draws of the project. The PCG is used
// directly, not through rand.Rand, because the bootstrap draws hundreds of
// millions of indices in a full study.
func newRand(seed uint64) *rand.PCG {
	return rand.NewPCG(seed, 0x7374617473) // "stats"
}

// index returns a draw from [0, n) by Lemire's multiply-shift: the high
// word of a 64-bit uniform times n. Its bias is below n/2⁶⁴, far below
// anything a bootstrap can see, and it needs no rejection loop.
func index(r *rand.PCG, n uint64) int {
	hi, _ := bits.Mul64(r.Uint64(), n)
	return int(hi)
}

// BootstrapMean returns the percentile bootstrap interval of the mean of x:
// reps resamples of len(x) items drawn with replacement, and the (1−level)/2
// and (1+level)/2 empirical quantiles of their means. It is deterministic
// in seed. One value gives a zero-width interval; none gives NaN.
func BootstrapMean(x []float64, level float64, reps int, seed uint64) (Interval, error) {
	if err := checkLevel(level); err != nil {
		return Interval{}, err
	}
	if reps < 1 {
		return Interval{}, fmt.Errorf("stats: bootstrap: %d resamples", reps)
	}
	switch len(x) {
	case 0:
		return nanInterval, nil
	case 1:
		return Interval{x[0], x[0]}, nil
	}
	r := newRand(seed)
	means := make([]float64, reps)
	n := len(x)
	for b := range means {
		var s float64
		for range n {
			s += x[index(r, uint64(n))]
		}
		means[b] = s / float64(n)
	}
	slices.Sort(means)
	alpha := 1 - level
	return Interval{
		stat.Quantile(alpha/2, stat.Empirical, means, nil),
		stat.Quantile(1-alpha/2, stat.Empirical, means, nil),
	}, nil
}

// SignTest is the exact two-sided sign test of paired differences d: under
// the null each non-zero difference is positive or negative with
// probability ½, so with pos positive and neg negative ones the p-value is
// min(1, 2·P(X ≤ min(pos, neg))) for X ~ Binomial(pos+neg, ½). Zero
// differences carry no sign and are dropped; with none left p is 1.
func SignTest(d []float64) (p float64, pos, neg int) {
	for _, x := range d {
		switch {
		case x > 0:
			pos++
		case x < 0:
			neg++
		}
	}
	n := pos + neg
	if n == 0 {
		return 1, 0, 0
	}
	tail := distuv.Binomial{N: float64(n), P: 0.5}.CDF(float64(min(pos, neg)))
	return math.Min(1, 2*tail), pos, neg
}

// ExactPermutationMax is the largest number of pairs PermutationTest
// enumerates exactly (2^14 sign patterns); above it, it samples.
const ExactPermutationMax = 14

// PermutationTest is the two-sided paired permutation (sign-flip) test of
// the mean of d: under the null the sign of each difference is a fair coin,
// and p is the share of sign patterns whose |Σ sᵢdᵢ| reaches the observed
// |Σ dᵢ|. Up to ExactPermutationMax pairs every pattern is enumerated and p
// is exact; above, reps random patterns are drawn (seeded) and p =
// (1 + hits)/(1 + reps), which is a valid p-value and never 0. No pairs
// give p = 1.
func PermutationTest(d []float64, reps int, seed uint64) (float64, error) {
	n := len(d)
	if n == 0 {
		return 1, nil
	}
	var obs, scale float64
	for _, x := range d {
		if math.IsNaN(x) || math.IsInf(x, 0) {
			return 0, fmt.Errorf("stats: permutation test: difference %g", x)
		}
		obs += x
		scale += math.Abs(x)
	}
	obs = math.Abs(obs)
	// Sums equal to the observed one in exact arithmetic may differ in the
	// last bits; a tolerance relative to the sum of magnitudes counts them.
	tol := 1e-9 * scale
	if n <= ExactPermutationMax {
		hits := 0
		for mask := range uint32(1) << n {
			var s float64
			for i, x := range d {
				if mask>>i&1 == 1 {
					s -= x
				} else {
					s += x
				}
			}
			if math.Abs(s) >= obs-tol {
				hits++
			}
		}
		return float64(hits) / float64(uint32(1)<<n), nil
	}
	if reps < 1 {
		return 0, fmt.Errorf("stats: permutation test: %d resamples", reps)
	}
	r := newRand(seed)
	hits := 0
	for range reps {
		var s float64
		var word uint64
		for i, x := range d {
			if i%64 == 0 {
				word = r.Uint64()
			}
			if word&1 == 1 {
				s -= x
			} else {
				s += x
			}
			word >>= 1
		}
		if math.Abs(s) >= obs-tol {
			hits++
		}
	}
	return float64(1+hits) / float64(1+reps), nil
}

// MinPermutationP is the smallest p-value PermutationTest can return for n
// pairs: 2/2ⁿ when it enumerates (the two patterns of uniform sign always
// reach the observed sum), 1/(reps+1) when it samples. With m tests
// corrected together, no cell can be significant at α when m times this
// exceeds α, whatever the data.
func MinPermutationP(n, reps int) float64 {
	if n <= 0 {
		return 1
	}
	if n <= ExactPermutationMax {
		return 2 / float64(uint32(1)<<n)
	}
	return 1 / float64(reps+1)
}

// Correction is a multiple-testing correction.
type Correction int

// The corrections.
const (
	// HolmBonferroni controls the family-wise error rate (the chance of any
	// false positive) under any dependence between the tests.
	HolmBonferroni Correction = iota
	// BenjaminiHochberg controls the false discovery rate (the expected
	// share of false positives among the cells called significant).
	BenjaminiHochberg
)

// String names the correction as the report prints it.
func (c Correction) String() string {
	switch c {
	case HolmBonferroni:
		return "Holm–Bonferroni"
	case BenjaminiHochberg:
		return "Benjamini–Hochberg"
	}
	return fmt.Sprintf("Correction(%d)", int(c))
}

// ParseCorrection reads "holm" or "bh" (also "benjamini-hochberg").
func ParseCorrection(s string) (Correction, error) {
	switch s {
	case "holm", "holm-bonferroni":
		return HolmBonferroni, nil
	case "bh", "benjamini-hochberg", "fdr":
		return BenjaminiHochberg, nil
	}
	return 0, fmt.Errorf("stats: correction %q: want holm or bh", s)
}

// Adjust returns the adjusted p-values of ps under c. NaN entries (tests
// that could not be made) are left NaN and do not count towards the family
// size.
func (c Correction) Adjust(ps []float64) ([]float64, error) {
	switch c {
	case HolmBonferroni:
		return Holm(ps), nil
	case BenjaminiHochberg:
		return BenjaminiHochbergAdjust(ps), nil
	}
	return nil, fmt.Errorf("stats: unknown correction %d", int(c))
}

// defined returns the indices of the non-NaN entries of ps, ordered by
// increasing p (ties by index, so the order is deterministic).
func defined(ps []float64) []int {
	var idx []int
	for i, p := range ps {
		if !math.IsNaN(p) {
			idx = append(idx, i)
		}
	}
	slices.SortStableFunc(idx, func(a, b int) int {
		switch {
		case ps[a] < ps[b]:
			return -1
		case ps[a] > ps[b]:
			return 1
		}
		return 0
	})
	return idx
}

// Holm returns Holm–Bonferroni adjusted p-values: the i-th smallest of m
// p-values becomes max over j ≤ i of min(1, (m−j+1)·p₍ⱼ₎). A cell is
// significant at level α when its adjusted p is at most α.
func Holm(ps []float64) []float64 {
	out := make([]float64, len(ps))
	for i := range out {
		out[i] = math.NaN()
	}
	idx := defined(ps)
	m := len(idx)
	run := 0.0
	for j, i := range idx {
		run = math.Max(run, math.Min(1, float64(m-j)*ps[i]))
		out[i] = run
	}
	return out
}

// BenjaminiHochbergAdjust returns Benjamini–Hochberg adjusted p-values
// (q-values): the i-th smallest of m p-values becomes min over j ≥ i of
// min(1, m·p₍ⱼ₎/j).
func BenjaminiHochbergAdjust(ps []float64) []float64 {
	out := make([]float64, len(ps))
	for i := range out {
		out[i] = math.NaN()
	}
	idx := defined(ps)
	m := len(idx)
	run := 1.0
	for j := m - 1; j >= 0; j-- {
		i := idx[j]
		run = math.Min(run, math.Min(1, float64(m)*ps[i]/float64(j+1)))
		out[i] = run
	}
	return out
}
