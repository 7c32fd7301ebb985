package stats

import (
	"fmt"
	"math/rand/v2"
	"testing"
)

// BenchmarkAnalyze times one language of a full study: the plain model, 12
// deactivated sets with 3 random draws each, 12 values × 100 items.
func BenchmarkAnalyze(b *testing.B) {
	r := rand.New(rand.NewPCG(1, 2))
	in := Input{Outcomes: map[Key][]Outcome{}}
	in.Conditions = append(in.Conditions, Condition{Name: "none", Kind: "none"})
	for s := range 12 {
		set := fmt.Sprint("set", s)
		in.Conditions = append(in.Conditions, Condition{Name: set, Kind: "deactivate"})
		for d := range 3 {
			in.Conditions = append(in.Conditions, Condition{Name: fmt.Sprint("random:", set, "#", d), Kind: "random", ControlOf: set})
		}
	}
	for _, c := range in.Conditions {
		for v := range 12 {
			k := Key{c.Name, fmt.Sprint(v), "zh"}
			for i := range 100 {
				in.Outcomes[k] = append(in.Outcomes[k], Outcome{Item: fmt.Sprint(v, "-", i), Share: r.Float64(), Answered: true})
			}
		}
	}
	b.ResetTimer()
	for b.Loop() {
		if _, err := Analyze(in, Options{Seed: 1}); err != nil {
			b.Fatal(err)
		}
	}
}
