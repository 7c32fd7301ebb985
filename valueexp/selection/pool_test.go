package selection

import (
	"slices"
	"testing"
)

func TestRandomControlOutside(t *testing.T) {
	src := &Selection{Tags: []string{"a", "b"}, Layers: 3, Dim: 20, Neurons: [][][]int32{
		{{1, 2, 3}, nil, {0, 5, 9, 10}},
		{{4}, {7, 8}, {11}},
	}}
	exclude := [][]int32{{1, 2, 3, 4, 15, 2}, {7, 8}, {0, 5, 9, 10, 11}}
	got, err := RandomControlOutside(src, 9, 20, exclude)
	if err != nil {
		t.Fatal(err)
	}
	for k := range src.Tags {
		for l := range 3 {
			ids := got.Neurons[k][l]
			if len(ids) != len(src.Neurons[k][l]) {
				t.Errorf("tag %d layer %d: %d neurons, want %d", k, l, len(ids), len(src.Neurons[k][l]))
			}
			for _, j := range ids {
				if slices.Contains(exclude[l], j) || j < 0 || j >= 20 {
					t.Errorf("tag %d layer %d: drew excluded or out-of-range neuron %d", k, l, j)
				}
			}
			if !slices.IsSorted(ids) || len(slices.Compact(slices.Clone(ids))) != len(ids) {
				t.Errorf("tag %d layer %d: %v not sorted and unique", k, l, ids)
			}
		}
	}
	again, _ := RandomControlOutside(src, 9, 20, exclude)
	if !slices.EqualFunc(got.Neurons, again.Neurons, func(a, b [][]int32) bool { return slices.EqualFunc(a, b, slices.Equal[[]int32]) }) {
		t.Error("not deterministic for a seed")
	}
	// With nothing excluded it is RandomControl.
	plain, _ := RandomControl(src, 9, 20)
	none, _ := RandomControlOutside(src, 9, 20, nil)
	if !slices.EqualFunc(plain.Neurons, none.Neurons, func(a, b [][]int32) bool { return slices.EqualFunc(a, b, slices.Equal[[]int32]) }) {
		t.Errorf("no exclusions: %v, RandomControl %v", none.Neurons, plain.Neurons)
	}
	// A pool too small for the set is an error naming the sizes.
	full := [][]int32{nil, nil, make([]int32, 0, 20)}
	for i := range int32(17) {
		full[2] = append(full[2], i)
	}
	if _, err := RandomControlOutside(src, 1, 20, full); err == nil {
		t.Error("a 3-neuron pool for a 4-neuron layer was accepted")
	}
}
