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
// Index sets covering more than an eighth of their span are applied through
// a dense mask or multiplier over the whole span, which streams through
// memory instead of scattering; the results are identical.
type NeuronEdit struct {
	op     NeuronOp
	value  float32
	when   When
	layers []neuronLayer // indexed by Point.Layer+1; slot 0 is model-level
}

// neuronLayer holds one layer's selection in sparse and, if worth it, dense
// form.
type neuronLayer struct {
	idx  []int32   // sorted, unique
	span int       // max index + 1
	keep []uint32  // dense OpZero/OpSet: 0 at selected columns, all ones elsewhere
	mul  []float32 // dense OpScale: value at selected columns, 1 elsewhere
}

// NewNeuronEdit builds an editor applying op (with value for OpScale and
// OpSet) to the columns idx[layer] at each layer; use layer -1 for the
// model-level sites. Index lists are copied, sorted and deduplicated.
// Negative indices or layers below -1 are errors; indices beyond the width
// of the tensor at dispatch time make Edit panic, so validate neuron sets
// against the model first (NeuronSetFile.Validate).
func NewNeuronEdit(op NeuronOp, value float32, idx map[int][]int32, when When) (*NeuronEdit, error) {
	if op > OpSet {
		return nil, fmt.Errorf("hooks: neuron edit: unknown op %d", op)
	}
	top := -1
	for l := range idx {
		if l < -1 {
			return nil, fmt.Errorf("hooks: neuron edit: layer %d is below -1", l)
		}
		top = max(top, l)
	}
	if op == OpZero {
		value = 0 // the dense path writes value, so zero must mean +0
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
		e.layers[l+1] = newNeuronLayer(op, value, sorted, len(sorted)*8 > spanOf(sorted))
	}
	return e, nil
}

// spanOf returns max+1 of a sorted index list, or 0 when it is empty.
func spanOf(idx []int32) int {
	if len(idx) == 0 {
		return 0
	}
	return int(idx[len(idx)-1]) + 1
}

// newNeuronLayer precomputes the dense form when asked to.
func newNeuronLayer(op NeuronOp, value float32, idx []int32, dense bool) neuronLayer {
	nl := neuronLayer{idx: idx, span: spanOf(idx)}
	if !dense || len(idx) == 0 {
		return nl
	}
	if op == OpScale {
		nl.mul = make([]float32, nl.span)
		for j := range nl.mul {
			nl.mul[j] = 1
		}
		for _, j := range idx {
			nl.mul[j] = value
		}
		return nl
	}
	nl.keep = make([]uint32, nl.span)
	for j := range nl.keep {
		nl.keep[j] = math.MaxUint32
	}
	for _, j := range idx {
		nl.keep[j] = 0
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
// another model or site.
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
	case nl.mul != nil:
		scaleDense(row[:len(nl.mul)], nl.mul)
	case nl.keep != nil:
		setDense(row[:len(nl.keep)], nl.keep, value)
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

// scaleDense multiplies row by mul; columns with multiplier 1 keep their
// exact value (x·1 == x for every float, NaN included).
func scaleDense(row, mul []float32) {
	mul = mul[:len(row)]
	for j, m := range mul {
		row[j] *= m
	}
}

// setDense replaces the columns where keep is 0 by value and leaves the
// others bit for bit, without branches.
func setDense(row []float32, keep []uint32, value float32) {
	keep = keep[:len(row)]
	v := math.Float32bits(value)
	for j, k := range keep {
		row[j] = math.Float32frombits(math.Float32bits(row[j])&k | v&^k)
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
// The vector length must equal the width of the site it is registered at;
// Edit panics otherwise.
func NewAddVector(vecs map[int][]float32, coeff float32, normalize bool, when When) (*AddVector, error) {
	top := -1
	for l, v := range vecs {
		if l < -1 {
			return nil, fmt.Errorf("hooks: add vector: layer %d is below -1", l)
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
