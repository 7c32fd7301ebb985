package stats

import (
	"fmt"
	"math"
	"math/rand/v2"
	"testing"
)

func outcomes(shares ...float64) []Outcome {
	out := make([]Outcome, len(shares))
	for i, s := range shares {
		out[i] = Outcome{Item: fmt.Sprint("item", i), Share: s, Answered: s >= 0}
	}
	return out
}

// A table small enough to work out by hand: one value, four items, the
// plain model, a set A and two random draws for A.
func TestAnalyzeSmallTable(t *testing.T) {
	in := Input{
		Conditions: []Condition{{Name: "none", Kind: "none"}, {Name: "A", Kind: "deactivate"},
			{Name: "random:A", Kind: "random", ControlOf: "A"}, {Name: "random:A#2", Kind: "random", ControlOf: "A"}},
		Outcomes: map[Key][]Outcome{
			{"none", "v", "zh"}:       outcomes(0.8, 0.6, 0.7, 0.4),
			{"A", "v", "zh"}:          outcomes(0.45, 0.4, 0.7, 0.3, -1), // the fifth did not parse
			{"random:A", "v", "zh"}:   outcomes(0.8, 0.6, 0.7, 0.4),
			{"random:A#2", "v", "zh"}: outcomes(0.6, 0.6, 0.5, 0.4),
		},
	}
	a, err := Analyze(in, Options{Seed: 1})
	if err != nil {
		t.Fatal(err)
	}
	c := a.Cell(Key{"A", "v", "zh"})
	if c == nil || c.Items != 5 || c.Answered != 4 {
		t.Fatalf("cell A: %+v", c)
	}
	near(t, "support", c.Support, 46.25, 1e-12)
	if !c.SupportCI.Contains(c.Support) || c.SupportCI.Lo < 30 || c.SupportCI.Hi > 70 {
		t.Errorf("support interval %v", c.SupportCI)
	}
	// Choices 0, 0, 1, 0: Clopper–Pearson for 1 of 4.
	near(t, "choice rate", c.ChoiceRate, 0.25, 0)
	near(t, "choice lo", c.ChoiceCI.Lo, 1-math.Pow(0.975, 0.25), 1e-9)
	near(t, "P(X ≤ 1 | choice hi)", 1-binomTail(2, 4, c.ChoiceCI.Hi), 0.025, 1e-9)

	// Against the plain model: d = −0.35, −0.2, 0, −0.1, mean −16.25
	// points. Only the two patterns with every non-zero sign alike (times
	// two for the zero) reach |Σ| = 0.65: p = 4/16.
	d := c.VsNone
	if d == nil || d.Pairs != 4 {
		t.Fatalf("vs none: %+v", d)
	}
	near(t, "Δ vs none", d.Mean, -16.25, 1e-12)
	near(t, "p vs none", d.P, 0.25, 1e-12)
	// Choices fall 1→0 twice and never rise: sign test 2·P(X ≤ 0 | n=2) = ½.
	near(t, "choice Δ", d.ChoiceMean, -0.5, 1e-12)
	near(t, "choice p", d.ChoiceP, 0.5, 1e-12)
	// One member in its family: the correction leaves p as it is.
	near(t, "adjusted", d.Adjusted, 0.25, 1e-12)
	if d.Significant {
		t.Error("p = 0.25 marked significant")
	}

	// Against the random draws: the per-item baseline is their mean, 0.7,
	// 0.6, 0.6, 0.4, so d = −0.25, −0.2, 0.1, −0.1 (mean −11.25). Flipping
	// a subset S changes Σ = −0.45 by 2·ΣS; |Σ| ≥ 0.45 for the subsets of
	// {0.25, 0.2, 0.1, 0.1} summing to ≤ 0.1 (3) or ≥ 0.55 (3): 6/16.
	r := c.VsRandom
	if r == nil || r.Pairs != 4 {
		t.Fatalf("vs random: %+v", r)
	}
	near(t, "Δ vs random", r.Mean, -11.25, 1e-12)
	near(t, "p vs random", r.P, 0.375, 1e-12)
	if len(r.DrawMeans) != 2 {
		t.Fatalf("draw means %v", r.DrawMeans)
	}
	near(t, "Δ vs draw 1", r.DrawMeans[0], -16.25, 1e-12)
	near(t, "Δ vs draw 2", r.DrawMeans[1], -6.25, 1e-12)
	// The random draws' own cells are compared with the plain model too,
	// but never with random controls; the plain model with nothing.
	if rc := a.Cell(Key{"random:A#2", "v", "zh"}); rc.VsNone == nil || rc.VsRandom != nil {
		t.Errorf("random draw cell: %+v", rc)
	}
	if nc := a.Cell(Key{"none", "v", "zh"}); nc.VsNone != nil || nc.VsRandom != nil {
		t.Errorf("plain cell has deltas: %+v", nc)
	}

	// Same seed, same numbers; another seed moves only the bootstrap.
	b, _ := Analyze(in, Options{Seed: 1})
	if bd := b.Cell(c.Key).VsNone; bd.CI != d.CI || bd.P != d.P || b.Cell(c.Key).SupportCI != c.SupportCI {
		t.Error("Analyze is not deterministic in its seed")
	}
}

func TestAnalyzeRejects(t *testing.T) {
	for name, in := range map[string]Input{
		"unknown condition": {Conditions: []Condition{{Name: "none", Kind: "none"}}, Outcomes: map[Key][]Outcome{{"x", "v", "zh"}: outcomes(0.5)}},
		"share above 1":     {Conditions: []Condition{{Name: "none", Kind: "none"}}, Outcomes: map[Key][]Outcome{{"none", "v", "zh"}: outcomes(1.5)}},
		"bad kind":          {Conditions: []Condition{{Name: "none", Kind: "plain"}}},
		"twice":             {Conditions: []Condition{{Name: "none", Kind: "none"}, {Name: "none", Kind: "none"}}},
		"item twice":        {Conditions: []Condition{{Name: "none", Kind: "none"}}, Outcomes: map[Key][]Outcome{{"none", "v", "zh"}: {{Item: "a", Share: 0.5, Answered: true}, {Item: "a", Share: 0.4, Answered: true}}}},
	} {
		if _, err := Analyze(in, Options{}); err == nil {
			t.Errorf("%s: accepted", name)
		}
	}
}

// nullStudy simulates one evaluation in which nothing has an effect: 12
// values × 20 items, the plain model and 12 deactivated sets. Every
// condition is the plain model run again (each item's true share plus
// independent noise), and which run is called "none" and which a set is a
// random relabelling per item. effect, if non-zero, is added to set 0 on
// value 0 (to show the same test does detect a real change).
func nullStudy(seed uint64, effect float64) Input {
	r := rand.New(rand.NewPCG(seed, 99))
	const values, items, sets = 12, 20, 12
	in := Input{Outcomes: map[Key][]Outcome{}}
	names := []string{"none"}
	in.Conditions = append(in.Conditions, Condition{Name: "none", Kind: "none"})
	for s := range sets {
		n := fmt.Sprint("set", s)
		names = append(names, n)
		in.Conditions = append(in.Conditions, Condition{Name: n, Kind: "deactivate"})
	}
	runs := make([]float64, len(names))
	for v := range values {
		for i := range items {
			truth := 0.1 + 0.8*r.Float64()
			for k := range runs {
				runs[k] = min(1, max(0, truth+0.1*r.NormFloat64()))
			}
			r.Shuffle(len(runs), func(a, b int) { runs[a], runs[b] = runs[b], runs[a] })
			for k, n := range names {
				s := runs[k]
				if effect != 0 && n == "set0" && v == 0 {
					s = min(1, max(0, s+effect))
				}
				key := Key{n, fmt.Sprint("value", v), "zh"}
				in.Outcomes[key] = append(in.Outcomes[key], Outcome{Item: fmt.Sprint(v, "-", i), Share: s, Answered: true})
			}
		}
	}
	return in
}

// Under the null, no cell of the 12 × 12 matrix survives the correction in
// at least 95 % of simulated studies, for Holm–Bonferroni and for
// Benjamini–Hochberg (which under the global null also controls the chance
// of any false positive).
func TestNullSimulation(t *testing.T) {
	seeds := 200
	if testing.Short() {
		seeds = 40
	}
	// 3000 sign patterns make p ≥ 1/3001 = 3.3e-4, below Holm's smallest
	// bar 0.05/144 = 3.5e-4, so a cell can be significant at all: the
	// check below with a planted effect shows it.
	opt := Options{BootstrapReps: 50, PermutationReps: 3000}
	cleanHolm, cleanBH := 0, 0
	for seed := range uint64(seeds) {
		opt.Seed = seed
		a, err := Analyze(nullStudy(seed, 0), opt)
		if err != nil {
			t.Fatal(err)
		}
		sig, tested := a.Count("deactivate", "none", "zh")
		if tested != 144 {
			t.Fatalf("tested %d cells, want 144", tested)
		}
		if sig == 0 {
			cleanHolm++
		}
		var ps []float64
		for _, c := range a.Cells {
			if c.Kind == "deactivate" {
				ps = append(ps, c.VsNone.P)
			}
		}
		anyBH := false
		for _, q := range BenjaminiHochbergAdjust(ps) {
			anyBH = anyBH || q <= 0.05
		}
		if !anyBH {
			cleanBH++
		}
	}
	t.Logf("no significant cell in %d/%d seeds (Holm), %d/%d (BH)", cleanHolm, seeds, cleanBH, seeds)
	if float64(cleanHolm) < 0.95*float64(seeds) || float64(cleanBH) < 0.95*float64(seeds) {
		t.Errorf("null: clean in %d (Holm) and %d (BH) of %d seeds, want ≥ 95 %%", cleanHolm, cleanBH, seeds)
	}
	// The same test with a real change of −25 points in one cell finds it.
	opt.Seed = 1
	a, err := Analyze(nullStudy(1, -0.25), opt)
	if err != nil {
		t.Fatal(err)
	}
	c := a.Cell(Key{"set0", "value0", "zh"})
	if !c.VsNone.Significant {
		t.Errorf("planted effect: Δ %.1f, p %g, adjusted %g: not significant", c.VsNone.Mean, c.VsNone.P, c.VsNone.Adjusted)
	}
	if sig, _ := a.Count("deactivate", "none", "zh"); sig < 1 {
		t.Errorf("planted effect: %d significant cells", sig)
	}
}
