package engine

import (
	"math"
	"testing"

	"github.com/valueexploration/valueexp/weights"
)

// TestInMemoryWeightsGiveSameLogits runs a model from its mapped file and
// from a copy in memory (weights.Model.LoadIntoMemory): the logits are
// bit-identical.
func TestInMemoryWeightsGiveSameLogits(t *testing.T) {
	for _, spec := range randSpecs {
		t.Run(spec.Arch, func(t *testing.T) {
			ggufPath, _ := writeRandomModel(t, spec)
			mapped := mustLoad(t, ggufPath, 2)
			w, err := weights.Open(ggufPath)
			if err != nil {
				t.Fatal(err)
			}
			defer w.Close()
			if err := w.LoadIntoMemory(); err != nil {
				t.Fatal(err)
			}
			inMem, err := New(w, Options{Threads: 2})
			if err != nil {
				t.Fatal(err)
			}
			defer inMem.Close()
			toks := randTokens(spec.Seed, 9, mapped.Config.VocabSize)
			a, b := prefill(t, mapped, toks), prefill(t, inMem, toks)
			for i := range a {
				if math.Float32bits(a[i]) != math.Float32bits(b[i]) {
					t.Fatalf("logit %d: mapped %v, in memory %v", i, a[i], b[i])
				}
			}
		})
	}
}
