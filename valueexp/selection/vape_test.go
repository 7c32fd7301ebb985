package selection

import (
	"fmt"
	"math"
	"math/rand/v2"
	"slices"
	"strings"
	"testing"
)

// ids is shorthand for a per-layer neuron list in expectations.
type ids = [][]int32

// counts builds Counts for one or more layers from rows of per-tag counts:
// rows[l][j] = counts of neuron j in layer l for each tag.
func counts(tags []string, tokens []float64, rows [][][]int64) Counts {
	c := Counts{Tags: tags, Layers: len(rows), Dim: len(rows[0]), Tokens: tokens}
	c.OverZero = make([][]int64, len(tags))
	c.Questions = make([]int64, len(tags))
	for k := range tags {
		c.Questions[k] = 1
		for _, layer := range rows {
			for _, neuron := range layer {
				c.OverZero[k] = append(c.OverZero[k], neuron[k])
			}
		}
	}
	return c
}

func TestVAPEHandWorked(t *testing.T) {
	ab := []string{"a", "b"}
	one := []float64{1, 1}
	tests := []struct {
		name   string
		c      Counts
		p      VAPEParams
		want   []ids // [tag][layer]
		thr    float64
		bar    float64
		nCands int
	}{
		{
			// Probabilities (tokens = 1): n0 (0,0) n1 (1,1) n2 (6,0) n3 (2,5).
			// Sorted, 1-indexed: 0 0 0 1 1 2 5 6. FilterRate 13/16 gives
			// 8·0.8125 = 6.5, which Python's round takes to 6 (half to even),
			// so thr = 2 (rounding half away would give k=7, thr=5 and drop n3).
			// p > 2: n2 (6) and n3 (5) are the candidates. TopRate 0.5 of 4
			// keeps both. bar = thr = 2: n2 joins a (6>2), n3 joins b (5>2)
			// but not a, because 2 > 2 is false.
			name: "half-even percentile and strict bar",
			c:    counts(ab, one, [][][]int64{{{0, 0}, {1, 1}, {6, 0}, {2, 5}}}),
			p:    VAPEParams{TopRate: 0.5, FilterRate: 0.8125, ActivationBarRatio: 0.8125},
			want: []ids{{{2}}, {{3}}}, thr: 2, bar: 2, nCands: 2,
		},
		{
			// n0 (9,1) and n1 (1,9) share the lowest entropy H(0.9,0.1)≈0.325,
			// n3 (8,2) has H(0.8,0.2)≈0.500, n2 (5,5) has ln 2.
			// Sorted: 1 1 2 5 5 8 9 9; FilterRate 0.5 → k=4 → thr=5, so n2
			// (5 is not > 5) is filtered out. TopRate 0.625 · 4 = 2.5 rounds
			// to 2: n0 and n1 (n3 would be third). bar = 5: n0→a, n1→b.
			name: "top count rounds half to even",
			c:    counts(ab, one, [][][]int64{{{9, 1}, {1, 9}, {5, 5}, {8, 2}}}),
			p:    VAPEParams{TopRate: 0.625, FilterRate: 0.5, ActivationBarRatio: 0.5},
			want: []ids{{{0}}, {{1}}}, thr: 5, bar: 5, nCands: 3,
		},
		{
			// Two layers, all four neurons have H(0.8,0.2). Sorted probs:
			// 1 1 1 1 4 4 4 4; k=4 → thr=1; all are candidates. TopRate 0.5
			// keeps 2 of 4; with all entropies equal the layer-major order
			// decides: layer 0's two neurons. bar=1: n0→a, n1→b.
			name: "ties keep layer-major order",
			c:    counts(ab, one, [][][]int64{{{4, 1}, {1, 4}}, {{4, 1}, {1, 4}}}),
			p:    VAPEParams{TopRate: 0.5, FilterRate: 0.5, ActivationBarRatio: 0.5},
			want: []ids{{{0}, {}}, {{1}, {}}}, thr: 1, bar: 1, nCands: 4,
		},
		{
			// Three tags, c never fires. n0, n1 all-zero (NaN→0 gives them
			// entropy 0, the lowest, but no p exceeds thr so they get +Inf).
			// n2 (6,3,0), n3 (7,0,0). Sorted: nine 0s, 3, 6, 7;
			// FilterRate 0.75 → k=9 → thr=0. Candidates n2, n3. TopRate 0.5
			// keeps 2: n3 (H=0) and n2 (H(2/3,1/3)≈0.637). bar=0: n2 joins a
			// and b, n3 joins a. Tag c exists with empty lists.
			name: "all-zero neurons and a tag with no neurons",
			c: counts([]string{"a", "b", "c"}, []float64{1, 1, 1},
				[][][]int64{{{0, 0, 0}, {0, 0, 0}, {6, 3, 0}, {7, 0, 0}}}),
			p:    VAPEParams{TopRate: 0.5, FilterRate: 0.75, ActivationBarRatio: 0.75},
			want: []ids{{{2, 3}}, {{2}}, {{}}}, thr: 0, bar: 0, nCands: 2,
		},
		{
			// Quota larger than the candidates: only n1 (3,0) passes thr.
			// Sorted: 0 0 0 3; FilterRate 0.75 → k=3 → thr=0. TopRate 1
			// keeps both neurons, n0 as an +Inf filler; bar ratio 0.5 →
			// k=2 → bar=0, and n0 has no p > 0, so only n1 is assigned.
			name: "filtered neurons filling the quota are never assigned",
			c:    counts(ab, one, [][][]int64{{{0, 0}, {3, 0}}}),
			p:    VAPEParams{TopRate: 1, FilterRate: 0.75, ActivationBarRatio: 0.5},
			want: []ids{{{1}}, {{}}}, thr: 0, bar: 0, nCands: 1,
		},
		{
			// Tokens [10, 100]: n0 (5,20) → p (0.5, 0.2); n1 (8,10) → (0.8, 0.1).
			// Sorted .1 .2 .5 .8; k=2 → thr=0.2; both pass. H(n0)=H(5/7,2/7)
			// ≈0.598, H(n1)=H(8/9,1/9)≈0.349: keep n1; bar=0.2: n1→a only.
			name: "normalised by tokens",
			c:    counts(ab, []float64{10, 100}, [][][]int64{{{5, 20}, {8, 10}}}),
			p:    VAPEParams{TopRate: 0.5, FilterRate: 0.5, ActivationBarRatio: 0.5},
			want: []ids{{{1}}, {{}}}, thr: 0.2, bar: 0.2, nCands: 2,
		},
		{
			// Same counts, questions = 1 each: p = counts, sorted 5 8 10 20;
			// thr=8; both pass. H(n0)=H(.2,.8)≈0.500, H(n1)=H(8/18,10/18)
			// ≈0.687: keep n0; bar=8: n0→b only (5 ≤ 8 < 20).
			name: "normalised by questions",
			c:    counts(ab, []float64{10, 100}, [][][]int64{{{5, 20}, {8, 10}}}),
			p:    VAPEParams{TopRate: 0.5, FilterRate: 0.5, ActivationBarRatio: 0.5, Normaliser: ByQuestions},
			want: []ids{{{}}, {{0}}}, thr: 8, bar: 8, nCands: 2,
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got, err := VAPE(tt.c, tt.p)
			if err != nil {
				t.Fatal(err)
			}
			if err := got.Validate(); err != nil {
				t.Fatal(err)
			}
			if len(got.Neurons) != len(tt.want) {
				t.Fatalf("got %d tags, want %d", len(got.Neurons), len(tt.want))
			}
			for k := range tt.want {
				for l := range tt.want[k] {
					if !slices.Equal(got.Neurons[k][l], tt.want[k][l]) {
						t.Errorf("tag %s layer %d: got %v, want %v", got.Tags[k], l, got.Neurons[k][l], tt.want[k][l])
					}
				}
			}
			if got.Params.FilterThreshold != tt.thr || got.Params.ActivationBar != tt.bar || got.Params.Candidates != tt.nCands {
				t.Errorf("thr %v bar %v candidates %d, want %v %v %d", got.Params.FilterThreshold, got.Params.ActivationBar, got.Params.Candidates, tt.thr, tt.bar, tt.nCands)
			}
		})
	}
}

func TestEntropy(t *testing.T) {
	uniform12 := make([]float64, 12)
	for i := range uniform12 {
		uniform12[i] = 3
	}
	tests := []struct {
		name string
		row  []float64
		want float64
	}{
		{"all zero is 0 (NaN→0)", []float64{0, 0}, 0},
		{"one-hot is 0", []float64{0, 7, 0}, 0},
		{"even pair is ln 2", []float64{5, 5}, math.Ln2},
		{"uniform over 12 is ln 12", uniform12, math.Log(12)},
		// −(0.2 ln 0.2 + 0.8 ln 0.8) = 0.5004024235381879 (closed form).
		{"0.2/0.8", []float64{1, 4}, 0.5004024235381879},
		// counts above 1 (question normalisation) only matter through ratios.
		{"scale invariant", []float64{20, 80}, 0.5004024235381879},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if got := entropy(tt.row); math.Abs(got-tt.want) > 1e-15 {
				t.Errorf("entropy(%v) = %.17g, want %.17g", tt.row, got, tt.want)
			}
		})
	}
}

func TestVAPEErrors(t *testing.T) {
	good := func() Counts { return counts([]string{"a", "b"}, []float64{1, 1}, [][][]int64{{{1, 2}, {3, 4}}}) }
	tests := []struct {
		name   string
		mutate func(*Counts, *VAPEParams)
		want   string
	}{
		{"no tags", func(c *Counts, _ *VAPEParams) { c.Tags = nil }, "no tags"},
		{"short counts", func(c *Counts, _ *VAPEParams) { c.OverZero[1] = c.OverZero[1][:1] }, `tag "b"`},
		{"zero tokens", func(c *Counts, _ *VAPEParams) { c.Tokens[0] = 0 }, "positive"},
		{"missing questions", func(c *Counts, p *VAPEParams) { c.Questions = nil; p.Normaliser = ByQuestions }, "question"},
		{"negative count", func(c *Counts, _ *VAPEParams) { c.OverZero[0][1] = -1 }, "negative count"},
		{"filter rate zero gives k=0", func(_ *Counts, p *VAPEParams) { p.FilterRate = 0 }, "k=0"},
		{"rate above one", func(_ *Counts, p *VAPEParams) { p.TopRate = 1.5 }, "outside [0,1]"},
		{"NaN rate", func(_ *Counts, p *VAPEParams) { p.ActivationBarRatio = math.NaN() }, "outside [0,1]"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			c, p := good(), LAPEDefaults()
			tt.mutate(&c, &p)
			_, err := VAPE(c, p)
			if err == nil || !strings.Contains(err.Error(), tt.want) {
				t.Fatalf("err = %v, want one containing %q", err, tt.want)
			}
		})
	}
}

// TestQuickselectMatchesSort compares the selection with a full sort, the
// obvious reference, on inputs with heavy repetition and on random data.
func TestQuickselectMatchesSort(t *testing.T) {
	r := rand.New(rand.NewPCG(3, 4))
	inputs := map[string][]float64{"single": {5}}
	for _, n := range []int{17, 100, 1000, 5000} {
		random, repeated, sorted, reversed := make([]float64, n), make([]float64, n), make([]float64, n), make([]float64, n)
		for i := range n {
			random[i] = r.NormFloat64()
			repeated[i] = float64(r.IntN(4)) // mostly ties, like counts
			sorted[i] = float64(i)
			reversed[i] = float64(n - i)
		}
		inputs[fmt.Sprint("random", n)] = random
		inputs[fmt.Sprint("repeated", n)] = repeated
		inputs[fmt.Sprint("sorted", n)] = sorted
		inputs[fmt.Sprint("reversed", n)] = reversed
	}
	for name, in := range inputs {
		ref := slices.Clone(in)
		slices.Sort(ref)
		for _, rank := range []int{0, len(in) / 3, len(in) / 2, len(in) - 1} {
			if got := quickselect(slices.Clone(in), rank); got != ref[rank] {
				t.Errorf("%s rank %d: got %v, want %v", name, rank, got, ref[rank])
			}
		}
	}
}
