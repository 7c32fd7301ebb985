// Package selection picks FFN neuron sets from activation counts: VAPE
// (LAPE-style entropy selection, valueexp/METHOD.md §3.3–3.6), a two-way activation
// difference (ValueLocate-style, §3.8) and random same-size controls (§4.4,
// §7 item 10).
//
// Every method returns a Selection: for each tag (value, view, language...)
// and each layer, the sorted, duplicate-free ids of the chosen neurons,
// together with the parameters that produced it.
package selection

import (
	"errors"
	"fmt"
	"math"
)

// Counts holds per-tag activation counts: OverZero[k][l*Dim+j] is the number
// of counted tokens of tag k at which neuron j of layer l fired
// (SiLU(gate) > 0).
type Counts struct {
	Tags      []string
	Layers    int
	Dim       int
	OverZero  [][]int64 // [tag][layer*Dim+neuron]
	Tokens    []float64 // [tag] number of counted tokens, the true normaliser T_k
	Questions []int64   // [tag] number of questions; only read by ByQuestions
	// GroupTokens, when not nil, gives each tag a token total per layer
	// ([tag][layer]) that ByTokens divides that layer's counts by instead
	// of Tokens[tag]: the counts of a mixture of experts' neurons, whose
	// layers are (layer, expert) pairs and whose normaliser is the number
	// of tokens routed to each expert. A zero total gives probability 0.
	GroupTokens [][]float64
}

// divisor returns what count i of tag k is divided by.
func (c *Counts) divisor(div []float64, n Normaliser, k, i int) float64 {
	if c.GroupTokens != nil && n == ByTokens {
		return c.GroupTokens[k][i/c.Dim]
	}
	return div[k]
}

// ratio returns v/d, or 0 when d is 0 (an expert that saw no token).
func ratio(v, d float64) float64 {
	if d == 0 {
		return 0
	}
	return v / d
}

// Normaliser chooses what the counts of a tag are divided by.
type Normaliser int

const (
	// ByTokens divides by the number of counted tokens, giving activation
	// probabilities (valueexp/METHOD.md §3.2, recommended).
	ByTokens Normaliser = iota
	// ByQuestions divides by the number of questions, reproducing the
	// authors' released masks (the question_num override, valueexp/METHOD.md §3.6).
	ByQuestions
)

// String names the normaliser as it appears in reports.
func (n Normaliser) String() string {
	switch n {
	case ByTokens:
		return "tokens"
	case ByQuestions:
		return "questions"
	}
	return fmt.Sprintf("Normaliser(%d)", int(n))
}

// Selection is a neuron set per tag and layer.
type Selection struct {
	Tags    []string
	Layers  int
	Dim     int
	Neurons [][][]int32 // [tag][layer] sorted, unique neuron ids in [0, Dim)
	Params  Params
}

// Params records how a Selection was made. Only the fields of its Method
// are meaningful.
type Params struct {
	Method string // "vape", "diff" or "random"

	// VAPE (and Diff's Normaliser).
	TopRate            float64
	FilterRate         float64
	ActivationBarRatio float64
	Normaliser         Normaliser
	// Derived by VAPE: the filter threshold on activation probabilities,
	// the assignment bar, and how many neurons passed the filter.
	FilterThreshold float64
	ActivationBar   float64
	Candidates      int

	// Diff.
	TopN     int
	MinDelta float64

	// Random.
	Seed uint64
}

// Size returns the number of neurons selected for tag k over all layers.
func (s *Selection) Size(k int) int {
	n := 0
	for _, l := range s.Neurons[k] {
		n += len(l)
	}
	return n
}

// Validate checks shapes and that every layer list is sorted, unique and in
// range.
func (s *Selection) Validate() error {
	if len(s.Neurons) != len(s.Tags) {
		return fmt.Errorf("selection: %d neuron lists for %d tags", len(s.Neurons), len(s.Tags))
	}
	for k, layers := range s.Neurons {
		if len(layers) != s.Layers {
			return fmt.Errorf("selection: tag %q: %d layers, want %d", s.Tags[k], len(layers), s.Layers)
		}
		for l, ids := range layers {
			for i, id := range ids {
				if id < 0 || int(id) >= s.Dim {
					return fmt.Errorf("selection: tag %q layer %d: neuron %d out of [0,%d)", s.Tags[k], l, id, s.Dim)
				}
				if i > 0 && ids[i-1] >= id {
					return fmt.Errorf("selection: tag %q layer %d: ids not strictly increasing at %d", s.Tags[k], l, i)
				}
			}
		}
	}
	return nil
}

// validate checks the counts' shapes and normalisers and returns the
// per-tag divisor for n.
func (c *Counts) validate(n Normaliser) ([]float64, error) {
	k := len(c.Tags)
	if k == 0 {
		return nil, errors.New("selection: no tags")
	}
	if c.Layers <= 0 || c.Dim <= 0 {
		return nil, fmt.Errorf("selection: bad shape %d layers × %d neurons", c.Layers, c.Dim)
	}
	if len(c.OverZero) != k {
		return nil, fmt.Errorf("selection: %d count tensors for %d tags", len(c.OverZero), k)
	}
	for i, oz := range c.OverZero {
		if len(oz) != c.Layers*c.Dim {
			return nil, fmt.Errorf("selection: tag %q: %d counts, want %d×%d", c.Tags[i], len(oz), c.Layers, c.Dim)
		}
	}
	if c.GroupTokens != nil {
		if len(c.GroupTokens) != k {
			return nil, fmt.Errorf("selection: %d per-layer token totals for %d tags", len(c.GroupTokens), k)
		}
		for i, g := range c.GroupTokens {
			if len(g) != c.Layers {
				return nil, fmt.Errorf("selection: tag %q: %d per-layer token totals for %d layers", c.Tags[i], len(g), c.Layers)
			}
			for _, d := range g {
				if !(d >= 0) || math.IsInf(d, 0) {
					return nil, fmt.Errorf("selection: tag %q: per-layer token total %v", c.Tags[i], d)
				}
			}
		}
	}
	div := make([]float64, k)
	switch n {
	case ByTokens:
		if len(c.Tokens) != k {
			return nil, fmt.Errorf("selection: %d token totals for %d tags", len(c.Tokens), k)
		}
		copy(div, c.Tokens)
	case ByQuestions:
		if len(c.Questions) != k {
			return nil, fmt.Errorf("selection: %d question counts for %d tags", len(c.Questions), k)
		}
		for i, q := range c.Questions {
			div[i] = float64(q)
		}
	default:
		return nil, fmt.Errorf("selection: unknown normaliser %d", int(n))
	}
	for i, d := range div {
		if !(d > 0) || math.IsInf(d, 0) {
			return nil, fmt.Errorf("selection: tag %q: %s normaliser %v, want a positive number", c.Tags[i], n, d)
		}
	}
	return div, nil
}

// newSelection returns an empty selection shaped like c.
func newSelection(tags []string, layers, dim int, p Params) *Selection {
	s := &Selection{Tags: append([]string(nil), tags...), Layers: layers, Dim: dim, Params: p}
	s.Neurons = make([][][]int32, len(tags))
	for k := range s.Neurons {
		s.Neurons[k] = make([][]int32, layers)
		for l := range s.Neurons[k] {
			s.Neurons[k][l] = []int32{}
		}
	}
	return s
}
