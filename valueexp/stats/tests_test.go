package stats

import (
	"fmt"
	"math"
	"math/rand/v2"
	"testing"
)

func near(t *testing.T, what string, got, want, tol float64) {
	t.Helper()
	if math.Abs(got-want) > tol || math.IsNaN(got) != math.IsNaN(want) {
		t.Errorf("%s = %.10g, want %.10g (±%g)", what, got, want, tol)
	}
}

// binomTail returns P(X ≥ k) for X ~ Binomial(n, p) by direct summation of
// exact binomial coefficients, an independent reference for the beta
// quantiles Clopper–Pearson uses.
func binomTail(k, n int, p float64) float64 {
	var s float64
	for i := k; i <= n; i++ {
		c := 1.0
		for j := 1; j <= i; j++ {
			c = c * float64(n-i+j) / float64(j)
		}
		s += c * math.Pow(p, float64(i)) * math.Pow(1-p, float64(n-i))
	}
	return s
}

func TestClopperPearson(t *testing.T) {
	tests := []struct {
		k, n   int
		level  float64
		lo, hi float64
	}{
		// Closed forms at the edges: with k = 0 the upper bound solves
		// (1−p)^n = α/2; with k = n the lower bound solves p^n = α/2.
		{0, 10, 0.95, 0, 1 - math.Pow(0.025, 0.1)},
		{10, 10, 0.95, math.Pow(0.025, 0.1), 1},
		{0, 10, 0.90, 0, 1 - math.Pow(0.05, 0.1)},
		// k = 1: the lower bound solves 1 − (1−p)^n = α/2. The upper bound
		// is R's binom.test(1, 10)$conf.int.
		{1, 10, 0.95, 1 - math.Pow(0.975, 0.1), 0.4450161},
		// binom.test(5, 10): 0.1870860 0.8129140.
		{5, 10, 0.95, 0.1870860, 0.8129140},
	}
	for _, tt := range tests {
		iv, err := ClopperPearson(tt.k, tt.n, tt.level)
		if err != nil {
			t.Fatal(err)
		}
		near(t, "lo", iv.Lo, tt.lo, 2e-7)
		near(t, "hi", iv.Hi, tt.hi, 2e-7)
	}
	// The defining property, checked with exact binomial sums: at the
	// bounds the tail probabilities are α/2.
	for _, c := range [][2]int{{3, 7}, {12, 20}, {1, 40}, {37, 40}} {
		k, n := c[0], c[1]
		iv, _ := ClopperPearson(k, n, 0.95)
		near(t, "P(X ≥ k | lo)", binomTail(k, n, iv.Lo), 0.025, 1e-9)
		near(t, "P(X ≤ k | hi)", 1-binomTail(k+1, n, iv.Hi), 0.025, 1e-9)
	}
	if iv, _ := ClopperPearson(0, 0, 0.95); !math.IsNaN(iv.Lo) || !math.IsNaN(iv.Hi) {
		t.Errorf("n = 0: %v, want NaN", iv)
	}
	for _, bad := range [][3]float64{{3, 2, 0.95}, {-1, 2, 0.95}, {1, 2, 1}, {1, 2, 0}} {
		if _, err := ClopperPearson(int(bad[0]), int(bad[1]), bad[2]); err == nil {
			t.Errorf("ClopperPearson(%v) accepted", bad)
		}
	}
}

func TestBootstrapMean(t *testing.T) {
	// 25 ones and 25 zeros: the bootstrap distribution of the mean is
	// Binomial(50, ½)/50, whose 2.5 % and 97.5 % quantiles are 18/50 and
	// 32/50 (exact binomial quantiles).
	x := make([]float64, 50)
	for i := range 25 {
		x[i] = 1
	}
	iv, err := BootstrapMean(x, 0.95, 20000, 7)
	if err != nil {
		t.Fatal(err)
	}
	near(t, "lo", iv.Lo, 18.0/50, 0.021)
	near(t, "hi", iv.Hi, 32.0/50, 0.021)
	again, _ := BootstrapMean(x, 0.95, 20000, 7)
	if again != iv {
		t.Errorf("same seed gave %v then %v", iv, again)
	}
	// Constant data give a zero-width interval at the constant; one value
	// gives that value; none gives NaN.
	if iv, _ := BootstrapMean([]float64{0.3, 0.3, 0.3}, 0.95, 100, 1); iv.Lo != 0.3 || iv.Hi != 0.3 {
		t.Errorf("constant data: %v", iv)
	}
	if iv, _ := BootstrapMean([]float64{0.7}, 0.95, 100, 1); iv != (Interval{0.7, 0.7}) {
		t.Errorf("one value: %v", iv)
	}
	if iv, _ := BootstrapMean(nil, 0.95, 100, 1); !math.IsNaN(iv.Lo) {
		t.Errorf("no values: %v", iv)
	}
	if _, err := BootstrapMean(x, 0.95, 0, 1); err == nil {
		t.Error("0 resamples accepted")
	}
}

func TestSignTest(t *testing.T) {
	ones := func(pos, neg, zero int) []float64 {
		var d []float64
		for range pos {
			d = append(d, 0.3)
		}
		for range neg {
			d = append(d, -0.1)
		}
		for range zero {
			d = append(d, 0)
		}
		return d
	}
	tests := []struct {
		pos, neg, zero int
		p              float64
	}{
		{9, 1, 0, 2 * 11.0 / 1024}, // 2·(C(10,0)+C(10,1))/2^10
		{10, 0, 3, 2.0 / 1024},     // zeros are dropped
		{1, 9, 0, 2 * 11.0 / 1024},
		{5, 5, 0, 1},
		{0, 0, 4, 1},
		{6, 2, 0, 2 * 37.0 / 256}, // 2·(1+8+28)/2^8
	}
	for _, tt := range tests {
		p, pos, neg := SignTest(ones(tt.pos, tt.neg, tt.zero))
		if pos != tt.pos || neg != tt.neg {
			t.Errorf("counted %d+ %d−, want %d %d", pos, neg, tt.pos, tt.neg)
		}
		near(t, "sign test p", p, tt.p, 1e-12)
	}
}

// permBrute enumerates every sign pattern, the definition of the exact
// permutation p-value.
func permBrute(d []float64) float64 {
	var obs float64
	for _, x := range d {
		obs += x
	}
	obs = math.Abs(obs)
	hits := 0
	for mask := 0; mask < 1<<len(d); mask++ {
		var s float64
		for i, x := range d {
			if mask>>i&1 == 1 {
				s -= x
			} else {
				s += x
			}
		}
		if math.Abs(s) >= obs-1e-9 {
			hits++
		}
	}
	return float64(hits) / float64(int(1)<<len(d))
}

func TestPermutationTest(t *testing.T) {
	tests := []struct {
		d []float64
		p float64
	}{
		// Sums ±1±2±3 ∈ {±6, ±4, ±2, 0, 0}: |Σ| ≥ 6 in 2 of 8.
		{[]float64{1, 2, 3}, 0.25},
		// Four +1 and one −1: Σ = 2k − 5 for k plus signs; |Σ| ≥ 3 for
		// k ∈ {0, 1, 4, 5}: 1 + 5 + 5 + 1 = 12 of 32.
		{[]float64{1, 1, 1, 1, -1}, 0.375},
		{[]float64{0, 0}, 1},
		{nil, 1},
		{[]float64{0.5}, 1},
	}
	for _, tt := range tests {
		p, err := PermutationTest(tt.d, 1000, 1)
		if err != nil {
			t.Fatal(err)
		}
		near(t, "permutation p", p, tt.p, 1e-12)
	}
	// Above the exact limit the sampled p agrees with full enumeration
	// within four standard errors, and is deterministic in the seed.
	r := rand.New(rand.NewPCG(3, 4))
	d := make([]float64, 18)
	for i := range d {
		d[i] = r.NormFloat64() + 0.4
	}
	exact := permBrute(d)
	const reps = 40000
	p, err := PermutationTest(d, reps, 11)
	if err != nil {
		t.Fatal(err)
	}
	near(t, "sampled p", p, exact, 4*math.Sqrt(exact*(1-exact)/reps)+1e-4)
	if p2, _ := PermutationTest(d, reps, 11); p2 != p {
		t.Errorf("same seed: %g then %g", p, p2)
	}
	// The floor is reached by differences all of one sign.
	for _, n := range []int{1, 4, 14} {
		d := make([]float64, n)
		for i := range d {
			d[i] = 0.1 * float64(i+1)
		}
		p, _ := PermutationTest(d, 100, 1)
		near(t, fmt.Sprint("floor at n=", n), p, MinPermutationP(n, 100), 1e-15)
	}
	near(t, "sampled floor", MinPermutationP(15, 999), 0.001, 1e-15)
	if _, err := PermutationTest([]float64{math.NaN()}, 10, 1); err == nil {
		t.Error("NaN difference accepted")
	}
}

func TestCorrections(t *testing.T) {
	ps := []float64{0.01, 0.04, 0.03, 0.005}
	// R: p.adjust(c(.01, .04, .03, .005), "holm") = 0.03 0.06 0.06 0.02;
	// p.adjust(..., "BH") = 0.02 0.04 0.04 0.02.
	holm := Holm(ps)
	bh := BenjaminiHochbergAdjust(ps)
	for i, want := range []float64{0.03, 0.06, 0.06, 0.02} {
		near(t, "Holm", holm[i], want, 1e-12)
	}
	for i, want := range []float64{0.02, 0.04, 0.04, 0.02} {
		near(t, "BH", bh[i], want, 1e-12)
	}
	// NaN tests stay NaN and do not count towards m.
	holm = Holm([]float64{0.01, math.NaN(), 0.04})
	near(t, "Holm[0]", holm[0], 0.02, 1e-12)
	near(t, "Holm[2]", holm[2], 0.04, 1e-12)
	if !math.IsNaN(holm[1]) {
		t.Errorf("Holm kept NaN as %g", holm[1])
	}
	// Adjusted values are capped at 1.
	if h := Holm([]float64{0.6, 0.7}); h[0] != 1 || h[1] != 1 {
		t.Errorf("Holm not capped: %v", h)
	}
	for _, s := range []string{"holm", "bh", "benjamini-hochberg"} {
		if _, err := ParseCorrection(s); err != nil {
			t.Error(err)
		}
	}
	if _, err := ParseCorrection("bonferonni"); err == nil {
		t.Error("unknown correction accepted")
	}
}
