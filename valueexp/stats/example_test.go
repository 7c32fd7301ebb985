package stats_test

import (
	"fmt"

	"github.com/valueexploration/valueexp/valueexp/stats"
)

func ExampleClopperPearson() {
	iv, err := stats.ClopperPearson(5, 10, 0.95)
	if err != nil {
		panic(err)
	}
	fmt.Printf("5 of 10: [%.3f, %.3f]\n", iv.Lo, iv.Hi)
	// Output: 5 of 10: [0.187, 0.813]
}

func ExampleAnalyze() {
	item := func(id string, share float64) stats.Outcome {
		return stats.Outcome{Item: id, Share: share, Answered: true}
	}
	in := stats.Input{
		Conditions: []stats.Condition{{Name: "none", Kind: "none"}, {Name: "诚信/zh", Kind: "deactivate"}},
		Outcomes: map[stats.Key][]stats.Outcome{
			{Condition: "none", Value: "诚信", Language: "zh"}:  {item("a", 0.9), item("b", 0.8), item("c", 0.7)},
			{Condition: "诚信/zh", Value: "诚信", Language: "zh"}: {item("a", 0.6), item("b", 0.5), item("c", 0.6)},
		},
	}
	a, err := stats.Analyze(in, stats.Options{Seed: 1})
	if err != nil {
		panic(err)
	}
	d := a.Cell(stats.Key{Condition: "诚信/zh", Value: "诚信", Language: "zh"}).VsNone
	// Three pairs all fall: the exact permutation p is 2/8.
	fmt.Printf("Δ %.1f points over %d items, p = %.3f\n", d.Mean, d.Pairs, d.P)
	// Output: Δ -23.3 points over 3 items, p = 0.250
}
