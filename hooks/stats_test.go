package hooks

import (
	"math"
	"math/rand/v2"
	"slices"
	"sort"
	"testing"
)

// call is one recorded observer call, replayed into references.
type call struct {
	p    Point
	x    []float32
	rows *Rows
	n    int
}

func randomCalls(seed uint64, n, layers, dim, tags int) []call {
	rng := rand.New(rand.NewPCG(seed, 99))
	calls := make([]call, n)
	for i := range calls {
		nRows := 1 + rng.IntN(12)
		calls[i] = call{
			p:    Point{Layer: rng.IntN(layers), Site: SiteMLPPost},
			x:    randomTensor(rng, nRows, dim, 0),
			rows: randomRows(rng, nRows, tags, Prefill),
			n:    nRows,
		}
		// Ties: a few repeated values so the tie-break is exercised.
		for j := range calls[i].x {
			if rng.IntN(10) == 0 {
				calls[i].x[j] = 1.5
			}
		}
	}
	return calls
}

func TestMomentsTwoPassReference(t *testing.T) {
	const layers, dim, tags = 2, 9, 2
	calls := randomCalls(41, 50, layers, dim, tags)
	m, err := NewMoments(SiteMLPPost, layers, dim, tags)
	must(t, err)
	vals := map[[3]int][]float64{} // (tag, layer, j) → values
	for _, c := range calls {
		m.Observe(c.p, Tensor{Data: c.x, Rows: c.n, Cols: dim}, c.rows)
		for r := range c.n {
			tag := int(c.rows.Tag[r])
			if tag < 0 {
				continue
			}
			for j := range dim {
				k := [3]int{tag, c.p.Layer, j}
				vals[k] = append(vals[k], float64(c.x[r*dim+j]))
			}
		}
	}
	for tag := range tags {
		for l := range layers {
			for j := range dim {
				v := vals[[3]int{tag, l, j}]
				var mean, ss float64
				for _, x := range v {
					mean += x
				}
				if len(v) > 0 {
					mean /= float64(len(v))
				}
				for _, x := range v {
					ss += (x - mean) * (x - mean)
				}
				tl := tag*layers + l
				if m.N[tl] != uint64(len(v)) {
					t.Fatalf("N[%d][%d] = %d, want %d", tag, l, m.N[tl], len(v))
				}
				if d := math.Abs(m.Mean[tl*dim+j] - mean); d > 1e-12 {
					t.Errorf("mean[%d][%d][%d] = %v, want %v", tag, l, j, m.Mean[tl*dim+j], mean)
				}
				wantVar := 0.0
				if len(v) > 0 {
					wantVar = ss / float64(len(v))
				}
				if d := math.Abs(m.Var(tag, l, j) - wantVar); d > 1e-12 {
					t.Errorf("var[%d][%d][%d] = %v, want %v", tag, l, j, m.Var(tag, l, j), wantVar)
				}
			}
		}
	}
}

func TestMomentsMerge(t *testing.T) {
	const layers, dim, tags = 2, 9, 2
	calls := randomCalls(42, 60, layers, dim, tags)
	one, _ := NewMoments(SiteMLPPost, layers, dim, tags)
	shards := make([]*Moments, 3)
	for i := range shards {
		shards[i], _ = NewMoments(SiteMLPPost, layers, dim, tags)
	}
	for i, c := range calls {
		tt := Tensor{Data: c.x, Rows: c.n, Cols: dim}
		one.Observe(c.p, tt, c.rows)
		shards[i%3].Observe(c.p, tt, c.rows)
	}
	merged, _ := NewMoments(SiteMLPPost, layers, dim, tags)
	for _, s := range shards {
		must(t, merged.Merge(s))
	}
	if !slices.Equal(merged.N, one.N) {
		t.Fatalf("N: merged %v, one pass %v", merged.N, one.N)
	}
	for i := range one.Mean {
		if math.Abs(merged.Mean[i]-one.Mean[i]) > 1e-12 || math.Abs(merged.M2[i]-one.M2[i]) > 1e-9 {
			t.Fatalf("element %d: merged (%v, %v), one pass (%v, %v)", i, merged.Mean[i], merged.M2[i], one.Mean[i], one.M2[i])
		}
	}
	bad, _ := NewMoments(SiteMLPAct, layers, dim, tags)
	if err := merged.Merge(bad); err == nil {
		t.Error("merge across sites accepted")
	}
}

// refTop is the reference: every (value, run, seq, pos) per neuron, sorted.
func refTop(calls []call, run []int32, layers, dim, k int) map[[2]int][]TopEntry {
	all := map[[2]int][]TopEntry{}
	for ci, c := range calls {
		for r := range c.n {
			if c.rows.Tag[r] < 0 {
				continue
			}
			for j := range dim {
				v := c.x[r*dim+j]
				if v != v {
					continue
				}
				key := [2]int{c.p.Layer, j}
				all[key] = append(all[key], TopEntry{Value: v, Run: run[ci], Seq: c.rows.Seq[r], Pos: c.rows.Pos[r], Tag: c.rows.Tag[r]})
			}
		}
	}
	for key, es := range all {
		sort.Slice(es, func(a, b int) bool {
			x, y := es[a], es[b]
			if x.Value != y.Value {
				return x.Value > y.Value
			}
			if x.Run != y.Run {
				return x.Run < y.Run
			}
			if x.Seq != y.Seq {
				return x.Seq < y.Seq
			}
			return x.Pos < y.Pos
		})
		if len(es) > k {
			es = es[:k]
		}
		all[key] = es
	}
	return all
}

func TestTopK(t *testing.T) {
	const layers, dim, k = 3, 7, 5
	calls := randomCalls(43, 40, layers, dim, 3)
	calls[0].x[0] = float32(math.NaN())
	run := make([]int32, len(calls))
	one, err := NewTopK(SiteMLPPost, layers, dim, k)
	must(t, err)
	shards := make([]*TopK, 4)
	for i := range shards {
		shards[i], _ = NewTopK(SiteMLPPost, layers, dim, k)
	}
	for i, c := range calls {
		run[i] = int32(i) // one run per call: sequence slots repeat across runs
		one.Run = run[i]
		tt := Tensor{Data: c.x, Rows: c.n, Cols: dim}
		one.Observe(c.p, tt, c.rows)
		s := shards[(i*7)%4]
		s.Run = run[i]
		s.Observe(c.p, tt, c.rows)
	}
	merged, _ := NewTopK(SiteMLPPost, layers, dim, k)
	for _, s := range shards {
		must(t, merged.Merge(s))
	}
	want := refTop(calls, run, layers, dim, k)
	for l := range layers {
		for j := range dim {
			w := want[[2]int{l, j}]
			if got := one.Top(l, j); !slices.Equal(got, w) {
				t.Errorf("layer %d neuron %d:\n got %v\nwant %v", l, j, got, w)
			}
			if got := merged.Top(l, j); !slices.Equal(got, w) {
				t.Errorf("merged, layer %d neuron %d:\n got %v\nwant %v", l, j, got, w)
			}
		}
	}
	if _, err := NewTopK(SiteMLPPost, 1, 1, 0); err == nil {
		t.Error("k = 0 accepted")
	}
}
