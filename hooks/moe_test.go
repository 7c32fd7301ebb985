package hooks

import (
	"bytes"
	"math"
	"strings"
	"testing"

	"github.com/stretchr/testify/require"
)

func TestMatchExperts(t *testing.T) {
	for _, tc := range []struct {
		pattern string
		want    []Point
	}{
		{"blocks.1.mlp.experts.3.hook_act", []Point{{Layer: 1, Site: SiteExpertAct, Expert: 3}}},
		{"blocks.*.mlp.experts.*.hook_act", []Point{{Layer: 0, Site: SiteExpertAct, Expert: AllExperts}, {Layer: 1, Site: SiteExpertAct, Expert: AllExperts}}},
		{"blocks.0.mlp.experts.{2,0..1}.hook_act", []Point{{Layer: 0, Site: SiteExpertAct, Expert: 0}, {Layer: 0, Site: SiteExpertAct, Expert: 1}, {Layer: 0, Site: SiteExpertAct, Expert: 2}}},
		{"blocks.*.mlp.hook_router_logits", []Point{{Layer: 0, Site: SiteRouterLogits}, {Layer: 1, Site: SiteRouterLogits}}},
	} {
		got, err := Match(tc.pattern, 2)
		require.NoError(t, err, tc.pattern)
		require.Equal(t, tc.want, got, tc.pattern)
	}
	for _, bad := range []string{
		"blocks.0.mlp.experts.x.hook_act", "blocks.0.mlp.experts.{3..1}.hook_act", "blocks.0.mlp.experts.{0..99999999}.hook_act",
		"blocks.0.mlp.experts.hook_act", "blocks.0.mlp.experts.1.hook_pre",
	} {
		_, err := Match(bad, 2)
		require.Error(t, err, bad)
	}
	require.Equal(t, "blocks.2.mlp.experts.*.hook_act", Point{Layer: 2, Site: SiteExpertAct, Expert: AllExperts}.String())
	require.True(t, Point{Layer: 0, Site: SiteExpertAct, Expert: 1}.Before(Point{Layer: 0, Site: SiteExpertAct, Expert: 2}))
}

// TestExpertHooksSeeTheirExpert checks that a hook registered for one
// expert, a list or all of them is called for exactly those experts.
func TestExpertHooksSeeTheirExpert(t *testing.T) {
	h := New(2)
	seen := map[string][]int{}
	obs := func(name string) Observer {
		return ObserverFunc(func(p Point, _ Tensor, _ *Rows) { seen[name] = append(seen[name], p.Layer*10+p.Expert) })
	}
	require.NoError(t, h.Observe("blocks.1.mlp.experts.2.hook_act", obs("one")))
	require.NoError(t, h.Observe("blocks.*.mlp.experts.{0,3}.hook_act", obs("list")))
	require.NoError(t, h.Observe("blocks.*.mlp.experts.*.hook_act", obs("all")))
	for l := 0; l < 2; l++ {
		for e := 0; e < 4; e++ {
			h.Dispatch(Point{Layer: l, Site: SiteExpertAct, Expert: e}, Tensor{}, &Rows{})
		}
	}
	require.Equal(t, []int{12}, seen["one"])
	require.Equal(t, []int{0, 3, 10, 13}, seen["list"])
	require.Equal(t, []int{0, 1, 2, 3, 10, 11, 12, 13}, seen["all"])

	// The model's expert count bounds the experts a hook names, and the
	// dense and expert sites are refused where the model has none.
	moe := ModelShape{Layers: 2, DModel: 8, DMLP: 4, Experts: 3}
	dense := ModelShape{Layers: 2, DModel: 8, DMLP: 4}
	require.ErrorContains(t, h.Check(moe), "expert 3 out of range")
	h2 := New(2)
	require.NoError(t, h2.Observe("blocks.*.mlp.experts.{0..2}.hook_act", obs("x")))
	require.NoError(t, h2.Check(moe))
	require.ErrorContains(t, h2.Check(dense), "no experts")
	h3 := New(2)
	require.NoError(t, h3.Observe("blocks.0.mlp.hook_act", obs("x")))
	require.ErrorContains(t, h3.Check(moe), "mixture of 3 experts")
	require.NoError(t, h3.Check(dense))
}

// TestExpertActProb checks the expert counter against counts made here by
// hand, its per-expert denominators, and its file round trip.
func TestExpertActProb(t *testing.T) {
	c, err := NewExpertActProb(2, 3, 4, 2)
	require.NoError(t, err)
	h := New(2)
	require.NoError(t, h.Observe("blocks.*.mlp.experts.*.hook_act", c))
	// Layer 1, expert 2 sees rows of tags 0, 1, 0; expert 0 one row of tag 1.
	h.Dispatch(Point{Layer: 1, Site: SiteExpertAct, Expert: 2},
		Tensor{Data: []float32{1, -1, 0, 2, 3, float32(math.NaN()), 1, -0.0, 1, 1, -2, 5}, Rows: 3, Cols: 4},
		&Rows{Seq: []int32{0, 0, 1}, Pos: []int32{0, 1, 0}, Tag: []int32{0, 1, 0}})
	h.Dispatch(Point{Layer: 1, Site: SiteExpertAct, Expert: 0},
		Tensor{Data: []float32{1, 1, 1, 1}, Rows: 1, Cols: 4}, &Rows{Seq: []int32{0}, Pos: []int32{2}, Tag: []int32{1}})
	want := func(c *ActProb) {
		require.Equal(t, []float64{1, 0.5, 0, 1}, []float64{c.ExpertProb(0, 1, 2, 0), c.ExpertProb(0, 1, 2, 1), c.ExpertProb(0, 1, 2, 2), c.ExpertProb(0, 1, 2, 3)})
		require.Equal(t, []float64{1, 0, 1, 0}, []float64{c.ExpertProb(1, 1, 2, 0), c.ExpertProb(1, 1, 2, 1), c.ExpertProb(1, 1, 2, 2), c.ExpertProb(1, 1, 2, 3)})
		require.Equal(t, 1.0, c.ExpertProb(1, 1, 0, 3))
		require.Equal(t, 0.0, c.ExpertProb(0, 1, 0, 3)) // expert 0 saw no token of tag 0
		require.Equal(t, uint64(2), c.Tokens[c.slot(0, 1, 2)])
		require.Equal(t, uint64(1), c.Tokens[c.slot(1, 1, 0)])
	}
	want(c)
	var buf bytes.Buffer
	_, err = c.WriteTo(&buf)
	require.NoError(t, err)
	back, err := ParseActProb(buf.Bytes())
	require.NoError(t, err)
	require.Equal(t, 3, back.Experts)
	require.Equal(t, 2, back.Layers)
	want(back)
	require.NoError(t, back.Merge(c))
	dense, err := NewActProb(SiteMLPAct, 2, 4, 2)
	require.NoError(t, err)
	require.Error(t, dense.Merge(c))
	require.ErrorContains(t, c.Check(Point{Layer: 0, Site: SiteExpertAct}, ModelShape{Layers: 2, DMLP: 4, Experts: 4}), "3 experts")
	_, err = NewExpertActProb(2, 0, 4, 1)
	require.Error(t, err)
}

func TestExpertNeuronSets(t *testing.T) {
	e := func(i int) *int { return &i }
	f := &NeuronSetFile{Format: NeuronSetsFormat, Version: NeuronSetsVersion, NeuronSets: []NeuronSet{{
		Name: "s", Site: "mlp.experts.hook_act",
		Layers: []LayerIndices{{Layer: 0, Expert: e(1), Indices: []int32{2}}, {Layer: 0, Expert: e(3), Indices: []int32{0, 3}}, {Layer: 1, Expert: e(0), Indices: []int32{1}}},
	}}}
	moe := ModelShape{Layers: 2, DModel: 8, DMLP: 4, Experts: 4}
	require.NoError(t, f.Validate(moe))
	var buf bytes.Buffer
	require.NoError(t, f.Write(&buf))
	require.Contains(t, buf.String(), `"expert": 3`)
	back, err := ReadNeuronSets(&buf)
	require.NoError(t, err)
	require.Equal(t, f.NeuronSets[0].Layers, back.NeuronSets[0].Layers)

	h := New(2)
	require.NoError(t, ZeroSets(h, f, nil, When{}))
	row := func() []float32 { return []float32{1, 1, 1, 1} }
	for _, tc := range []struct {
		layer, expert int
		want          []float32
	}{{0, 1, []float32{1, 1, 0, 1}}, {0, 3, []float32{0, 1, 1, 0}}, {1, 0, []float32{1, 0, 1, 1}}, {1, 1, []float32{1, 1, 1, 1}}, {0, 0, []float32{1, 1, 1, 1}}} {
		x := row()
		h.Dispatch(Point{Layer: tc.layer, Site: SiteExpertAct, Expert: tc.expert}, Tensor{Data: x, Rows: 1, Cols: 4}, &Rows{Seq: []int32{0}, Pos: []int32{0}, Tag: []int32{-1}})
		require.Equal(t, tc.want, x, "layer %d expert %d", tc.layer, tc.expert)
	}

	for _, tc := range []struct {
		name   string
		layers []LayerIndices
		site   string
		err    string
	}{
		{"no expert", []LayerIndices{{Layer: 0, Indices: []int32{1}}}, "mlp.experts.hook_act", "names the expert"},
		{"expert out of range", []LayerIndices{{Layer: 0, Expert: e(4), Indices: []int32{1}}}, "mlp.experts.hook_act", "expert 4 out of range"},
		{"order", []LayerIndices{{Layer: 0, Expert: e(2), Indices: []int32{1}}, {Layer: 0, Expert: e(2), Indices: []int32{2}}}, "mlp.experts.hook_act", "ordered by layer, then expert"},
		{"expert on a dense site", []LayerIndices{{Layer: 0, Expert: e(0), Indices: []int32{1}}}, "mlp.hook_act", "only sets at"},
		{"index beyond the expert", []LayerIndices{{Layer: 0, Expert: e(0), Indices: []int32{4}}}, "mlp.experts.hook_act", "index 4 out of range"},
	} {
		g := &NeuronSetFile{Format: NeuronSetsFormat, Version: NeuronSetsVersion, NeuronSets: []NeuronSet{{Name: "s", Site: tc.site, Layers: tc.layers}}}
		err := g.Validate(moe)
		require.Error(t, err, tc.name)
		require.True(t, strings.Contains(err.Error(), tc.err), "%s: %v", tc.name, err)
	}
}
