package synth

import (
	"io"
	"testing"
)

// BenchmarkWrite measures drawing, quantizing and encoding one layer of the
// Qwen2.5-0.5B shape (with a small vocabulary), per mix.
func BenchmarkWrite(b *testing.B) {
	s, err := LookupShape("qwen2.5-0.5b")
	if err != nil {
		b.Fatal(err)
	}
	for _, mix := range Mixes() {
		b.Run(string(mix), func(b *testing.B) {
			opt := Options{Shape: s, Mix: mix, Layers: 1, Vocab: 4096, Seed: 1}
			p, err := NewPlan(opt)
			if err != nil {
				b.Fatal(err)
			}
			b.SetBytes(p.Params() * 4)
			for b.Loop() {
				if _, err := Write(io.Discard, opt); err != nil {
					b.Fatal(err)
				}
			}
		})
	}
}
