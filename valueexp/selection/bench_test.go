package selection

import (
	"fmt"
	"math/rand/v2"
	"testing"
)

// syntheticCounts builds K tags of L×D counts with per-neuron base rates, so
// the entropy has a realistic spread and the filter admits a fraction.
func syntheticCounts(k, layers, dim int) Counts {
	r := rand.New(rand.NewPCG(1, 2))
	c := Counts{Layers: layers, Dim: dim}
	n := layers * dim
	base := make([]float64, n)
	for i := range base {
		base[i] = r.Float64() * r.Float64()
	}
	for t := range k {
		c.Tags = append(c.Tags, fmt.Sprintf("tag%d", t))
		c.Tokens = append(c.Tokens, 50000)
		c.Questions = append(c.Questions, 200)
		oz := make([]int64, n)
		for i := range oz {
			oz[i] = int64(50000 * base[i] * (0.5 + r.Float64()))
		}
		c.OverZero = append(c.OverZero, oz)
	}
	return c
}

// BenchmarkVAPE12x32x14336 times VAPE over the 12 values on a
// Llama-3-8B-shaped model (32 layers × 14336 neurons).
func BenchmarkVAPE12x32x14336(b *testing.B) {
	c := syntheticCounts(12, 32, 14336)
	b.ReportAllocs()
	for b.Loop() {
		if _, err := VAPE(c, LAPEDefaults()); err != nil {
			b.Fatal(err)
		}
	}
}

// BenchmarkVAPE2x32x14336 times the authors' per-value support/conflict run.
func BenchmarkVAPE2x32x14336(b *testing.B) {
	c := syntheticCounts(2, 32, 14336)
	b.ReportAllocs()
	for b.Loop() {
		if _, err := VAPE(c, AuthorsDecision()); err != nil {
			b.Fatal(err)
		}
	}
}

func BenchmarkRandomControl(b *testing.B) {
	c := syntheticCounts(12, 32, 14336)
	sel, err := VAPE(c, LAPEDefaults())
	if err != nil {
		b.Fatal(err)
	}
	for b.Loop() {
		if _, err := RandomControl(sel, 1, 14336); err != nil {
			b.Fatal(err)
		}
	}
}
