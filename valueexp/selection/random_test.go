package selection

import (
	"math"
	"slices"
	"strings"
	"testing"
)

func sizedSelection(dim int, sizes [][]int) *Selection {
	tags := make([]string, len(sizes))
	for k := range tags {
		tags[k] = string(rune('a' + k))
	}
	s := newSelection(tags, len(sizes[0]), dim, Params{Method: "test"})
	for k, layers := range sizes {
		for l, n := range layers {
			for j := range n {
				s.Neurons[k][l] = append(s.Neurons[k][l], int32(j))
			}
		}
	}
	return s
}

func TestRandomControlShape(t *testing.T) {
	src := sizedSelection(50, [][]int{{0, 3, 50}, {7, 1, 0}})
	got, err := RandomControl(src, 42, 50)
	if err != nil {
		t.Fatal(err)
	}
	if err := got.Validate(); err != nil {
		t.Fatal(err)
	}
	for k := range src.Neurons {
		for l := range src.Neurons[k] {
			if len(got.Neurons[k][l]) != len(src.Neurons[k][l]) {
				t.Errorf("tag %d layer %d: %d neurons, want %d", k, l, len(got.Neurons[k][l]), len(src.Neurons[k][l]))
			}
		}
	}
	// A full layer can only be every neuron.
	if len(got.Neurons[0][2]) != 50 || got.Neurons[0][2][0] != 0 || got.Neurons[0][2][49] != 49 {
		t.Errorf("full layer is not 0..49: %v", got.Neurons[0][2])
	}
	if got.Params.Method != "random" || got.Params.Seed != 42 {
		t.Errorf("params %+v", got.Params)
	}
}

func TestRandomControlDeterministic(t *testing.T) {
	src := sizedSelection(1000, [][]int{{10, 20}, {30, 5}})
	a, _ := RandomControl(src, 7, 1000)
	b, _ := RandomControl(src, 7, 1000)
	c, _ := RandomControl(src, 8, 1000)
	same, differ := true, false
	for k := range a.Neurons {
		for l := range a.Neurons[k] {
			same = same && slices.Equal(a.Neurons[k][l], b.Neurons[k][l])
			differ = differ || !slices.Equal(a.Neurons[k][l], c.Neurons[k][l])
		}
	}
	if !same {
		t.Error("same seed gave different draws")
	}
	if !differ {
		t.Error("different seeds gave identical draws")
	}
}

// TestRandomControlUniform checks the marginal law: drawing 3 of 10
// without replacement puts each id in the set with probability 3/10.
// Over 20000 seeds each count is Binomial(20000, 0.3): mean 6000,
// σ ≈ 64.8; a 6σ band makes a false failure practically impossible.
func TestRandomControlUniform(t *testing.T) {
	const trials, dim, m = 20000, 10, 3
	src := sizedSelection(dim, [][]int{{m}})
	var hits [dim]int
	for seed := range uint64(trials) {
		got, err := RandomControl(src, seed, dim)
		if err != nil {
			t.Fatal(err)
		}
		for _, id := range got.Neurons[0][0] {
			hits[id]++
		}
	}
	mean := float64(trials) * m / dim
	sigma := math.Sqrt(mean * (1 - float64(m)/dim))
	for id, h := range hits {
		if math.Abs(float64(h)-mean) > 6*sigma {
			t.Errorf("id %d drawn %d times, want %.0f ± %.0f", id, h, mean, 6*sigma)
		}
	}
}

func TestRandomControlErrors(t *testing.T) {
	tests := []struct {
		name string
		sel  *Selection
		dim  int
		want string
	}{
		{"nil", nil, 10, "nil selection"},
		{"layer larger than dim", sizedSelection(20, [][]int{{11}}), 10, "more than dim"},
		{"zero dim", sizedSelection(20, [][]int{{1}}), 0, "bad dim"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			_, err := RandomControl(tt.sel, 1, tt.dim)
			if err == nil || !strings.Contains(err.Error(), tt.want) {
				t.Fatalf("err = %v, want one containing %q", err, tt.want)
			}
		})
	}
}
