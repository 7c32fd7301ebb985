package selection

import (
	"fmt"
	"math/bits"
	"math/rand/v2"
	"slices"
)

// RandomControl returns, for every tag and layer of sets, the same number of
// neurons drawn uniformly without replacement from [0, dim): the
// "random same-size" control of valueexp/METHOD.md §7 item 10 (stricter than the
// authors' random_deactivate.py, which ignores per-layer sizes). The draw is
// a deterministic function of seed and the layer sizes, on every platform
// and Go version (PCG output and the bounded draw below are both fixed).
func RandomControl(sets *Selection, seed uint64, dim int) (*Selection, error) {
	if sets == nil {
		return nil, fmt.Errorf("selection: random control: nil selection")
	}
	if dim <= 0 || dim > 1<<31-1 {
		return nil, fmt.Errorf("selection: random control: bad dim %d", dim)
	}
	if len(sets.Neurons) != len(sets.Tags) {
		return nil, fmt.Errorf("selection: random control: %d neuron lists for %d tags", len(sets.Neurons), len(sets.Tags))
	}
	src := rand.NewPCG(seed, 0x76616c7565657870) // stream constant: "valueexp"
	out := newSelection(sets.Tags, sets.Layers, dim, Params{Method: "random", Seed: seed})
	perm := make([]int32, dim)
	for k, layers := range sets.Neurons {
		if len(layers) != sets.Layers {
			return nil, fmt.Errorf("selection: random control: tag %q has %d layers, want %d", sets.Tags[k], len(layers), sets.Layers)
		}
		for l, ids := range layers {
			m := len(ids)
			if m > dim {
				return nil, fmt.Errorf("selection: random control: tag %q layer %d has %d neurons, more than dim %d", sets.Tags[k], l, m, dim)
			}
			// Partial Fisher–Yates from a fresh identity permutation: each
			// layer draws from the whole range, whatever earlier layers took.
			for i := range perm {
				perm[i] = int32(i)
			}
			for i := range m {
				j := i + int(uniform(src, uint64(dim-i)))
				perm[i], perm[j] = perm[j], perm[i]
			}
			picked := append([]int32(nil), perm[:m]...)
			slices.Sort(picked)
			out.Neurons[k][l] = picked
		}
	}
	return out, nil
}

// uniform returns an unbiased draw from [0, n) (Lemire's multiply-and-reject).
func uniform(src *rand.PCG, n uint64) uint64 {
	hi, lo := bits.Mul64(src.Uint64(), n)
	if lo < n {
		thresh := -n % n
		for lo < thresh {
			hi, lo = bits.Mul64(src.Uint64(), n)
		}
	}
	return hi
}
