package hooks

import (
	"fmt"
	"math"
	"slices"
)

// NeuronOp is what a NeuronEdit does to each selected neuron.
type NeuronOp uint8

// Neuron operations.
const (
	OpZero  NeuronOp = iota // x = 0, exactly, even when x was ±Inf or NaN
	OpScale                 // x *= value (IEEE semantics: Inf·0 is NaN)
	OpSet                   // x = value
)

// String returns "zero", "scale" or "set".
func (op NeuronOp) String() string {
	switch op {
	case OpZero:
		return "zero"
	case OpScale:
		return "scale"
	case OpSet:
		return "set"
	}
	return fmt.Sprintf("hooks.NeuronOp(%d)", uint8(op))
}

// NeuronEdit applies one NeuronOp to a fixed set of columns ("neurons") per
// layer, in the rows its When scope selects. Create it with NewNeuronEdit.
// Each layer's sorted index list is applied either as scattered writes (a
// VAPE set is about 1% of a layer, scattered) or, when the indices come in
// runs of four or more on average (heads, slices), run by run, clearing
// each run with a vectorised memclr for OpZero. A dense multiplier over the
// whole row was measured as well and never beat scattered writes at any
// density (BenchmarkNeuronEdit), so it is not used.
type NeuronEdit struct {
	op     NeuronOp
	value  float32
	when   When
	layers []neuronLayer // indexed by Point.Layer+1; slot 0 is model-level
}

// neuronLayer holds one layer's selection in sparse and, if worth it, bulk
// form.
type neuronLayer struct {
	idx  []int32    // sorted, unique
	span int        // max index + 1
	runs [][2]int32 // maximal [start, end) runs of idx, when worth using
}

// NewNeuronEdit builds an editor applying op (with value for OpScale and
// OpSet) to the columns idx[layer] at each layer; use layer -1 for the
// model-level sites. Index lists are copied, sorted and deduplicated.
// Negative indices, layers below -1 and layers above MaxLayer are errors.
// Indices beyond the width of a site, and layers beyond the model, are
// reported by Check: at registration (layers) and by the engine before a
// forward pass (both).
func NewNeuronEdit(op NeuronOp, value float32, idx map[int][]int32, when When) (*NeuronEdit, error) {
	if op > OpSet {
		return nil, fmt.Errorf("hooks: neuron edit: unknown op %d", op)
	}
	top := -1
	for l := range idx {
		if l < -1 || l > MaxLayer {
			return nil, fmt.Errorf("hooks: neuron edit: layer %d outside [-1, %d]", l, MaxLayer)
		}
		top = max(top, l)
	}
	if op == OpZero {
		value = 0 // OpZero always writes +0, whatever value was passed
	}
	e := &NeuronEdit{op: op, value: value, when: when, layers: make([]neuronLayer, top+2)}
	e.when.Tags = slices.Clone(when.Tags)
	for l, list := range idx {
		sorted := slices.Clone(list)
		slices.Sort(sorted)
		sorted = slices.Compact(sorted)
		if len(sorted) > 0 && sorted[0] < 0 {
			return nil, fmt.Errorf("hooks: neuron edit: layer %d: negative index %d", l, sorted[0])
		}
		e.layers[l+1] = newNeuronLayer(sorted, preferBulk(sorted))
	}
	return e, nil
}

// MaxLayer is the largest layer number an editor accepts, far above any
// real model's; it bounds what a mistyped layer can make an editor allocate.
const MaxLayer = 1 << 16

// Check reports an index beyond the width of p's site in s, and indices for
// a layer s does not have, which would otherwise do nothing.
func (e *NeuronEdit) Check(p Point, s ModelShape) error {
	for i := len(e.layers) - 1; i > s.Layers; i-- {
		if len(e.layers[i].idx) > 0 {
			return fmt.Errorf("neuron edit has indices for layer %d, but the model has %d layers (0..%d)", i-1, s.Layers, s.Layers-1)
		}
	}
	if !e.Applies(p) {
		return nil
	}
	nl := &e.layers[p.Layer+1]
	if w, ok := s.Width(p.Site); ok && nl.span > w {
		return fmt.Errorf("neuron edit at %v: index %d is beyond the %d columns of %v (valid: 0..%d)", p, nl.span-1, w, p.Site, w-1)
	}
	return nil
}

// spanOf returns max+1 of a sorted index list, or 0 when it is empty.
func spanOf(idx []int32) int {
	if len(idx) == 0 {
		return 0
	}
	return int(idx[len(idx)-1]) + 1
}

// preferBulk decides between scattered and run-by-run application: runs
// pay off once they average four indices (BenchmarkNeuronEdit on amd64).
func preferBulk(idx []int32) bool {
	return 4*countRuns(idx) <= len(idx)
}

// countRuns returns the number of maximal runs of consecutive indices.
func countRuns(idx []int32) int {
	n := 0
	for i, j := range idx {
		if i == 0 || j != idx[i-1]+1 {
			n++
		}
	}
	return n
}

// newNeuronLayer precomputes the runs when asked to.
func newNeuronLayer(idx []int32, bulk bool) neuronLayer {
	nl := neuronLayer{idx: idx, span: spanOf(idx)}
	if !bulk || len(idx) == 0 {
		return nl
	}
	nl.runs = make([][2]int32, 0, countRuns(idx))
	for i, j := range idx {
		if i == 0 || j != idx[i-1]+1 {
			nl.runs = append(nl.runs, [2]int32{j, j + 1})
		} else {
			nl.runs[len(nl.runs)-1][1] = j + 1
		}
	}
	return nl
}

// Applies reports whether e has indices at p's layer.
func (e *NeuronEdit) Applies(p Point) bool {
	i := p.Layer + 1
	return i >= 0 && i < len(e.layers) && len(e.layers[i].idx) > 0
}

// Edit applies the op to the selected columns of every row in scope. It
// panics if an index is beyond t.Cols, which means the edit was built for
// another model or site; the engine calls Check first, so that in a run
// this is an error instead.
func (e *NeuronEdit) Edit(p Point, t Tensor, rows *Rows) {
	if !e.Applies(p) || !e.when.MatchCall(rows) {
		return
	}
	nl := &e.layers[p.Layer+1]
	if nl.span > t.Cols {
		panic(fmt.Sprintf("hooks: neuron edit at %v: index %d beyond the %d columns of the tensor", p, nl.span-1, t.Cols))
	}
	everywhere := e.when.Everywhere()
	for r := 0; r < t.Rows; r++ {
		if everywhere || e.when.Match(rows, r) {
			nl.apply(e.op, e.value, t.Row(r))
		}
	}
}

// apply edits one row.
func (nl *neuronLayer) apply(op NeuronOp, value float32, row []float32) {
	switch {
	case nl.runs != nil && op == OpZero:
		for _, r := range nl.runs {
			clear(row[r[0]:r[1]])
		}
	case nl.runs != nil && op == OpScale:
		for _, r := range nl.runs {
			seg := row[r[0]:r[1]]
			for j := range seg {
				seg[j] *= value
			}
		}
	case nl.runs != nil:
		for _, r := range nl.runs {
			seg := row[r[0]:r[1]]
			for j := range seg {
				seg[j] = value
			}
		}
	case op == OpScale:
		for _, j := range nl.idx {
			row[j] *= value
		}
	case op == OpZero:
		for _, j := range nl.idx {
			row[j] = 0
		}
	default:
		for _, j := range nl.idx {
			row[j] = value
		}
	}
}

// AddVector adds coeff·vec[layer] to every row in scope (activation
// steering, as in repeng and CAA). With Normalize, each edited row is then
// rescaled to its pre-edit L2 norm, repeng's option. Create it with
// NewAddVector.
type AddVector struct {
	vecs      [][]float32 // indexed by Point.Layer+1
	coeff     float32
	normalize bool
	when      When
}

// NewAddVector builds an editor adding coeff·vecs[layer] at each layer that
// has a vector; use layer -1 for the model-level sites. Vectors are copied.
// The vector length must equal the width of the site it is registered at
// (Check; Edit panics otherwise).
func NewAddVector(vecs map[int][]float32, coeff float32, normalize bool, when When) (*AddVector, error) {
	top := -1
	for l, v := range vecs {
		if l < -1 || l > MaxLayer {
			return nil, fmt.Errorf("hooks: add vector: layer %d outside [-1, %d]", l, MaxLayer)
		}
		if len(v) == 0 {
			return nil, fmt.Errorf("hooks: add vector: layer %d: empty vector", l)
		}
		top = max(top, l)
	}
	a := &AddVector{vecs: make([][]float32, top+2), coeff: coeff, normalize: normalize, when: when}
	a.when.Tags = slices.Clone(when.Tags)
	for l, v := range vecs {
		a.vecs[l+1] = slices.Clone(v)
	}
	return a, nil
}

// Applies reports whether a has a vector at p's layer.
func (a *AddVector) Applies(p Point) bool {
	i := p.Layer + 1
	return i >= 0 && i < len(a.vecs) && a.vecs[i] != nil
}

// Check reports a vector whose length is not the width of p's site in s, and
// vectors for a layer s does not have.
func (a *AddVector) Check(p Point, s ModelShape) error {
	for i := len(a.vecs) - 1; i > s.Layers; i-- {
		if a.vecs[i] != nil {
			return fmt.Errorf("add vector has a vector for layer %d, but the model has %d layers (0..%d)", i-1, s.Layers, s.Layers-1)
		}
	}
	if !a.Applies(p) {
		return nil
	}
	if w, ok := s.Width(p.Site); ok && len(a.vecs[p.Layer+1]) != w {
		return fmt.Errorf("add vector at %v: vector has %d entries, %v has %d columns", p, len(a.vecs[p.Layer+1]), p.Site, w)
	}
	return nil
}

// Edit adds the layer's vector to the rows in scope. It panics if the
// vector length differs from t.Cols.
func (a *AddVector) Edit(p Point, t Tensor, rows *Rows) {
	if !a.Applies(p) || !a.when.MatchCall(rows) {
		return
	}
	vec := a.vecs[p.Layer+1]
	if len(vec) != t.Cols {
		panic(fmt.Sprintf("hooks: add vector at %v: vector has %d entries, tensor has %d columns", p, len(vec), t.Cols))
	}
	everywhere := a.when.Everywhere()
	for r := 0; r < t.Rows; r++ {
		if !everywhere && !a.when.Match(rows, r) {
			continue
		}
		row := t.Row(r)
		var before float64
		if a.normalize {
			before = norm2(row)
		}
		for j, v := range vec {
			row[j] += a.coeff * v
		}
		if a.normalize {
			if after := norm2(row); after > 0 {
				s := float32(before / after)
				for j := range row {
					row[j] *= s
				}
			}
		}
	}
}

// norm2 returns the Euclidean norm of x, accumulated in float64.
func norm2(x []float32) float64 {
	var s float64
	for _, v := range x {
		s += float64(v) * float64(v)
	}
	return math.Sqrt(s)
}
