package engine

import (
	"math"
	"sync"

	"github.com/valueexploration/valueexp/engine/kernels"
)

// attnRows is the most query rows of one sequence that share one pass over
// the keys. Longer runs use the tile kernels better; the cost is scoring
// keys a row may not see (up to attnRows-1 past its position), which are
// computed and then ignored.
const attnRows = 32

// attnScratch is one worker's buffers for attention.
type attnScratch struct {
	keys [][]float32
	q    []float32
	sc   []float32
}

var attnScratches = sync.Pool{New: func() any { return new(attnScratch) }}

// attention computes, for every row and head, softmax(q·Kᵀ/√d)·V over the
// row's own sequence up to and including its position (and, with a sliding
// window, only the last SlidingWindow positions).
//
// Work is cut into (run of consecutive rows of one sequence, kv head)
// pieces: the run's queries of every head in the kv head's group meet the
// keys in one tiled product. Each score is still the one dot product
// DotF32(q, k)·scale, the softmax sees exactly the row's own positions, and
// the weighted sum adds the value rows in position order, so a row's result
// does not depend on which other rows shared its piece.
func (m *Model) attention(z, q []float32, seqOf []*Sequence, pos []int32, l int) {
	c := m.Config
	D, heads, kvHeads := c.HeadDim, c.Heads, c.KVHeads
	group := heads / kvHeads
	kvDim := kvHeads * D
	scale := float32(1 / math.Sqrt(float64(D)))
	if c.AttnScale > 0 {
		scale = float32(c.AttnScale)
	}
	window := 0
	if c.IsSliding(l) {
		window = c.SlidingWindow
	}
	n := len(pos)
	first := func(p int) int { // the first position row p attends to
		if window > 0 && p-window+1 > 0 {
			return p - window + 1
		}
		return 0
	}
	var runs [][2]int
	for i := 0; i < n; {
		j := i + 1
		for j < n && j-i < attnRows && seqOf[j] == seqOf[i] {
			j++
		}
		runs = append(runs, [2]int{i, j})
		i = j
	}
	m.pool.parallel(len(runs)*kvHeads, 1, 1, func(lo, hi int) {
		s := attnScratches.Get().(*attnScratch)
		defer attnScratches.Put(s)
		for u := lo; u < hi; u++ {
			run, g := runs[u/kvHeads], u%kvHeads
			seq := seqOf[run[0]]
			keys, vals := seq.k[l], seq.v[l]
			// Positions rise along a run, so its first row starts the key
			// range and its last row ends it.
			j0, j1 := first(int(pos[run[0]])), int(pos[run[1]-1])
			nk := j1 - j0 + 1
			s.keys = s.keys[:0]
			for j := j0; j <= j1; j++ {
				s.keys = append(s.keys, keys[j*kvDim+g*D:j*kvDim+(g+1)*D:j*kvDim+(g+1)*D])
			}
			nq := (run[1] - run[0]) * group
			s.q = grow(s.q, nq*D)
			for i := run[0]; i < run[1]; i++ {
				copy(s.q[(i-run[0])*group*D:], q[(i*heads+g*group)*D:(i*heads+(g+1)*group)*D])
			}
			s.sc = grow(s.sc, nq*nk)
			kernels.MatMulF32(s.sc, nk, s.keys, s.q, nq)
			for i := run[0]; i < run[1]; i++ {
				p := int(pos[i])
				lo, hi := first(p)-j0, p-j0+1
				for h := 0; h < group; h++ {
					sc := s.sc[((i-run[0])*group+h)*nk:][lo:hi]
					for x := range sc {
						sc[x] *= scale
					}
					if c.AttnSoftcap > 0 {
						softcap(sc, c.AttnSoftcap)
					}
					kernels.Softmax(sc)
					hd := i*heads + g*group + h
					kernels.WeightedSumF32(z[hd*D:(hd+1)*D], sc, vals[(j0+lo)*kvDim+g*D:], kvDim)
				}
			}
		}
	})
}

// grow returns b resliced to n values, reallocating when it is too small.
func grow(b []float32, n int) []float32 {
	if cap(b) < n {
		return make([]float32, n, n+n/4)
	}
	return b[:n]
}
