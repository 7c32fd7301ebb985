package selection_test

import (
	"fmt"
	"math"

	"github.com/valueexploration/valueexp/valueexp/selection"
)

// Three tags, one layer of four neurons, 100 counted tokens per tag.
func exampleCounts() selection.Counts {
	return selection.Counts{
		Tags:   []string{"富强", "民主", "文明"},
		Layers: 1, Dim: 4,
		OverZero: [][]int64{
			{90, 10, 50, 0},
			{5, 10, 50, 0},
			{5, 80, 50, 0},
		},
		Tokens: []float64{100, 100, 100},
	}
}

func ExampleVAPE() {
	// Keep the half of the neurons with the lowest entropy across values,
	// among those above the median probability; assign by the same bar.
	sel, err := selection.VAPE(exampleCounts(), selection.VAPEParams{TopRate: 0.5, FilterRate: 0.5, ActivationBarRatio: 0.5})
	if err != nil {
		fmt.Println(err)
		return
	}
	for k, tag := range sel.Tags {
		fmt.Println(tag, sel.Neurons[k][0])
	}
	// Output:
	// 富强 [0]
	// 民主 []
	// 文明 [1]
}

func ExampleDiff() {
	sel, err := selection.Diff(exampleCounts(), []string{"富强"}, []string{"民主", "文明"},
		selection.DiffParams{TopN: 1, MinDelta: math.Inf(1)})
	if err != nil {
		fmt.Println(err)
		return
	}
	fmt.Println(sel.Tags, sel.Neurons[0][0], sel.Neurons[1][0])
	// Output: [富强 民主+文明] [0] [1]
}

func ExampleRandomControl() {
	sel, _ := selection.VAPE(exampleCounts(), selection.VAPEParams{TopRate: 0.5, FilterRate: 0.5, ActivationBarRatio: 0.5})
	ctrl, err := selection.RandomControl(sel, 2025, sel.Dim)
	if err != nil {
		fmt.Println(err)
		return
	}
	for k := range ctrl.Tags {
		fmt.Println(ctrl.Tags[k], len(ctrl.Neurons[k][0]) == len(sel.Neurons[k][0]))
	}
	// Output:
	// 富强 true
	// 民主 true
	// 文明 true
}

// A control drawn outside the value sets never touches their neurons.
func ExampleRandomControlOutside() {
	sel := &selection.Selection{Tags: []string{"诚信"}, Layers: 1, Dim: 6, Neurons: [][][]int32{{{0, 1, 2}}}}
	ctrl, err := selection.RandomControlOutside(sel, 7, 6, [][]int32{{0, 1, 2}})
	if err != nil {
		panic(err)
	}
	fmt.Println(ctrl.Neurons[0][0])
	// Output: [3 4 5]
}
