package engine

import (
	"fmt"
	"strings"

	"github.com/valueexploration/valueexp/hooks"
	"github.com/valueexploration/valueexp/weights"
)

// NaN and ±Inf in a model file.
//
// A file with non-finite weights used to give NaN logits, which sampling
// turned into token 0 (<unk><unk>…) without a word. Scanning every weight at
// load would read the whole file (seconds for a 1.5B model) on every run,
// and scanning each tensor lazily on first use would put the same cost on the
// first forward pass. Instead:
//
//   - the small tensors the engine converts to float32 at load (norms,
//     biases, rope factors) are checked there, for free;
//   - Forward checks the residual stream once per layer, and the stopped-at
//     activations and the logits: O(hidden) per token and layer against the
//     O(hidden²) of the layer's products, so it costs nothing measurable;
//   - only when a check fails does it scan weights, and only those of the one
//     layer (or the embedding rows, or the output head) whose output first
//     went non-finite, so the error can name the tensor and the first bad
//     element. If those weights are all finite, the activations overflowed
//     float32 or a hook wrote a non-finite value, and the error says so.
//
// `valueexp inspect --check` scans every tensor (weights.CheckFinite) for
// those who want to know before running.

// NonFiniteError reports a forward pass whose activations became NaN or ±Inf.
type NonFiniteError struct {
	Path string
	// Layer is where the values first went non-finite: -1 for the token
	// embeddings, 0..Layers-1 for a decoder block, Layers for the LM head.
	Layer int
	// Site names the activation that was checked ("hook_resid_post",
	// "mlp.hook_act", "logits", ...).
	Site string
	// Input and Pos locate the first affected token: the batch input and
	// its position in that input's sequence.
	Input, Pos int
	// Tensors lists the weights of that layer holding NaN or Inf; empty when
	// they are all finite.
	Tensors []weights.NonFinite
	// Layers is the model's layer count, for the message.
	Layers int
}

func (e *NonFiniteError) Error() string {
	var where string
	switch {
	case e.Layer < 0:
		where = "in the token embeddings"
	case e.Layer >= e.Layers:
		where = "in the logits"
	default:
		where = fmt.Sprintf("at layer %d %s", e.Layer, e.Site)
	}
	msg := fmt.Sprintf("engine: %s: activations became NaN/Inf %s (input %d, position %d)", e.Path, where, e.Input, e.Pos)
	if len(e.Tensors) == 0 {
		return msg + ": every weight read there is finite, so the activations overflowed float32 or a hook wrote a non-finite value"
	}
	parts := make([]string, len(e.Tensors))
	for i, t := range e.Tensors {
		parts[i] = t.String()
	}
	return msg + ": the model file is broken: " + strings.Join(parts, "; ")
}

// firstNonFinite returns the index of the first NaN or ±Inf in x, or -1. The
// common case, all finite, is one pass with no branch per element: v-v is 0
// for a finite v and NaN otherwise.
func firstNonFinite(x []float32) int {
	// Four independent sums, so the adds do not wait for each other.
	var a0, a1, a2, a3 float32
	i := 0
	for ; i+4 <= len(x); i += 4 {
		v := x[i : i+4 : i+4]
		a0 += v[0] - v[0]
		a1 += v[1] - v[1]
		a2 += v[2] - v[2]
		a3 += v[3] - v[3]
	}
	for _, v := range x[i:] {
		a0 += v - v
	}
	if a0+a1+a2+a3 == 0 {
		return -1
	}
	for i, v := range x {
		if v-v != 0 {
			return i
		}
	}
	return -1 // unreachable: acc is NaN only if some v-v is
}

// checkFinite returns nil when data (rows of cols values) is finite, and
// otherwise a NonFiniteError for layer with the weights that layer read.
// Row r of data is packed row r of the batch, or pick[r] when pick is set
// (the logits).
func (m *Model) checkFinite(data []float32, cols, layer int, site string, in []Input, rows *hooks.Rows, pick []int) error {
	i := firstNonFinite(data)
	if i < 0 {
		return nil
	}
	e := &NonFiniteError{Path: m.Weights.Path, Layer: layer, Site: site, Layers: m.Config.Layers}
	p := i / cols
	if pick != nil {
		p = pick[p]
	}
	e.Input, e.Pos = int(rows.Seq[p]), int(rows.Pos[p])
	var scan []scanTarget
	switch {
	case layer < 0:
		// Only the embedding rows of the affected tokens.
		seen := map[int32]bool{}
		r := 0
		for _, x := range in {
			for _, id := range x.Tokens {
				if !seen[id] && firstNonFinite(data[r*cols:(r+1)*cols]) >= 0 {
					seen[id] = true
					scan = append(scan, scanTarget{m.embed, int(id), int(id) + 1})
				}
				r++
			}
		}
	case layer >= m.Config.Layers:
		scan = append(scan, scanTarget{m.output.t, 0, m.output.rows})
	default:
		ly := &m.layers[layer]
		for _, mt := range []*matrix{ly.q, ly.k, ly.v, ly.o, ly.gate, ly.up, ly.down} {
			scan = append(scan, scanTarget{mt.t, 0, mt.rows})
		}
	}
	merged := map[string]int{}
	for _, s := range scan {
		nf, err := s.t.ScanRows(s.lo, s.hi)
		if err != nil {
			return fmt.Errorf("%v (scanning the weights: %v)", e, err)
		}
		if nf == nil {
			continue
		}
		nf.FileName = m.Weights.FileNames[nf.Tensor]
		if j, ok := merged[nf.Tensor]; ok {
			e.Tensors[j].NaN += nf.NaN
			e.Tensors[j].Inf += nf.Inf
			continue
		}
		merged[nf.Tensor] = len(e.Tensors)
		e.Tensors = append(e.Tensors, *nf)
	}
	return e
}

type scanTarget struct {
	t      *weights.Tensor
	lo, hi int
}

// checkVector refuses a small tensor converted at load that holds NaN or Inf.
func checkVector(t *weights.Tensor, v []float32, fileNames map[string]string) error {
	if firstNonFinite(v) < 0 {
		return nil
	}
	nf, err := t.Scan()
	if err != nil {
		return err
	}
	if nf == nil { // values that overflowed in conversion (F64 beyond float32)
		return fmt.Errorf("tensor %q: values overflow float32", t.Name)
	}
	nf.FileName = fileNames[t.Name]
	return fmt.Errorf("the model file is broken: %v", nf)
}
