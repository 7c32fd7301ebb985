package identify

import (
	"bytes"
	"fmt"
	"math"
	"path/filepath"
	"slices"
	"strings"
	"testing"

	"github.com/valueexploration/valueexp/hooks"
	"github.com/valueexploration/valueexp/internal/shareddata"
	"github.com/valueexploration/valueexp/valueexp/selection"
	"github.com/valueexploration/valueexp/valueexp/torchfile"
)

// valueNames are the 12 values in valueexp/METHOD.md §1 order.
var valueNames = []string{"富强", "民主", "文明", "和谐", "自由", "平等", "公正", "法治", "爱国", "敬业", "诚信", "友善"}

// releasedMask reads an activation_mask file as [side][layer] ids.
func releasedMask(t *testing.T, path string) [][][]int32 {
	t.Helper()
	v, err := torchfile.Load(path)
	if err != nil {
		t.Fatal(err)
	}
	var out [][][]int32
	for _, side := range v.([]any) {
		var layers [][]int32
		for _, x := range side.([]any) {
			ids, err := x.(*torchfile.Tensor).Int32s()
			if err != nil {
				t.Fatal(err)
			}
			layers = append(layers, ids)
		}
		out = append(out, layers)
	}
	return out
}

// compareWithMask checks a neuron-set file's sets named tags[side] against
// the released mask's sides, layer by layer.
func compareWithMask(t *testing.T, f *hooks.NeuronSetFile, tags []string, mask [][][]int32) {
	t.Helper()
	if len(mask) != len(tags) {
		t.Fatalf("mask has %d sides, want %d", len(mask), len(tags))
	}
	for side, tag := range tags {
		set, ok := f.Find(tag)
		if !ok {
			t.Fatalf("no set named %q", tag)
		}
		got := set.Indices()
		for l, want := range mask[side] {
			if !slices.Equal(got[l], want) && !(len(got[l]) == 0 && len(want) == 0) {
				t.Errorf("%s layer %d: got %d neurons, want %d", tag, l, len(got[l]), len(want))
			}
		}
		for l := range got {
			if l >= len(mask[side]) {
				t.Errorf("%s: neurons at layer %d, the mask has %d layers", tag, l, len(mask[side]))
			}
		}
	}
}

// TestReproducesAuthorsMasks runs the library path of "valueexp identify
// --pt SUPPORT --pt CONFLICT --legacy-question-normalisation" for every
// value and both settings, writes and re-reads the neuron-set JSON, and
// requires every released mask exactly (12 values × 2 views × 2 sides).
func TestReproducesAuthorsMasks(t *testing.T) {
	counts := shareddata.Path(t, "cvoice", "authors-llama-counts")
	masks := shareddata.Path(t, "cvoice", "authors-llama-masks")
	views := []struct {
		name   string
		params selection.VAPEParams
	}{{"decision", selection.AuthorsDecision()}, {"semantic", selection.AuthorsSemantic()}}
	for _, value := range valueNames {
		tags := []string{value + "-support", value + "-conflict"}
		c, src, err := LoadPT(filepath.Join(counts, tags[0]+".pt"), filepath.Join(counts, tags[1]+".pt"))
		if err != nil {
			t.Fatal(err)
		}
		if !slices.Equal(c.Tags, tags) {
			t.Fatalf("tags %q, want %q", c.Tags, tags)
		}
		for _, view := range views {
			t.Run(value+"/"+view.name, func(t *testing.T) {
				opt := Options{Method: VAPE, VAPE: view.params}
				res, err := Identify(c, opt)
				if err != nil {
					t.Fatal(err)
				}
				f, err := NeuronSets(res, src, opt)
				if err != nil {
					t.Fatal(err)
				}
				var buf bytes.Buffer
				if err := f.Write(&buf); err != nil {
					t.Fatal(err)
				}
				back, err := hooks.ReadNeuronSets(&buf)
				if err != nil {
					t.Fatal(err)
				}
				compareWithMask(t, back, tags, releasedMask(t, filepath.Join(masks, fmt.Sprintf("activation_mask_%s_%s_0.01", value, view.name))))
			})
		}
	}
}

// handCounts builds counts over one layer of 4 neurons for tags given as
// name → per-neuron counts, 10 tokens and 1 question each.
func handCounts(tags []string, oz [][]int64) selection.Counts {
	c := selection.Counts{Tags: tags, Layers: 1, Dim: len(oz[0]), OverZero: oz}
	for range tags {
		c.Tokens = append(c.Tokens, 10)
		c.Questions = append(c.Questions, 1)
	}
	return c
}

func TestGroupsPerLanguageAndPooled(t *testing.T) {
	c := handCounts([]string{"富强/zh", "民主/zh", "富强/en", "民主/en"},
		[][]int64{{1, 2, 3, 4}, {5, 6, 7, 8}, {10, 20, 30, 40}, {50, 60, 70, 80}})
	c.Tokens = []float64{10, 20, 30, 40}
	c.Questions = []int64{1, 2, 3, 4}

	g, err := Groups(c, PerLanguage)
	if err != nil {
		t.Fatal(err)
	}
	if len(g) != 2 || !slices.Equal(g[0].Tags, []string{"富强/zh", "民主/zh"}) || !slices.Equal(g[1].Tags, []string{"富强/en", "民主/en"}) {
		t.Fatalf("per-language groups: %+v", g)
	}
	if !slices.Equal(g[1].OverZero[1], []int64{50, 60, 70, 80}) || !slices.Equal(g[1].Tokens, []float64{30, 40}) {
		t.Errorf("en group carries the wrong counts: %+v", g[1])
	}

	p, err := Groups(c, Pooled)
	if err != nil {
		t.Fatal(err)
	}
	want := selection.Counts{
		Tags: []string{"富强", "民主"}, Layers: 1, Dim: 4,
		OverZero:  [][]int64{{11, 22, 33, 44}, {55, 66, 77, 88}},
		Tokens:    []float64{40, 60},
		Questions: []int64{4, 6},
	}
	if len(p) != 1 || !slices.Equal(p[0].Tags, want.Tags) || !slices.Equal(p[0].Tokens, want.Tokens) ||
		!slices.Equal(p[0].Questions, want.Questions) || !slices.Equal(p[0].OverZero[0], want.OverZero[0]) || !slices.Equal(p[0].OverZero[1], want.OverZero[1]) {
		t.Errorf("pooled: got %+v, want %+v", p[0], want)
	}

	// Tags without a language form one group.
	plain := handCounts([]string{"a", "b"}, [][]int64{{1, 0, 0, 0}, {0, 1, 0, 0}})
	if g, _ := Groups(plain, PerLanguage); len(g) != 1 || len(g[0].Tags) != 2 {
		t.Errorf("suffix-less tags: %+v", g)
	}
}

// TestVAPEPerLanguage works one small case by hand. Two languages, two
// values, 4 neurons, 10 tokens per tag; probabilities (count/10):
//
//	zh: A = [.9 .1 .5 0], B = [.1 .9 .5 0]
//	en: A = [0 0 .8 .8],  B = [0 0 0 .8]
//
// Per group K·N = 8 probabilities. top rate 0.5 keeps round(0.5·4) = 2
// neurons; filter/bar rate 0.75 gives the 6th smallest value:
// zh sorted 0 0 .1 .1 .5 .5 .9 .9 → .5; en sorted 0 0 0 0 0 .8 .8 .8 → .8.
// zh: neurons above .5: n0 (A .9), n1 (B .9); n2 ties at .5 (not above)
// and is filtered out. Entropies of n0 and n1 are equal, both kept:
// A/zh = {0}, B/zh = {1}. en: nothing is strictly above .8, so no neuron
// passes the filter; the 2 slots go to filtered neurons in index order
// (n0, n1) which clear no bar: A/en and B/en are empty.
func TestVAPEPerLanguage(t *testing.T) {
	c := handCounts([]string{"A/zh", "B/zh", "A/en", "B/en"},
		[][]int64{{9, 1, 5, 0}, {1, 9, 5, 0}, {0, 0, 8, 8}, {0, 0, 0, 8}})
	opt := Options{Method: VAPE, VAPE: selection.VAPEParams{TopRate: 0.5, FilterRate: 0.75, ActivationBarRatio: 0.75}}
	res, err := Identify(c, opt)
	if err != nil {
		t.Fatal(err)
	}
	f, err := NeuronSets(res, Source{}, opt)
	if err != nil {
		t.Fatal(err)
	}
	want := map[string][]int32{"A/zh": {0}, "B/zh": {1}, "A/en": nil, "B/en": nil}
	if len(f.NeuronSets) != 4 {
		t.Fatalf("%d sets, want 4", len(f.NeuronSets))
	}
	for name, ids := range want {
		s, ok := f.Find(name)
		if !ok {
			t.Fatalf("no set %q", name)
		}
		if got := s.Indices()[0]; !slices.Equal(got, ids) {
			t.Errorf("%s: got %v, want %v", name, got, ids)
		}
		if s.Site != "mlp.hook_act" || !strings.Contains(string(s.Provenance), `"method":"vape"`) {
			t.Errorf("%s: site %q provenance %s", name, s.Site, s.Provenance)
		}
	}
}

// TestDiffOneVsRest: each tag against the pooled rest. Tokens 10 each:
//
//	A = [9 0 5], B = [1 0 5], C = [1 8 5]  (counts)
//
// A vs B+C: Δ = [.9-.1, 0-.4, .5-.5] = [.8, -.4, 0]; MinDelta .3, TopN 0 → {0}.
// C vs A+B: Δ = [.1-.5, .8-0, 0] = [-.4, .8, 0] → {1}.
// B vs A+C: Δ = [.1-.5, 0-.4, 0] → nothing ≥ .3.
func TestDiffOneVsRest(t *testing.T) {
	c := handCounts([]string{"A", "B", "C"}, [][]int64{{9, 0, 5}, {1, 0, 5}, {1, 8, 5}})
	opt := Options{Method: Diff, Diff: selection.DiffParams{TopN: 0, MinDelta: 0.3}}
	res, err := Identify(c, opt)
	if err != nil {
		t.Fatal(err)
	}
	f, err := NeuronSets(res, Source{}, opt)
	if err != nil {
		t.Fatal(err)
	}
	for name, want := range map[string][]int32{"A": {0}, "B": nil, "C": {1}} {
		s, ok := f.Find(name)
		if !ok {
			t.Fatalf("no set %q", name)
		}
		if got := s.Indices()[0]; !slices.Equal(got, want) {
			t.Errorf("%s: got %v, want %v", name, got, want)
		}
	}

	// Explicit groups: A vs C.
	opt = Options{Method: Diff, Diff: selection.DiffParams{MinDelta: 0.3}, Pos: []string{"A"}, Neg: []string{"C"}}
	res, err = Identify(c, opt)
	if err != nil {
		t.Fatal(err)
	}
	if got := res.Sets[0].Neurons; len(got) != 2 || !slices.Equal(got[0][0], []int32{0}) || !slices.Equal(got[1][0], []int32{1}) {
		t.Errorf("A vs C: got %v, want [[0]] [[1]]", got)
	}
	if _, err := Identify(c, Options{Method: Diff, Pos: []string{"A"}}); err == nil {
		t.Error("a diff with only a positive group was accepted")
	}
}

func TestRandomControl(t *testing.T) {
	c := handCounts([]string{"A/zh", "B/zh"}, [][]int64{{9, 1, 5, 0, 2, 3, 4, 1}, {1, 9, 5, 0, 1, 1, 1, 1}})
	opt := Options{Method: VAPE, VAPE: selection.VAPEParams{TopRate: 0.5, FilterRate: 0.5, ActivationBarRatio: 0.5}, RandomControl: true, Seed: 7}
	res, err := Identify(c, opt)
	if err != nil {
		t.Fatal(err)
	}
	f, err := NeuronSets(res, Source{}, opt)
	if err != nil {
		t.Fatal(err)
	}
	for _, tag := range []string{"A/zh", "B/zh"} {
		s, _ := f.Find(tag)
		r, ok := f.Find(RandomPrefix + tag)
		if !ok {
			t.Fatalf("no random control for %s", tag)
		}
		for l, ids := range s.Indices() {
			if len(r.Indices()[l]) != len(ids) {
				t.Errorf("%s layer %d: random control has %d neurons, set has %d", tag, l, len(r.Indices()[l]), len(ids))
			}
		}
	}
	again, _ := Identify(c, opt)
	if !slices.EqualFunc(again.Randoms[0].Neurons[0], res.Randoms[0].Neurons[0], slices.Equal[[]int32]) {
		t.Error("the random control is not deterministic for a seed")
	}
}

func TestIdentifyErrors(t *testing.T) {
	c := handCounts([]string{"A", "B"}, [][]int64{{1, 2}, {2, 1}})
	c.Tokens[1] = 0
	if _, err := Identify(c, Options{Method: VAPE, VAPE: selection.LAPEDefaults()}); err == nil || !strings.Contains(err.Error(), `"B"`) {
		t.Errorf("a tag without tokens: got %v", err)
	}
	if _, err := Identify(c, Options{Method: "entropy"}); err == nil {
		t.Error("an unknown method was accepted")
	}
	one := handCounts([]string{"A"}, [][]int64{{1, 2}})
	if _, err := Identify(one, Options{Method: Diff, Diff: selection.DiffParams{MinDelta: math.Inf(1)}}); err == nil {
		t.Error("a one-vs-rest diff with a single tag was accepted")
	}
}

func TestSummary(t *testing.T) {
	f := &hooks.NeuronSetFile{NeuronSets: []hooks.NeuronSet{
		{Name: "A", Layers: []hooks.LayerIndices{{Layer: 0, Indices: []int32{1, 2}}, {Layer: 2, Indices: []int32{5}}}},
		{Name: "B", Layers: []hooks.LayerIndices{{Layer: 1, Indices: []int32{3}}}},
		{Name: RandomPrefix + "A", Layers: []hooks.LayerIndices{{Layer: 1, Indices: []int32{4, 6}}}},
	}}
	var buf bytes.Buffer
	Summary(&buf, f, 3)
	out := buf.String()
	for _, want := range []string{"2,0,1", "0,1,0", "per-layer total", "2,1,1"} {
		if !strings.Contains(out, want) {
			t.Errorf("summary lacks %q:\n%s", want, out)
		}
	}
}

func TestPadName(t *testing.T) {
	for _, tc := range []struct {
		in   string
		want int // trailing spaces
	}{{"abc", 5}, {"诚信/zh", 1}, {"abcdefghij", 0}} {
		got := padName(tc.in, 8)
		if got != tc.in+strings.Repeat(" ", tc.want) {
			t.Errorf("padName(%q) = %q", tc.in, got)
		}
	}
}
