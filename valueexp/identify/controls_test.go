package identify

import (
	"bytes"
	"fmt"
	"math/rand/v2"
	"slices"
	"strings"
	"testing"

	"github.com/valueexploration/valueexp/hooks"
	"github.com/valueexploration/valueexp/valueexp/selection"
)

// valueCounts returns random counts for the 12 values in two languages over
// 3 layers of 200 neurons, with each value's neurons 10v..10v+9 of every
// layer made to fire far more often for it, so VAPE finds real sets.
func valueCounts(seed uint64) selection.Counts {
	r := rand.New(rand.NewPCG(seed, 1))
	const layers, dim = 3, 200
	var tags []string
	for _, lang := range []string{"zh", "en"} {
		for _, v := range []string{"富强", "民主", "文明", "和谐", "自由", "平等", "公正", "法治", "爱国", "敬业", "诚信", "友善"} {
			tags = append(tags, v+"/"+lang)
		}
	}
	c := selection.Counts{Tags: tags, Layers: layers, Dim: dim}
	for k := range tags {
		oz := make([]int64, layers*dim)
		for l := range layers {
			for j := range dim {
				n := int64(r.IntN(30))
				if j/10 == k%12 {
					n = 90 + int64(r.IntN(10))
				}
				oz[l*dim+j] = n
			}
		}
		c.OverZero = append(c.OverZero, oz)
		c.Tokens = append(c.Tokens, 100)
		c.Questions = append(c.Questions, 5)
	}
	return c
}

func identifyFile(t *testing.T, c selection.Counts, opt Options) *hooks.NeuronSetFile {
	t.Helper()
	res, err := Identify(c, opt)
	if err != nil {
		t.Fatal(err)
	}
	f, err := NeuronSets(res, Source{Shape: &hooks.ModelShape{Layers: c.Layers, DModel: 8, DMLP: c.Dim}}, opt)
	if err != nil {
		t.Fatal(err)
	}
	return f
}

func controlOpts(seed uint64) Options {
	return Options{Method: VAPE, VAPE: selection.VAPEParams{TopRate: 0.1, FilterRate: 0.9, ActivationBarRatio: 0.9}, RandomControl: true, Seed: seed}
}

// Random controls: by default 3 draws per set, each disjoint from every
// value set (of every language), with the set's per-layer sizes, distinct
// from each other, named random:NAME, random:NAME#2, random:NAME#3, and
// the same for the same seed.
func TestRandomControlsOutsideValueSets(t *testing.T) {
	c := valueCounts(1)
	f := identifyFile(t, c, controlOpts(5))
	var values []*hooks.NeuronSet
	used := make([]map[int32]bool, c.Layers)
	for l := range used {
		used[l] = map[int32]bool{}
	}
	for i := range f.NeuronSets {
		s := &f.NeuronSets[i]
		if _, _, ok := ParseControlName(s.Name); ok {
			continue
		}
		values = append(values, s)
		for _, l := range s.Layers {
			for _, j := range l.Indices {
				used[l.Layer][j] = true
			}
		}
	}
	if len(values) != 24 || len(f.NeuronSets) != 24*4 {
		t.Fatalf("%d value sets and %d sets in all, want 24 and 96", len(values), len(f.NeuronSets))
	}
	nonEmpty := 0
	for _, s := range values {
		ctrls := ControlsOf(f, s.Name)
		if len(ctrls) != DefaultRandomDraws {
			t.Fatalf("%s: %d controls, want %d", s.Name, len(ctrls), DefaultRandomDraws)
		}
		for d, r := range ctrls {
			if want := ControlName(s.Name, d+1); r.Name != want {
				t.Errorf("draw %d named %q, want %q", d+1, r.Name, want)
			}
			if got, want := perLayerSizes(r, c.Layers), perLayerSizes(s, c.Layers); !slices.Equal(got, want) {
				t.Errorf("%s: per-layer sizes %v, set has %v", r.Name, got, want)
			}
			for _, l := range r.Layers {
				for _, j := range l.Indices {
					if used[l.Layer][j] {
						t.Errorf("%s: layer %d neuron %d belongs to a value set", r.Name, l.Layer, j)
					}
				}
			}
		}
		if s.Size() > 0 {
			nonEmpty++
			for a := range ctrls {
				for b := a + 1; b < len(ctrls); b++ {
					if sameNeurons(ctrls[a], ctrls[b]) {
						t.Errorf("%s: draws %d and %d are the same set", s.Name, a+1, b+1)
					}
				}
			}
		}
	}
	if nonEmpty < 20 {
		t.Fatalf("only %d non-empty value sets: the fixture does not exercise the draw", nonEmpty)
	}
	// The file is valid and round-trips; the first draw keeps the name
	// files had before several draws existed.
	var buf bytes.Buffer
	if err := f.Write(&buf); err != nil {
		t.Fatal(err)
	}
	back, err := hooks.ReadNeuronSets(&buf)
	if err != nil {
		t.Fatal(err)
	}
	if _, ok := back.Find("random:诚信/zh"); !ok {
		t.Error("no set named random:诚信/zh")
	}
	// Deterministic in the seed; another seed draws other sets.
	again := identifyFile(t, c, controlOpts(5))
	other := identifyFile(t, c, controlOpts(6))
	for i := range f.NeuronSets {
		if !sameNeurons(&f.NeuronSets[i], &again.NeuronSets[i]) {
			t.Errorf("%s differs between two runs with one seed", f.NeuronSets[i].Name)
		}
	}
	s, _ := f.Find("random:诚信/zh#2")
	o, _ := other.Find("random:诚信/zh#2")
	if sameNeurons(s, o) {
		t.Error("seeds 5 and 6 drew the same control")
	}
}

// --random-from all keeps the earlier draw: the first draw equals
// selection.RandomControl with the group's seed, and may hit value sets.
func TestRandomControlsFromAll(t *testing.T) {
	c := valueCounts(2)
	opt := controlOpts(9)
	opt.RandomFromAll, opt.RandomDraws = true, 2
	res, err := Identify(c, opt)
	if err != nil {
		t.Fatal(err)
	}
	if len(res.Randoms) != 2*len(res.Sets) {
		t.Fatalf("%d controls for %d sets and 2 draws", len(res.Randoms), len(res.Sets))
	}
	for i, s := range res.Sets {
		want, err := selection.RandomControl(s, opt.Seed+uint64(i), c.Dim) // one group per language: group index i
		if err != nil {
			t.Fatal(err)
		}
		got := res.Randoms[i]
		if got.Of != i || got.Draw != 1 || !slices.EqualFunc(got.Neurons, want.Neurons, func(a, b [][]int32) bool { return slices.EqualFunc(a, b, slices.Equal[[]int32]) }) {
			t.Errorf("set %d: first draw differs from the earlier RandomControl draw", i)
		}
	}
	// A pool smaller than a set is an error that suggests the other pool:
	// two sets cover 4 of the 5 neurons, so no 2-neuron control fits.
	full := &Result{Sets: []*selection.Selection{{Tags: []string{"A", "B"}, Layers: 1, Dim: 5, Neurons: [][][]int32{{{0, 1}}, {{2, 3}}}}}}
	err = full.addControls([]int{0}, 1, 5, Options{RandomControl: true})
	if err == nil || !strings.Contains(err.Error(), "--random-from all") || !strings.Contains(err.Error(), "only 1 of 5") {
		t.Errorf("pool too small: %v", err)
	}
	if err := full.addControls([]int{0}, 1, 5, Options{RandomControl: true, RandomFromAll: true}); err != nil {
		t.Errorf("drawing from all neurons: %v", err)
	}
}

func TestControlName(t *testing.T) {
	for _, tt := range []struct {
		name string
		set  string
		draw int
		ok   bool
	}{
		{"random:诚信/zh", "诚信/zh", 1, true},
		{"random:诚信/zh#2", "诚信/zh", 2, true},
		{"random:诚信/zh#12", "诚信/zh", 12, true},
		{"random:a#b", "a#b", 1, true},
		{"random:a#1", "a#1", 1, true},   // draw 1 is never written with a suffix
		{"random:a#02", "a#02", 1, true}, // nor with a leading zero
		{"random:", "", 0, false},
		{"诚信/zh", "", 0, false},
	} {
		set, draw, ok := ParseControlName(tt.name)
		if set != tt.set || draw != tt.draw || ok != tt.ok {
			t.Errorf("ParseControlName(%q) = %q, %d, %v; want %q, %d, %v", tt.name, set, draw, ok, tt.set, tt.draw, tt.ok)
		}
		if ok && ControlName(set, draw) != tt.name && tt.name != "random:a#1" && tt.name != "random:a#02" {
			t.Errorf("ControlName(%q, %d) = %q, want %q", set, draw, ControlName(set, draw), tt.name)
		}
	}
}

func perLayerSizes(s *hooks.NeuronSet, layers int) []int {
	out := make([]int, layers)
	for _, l := range s.Layers {
		out[l.Layer] = len(l.Indices)
	}
	return out
}

func sameNeurons(a, b *hooks.NeuronSet) bool {
	return fmt.Sprint(a.Layers) == fmt.Sprint(b.Layers)
}
