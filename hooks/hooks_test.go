package hooks

import (
	"errors"
	"fmt"
	"slices"
	"testing"
)

func TestDispatchOrder(t *testing.T) {
	h := New(2)
	var log []string
	data := []float32{1}
	obs := func(name string) ObserverFunc {
		return func(p Point, tt Tensor, _ *Rows) { log = append(log, fmt.Sprintf("%s@%v=%g", name, p, tt.Data[0])) }
	}
	edit := func(name string, f func(float32) float32) EditorFunc {
		return func(p Point, tt Tensor, _ *Rows) {
			tt.Data[0] = f(tt.Data[0])
			log = append(log, fmt.Sprintf("%s@%v", name, p))
		}
	}
	// Registered deliberately out of dispatch order.
	must(t, h.Observe("blocks.1.hook_resid_post", obs("post1")))
	must(t, h.Edit("blocks.1.hook_resid_post", edit("double", func(x float32) float32 { return 2 * x })))
	must(t, h.ObserveRaw("blocks.1.hook_resid_post", obs("raw1")))
	must(t, h.Edit("blocks.1.hook_resid_post", edit("plus3", func(x float32) float32 { return x + 3 })))
	must(t, h.Observe("blocks.1.hook_resid_post", obs("post2")))
	must(t, h.ObserveRaw("blocks.1.hook_resid_post", obs("raw2")))

	h.Dispatch(Point{Layer: 1, Site: SiteResidPost}, Tensor{Data: data, Rows: 1, Cols: 1}, &Rows{})
	want := []string{
		"raw1@blocks.1.hook_resid_post=1", "raw2@blocks.1.hook_resid_post=1",
		"double@blocks.1.hook_resid_post", "plus3@blocks.1.hook_resid_post",
		"post1@blocks.1.hook_resid_post=5", "post2@blocks.1.hook_resid_post=5",
	}
	if !slices.Equal(log, want) {
		t.Errorf("dispatch log\n got %q\nwant %q", log, want)
	}

	// Other points see nothing.
	log = nil
	h.Dispatch(Point{Layer: 0, Site: SiteResidPost}, Tensor{Data: data, Rows: 1, Cols: 1}, &Rows{})
	h.Dispatch(Point{Layer: 1, Site: SiteResidPre}, Tensor{Data: data, Rows: 1, Cols: 1}, &Rows{})
	h.Dispatch(Point{Layer: -1, Site: SiteLogits}, Tensor{Data: data, Rows: 1, Cols: 1}, &Rows{})
	if len(log) != 0 {
		t.Errorf("hooks fired at unregistered points: %q", log)
	}
}

func must(t testing.TB, err error) {
	t.Helper()
	if err != nil {
		t.Fatal(err)
	}
}

func TestWants(t *testing.T) {
	var nilHooks *Hooks
	if nilHooks.Wants(Point{Layer: 0, Site: SiteMLPAct}) || nilHooks.Layers() != 0 {
		t.Error("nil *Hooks wants something")
	}
	nilHooks.Dispatch(Point{Layer: 0, Site: SiteMLPAct}, Tensor{}, nil) // must not panic
	if _, ok := nilHooks.LastPoint(); ok {
		t.Error("nil *Hooks has a last point")
	}

	h := New(3)
	nop := ObserverFunc(func(Point, Tensor, *Rows) {})
	must(t, h.Observe("blocks.{0,2}.mlp.hook_act", nop))
	must(t, h.Observe("hook_embed", nop))
	must(t, h.Observe("hook_logits", nop))
	want := map[Point]bool{{Layer: 0, Site: SiteMLPAct}: true, {Layer: 2, Site: SiteMLPAct}: true, {Layer: -1, Site: SiteEmbed}: true, {Layer: -1, Site: SiteLogits}: true}
	for l := -2; l <= 4; l++ {
		for s := Site(0); s <= NumSites+70; s++ {
			p := Point{Layer: l, Site: s}
			if got := h.Wants(p); got != want[p] {
				t.Errorf("Wants(%+v) = %v, want %v", p, got, want[p])
			}
		}
	}
	if got := h.Points(); !slices.Equal(got, []Point{{Layer: -1, Site: SiteEmbed}, {Layer: 0, Site: SiteMLPAct}, {Layer: 2, Site: SiteMLPAct}, {Layer: -1, Site: SiteLogits}}) {
		t.Errorf("Points() = %v", got)
	}
}

func TestLastPoint(t *testing.T) {
	nop := ObserverFunc(func(Point, Tensor, *Rows) {})
	for _, tc := range []struct {
		patterns []string
		want     Point
	}{
		{[]string{"blocks.2.mlp.hook_act", "blocks.1.hook_resid_post"}, Point{Layer: 2, Site: SiteMLPAct}},
		{[]string{"blocks.*.mlp.hook_act"}, Point{Layer: 3, Site: SiteMLPAct}},
		{[]string{"blocks.3.mlp.hook_act", "blocks.3.mlp.hook_pre"}, Point{Layer: 3, Site: SiteMLPAct}},
		{[]string{"hook_embed"}, Point{Layer: -1, Site: SiteEmbed}},
		{[]string{"hook_logits", "blocks.3.hook_resid_post"}, Point{Layer: -1, Site: SiteLogits}},
		{[]string{"ln_final.hook_normalized", "hook_embed"}, Point{Layer: -1, Site: SiteFinalNorm}},
	} {
		h := New(4)
		for _, p := range tc.patterns {
			must(t, h.Observe(p, nop))
		}
		if got, ok := h.LastPoint(); !ok || got != tc.want {
			t.Errorf("%v: LastPoint() = %v, %v; want %v", tc.patterns, got, ok, tc.want)
		}
	}
	if _, ok := New(4).LastPoint(); ok {
		t.Error("empty registry has a last point")
	}
}

func TestRegisterErrors(t *testing.T) {
	h := New(2)
	nop := ObserverFunc(func(Point, Tensor, *Rows) {})
	if err := h.Observe("blocks.2.mlp.hook_act", nop); err == nil {
		t.Error("layer beyond the model accepted")
	}
	if err := h.Observe("blocks.0.mlp.hook_act", nil); err == nil {
		t.Error("nil observer accepted")
	}
	if err := h.ObserveRaw("blocks.0.mlp.hook_act", nil); err == nil {
		t.Error("nil raw observer accepted")
	}
	if err := h.Edit("blocks.0.mlp.hook_act", nil); err == nil {
		t.Error("nil editor accepted")
	}
	// A counter for mlp.hook_act applies nowhere on resid_post: an error,
	// not a silent no-op.
	c, err := NewActProb(SiteMLPAct, 2, 4, 1)
	must(t, err)
	if err := h.Observe("blocks.*.hook_resid_post", c); !errors.Is(err, errNoPoint) {
		t.Errorf("mismatched site: err = %v, want errNoPoint", err)
	}
	if len(h.Points()) != 0 {
		t.Errorf("failed registrations left points %v", h.Points())
	}
	var nilHooks *Hooks
	if err := nilHooks.Observe("hook_embed", nop); err == nil {
		t.Error("registration on nil *Hooks accepted")
	}
}

func TestApplierSkipsLayers(t *testing.T) {
	h := New(4)
	e, err := NewNeuronEdit(OpZero, 0, map[int][]int32{1: {3}, 3: {0, 2}, 2: {}}, When{})
	must(t, err)
	must(t, h.Edit("blocks.*.mlp.hook_act", e))
	for l := 0; l < 4; l++ {
		if got, want := h.Wants(Point{Layer: l, Site: SiteMLPAct}), l == 1 || l == 3; got != want {
			t.Errorf("layer %d: Wants = %v, want %v", l, got, want)
		}
	}
}

func TestDispatchAllocatesNothing(t *testing.T) {
	h := New(2)
	c, err := NewActProb(SiteMLPAct, 2, 8, 2)
	must(t, err)
	e, err := NewNeuronEdit(OpScale, 0.5, map[int][]int32{0: {1, 5}, 1: {2}}, When{Phases: Prefill, Tags: []int32{1}})
	must(t, err)
	must(t, h.ObserveRaw("blocks.*.mlp.hook_act", c))
	must(t, h.Edit("blocks.*.mlp.hook_act", e))
	must(t, h.Observe("blocks.*.mlp.hook_act", c))
	data := make([]float32, 3*8)
	rows := &Rows{Seq: []int32{0, 0, 1}, Pos: []int32{0, 1, 0}, Tag: []int32{0, 1, -1}, Phase: Prefill}
	p := Point{Layer: 1, Site: SiteMLPAct}
	tt := Tensor{Data: data, Rows: 3, Cols: 8}
	if n := testing.AllocsPerRun(100, func() { h.Dispatch(p, tt, rows) }); n != 0 {
		t.Errorf("Dispatch allocates %v times per call", n)
	}
}

func BenchmarkWantsMiss(b *testing.B) {
	h := New(24)
	must(b, h.Observe("blocks.*.mlp.hook_act", ObserverFunc(func(Point, Tensor, *Rows) {})))
	p := Point{Layer: 5, Site: SiteResidPost}
	n := 0
	for b.Loop() {
		if h.Wants(p) {
			n++
		}
	}
	if n != 0 {
		b.Fatal("unexpected want")
	}
}
