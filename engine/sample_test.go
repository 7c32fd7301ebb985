package engine

import (
	"math"
	"testing"
)

// frequencies draws n samples and returns how often each id came up.
func frequencies(s Sampling, logits []float32, history []int32, n int) []float64 {
	sp := NewSampler(s)
	f := make([]float64, len(logits))
	buf := make([]float32, len(logits))
	for i := 0; i < n; i++ {
		copy(buf, logits)
		f[sp.Sample(buf, history)]++
	}
	for i := range f {
		f[i] /= float64(n)
	}
	return f
}

// softmaxT is the reference distribution exp(l/T)/Σ, restricted to keep.
func softmaxT(logits []float32, T float64, keep []int) []float64 {
	p := make([]float64, len(logits))
	var z float64
	for _, i := range keep {
		p[i] = math.Exp(float64(logits[i]) / T)
		z += p[i]
	}
	for i := range p {
		p[i] /= z
	}
	return p
}

func TestSamplerDistributions(t *testing.T) {
	logits := []float32{2.0, 1.0, 0.5, 0.0, -1.0}
	const n = 200000
	for _, c := range []struct {
		name string
		s    Sampling
		keep []int // ids left after filtering, worked out by hand
		T    float64
	}{
		// Probabilities at T=1: e^l/Σe^l = .5630 .2071 .1256 .0762 .0280.
		{"temperature 1", Sampling{Temperature: 1, Seed: 1}, []int{0, 1, 2, 3, 4}, 1},
		{"temperature 0.5", Sampling{Temperature: 0.5, Seed: 2}, []int{0, 1, 2, 3, 4}, 0.5},
		{"top-k 2", Sampling{Temperature: 1, TopK: 2, Seed: 3}, []int{0, 1}, 1},
		// Cumulative .5630, .7701: top-p 0.75 keeps two; top-p 0.8 keeps three.
		{"top-p 0.75", Sampling{Temperature: 1, TopP: 0.75, Seed: 4}, []int{0, 1}, 1},
		{"top-p 0.8", Sampling{Temperature: 1, TopP: 0.8, Seed: 6}, []int{0, 1, 2}, 1},
		// min-p 0.2 of .5630 is .1126: keeps .5630, .2071, .1256.
		{"min-p 0.2", Sampling{Temperature: 1, MinP: 0.2, Seed: 5}, []int{0, 1, 2}, 1},
	} {
		t.Run(c.name, func(t *testing.T) {
			got := frequencies(c.s, logits, nil, n)
			want := softmaxT(logits, c.T, c.keep)
			for i := range want {
				// 5 standard errors of a binomial proportion.
				tol := 5*math.Sqrt(want[i]*(1-want[i])/n) + 1e-9
				if math.Abs(got[i]-want[i]) > tol {
					t.Errorf("id %d: frequency %.4f, want %.4f ± %.4f", i, got[i], want[i], tol)
				}
			}
		})
	}
}

func TestSamplerGreedyAndPenalty(t *testing.T) {
	sp := NewSampler(Sampling{})
	if got := sp.Sample([]float32{0.1, 3, 2, 3}, nil); got != 1 {
		t.Errorf("greedy picked %d, want 1 (first of the tied maxima)", got)
	}
	// Penalty 2: id 1's logit 3 -> 1.5; id 2's 2 stays; greedy now picks 2.
	// A negative logit is multiplied: id 0's -1 -> -2.
	sp = NewSampler(Sampling{RepetitionPenalty: 2})
	l := []float32{-1, 3, 2}
	if got := sp.Sample(l, []int32{1, 0, 1}); got != 2 || l[1] != 1.5 || l[0] != -2 {
		t.Errorf("penalised greedy picked %d with logits %v, want 2 with [-2 1.5 2]", got, l)
	}
	// The window limits the penalty to the last token (id 0).
	sp = NewSampler(Sampling{RepetitionPenalty: 2, RepetitionWindow: 1})
	l = []float32{-1, 3, 2}
	if got := sp.Sample(l, []int32{1, 0}); got != 1 || l[1] != 3 {
		t.Errorf("windowed penalty picked %d with logits %v", got, l)
	}
}

func TestSamplerSeeded(t *testing.T) {
	logits := []float32{1, 1, 1, 1, 1, 1, 1, 1}
	a := frequencies(Sampling{Temperature: 1, Seed: 42}, logits, nil, 50)
	b := frequencies(Sampling{Temperature: 1, Seed: 42}, logits, nil, 50)
	c := frequencies(Sampling{Temperature: 1, Seed: 43}, logits, nil, 50)
	same := func(x, y []float64) bool {
		for i := range x {
			if x[i] != y[i] {
				return false
			}
		}
		return true
	}
	if !same(a, b) {
		t.Error("the same seed gave different draws")
	}
	if same(a, c) {
		t.Error("different seeds gave identical draw counts")
	}
}
