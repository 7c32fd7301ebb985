package selection

import (
	"fmt"
	"math/rand/v2"
	"slices"
)

// RandomControlOutside is RandomControl restricted to a pool: in every
// layer l the neurons are drawn uniformly without replacement from [0, dim)
// minus exclude[l] (sorted or not, duplicates allowed), so that a control
// never switches off a neuron of the sets it is compared with (issue 10
// item 5). With nothing excluded it draws exactly what RandomControl draws
// for the same seed. A layer whose pool is smaller than the set's size
// there is an error naming both numbers.
func RandomControlOutside(sets *Selection, seed uint64, dim int, exclude [][]int32) (*Selection, error) {
	if sets == nil {
		return nil, fmt.Errorf("selection: random control: nil selection")
	}
	if dim <= 0 || dim > 1<<31-1 {
		return nil, fmt.Errorf("selection: random control: bad dim %d", dim)
	}
	if len(sets.Neurons) != len(sets.Tags) {
		return nil, fmt.Errorf("selection: random control: %d neuron lists for %d tags", len(sets.Neurons), len(sets.Tags))
	}
	if len(exclude) > sets.Layers {
		return nil, fmt.Errorf("selection: random control: exclusions for %d layers, the sets have %d", len(exclude), sets.Layers)
	}
	// pools[l] is the identity on [0, dim) with the excluded neurons
	// removed, in increasing order; rebuilt for every draw so that each
	// draw starts from the same order (and the result depends only on the
	// seed and the sizes).
	pools := make([][]int32, sets.Layers)
	for l := range pools {
		var ex []int32
		if l < len(exclude) {
			ex = slices.Clone(exclude[l])
			slices.Sort(ex)
			ex = slices.Compact(ex)
		}
		p := make([]int32, 0, dim)
		k := 0
		for i := range int32(dim) {
			for k < len(ex) && ex[k] < i {
				k++
			}
			if k < len(ex) && ex[k] == i {
				continue
			}
			p = append(p, i)
		}
		pools[l] = p
	}
	src := rand.NewPCG(seed, 0x76616c7565657870) // the stream of RandomControl
	out := newSelection(sets.Tags, sets.Layers, dim, Params{Method: "random", Seed: seed})
	perm := make([]int32, dim)
	for k, layers := range sets.Neurons {
		if len(layers) != sets.Layers {
			return nil, fmt.Errorf("selection: random control: tag %q has %d layers, want %d", sets.Tags[k], len(layers), sets.Layers)
		}
		for l, ids := range layers {
			m, pool := len(ids), pools[l]
			if m > len(pool) {
				return nil, fmt.Errorf("selection: random control: tag %q layer %d has %d neurons, but only %d of %d are outside the excluded sets",
					sets.Tags[k], l, m, len(pool), dim)
			}
			perm = append(perm[:0], pool...)
			for i := range m {
				j := i + int(uniform(src, uint64(len(perm)-i)))
				perm[i], perm[j] = perm[j], perm[i]
			}
			picked := append([]int32(nil), perm[:m]...)
			slices.Sort(picked)
			out.Neurons[k][l] = picked
		}
	}
	return out, nil
}
