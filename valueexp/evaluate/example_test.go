package evaluate_test

import (
	"fmt"
	"strings"

	"github.com/valueexploration/valueexp/valueexp/evaluate"
	"github.com/valueexploration/valueexp/valueexp/record"
)

// ExampleMerge joins two shards of a job of four (condition, item) units:
// shard 0 holds units 0 and 2, shard 1 units 1 and 3.
func ExampleMerge() {
	job := &evaluate.Job{ModelFingerprint: "m", DataDigest: "d", Settings: "mode=likelihood", Units: 4, Digest: "x"}
	conds := []evaluate.Condition{{Name: "none", Kind: "none"}}
	item := func(id string, aligned float64) evaluate.ItemResult {
		return evaluate.ItemResult{Condition: "none", ID: id, Value: "诚信", Language: "en", Aligned: aligned, Orders: []float64{aligned}, Answered: true}
	}
	shard := func(i int, items ...evaluate.ItemResult) *evaluate.Results {
		return &evaluate.Results{Format: "valueexp-results", Version: 1, Conditions: conds, Job: job, Shard: &record.Shard{Index: i, Count: 2}, Items: items}
	}
	merged, err := evaluate.Merge(
		shard(1, item("b", 0.2), item("d", 0.6)),
		shard(0, item("a", 0.9), item("c", 0.7)),
	)
	if err != nil {
		fmt.Println(err)
		return
	}
	var ids []string
	for _, it := range merged.Items {
		ids = append(ids, it.ID)
	}
	fmt.Println(strings.Join(ids, " "))
	c := merged.Cells[0]
	fmt.Printf("%s %s: %d items, support %.1f, aligned choices %.2f\n", c.ValueEnglish, c.Language, c.Items, c.SupportRate, c.AlignedChoiceRate)
	// Output:
	// a b c d
	// Integrity en: 4 items, support 60.0, aligned choices 0.75
}
