package identify_test

import (
	"fmt"

	"github.com/valueexploration/valueexp/valueexp/identify"
	"github.com/valueexploration/valueexp/valueexp/selection"
)

// Two values in two languages; one layer of three neurons, 10 tokens each.
// Neuron 0 fires for 富强 and neuron 1 for 民主 in Chinese; in English the
// roles are taken by neuron 2 and neuron 1.
func Example() {
	c := selection.Counts{
		Tags: []string{"富强/zh", "民主/zh", "富强/en", "民主/en"}, Layers: 1, Dim: 3,
		OverZero: [][]int64{{9, 1, 0}, {1, 9, 0}, {0, 1, 9}, {0, 9, 1}},
		Tokens:   []float64{10, 10, 10, 10},
	}
	opt := identify.Options{Method: identify.VAPE, VAPE: selection.VAPEParams{TopRate: 0.67, FilterRate: 0.75, ActivationBarRatio: 0.75}}
	res, err := identify.Identify(c, opt)
	if err != nil {
		panic(err)
	}
	f, err := identify.NeuronSets(res, identify.Source{}, opt)
	if err != nil {
		panic(err)
	}
	for _, s := range f.NeuronSets {
		fmt.Println(s.Name, s.Indices()[0])
	}
	// Output:
	// 富强/zh [0]
	// 民主/zh [1]
	// 富强/en [2]
	// 民主/en [1]
}

// Random controls are named after the set they control and their draw.
func ExampleControlName() {
	for d := 1; d <= 3; d++ {
		name := identify.ControlName("诚信/zh", d)
		set, draw, _ := identify.ParseControlName(name)
		fmt.Println(name, set, draw)
	}
	// Output:
	// random:诚信/zh 诚信/zh 1
	// random:诚信/zh#2 诚信/zh 2
	// random:诚信/zh#3 诚信/zh 3
}
