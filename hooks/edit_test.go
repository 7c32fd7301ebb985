package hooks

import (
	"maps"
	"math"
	"math/rand/v2"
	"slices"
	"strconv"
	"testing"
)

// refWhen is an independent statement of the When semantics.
func refWhen(w When, ph Phase, pos, tag int32) bool {
	phaseOK := w.Phases == 0 || (w.Phases&ph) != 0
	minOK := pos >= w.MinPos
	endOK := w.EndPos == 0 || pos < w.EndPos
	tagOK := len(w.Tags) == 0 || slices.Contains(w.Tags, tag)
	return phaseOK && minOK && endOK && tagOK
}

func TestWhen(t *testing.T) {
	rows := &Rows{
		Seq:   []int32{0, 0, 0, 1, 1, 2},
		Pos:   []int32{0, 1, 2, 5, 6, 100},
		Tag:   []int32{0, 0, 0, 3, 3, -1},
		Phase: Prefill,
	}
	for _, tc := range []struct {
		name string
		w    When
		want []bool
	}{
		{"zero value", When{}, []bool{true, true, true, true, true, true}},
		{"prefill", When{Phases: Prefill}, []bool{true, true, true, true, true, true}},
		{"any", When{Phases: AnyPhase}, []bool{true, true, true, true, true, true}},
		{"decode only", When{Phases: Decode}, []bool{false, false, false, false, false, false}},
		{"min pos 2", When{MinPos: 2}, []bool{false, false, true, true, true, true}},
		{"end pos 2", When{EndPos: 2}, []bool{true, true, false, false, false, false}},
		{"only pos 0", When{EndPos: 1}, []bool{true, false, false, false, false, false}},
		{"window 1..5", When{MinPos: 1, EndPos: 6}, []bool{false, true, true, true, false, false}},
		{"tag 3", When{Tags: []int32{3}}, []bool{false, false, false, true, true, false}},
		{"tags 0,3", When{Tags: []int32{0, 3}}, []bool{true, true, true, true, true, false}},
		{"untagged only", When{Tags: []int32{-1}}, []bool{false, false, false, false, false, true}},
		{"tag 3 from pos 6", When{Tags: []int32{3}, MinPos: 6}, []bool{false, false, false, false, true, false}},
		{"tag 0 decode", When{Tags: []int32{0}, Phases: Decode}, []bool{false, false, false, false, false, false}},
	} {
		for r := range rows.Pos {
			if got := tc.w.Match(rows, r); got != tc.want[r] {
				t.Errorf("%s: row %d: Match = %v, want %v", tc.name, r, got, tc.want[r])
			}
			if ref := refWhen(tc.w, rows.Phase, rows.Pos[r], rows.Tag[r]); ref != tc.want[r] {
				t.Fatalf("%s: row %d: reference disagrees with the table", tc.name, r)
			}
		}
	}
	if !(&When{}).Everywhere() || (&When{Tags: []int32{1}}).Everywhere() || (&When{Phases: Decode}).Everywhere() {
		t.Error("Everywhere wrong")
	}
	// Missing metadata never matches a scope that needs it.
	if (&When{Tags: []int32{0}}).Match(&Rows{Phase: Prefill}, 0) || (&When{MinPos: 1}).Match(nil, 0) {
		t.Error("scope matched a row without metadata")
	}
	if !(&When{}).Match(nil, 0) {
		t.Error("zero When rejected a row without metadata")
	}
}

// special holds values editors and counters must treat exactly.
var special = []float32{
	0, float32(math.Copysign(0, -1)), 1, -1,
	math.SmallestNonzeroFloat32, -math.SmallestNonzeroFloat32, math.MaxFloat32, -math.MaxFloat32,
	float32(math.Inf(1)), float32(math.Inf(-1)), float32(math.NaN()),
	math.Float32frombits(0xFFC00000), // NaN with the sign bit set
	math.Float32frombits(0x007FFFFF), // largest subnormal
}

// randomTensor fills rows×cols with normal values and, with probability
// pSpecial, a special value.
func randomTensor(rng *rand.Rand, rows, cols int, pSpecial float64) []float32 {
	x := make([]float32, rows*cols)
	for i := range x {
		if rng.Float64() < pSpecial {
			x[i] = special[rng.IntN(len(special))]
		} else {
			x[i] = float32(rng.NormFloat64())
		}
	}
	return x
}

// randomRows builds metadata for rows tokens in a few sequences and tags.
func randomRows(rng *rand.Rand, rows, tags int, ph Phase) *Rows {
	r := &Rows{Seq: make([]int32, rows), Pos: make([]int32, rows), Tag: make([]int32, rows), Phase: ph}
	seq, pos := int32(0), int32(0)
	tag := int32(rng.IntN(tags+1) - 1)
	for i := range rows {
		if rng.IntN(8) == 0 {
			seq, pos, tag = seq+1, 0, int32(rng.IntN(tags+1)-1)
		}
		r.Seq[i], r.Pos[i], r.Tag[i] = seq, pos, tag
		pos++
	}
	return r
}

// randomSet draws a sorted set of distinct indices below dim with the given
// density.
func randomSet(rng *rand.Rand, dim int, density float64) []int32 {
	var s []int32
	for j := range dim {
		if rng.Float64() < density {
			s = append(s, int32(j))
		}
	}
	return s
}

// sameBits compares float slices bit for bit, treating all NaNs as equal.
func sameBits(a, b []float32) (int, bool) {
	for i := range a {
		if math.IsNaN(float64(a[i])) && math.IsNaN(float64(b[i])) {
			continue
		}
		if math.Float32bits(a[i]) != math.Float32bits(b[i]) {
			return i, false
		}
	}
	return -1, true
}

func TestNeuronEditMatchesReference(t *testing.T) {
	rng := rand.New(rand.NewPCG(1, 2))
	const nRows, dim, layers = 37, 96, 3
	whens := []When{{}, {Phases: Decode}, {Phases: Prefill, MinPos: 3}, {Tags: []int32{1, 2}}, {EndPos: 4, Tags: []int32{0}}}
	for _, op := range []NeuronOp{OpZero, OpScale, OpSet} {
		for _, density := range []float64{0, 0.03, 0.3, 1} {
			for wi, w := range whens {
				idx := map[int][]int32{}
				for l := range layers {
					idx[l] = randomSet(rng, dim, density)
				}
				value := float32(rng.NormFloat64())
				e, err := NewNeuronEdit(op, value, idx, w)
				must(t, err)
				for _, ph := range []Phase{Prefill, Decode} {
					layer := rng.IntN(layers)
					rows := randomRows(rng, nRows, 3, ph)
					got := randomTensor(rng, nRows, dim, 0.1)
					want := slices.Clone(got)
					e.Edit(Point{Layer: layer, Site: SiteMLPAct}, Tensor{Data: got, Rows: nRows, Cols: dim}, rows)
					for r := range nRows {
						if !refWhen(w, ph, rows.Pos[r], rows.Tag[r]) {
							continue
						}
						for _, j := range idx[layer] {
							x := &want[r*dim+int(j)]
							switch op {
							case OpZero:
								*x = 0
							case OpScale:
								*x *= value
							case OpSet:
								*x = value
							}
						}
					}
					if i, ok := sameBits(got, want); !ok {
						t.Fatalf("op %v density %v when #%d phase %v: element %d (row %d col %d) = %v, want %v",
							op, density, wi, ph, i, i/dim, i%dim, got[i], want[i])
					}
				}
			}
		}
	}
}

func TestNeuronEditRunsEqualScatter(t *testing.T) {
	rng := rand.New(rand.NewPCG(3, 4))
	const dim = 200
	for _, op := range []NeuronOp{OpZero, OpScale, OpSet} {
		for _, density := range []float64{0.01, 0.2, 0.9, -1} {
			idx := randomSet(rng, dim, density)
			if density < 0 { // two contiguous blocks, as in a head ablation
				idx = nil
				for j := int32(10); j < 200; j++ {
					if j < 50 || j >= 120 {
						idx = append(idx, j)
					}
				}
			}
			value := float32(rng.NormFloat64())
			if op == OpZero {
				value = 0
			}
			sparse := newNeuronLayer(idx, false)
			runs := newNeuronLayer(idx, true)
			if len(idx) > 0 && runs.runs == nil {
				t.Fatal("bulk form not built")
			}
			a := randomTensor(rng, 1, dim, 0.2)
			b := slices.Clone(a)
			sparse.apply(op, value, a)
			runs.apply(op, value, b)
			if i, ok := sameBits(a, b); !ok {
				t.Fatalf("op %v density %v: column %d scattered %v by runs %v", op, density, i, a[i], b[i])
			}
		}
	}
}

func TestNeuronEditZeroIsExact(t *testing.T) {
	for _, bulk := range []bool{false, true} {
		idx := []int32{0, 1, 2, 3, 4}
		nl := newNeuronLayer(idx, bulk)
		row := []float32{float32(math.Inf(1)), float32(math.NaN()), float32(math.Copysign(0, -1)), -5, math.SmallestNonzeroFloat32, 7}
		nl.apply(OpZero, 0, row)
		for j := range 5 {
			if math.Float32bits(row[j]) != 0 {
				t.Errorf("runs=%v: column %d = %v (bits %#x), want +0", bulk, j, row[j], math.Float32bits(row[j]))
			}
		}
		if row[5] != 7 {
			t.Errorf("runs=%v: untouched column changed to %v", bulk, row[5])
		}
	}
}

func TestNeuronEditInputs(t *testing.T) {
	if _, err := NewNeuronEdit(OpZero, 0, map[int][]int32{0: {-1}}, When{}); err == nil {
		t.Error("negative index accepted")
	}
	if _, err := NewNeuronEdit(OpZero, 0, map[int][]int32{-2: {1}}, When{}); err == nil {
		t.Error("layer -2 accepted")
	}
	if _, err := NewNeuronEdit(NeuronOp(9), 0, nil, When{}); err == nil {
		t.Error("unknown op accepted")
	}
	// Unsorted input with duplicates is normalised, and the caller's slice
	// and When are not retained.
	in := []int32{5, 1, 5, 3}
	tags := []int32{0}
	e, err := NewNeuronEdit(OpSet, 9, map[int][]int32{0: in, -1: {0}}, When{Tags: tags})
	must(t, err)
	in[0], tags[0] = 0, 7
	row := make([]float32, 6)
	e.Edit(Point{Layer: 0, Site: SiteMLPPost}, Tensor{Data: row, Rows: 1, Cols: 6}, &Rows{Tag: []int32{0}, Pos: []int32{0}})
	if want := []float32{0, 9, 0, 9, 0, 9}; !slices.Equal(row, want) {
		t.Errorf("row = %v, want %v", row, want)
	}
	logits := []float32{1, 2}
	e.Edit(Point{Layer: -1, Site: SiteLogits}, Tensor{Data: logits, Rows: 1, Cols: 2}, &Rows{Tag: []int32{0}, Pos: []int32{0}})
	if want := []float32{9, 2}; !slices.Equal(logits, want) {
		t.Errorf("model-level edit: %v, want %v", logits, want)
	}
	defer func() {
		if recover() == nil {
			t.Error("index beyond the tensor width did not panic")
		}
	}()
	e.Edit(Point{Layer: 0, Site: SiteMLPPost}, Tensor{Data: row[:4], Rows: 1, Cols: 4}, &Rows{Tag: []int32{0}, Pos: []int32{0}})
}

func TestComposition(t *testing.T) {
	rng := rand.New(rand.NewPCG(5, 6))
	const dim, nRows = 16, 4
	set := []int32{2, 7, 11}
	rows := randomRows(rng, nRows, 1, Prefill)
	v := make([]float32, dim)
	for _, j := range set {
		v[j] = float32(rng.NormFloat64())
	}

	t.Run("scale then zero gives 0", func(t *testing.T) {
		h := New(1)
		scale, _ := NewNeuronEdit(OpScale, 0.5, map[int][]int32{0: set}, When{})
		zero, _ := NewNeuronEdit(OpZero, 0, map[int][]int32{0: set}, When{})
		must(t, h.Edit("blocks.0.mlp.hook_act", scale))
		must(t, h.Edit("blocks.0.mlp.hook_act", zero))
		x := randomTensor(rng, nRows, dim, 0)
		orig := slices.Clone(x)
		h.Dispatch(Point{Layer: 0, Site: SiteMLPAct}, Tensor{Data: x, Rows: nRows, Cols: dim}, rows)
		for r := range nRows {
			for j := range dim {
				want := orig[r*dim+j]
				if slices.Contains(set, int32(j)) {
					want = 0
				}
				if x[r*dim+j] != want {
					t.Fatalf("row %d col %d = %v, want %v", r, j, x[r*dim+j], want)
				}
			}
		}
	})

	t.Run("zero then add v gives v", func(t *testing.T) {
		h := New(1)
		zero, _ := NewNeuronEdit(OpZero, 0, map[int][]int32{0: set}, When{})
		add, err := NewAddVector(map[int][]float32{0: v}, 1, false, When{})
		must(t, err)
		must(t, h.Edit("blocks.0.mlp.hook_act", zero))
		must(t, h.Edit("blocks.0.mlp.hook_act", add))
		x := randomTensor(rng, nRows, dim, 0)
		orig := slices.Clone(x)
		h.Dispatch(Point{Layer: 0, Site: SiteMLPAct}, Tensor{Data: x, Rows: nRows, Cols: dim}, rows)
		for r := range nRows {
			for j := range dim {
				want := orig[r*dim+j] // v is 0 off the set
				if slices.Contains(set, int32(j)) {
					want = v[j]
				}
				if x[r*dim+j] != want {
					t.Fatalf("row %d col %d = %v, want %v", r, j, x[r*dim+j], want)
				}
			}
		}
	})

	t.Run("raw observer sees pre-edit values", func(t *testing.T) {
		h := New(1)
		zero, _ := NewNeuronEdit(OpZero, 0, map[int][]int32{0: set}, When{})
		var raw, post float32
		must(t, h.Edit("blocks.0.mlp.hook_act", zero))
		must(t, h.ObserveRaw("blocks.0.mlp.hook_act", ObserverFunc(func(_ Point, tt Tensor, _ *Rows) { raw = tt.Data[7] })))
		must(t, h.Observe("blocks.0.mlp.hook_act", ObserverFunc(func(_ Point, tt Tensor, _ *Rows) { post = tt.Data[7] })))
		x := randomTensor(rng, nRows, dim, 0)
		x[7] = 3
		h.Dispatch(Point{Layer: 0, Site: SiteMLPAct}, Tensor{Data: x, Rows: nRows, Cols: dim}, rows)
		if raw != 3 || post != 0 {
			t.Errorf("raw saw %v, post saw %v; want 3 and 0", raw, post)
		}
	})
}

func TestAddVector(t *testing.T) {
	rng := rand.New(rand.NewPCG(7, 8))
	const dim, nRows = 32, 9
	vec := randomTensor(rng, 1, dim, 0)
	for _, normalize := range []bool{false, true} {
		w := When{MinPos: 2}
		a, err := NewAddVector(map[int][]float32{4: vec}, 2.5, normalize, w)
		must(t, err)
		rows := randomRows(rng, nRows, 2, Decode)
		x := randomTensor(rng, nRows, dim, 0)
		orig := slices.Clone(x)
		a.Edit(Point{Layer: 4, Site: SiteResidPost}, Tensor{Data: x, Rows: nRows, Cols: dim}, rows)
		for r := range nRows {
			in := orig[r*dim : (r+1)*dim]
			want := slices.Clone(in)
			if refWhen(w, Decode, rows.Pos[r], rows.Tag[r]) {
				var n0, n1 float64
				for j := range want {
					n0 += float64(in[j]) * float64(in[j])
					want[j] = in[j] + 2.5*vec[j]
					n1 += float64(want[j]) * float64(want[j])
				}
				if normalize {
					for j := range want {
						want[j] *= float32(math.Sqrt(n0 / n1))
					}
				}
			}
			for j := range dim {
				if d := math.Abs(float64(x[r*dim+j] - want[j])); d > 1e-5*(1+math.Abs(float64(want[j]))) {
					t.Fatalf("normalize=%v row %d col %d = %v, want %v", normalize, r, j, x[r*dim+j], want[j])
				}
			}
		}
	}
	if a, _ := NewAddVector(map[int][]float32{4: vec}, 1, false, When{}); a.Applies(Point{Layer: 3, Site: SiteResidPost}) || !a.Applies(Point{Layer: 4, Site: SiteResidPost}) {
		t.Error("Applies wrong")
	}
	if _, err := NewAddVector(map[int][]float32{0: nil}, 1, false, When{}); err == nil {
		t.Error("empty vector accepted")
	}
	if _, err := NewAddVector(map[int][]float32{-3: {1}}, 1, false, When{}); err == nil {
		t.Error("layer -3 accepted")
	}
}

// BenchmarkNeuronEdit compares scattered and run-by-run application of
// zero and scale on one 4864-wide row (Qwen2.5-0.5B d_mlp), for random sets of
// several densities and for one contiguous block (a head or a slice).
func BenchmarkNeuronEdit(b *testing.B) {
	rng := rand.New(rand.NewPCG(1, 1))
	const nRows, dim = 64, 4864
	sets := map[string][]int32{}
	for _, density := range []float64{0.01, 0.1, 0.3, 0.5, 0.8} {
		sets["random"+strconv.FormatFloat(density, 'g', -1, 64)] = randomSet(rng, dim, density)
	}
	for j := int32(1024); j < 2048; j++ {
		sets["block1024"] = append(sets["block1024"], j)
	}
	x := randomTensor(rng, nRows, dim, 0)
	for _, name := range slices.Sorted(maps.Keys(sets)) {
		for _, op := range []NeuronOp{OpZero, OpScale} {
			for _, bulk := range []bool{false, true} {
				nl := newNeuronLayer(sets[name], bulk)
				form := "scatter"
				if bulk {
					form = "bulk"
				}
				if preferBulk(sets[name]) == bulk {
					form += "(chosen)"
				}
				b.Run(op.String()+"/"+name+"/"+form, func(b *testing.B) {
					for b.Loop() {
						for r := range nRows {
							nl.apply(op, 1, x[r*dim:(r+1)*dim])
						}
					}
					b.ReportMetric(float64(b.Elapsed().Nanoseconds())/float64(b.N*nRows), "ns/row")
				})
			}
		}
	}
}
