package selection

import (
	"math"
	"slices"
	"strings"
	"testing"
)

func TestDiffHandWorked(t *testing.T) {
	// Tokens p=8, n1=8, n2=24 (dyadic, so every Δ below is exact).
	// Neg pools n1+n2 over 32 tokens.
	//   n0: p 6/8=.75,  neg (2+6)/32=.25  → Δ = +.5
	//   n1: p 1/8=.125, neg (4+12)/32=.5  → Δ = −.375
	//   n2: p 4/8=.5,   neg (4+12)/32=.5  → Δ = 0
	//   n3: p 3/8=.375, neg (0+8)/32=.25  → Δ = +.125
	// Descending Δ: n0 n3 n2 n1; descending −Δ: n1 n2 n3 n0.
	c := counts([]string{"p", "n1", "n2"}, []float64{8, 8, 24},
		[][][]int64{{{6, 2, 6}, {1, 4, 12}, {4, 4, 12}, {3, 0, 8}}})
	inf := math.Inf(1)
	tests := []struct {
		name     string
		p        DiffParams
		pos, neg []int32
	}{
		// Top 1 each side, plus n3 on the positive side because .125 ≥ .125.
		{"top one plus threshold", DiffParams{TopN: 1, MinDelta: 0.125}, []int32{0, 3}, []int32{1}},
		// Threshold only: Δ ≥ .25 is n0; −Δ ≥ .25 is n1.
		{"threshold only", DiffParams{TopN: 0, MinDelta: 0.25}, []int32{0}, []int32{1}},
		// Top 2 only: the rank keeps n2 (Δ=0) on the negative side, as the
		// reference code's fixed min_required does.
		{"top two only", DiffParams{TopN: 2, MinDelta: inf}, []int32{0, 3}, []int32{1, 2}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got, err := Diff(c, []string{"p"}, []string{"n1", "n2"}, tt.p)
			if err != nil {
				t.Fatal(err)
			}
			if err := got.Validate(); err != nil {
				t.Fatal(err)
			}
			if got.Tags[0] != "p" || got.Tags[1] != "n1+n2" {
				t.Errorf("tags %v", got.Tags)
			}
			if !slices.Equal(got.Neurons[0][0], tt.pos) || !slices.Equal(got.Neurons[1][0], tt.neg) {
				t.Errorf("got pos %v neg %v, want %v %v", got.Neurons[0][0], got.Neurons[1][0], tt.pos, tt.neg)
			}
		})
	}
}

func TestDiffTiesAcrossLayers(t *testing.T) {
	// Every neuron has Δ = 1/2 − 1/4 = 1/4; TopN=3 takes the first three
	// in layer-major order: layer 0 ids 0,1 and layer 1 id 0.
	c := counts([]string{"a", "b"}, []float64{2, 4}, [][][]int64{{{1, 1}, {1, 1}}, {{1, 1}, {1, 1}}})
	got, err := Diff(c, []string{"a"}, []string{"b"}, DiffParams{TopN: 3, MinDelta: math.Inf(1)})
	if err != nil {
		t.Fatal(err)
	}
	if want := (ids{{0, 1}, {0}}); !slices.Equal(got.Neurons[0][0], want[0]) || !slices.Equal(got.Neurons[0][1], want[1]) {
		t.Errorf("got %v, want %v", got.Neurons[0], want)
	}
}

func TestDiffErrors(t *testing.T) {
	c := counts([]string{"a", "b"}, []float64{1, 1}, [][][]int64{{{1, 2}}})
	tests := []struct {
		name     string
		pos, neg []string
		p        DiffParams
		want     string
	}{
		{"overlap", []string{"a"}, []string{"a"}, DiffParams{TopN: 1}, "both groups"},
		{"unknown", []string{"a"}, []string{"z"}, DiffParams{TopN: 1}, `unknown tag "z"`},
		{"empty", nil, []string{"b"}, DiffParams{TopN: 1}, "no tags"},
		{"negative TopN", []string{"a"}, []string{"b"}, DiffParams{TopN: -1}, "bad parameters"},
		{"NaN threshold", []string{"a"}, []string{"b"}, DiffParams{MinDelta: math.NaN()}, "bad parameters"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			_, err := Diff(c, tt.pos, tt.neg, tt.p)
			if err == nil || !strings.Contains(err.Error(), tt.want) {
				t.Fatalf("err = %v, want one containing %q", err, tt.want)
			}
		})
	}
}
