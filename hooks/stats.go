package hooks

import (
	"fmt"
	"math"
	"slices"
)

// Moments keeps, per tag, layer and neuron of one site, the running mean and
// sum of squared deviations (Welford), in float64. Shards combine exactly
// with Merge (Chan et al.'s parallel formula). Rows with a negative tag are
// skipped; rows with tag ≥ Tags are skipped and counted in BadTags. A NaN
// or Inf input makes that neuron's statistics NaN/Inf from then on, as the
// arithmetic dictates.
type Moments struct {
	Site    Site
	Layers  int
	Dim     int
	Tags    int
	N       []uint64  // [tag][layer] rows counted
	Mean    []float64 // [tag][layer][dim]
	M2      []float64 // [tag][layer][dim] sum of squared deviations from the mean
	BadTags uint64
}

// NewMoments allocates empty moments for site.
func NewMoments(site Site, layers, dim, tags int) (*Moments, error) {
	if site >= NumSites || site.ModelLevel() {
		return nil, fmt.Errorf("hooks: moments: site %v is not a block site", site)
	}
	if err := checkDims("moments", layers, dim, tags); err != nil {
		return nil, err
	}
	return &Moments{
		Site: site, Layers: layers, Dim: dim, Tags: tags,
		N:    make([]uint64, tags*layers),
		Mean: make([]float64, tags*layers*dim),
		M2:   make([]float64, tags*layers*dim),
	}, nil
}

// Applies reports whether p is m's site at a layer m tracks.
func (m *Moments) Applies(p Point) bool {
	return p.Site == m.Site && p.Layer >= 0 && p.Layer < m.Layers
}

// Check reports moments built for another model (see ActProb.Check).
func (m *Moments) Check(p Point, s ModelShape) error {
	return checkStat("moments", m.Site, m.Layers, m.Dim, p, s)
}

// Observe adds one call's rows. It allocates nothing and panics when t.Cols
// differs from Dim.
func (m *Moments) Observe(p Point, t Tensor, rows *Rows) {
	if !m.Applies(p) {
		return
	}
	if t.Cols != m.Dim {
		panic(fmt.Sprintf("hooks: moments at %v: tensor has %d columns, expected %d", p, t.Cols, m.Dim))
	}
	for r := 0; r < t.Rows; r++ {
		tag := int(rows.Tag[r])
		if tag < 0 {
			continue
		}
		if tag >= m.Tags {
			m.BadTags++
			continue
		}
		tl := tag*m.Layers + p.Layer
		m.N[tl]++
		inv := 1 / float64(m.N[tl])
		x := t.Row(r)
		mean := m.Mean[tl*m.Dim : (tl+1)*m.Dim][:len(x)]
		m2 := m.M2[tl*m.Dim : (tl+1)*m.Dim][:len(x)]
		for j, v := range x {
			d := float64(v) - mean[j]
			mean[j] += d * inv
			m2[j] += d * (float64(v) - mean[j])
		}
	}
}

// Var returns the population variance (M2/N) of neuron j, or 0 with no data.
func (m *Moments) Var(tag, layer, j int) float64 {
	tl := tag*m.Layers + layer
	if m.N[tl] == 0 {
		return 0
	}
	return m.M2[tl*m.Dim+j] / float64(m.N[tl])
}

// Merge folds another shard into m; shapes and sites must agree.
func (m *Moments) Merge(o *Moments) error {
	if o == nil {
		return fmt.Errorf("hooks: moments merge: nil moments")
	}
	if o.Site != m.Site || o.Layers != m.Layers || o.Dim != m.Dim || o.Tags != m.Tags {
		return fmt.Errorf("hooks: moments merge: shape mismatch: %v [%d,%d,%d] vs %v [%d,%d,%d]",
			m.Site, m.Tags, m.Layers, m.Dim, o.Site, o.Tags, o.Layers, o.Dim)
	}
	for tl, nb := range o.N {
		if nb == 0 {
			continue
		}
		na := m.N[tl]
		n := float64(na + nb)
		fa, fb := float64(na), float64(nb)
		lo, hi := tl*m.Dim, (tl+1)*m.Dim
		for i := lo; i < hi; i++ {
			d := o.Mean[i] - m.Mean[i]
			m.Mean[i] += d * fb / n
			m.M2[i] += o.M2[i] + d*d*fa*fb/n
		}
		m.N[tl] = na + nb
	}
	m.BadTags += o.BadTags
	return nil
}

// TopEntry is one recorded activation: its value and where it came from.
type TopEntry struct {
	Value float32
	Run   int32 // TopK.Run at the time of the call, to tell runs apart
	Seq   int32 // sequence slot within that run
	Pos   int32 // absolute position within the sequence
	Tag   int32
}

// better orders entries by value, then by (Run, Seq, Pos) so that the top k
// of any set is unique and merging shards gives the same answer as one pass.
func better(a, b TopEntry) bool {
	if a.Value != b.Value {
		return a.Value > b.Value
	}
	if a.Run != b.Run {
		return a.Run < b.Run
	}
	if a.Seq != b.Seq {
		return a.Seq < b.Seq
	}
	return a.Pos < b.Pos
}

// TopK keeps, for every layer and neuron of one site, the K largest
// activations with the row that produced them, in fixed arrays allocated up
// front. NaN values are ignored; rows with a negative tag are skipped. Set
// Run before each engine run so that entries from different runs (whose
// sequence slots repeat) can be told apart.
type TopK struct {
	Site   Site
	Layers int
	Dim    int
	K      int
	Run    int32
	heap   []TopEntry // [layer][dim][K]; per neuron a min-heap under better
	n      []int32    // [layer][dim] entries in use
	floor  []float32  // [layer][dim] smallest kept value once full, else -Inf
}

// NewTopK allocates a TopK keeping k entries per neuron.
func NewTopK(site Site, layers, dim, k int) (*TopK, error) {
	if site >= NumSites || site.ModelLevel() {
		return nil, fmt.Errorf("hooks: topk: site %v is not a block site", site)
	}
	if err := checkDims("topk", layers, dim, k); err != nil {
		return nil, err
	}
	tk := &TopK{
		Site: site, Layers: layers, Dim: dim, K: k,
		heap:  make([]TopEntry, layers*dim*k),
		n:     make([]int32, layers*dim),
		floor: make([]float32, layers*dim),
	}
	for i := range tk.floor {
		tk.floor[i] = float32(math.Inf(-1))
	}
	return tk, nil
}

// Applies reports whether p is tk's site at a layer tk tracks.
func (tk *TopK) Applies(p Point) bool {
	return p.Site == tk.Site && p.Layer >= 0 && p.Layer < tk.Layers
}

// Check reports a TopK built for another model (see ActProb.Check).
func (tk *TopK) Check(p Point, s ModelShape) error {
	return checkStat("topk", tk.Site, tk.Layers, tk.Dim, p, s)
}

// Observe offers every element of the call's rows. It allocates nothing and
// panics when t.Cols differs from Dim.
func (tk *TopK) Observe(p Point, t Tensor, rows *Rows) {
	if !tk.Applies(p) {
		return
	}
	if t.Cols != tk.Dim {
		panic(fmt.Sprintf("hooks: topk at %v: tensor has %d columns, expected %d", p, t.Cols, tk.Dim))
	}
	base := p.Layer * tk.Dim
	for r := 0; r < t.Rows; r++ {
		if rows.Tag[r] < 0 {
			continue
		}
		floor := tk.floor[base : base+tk.Dim]
		x := t.Row(r)
		for j, v := range x {
			if !(v >= floor[j]) { // also rejects NaN
				continue
			}
			tk.offer(base+j, TopEntry{Value: v, Run: tk.Run, Seq: rows.Seq[r], Pos: rows.Pos[r], Tag: rows.Tag[r]})
		}
	}
}

// offer inserts e into neuron i's heap if it belongs in the top K.
func (tk *TopK) offer(i int, e TopEntry) {
	h := tk.heap[i*tk.K : (i+1)*tk.K]
	n := int(tk.n[i])
	if n < tk.K {
		h[n] = e
		for c := n; c > 0; { // sift up: the worst entry rises to the root
			parent := (c - 1) / 2
			if !better(h[parent], h[c]) {
				break
			}
			h[parent], h[c] = h[c], h[parent]
			c = parent
		}
		tk.n[i]++
		if n+1 == tk.K {
			tk.floor[i] = h[0].Value
		}
		return
	}
	if !better(e, h[0]) {
		return
	}
	h[0] = e
	for c := 0; ; { // sift down
		worst, l, r := c, 2*c+1, 2*c+2
		if l < n && better(h[worst], h[l]) {
			worst = l
		}
		if r < n && better(h[worst], h[r]) {
			worst = r
		}
		if worst == c {
			break
		}
		h[c], h[worst] = h[worst], h[c]
		c = worst
	}
	tk.floor[i] = h[0].Value
}

// Top returns neuron j's entries at layer, best first (a copy).
func (tk *TopK) Top(layer, j int) []TopEntry {
	i := layer*tk.Dim + j
	out := slices.Clone(tk.heap[i*tk.K : i*tk.K+int(tk.n[i])])
	slices.SortFunc(out, func(a, b TopEntry) int {
		if better(a, b) {
			return -1
		}
		if better(b, a) {
			return 1
		}
		return 0
	})
	return out
}

// Merge folds another shard into tk; shapes and sites must agree.
func (tk *TopK) Merge(o *TopK) error {
	if o == nil {
		return fmt.Errorf("hooks: topk merge: nil topk")
	}
	if o.Site != tk.Site || o.Layers != tk.Layers || o.Dim != tk.Dim || o.K != tk.K {
		return fmt.Errorf("hooks: topk merge: shape mismatch: %v [%d,%d] k=%d vs %v [%d,%d] k=%d",
			tk.Site, tk.Layers, tk.Dim, tk.K, o.Site, o.Layers, o.Dim, o.K)
	}
	for i, n := range o.n {
		for _, e := range o.heap[i*o.K : i*o.K+int(n)] {
			tk.offer(i, e)
		}
	}
	return nil
}
