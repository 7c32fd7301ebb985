package hooks

import (
	"errors"
	"fmt"
)

// Rows describes the rows of a hook tensor: the packed tokens of one or more
// sequences, never padding. The slices have one entry per row; they belong
// to the engine, which reuses them between calls, so a hook must copy what
// it wants to keep.
type Rows struct {
	Seq   []int32 // sequence slot of each row (index into the run's requests)
	Pos   []int32 // absolute position of the row's token in its sequence
	Tag   []int32 // user tag of the row's request (e.g. a value or language id); -1 = none
	Phase Phase   // Prefill or Decode
	Step  int     // 0 for prefill, n for the n-th decode step
}

// Tensor is a borrowed row-major view, element (r, c) at Data[r*Cols+c]. It
// is valid only during the callback; copy it to keep it.
type Tensor struct {
	Data  []float32
	Rows  int
	Cols  int
	Heads int // >0 for per-head sites, where Cols == Heads*head_dim
}

// Row returns row r as a slice whose capacity ends with the row, so that an
// append can never spill into the next row.
func (t Tensor) Row(r int) []float32 {
	lo, hi := r*t.Cols, (r+1)*t.Cols
	return t.Data[lo:hi:hi]
}

// Observer reads activations. It must not modify or retain t.Data.
type Observer interface {
	Observe(p Point, t Tensor, rows *Rows)
}

// Editor modifies activations in place.
type Editor interface {
	Edit(p Point, t Tensor, rows *Rows)
}

// Applier is implemented by observers and editors that act only at some
// points (an ActProb only at its site, a neuron edit only at layers that
// have indices). Registration skips the points where Applies is false, so
// the engine keeps its fast path there.
type Applier interface {
	Applies(p Point) bool
}

// Checker is implemented by observers and editors that can tell whether
// they fit a model: an index beyond a site's width, a vector of the wrong
// length or a layer the model does not have. Registration calls Check at
// every point the hook is registered at, with the shape the registry knows
// (New knows only the layer count); the engine calls it again with the
// model's full shape before every forward pass (Hooks.Check), so a hook built
// for another model is an error before anything runs instead of a panic or
// a silent no-op during the run. Widths the shape does not give
// (ModelShape.Width reports ok false) are not checked.
type Checker interface {
	Check(p Point, s ModelShape) error
}

// ObserverFunc adapts a function to the Observer interface.
type ObserverFunc func(p Point, t Tensor, rows *Rows)

// Observe calls f(p, t, rows).
func (f ObserverFunc) Observe(p Point, t Tensor, rows *Rows) { f(p, t, rows) }

// EditorFunc adapts a function to the Editor interface.
type EditorFunc func(p Point, t Tensor, rows *Rows)

// Edit calls f(p, t, rows).
func (f EditorFunc) Edit(p Point, t Tensor, rows *Rows) { f(p, t, rows) }

// Hooks is the registry the engine consults during a forward pass. Build it
// before a run (registration is not safe for concurrent use); during runs it
// is only read, so one *Hooks may be shared by concurrent runs as long as
// its observers and editors tolerate that. A nil *Hooks means "no hooks".
type Hooks struct {
	nLayers int
	// want[layer+1] has bit s set when some hook is registered at
	// (layer, s); slot 0 holds the model-level sites.
	want []uint64
	raw  [][]Observer // per slot: observers of pre-edit values
	edit [][]Editor   // per slot, in registration order
	post [][]Observer // per slot: observers of post-edit values
	last Point
	any  bool
	// failed is the first registration error, which Check reports again,
	// so that a dropped error cannot silently leave a hook out of a run.
	failed error
}

// New returns an empty registry for a model with nLayers decoder blocks.
// A negative count is treated as zero.
func New(nLayers int) *Hooks {
	nLayers = max(nLayers, 0)
	slots := (nLayers + 1) * int(NumSites)
	return &Hooks{
		nLayers: nLayers,
		want:    make([]uint64, nLayers+1),
		raw:     make([][]Observer, slots),
		edit:    make([][]Editor, slots),
		post:    make([][]Observer, slots),
	}
}

// Layers returns the number of decoder blocks the registry was built for.
func (h *Hooks) Layers() int {
	if h == nil {
		return 0
	}
	return h.nLayers
}

// Observe registers o at every point matching pattern; o sees the values
// after all editors at that point have run. An error (an unknown site, a
// layer beyond the registry's, a hook that fits none of the points) leaves
// o out and is reported again by Check, and so by every forward pass with
// these hooks.
func (h *Hooks) Observe(pattern string, o Observer) error {
	if o == nil {
		return h.fail(fmt.Errorf("hooks: Observe %q: nil observer", pattern))
	}
	return h.register(pattern, o, func(slot int, p Point) { h.post[slot] = append(h.post[slot], observerAt(o, p)) })
}

// ObserveRaw registers o at every point matching pattern; o sees the values
// before any editor at that point has run (but after edits at earlier
// points, which have already changed its input).
func (h *Hooks) ObserveRaw(pattern string, o Observer) error {
	if o == nil {
		return h.fail(fmt.Errorf("hooks: ObserveRaw %q: nil observer", pattern))
	}
	return h.register(pattern, o, func(slot int, p Point) { h.raw[slot] = append(h.raw[slot], observerAt(o, p)) })
}

// Edit registers e at every point matching pattern. Editors at one point run
// in registration order. Errors are as for Observe.
func (h *Hooks) Edit(pattern string, e Editor) error {
	if e == nil {
		return h.fail(fmt.Errorf("hooks: Edit %q: nil editor", pattern))
	}
	return h.register(pattern, e, func(slot int, p Point) { h.edit[slot] = append(h.edit[slot], editorAt(e, p)) })
}

// errNoPoint is returned when every matched point was refused by Applies.
var errNoPoint = errors.New("the hook applies to none of the matched points")

// register expands pattern and adds the hook at each point it applies to.
// It remembers the first error for Check.
func (h *Hooks) register(pattern string, hook any, add func(slot int, p Point)) error {
	if h == nil {
		return fmt.Errorf("hooks: register %q: nil *Hooks", pattern)
	}
	return h.fail(h.registerPoints(pattern, hook, add))
}

// fail remembers the first registration error for Check and returns err.
func (h *Hooks) fail(err error) error {
	if err != nil && h != nil && h.failed == nil {
		h.failed = err
	}
	return err
}

func (h *Hooks) registerPoints(pattern string, hook any, add func(slot int, p Point)) error {
	pts, err := Match(pattern, h.nLayers)
	if err != nil {
		return err
	}
	ap, _ := hook.(Applier)
	ck, _ := hook.(Checker)
	shape := ModelShape{Layers: h.nLayers}
	// Check every point before adding any, so that a failed registration
	// adds nothing.
	var use []Point
	for _, p := range pts {
		if ap != nil && !ap.Applies(p) {
			continue
		}
		if ck != nil {
			if err := ck.Check(p, shape); err != nil {
				return fmt.Errorf("hooks: pattern %q: %w", pattern, err)
			}
		}
		use = append(use, p)
	}
	if len(use) == 0 {
		if ck != nil {
			// Say why when the hook knows: an edit built for layer 4 of a
			// model with 4 layers applies nowhere.
			if err := ck.Check(pts[0], shape); err != nil {
				return fmt.Errorf("hooks: pattern %q: %w", pattern, err)
			}
		}
		return fmt.Errorf("hooks: pattern %q: %w", pattern, errNoPoint)
	}
	for _, p := range use {
		add(h.slot(p), p)
		h.want[p.Layer+1] |= 1 << p.Site
		if !h.any || h.last.Before(p) {
			h.last, h.any = p, true
		}
	}
	return nil
}

// Check reports whether every registered hook fits a model of shape s: the
// registry's layer count must be the model's, and each hook that implements
// Checker is asked about every point it is registered at. It also reports
// the first registration that failed, so that a run never goes ahead
// without a hook whose registration error was dropped. The engine calls it
// before each forward pass. A nil *Hooks fits every model.
func (h *Hooks) Check(s ModelShape) error {
	if h == nil {
		return nil
	}
	if h.failed != nil {
		return fmt.Errorf("hooks: a registration failed, so these hooks are incomplete: %w", h.failed)
	}
	if h.nLayers != s.Layers {
		return fmt.Errorf("hooks: the hooks were built for %d layers, the model has %d", h.nLayers, s.Layers)
	}
	for _, p := range h.Points() {
		if err := siteFits(p, s); err != nil {
			return err
		}
		i := h.slot(p)
		for _, list := range [][]Observer{h.raw[i], h.post[i]} {
			for _, o := range list {
				if err := checkHook(o, p, s); err != nil {
					return err
				}
			}
		}
		for _, e := range h.edit[i] {
			if err := checkHook(e, p, s); err != nil {
				return err
			}
		}
	}
	return nil
}

// checkHook runs hook's Check, if it has one, at p.
func checkHook(hook any, p Point, s ModelShape) error {
	if ck, ok := hook.(Checker); ok {
		if err := ck.Check(p, s); err != nil {
			return fmt.Errorf("hooks: %v: %w", p, err)
		}
	}
	return nil
}

// slot returns the index of p in the per-point hook lists.
func (h *Hooks) slot(p Point) int {
	return (p.Layer+1)*int(NumSites) + int(p.Site)
}

// Wants reports whether any hook is registered at p. It is safe on a nil
// *Hooks and on points outside the model, and costs one load and one AND,
// so the engine can call it at every site and keep fused kernels otherwise.
func (h *Hooks) Wants(p Point) bool {
	if h == nil {
		return false
	}
	i := uint(p.Layer + 1)
	if i >= uint(len(h.want)) {
		return false
	}
	return h.want[i]&(1<<p.Site) != 0 // shifts ≥ 64 give 0, so bad sites are false
}

// Dispatch runs the hooks registered at p on t: raw observers, then editors
// in registration order, then observers. It does nothing for a nil *Hooks
// or a point with no hooks, and allocates nothing. The engine passes a
// non-nil rows whose Seq, Pos and Tag have t.Rows entries each; the built-in
// statistics rely on that.
func (h *Hooks) Dispatch(p Point, t Tensor, rows *Rows) {
	if !h.Wants(p) {
		return
	}
	i := h.slot(p)
	for _, o := range h.raw[i] {
		o.Observe(p, t, rows)
	}
	for _, e := range h.edit[i] {
		e.Edit(p, t, rows)
	}
	for _, o := range h.post[i] {
		o.Observe(p, t, rows)
	}
}

// LastPoint returns the deepest point, in forward order, at which any hook
// is registered; ok is false when none is. A statistics run may stop the
// forward pass right after it (StopAfter).
func (h *Hooks) LastPoint() (p Point, ok bool) {
	if h == nil || !h.any {
		return Point{}, false
	}
	return h.last, true
}

// Points returns every point with at least one hook, in forward order.
func (h *Hooks) Points() []Point {
	if h == nil {
		return nil
	}
	var pts []Point
	add := func(layer int, s Site) {
		if p := (Point{Layer: layer, Site: s}); h.Wants(p) {
			pts = append(pts, p)
		}
	}
	add(-1, SiteEmbed)
	for l := 0; l < h.nLayers; l++ {
		for s := SiteResidPre; s <= SiteResidPost; s++ {
			add(l, s)
		}
	}
	add(-1, SiteFinalNorm)
	add(-1, SiteLogits)
	return pts
}

// expertHook restricts a hook registered at one expert's hook_act (or at
// every expert's, AllExperts) to the calls for that expert: the registry
// keeps one list per (layer, site), and the engine dispatches
// SiteExpertAct once per expert with Point.Expert set.
type expertHook struct {
	expert int
	o      Observer
	e      Editor
	inner  any
}

func (x *expertHook) matches(p Point) bool { return x.expert == AllExperts || p.Expert == x.expert }

// Observe calls the wrapped observer for the hook's expert.
func (x *expertHook) Observe(p Point, t Tensor, rows *Rows) {
	if x.matches(p) {
		x.o.Observe(p, t, rows)
	}
}

// Edit calls the wrapped editor for the hook's expert.
func (x *expertHook) Edit(p Point, t Tensor, rows *Rows) {
	if x.matches(p) {
		x.e.Edit(p, t, rows)
	}
}

// Check refuses an expert the model does not have and asks the wrapped
// hook about the point of its own expert.
func (x *expertHook) Check(p Point, s ModelShape) error {
	if s.Experts > 0 && x.expert >= s.Experts {
		return fmt.Errorf("expert %d out of range for a model with %d experts", x.expert, s.Experts)
	}
	if ck, ok := x.inner.(Checker); ok {
		p.Expert = x.expert
		return ck.Check(p, s)
	}
	return nil
}

// observerAt returns o, restricted to p's expert at SiteExpertAct.
func observerAt(o Observer, p Point) Observer {
	if p.Site != SiteExpertAct {
		return o
	}
	return &expertHook{expert: p.Expert, o: o, inner: o}
}

// editorAt returns e, restricted to p's expert at SiteExpertAct.
func editorAt(e Editor, p Point) Editor {
	if p.Site != SiteExpertAct {
		return e
	}
	return &expertHook{expert: p.Expert, e: e, inner: e}
}

// siteFits refuses a point the model never reaches, so that a hook there
// is an error rather than silently idle: the dense feed-forward sites in a
// mixture-of-experts model (whose neurons are its experts'), and the
// router and expert sites in a dense model (a shape with d_mlp and no
// experts).
func siteFits(p Point, s ModelShape) error {
	switch p.Site {
	case SiteMLPPre, SiteMLPPreLinear, SiteMLPAct, SiteMLPPost:
		if s.Experts > 0 {
			return fmt.Errorf("hooks: %v: the model is a mixture of %d experts and has no dense feed-forward neurons; use blocks.L.mlp.experts.E.hook_act", p, s.Experts)
		}
	case SiteRouterLogits, SiteExpertAct, SiteSharedAct:
		if s.Experts == 0 && s.DMLP > 0 {
			return fmt.Errorf("hooks: %v: the model has no experts", p)
		}
	}
	return nil
}
