package engine

import (
	"context"
	"errors"
	"fmt"
	"math"
	"sync"

	"github.com/valueexploration/valueexp/engine/kernels"
	"github.com/valueexploration/valueexp/hooks"
)

// Sequence is the running state of one token sequence: the keys and values
// of every token it has seen, per layer. A Sequence belongs to the Model that
// made it and must not be used by two Forward calls at once.
type Sequence struct {
	model  *Model      // the model that made it
	k, v   [][]float32 // [layer] -> [position*kvDim + i]
	n      int
	kvDim  int
	broken bool // a run stopped early (StopAfter) left the cache incomplete
}

// NewSequence returns an empty sequence for this model.
func (m *Model) NewSequence() *Sequence {
	c := m.Config
	return &Sequence{model: m, k: make([][]float32, c.Layers), v: make([][]float32, c.Layers), kvDim: c.KVHeads * c.HeadDim}
}

// Len returns the number of tokens the sequence holds.
func (s *Sequence) Len() int { return s.n }

// Reset empties the sequence, keeping its memory for reuse.
func (s *Sequence) Reset() { s.n, s.broken = 0, false }

// Truncate drops every token from position n on (to rewind a shared prefix).
func (s *Sequence) Truncate(n int) {
	if n < s.n {
		s.n = max(n, 0)
	}
}

// Clone returns an independent copy of the sequence, so that one prefilled
// prompt can be continued in several ways (for example to score each answer
// option) without running the prompt again.
func (s *Sequence) Clone() *Sequence {
	c := &Sequence{model: s.model, k: make([][]float32, len(s.k)), v: make([][]float32, len(s.v)), n: s.n, kvDim: s.kvDim, broken: s.broken}
	used := s.n * s.kvDim
	for l := range s.k {
		c.k[l] = append(make([]float32, 0, used), s.k[l][:used]...)
		c.v[l] = append(make([]float32, 0, used), s.v[l][:used]...)
	}
	return c
}

func (s *Sequence) reserve(n int) {
	need := n * s.kvDim
	for l := range s.k {
		if cap(s.k[l]) < need {
			c := max(need, 2*cap(s.k[l]))
			nk, nv := make([]float32, need, c), make([]float32, need, c)
			copy(nk, s.k[l][:s.n*s.kvDim])
			copy(nv, s.v[l][:s.n*s.kvDim])
			s.k[l], s.v[l] = nk, nv
		}
		s.k[l], s.v[l] = s.k[l][:need], s.v[l][:need]
	}
}

// LogitsMode says which rows of an input get logits.
type LogitsMode uint8

const (
	// LastLogits returns the logits of the input's last token.
	LastLogits LogitsMode = iota
	// AllLogits returns the logits of every token, row after row.
	AllLogits
	// NoLogits returns none (statistics runs, prompt caching).
	NoLogits
)

// Input is one sequence's part of a packed batch: tokens appended to Seq at
// positions Seq.Len(), Seq.Len()+1, ...
type Input struct {
	Seq    *Sequence
	Tokens []int32
	Tag    int32 // user tag passed to hooks (e.g. a value or language id); -1: none
	Logits LogitsMode
}

// RunOptions control one forward pass.
type RunOptions struct {
	// Hooks to call; nil runs the plain forward pass.
	Hooks *hooks.Hooks
	// StopAfter ends the pass right after this point: later layers and the
	// LM head are skipped and no logits are returned. The sequences' caches
	// are then incomplete and cannot be continued. The point must be
	// hook_embed or a block's hook_resid_mid, mlp.hook_act, mlp.hook_post or
	// hook_resid_post; others are an error. In a mixture-of-experts model
	// mlp.hook_act, mlp.hook_post and mlp.experts.E.hook_act (any E) stop
	// after the layer's experts.
	StopAfter *hooks.Point
	// Phase tells hooks whether this is a prefill or a decode step (default Prefill).
	Phase hooks.Phase
	// Step is the decode step number passed to hooks (0 for prefill).
	Step int
}

// ErrIncomplete is returned when a sequence whose cache a StopAfter run left
// incomplete is run again.
var ErrIncomplete = errors.New("engine: sequence was stopped early (StopAfter) and cannot be continued; Reset it")

// workspace holds one forward pass's scratch buffers, reused between calls.
type workspace struct {
	f32  [][]float32
	nf   int
	b    []byte
	q8   kernels.Q8Acts // quantized activations laid out for the tile kernels
	q8k  kernels.Q8KActs
	rope ropeTable
	// ropeLocal is the table of the sliding-window layers' own rope base.
	ropeLocal ropeTable
}

func (w *workspace) reset() { w.nf = 0 }

// floats returns a scratch slice of n float32 values, distinct from every
// other slice handed out since the last reset.
func (w *workspace) floats(n int) []float32 {
	if w.nf == len(w.f32) {
		w.f32 = append(w.f32, nil)
	}
	if cap(w.f32[w.nf]) < n {
		w.f32[w.nf] = make([]float32, n)
	}
	s := w.f32[w.nf][:n]
	w.nf++
	return s
}

func (w *workspace) bytes(n int) []byte {
	if cap(w.b) < n {
		w.b = make([]byte, n)
	}
	return w.b[:n]
}

var workspaces = sync.Pool{New: func() any { return new(workspace) }}

// Forward runs one packed batch through the model: the tokens of every input,
// with attention causal within each input's own sequence. It returns, for each
// input, its logits as the Input's LogitsMode asks ([vocab] for LastLogits,
// [len(Tokens)*vocab] for AllLogits, nil for NoLogits).
//
// The hooks are checked against the model first (hooks.Hooks.Check), so an
// editor or statistic built for another model is an error before anything
// runs. A hook that panics during the pass ends it with an error naming the
// hook point; the sequences then hold the tokens they held before the call
// (or, when it failed at ln_final.hook_normalized or hook_logits, after
// every block had run, these tokens too: Sequence.Len tells).
func (m *Model) Forward(ctx context.Context, in []Input, opt RunOptions) (out [][]float32, err error) {
	c := m.Config
	H, D := c.HiddenSize, c.HeadDim
	qDim, kvDim, F := c.Heads*D, c.KVHeads*D, c.FFNSize
	if m.closed.Load() {
		return nil, errors.New("engine: the model is closed")
	}
	hk := opt.Hooks
	if err := hk.Check(m.Shape()); err != nil {
		return nil, fmt.Errorf("engine: %w", err)
	}
	defer func() {
		if r := recover(); r != nil {
			hp, ok := r.(hookPanic)
			if !ok {
				panic(r)
			}
			out, err = nil, hp
		}
	}()
	if opt.Phase == 0 {
		opt.Phase = hooks.Prefill
	}
	if sp := opt.StopAfter; sp != nil {
		switch {
		case sp.Site == hooks.SiteEmbed && sp.Layer == -1:
		case sp.Layer < 0 || sp.Layer >= c.Layers:
			return nil, fmt.Errorf("engine: StopAfter %v: layer outside [0, %d)", *sp, c.Layers)
		case sp.Site != hooks.SiteResidMid && sp.Site != hooks.SiteMLPAct && sp.Site != hooks.SiteMLPPost && sp.Site != hooks.SiteResidPost &&
			sp.Site != hooks.SiteExpertAct:
			return nil, fmt.Errorf("engine: StopAfter %v: a pass can stop after hook_embed, hook_resid_mid, mlp.hook_act, mlp.hook_post, mlp.experts.E.hook_act or hook_resid_post", *sp)
		case sp.Site == hooks.SiteExpertAct && c.MoE == nil:
			return nil, fmt.Errorf("engine: StopAfter %v: the model has no experts", *sp)
		}
	}

	// ---- rows: which sequence and position each packed token belongs to ----
	n := 0
	seen := map[*Sequence]bool{}
	for i, x := range in {
		if x.Seq == nil {
			return nil, fmt.Errorf("engine: input %d has no sequence", i)
		}
		if x.Seq.model != m {
			return nil, fmt.Errorf("engine: input %d: the sequence was not made by this model's NewSequence", i)
		}
		if x.Seq.broken {
			return nil, ErrIncomplete
		}
		if seen[x.Seq] {
			return nil, fmt.Errorf("engine: input %d: a sequence may appear only once in a batch", i)
		}
		seen[x.Seq] = true
		if m.maxPositions > 0 && x.Seq.n+len(x.Tokens) > m.maxPositions {
			return nil, m.positionsError(i, x.Seq.n+len(x.Tokens))
		}
		for j, t := range x.Tokens {
			if t < 0 || int(t) >= c.VocabSize {
				return nil, fmt.Errorf("engine: input %d token %d: id %d outside the vocabulary [0, %d)", i, j, t, c.VocabSize)
			}
		}
		n += len(x.Tokens)
	}
	rows := &hooks.Rows{Seq: make([]int32, n), Pos: make([]int32, n), Tag: make([]int32, n), Phase: opt.Phase, Step: opt.Step}
	seqOf := make([]*Sequence, n)
	r := 0
	for i, x := range in {
		for j := range x.Tokens {
			rows.Seq[r], rows.Pos[r], rows.Tag[r], seqOf[r] = int32(i), int32(x.Seq.n+j), x.Tag, x.Seq
			r++
		}
		x.Seq.reserve(x.Seq.n + len(x.Tokens))
	}
	if n == 0 {
		return make([][]float32, len(in)), nil
	}

	ws := workspaces.Get().(*workspace)
	defer workspaces.Put(ws)
	ws.reset()
	x := ws.floats(n * H)
	h := ws.floats(n * H)
	q, k, v := ws.floats(n*qDim), ws.floats(n*kvDim), ws.floats(n*kvDim)
	z := ws.floats(n * qDim)
	gate, up, act := ws.floats(n*F), ws.floats(n*F), ws.floats(n*F)
	dispatch := func(p hooks.Point, data []float32, cols, heads int) {
		if hooksCompiled && hk.Wants(p) {
			callHooks(hk, p, hooks.Tensor{Data: data, Rows: n, Cols: cols, Heads: heads}, rows)
		}
	}
	// dispatchStop dispatches at a point where a pass may stop and reports
	// whether it stops there (StopAfter).
	dispatchStop := func(p hooks.Point, data []float32, cols int) bool {
		dispatch(p, data, cols, 0)
		return opt.StopAfter != nil && *opt.StopAfter == p
	}
	stopped := func() ([][]float32, error) {
		for _, x := range in {
			x.Seq.n += len(x.Tokens)
			x.Seq.broken = true
		}
		return make([][]float32, len(in)), nil
	}
	// stoppedAt ends a pass stopped after a site whose values have not been
	// checked yet: non-finite activations there are an error, not a result.
	stoppedAt := func(data []float32, cols, layer int, site string) ([][]float32, error) {
		if err := m.checkFinite(data, cols, layer, site, in, rows, nil); err != nil {
			return nil, err
		}
		return stopped()
	}

	// ---- token embeddings ----
	r = 0
	for _, inp := range in {
		for _, t := range inp.Tokens {
			if err := m.embed.DequantizeRow(x[r*H:(r+1)*H], int(t)); err != nil {
				return nil, fmt.Errorf("engine: %w", err)
			}
			r++
		}
	}
	if c.EmbedScale > 0 {
		kernels.ScaleF32(x, float32(c.EmbedScale))
	}
	if err := m.checkFinite(x, H, -1, "hook_embed", in, rows, nil); err != nil {
		return nil, err
	}
	if dispatchStop(hooks.Point{Layer: -1, Site: hooks.SiteEmbed}, x, H) {
		return stopped()
	}

	// ---- decoder blocks ----
	eps := float32(c.NormEps)
	for l := range m.layers {
		if err := ctx.Err(); err != nil {
			return nil, err
		}
		ly := &m.layers[l]
		at := func(s hooks.Site) hooks.Point { return hooks.Point{Layer: l, Site: s} }
		dispatch(at(hooks.SiteResidPre), x, H, 0)

		// attention
		for i := 0; i < n; i++ {
			kernels.RMSNorm(h[i*H:(i+1)*H], x[i*H:(i+1)*H], ly.attnNorm, eps)
		}
		m.matmul(ws, q, h, n, ly.q)
		m.matmul(ws, k, h, n, ly.k)
		m.matmul(ws, v, h, n, ly.v)
		if ly.qBias != nil {
			addBias(q, ly.qBias, n)
			addBias(k, ly.kBias, n)
			addBias(v, ly.vBias, n)
		}
		dispatch(at(hooks.SiteAttnQ), q, qDim, c.Heads)
		dispatch(at(hooks.SiteAttnK), k, kvDim, c.KVHeads)
		dispatch(at(hooks.SiteAttnV), v, kvDim, c.KVHeads)
		if ly.qNorm != nil {
			headNorm(q, ly.qNorm, n*c.Heads, D, eps)
			headNorm(k, ly.kNorm, n*c.KVHeads, D, eps)
		}
		m.ropeLayer(ws, l, q, rows, c.Heads)
		m.ropeLayer(ws, l, k, rows, c.KVHeads)
		dispatch(at(hooks.SiteAttnRotQ), q, qDim, c.Heads)
		dispatch(at(hooks.SiteAttnRotK), k, kvDim, c.KVHeads)
		for i := 0; i < n; i++ {
			s, p := seqOf[i], int(rows.Pos[i])
			copy(s.k[l][p*kvDim:(p+1)*kvDim], k[i*kvDim:(i+1)*kvDim])
			copy(s.v[l][p*kvDim:(p+1)*kvDim], v[i*kvDim:(i+1)*kvDim])
		}
		m.attention(z, q, seqOf, rows.Pos, l)
		dispatch(at(hooks.SiteAttnZ), z, qDim, c.Heads)
		m.matmul(ws, h, z, n, ly.o)
		if ly.attnPostNorm != nil {
			postNorm(h, ly.attnPostNorm, n, eps)
		}
		dispatch(at(hooks.SiteAttnOut), h, H, 0)
		kernels.AxpyF32(x, 1, h)
		if dispatchStop(at(hooks.SiteResidMid), x, H) {
			return stoppedAt(x, H, l, "hook_resid_mid")
		}

		// feed-forward: down(act(gate) * up)
		for i := 0; i < n; i++ {
			kernels.RMSNorm(h[i*H:(i+1)*H], x[i*H:(i+1)*H], ly.ffnNorm, eps)
		}
		if ly.moe != nil {
			m.moeFFN(ws, ly.moe, l, h, n, rows, hk)
			// A pass that stops after the FFN activations stops after
			// the experts' (mlp.experts.E.hook_act).
			if sp := opt.StopAfter; sp != nil && sp.Layer == l && (sp.Site == hooks.SiteMLPAct || sp.Site == hooks.SiteMLPPost || sp.Site == hooks.SiteExpertAct) {
				return stopped()
			}
		} else {
			m.matmul(ws, gate, h, n, ly.gate)
			m.matmul(ws, up, h, n, ly.up)
			dispatch(at(hooks.SiteMLPPre), gate, F, 0)
			dispatch(at(hooks.SiteMLPPreLinear), up, F, 0)
			m.ffnAct(act, gate)
			if dispatchStop(at(hooks.SiteMLPAct), act, F) {
				return stoppedAt(act, F, l, "mlp.hook_act")
			}
			for i := range act {
				act[i] *= up[i]
			}
			if dispatchStop(at(hooks.SiteMLPPost), act, F) {
				return stoppedAt(act, F, l, "mlp.hook_post")
			}
			m.matmul(ws, h, act, n, ly.down)
		}
		if ly.ffnPostNorm != nil {
			postNorm(h, ly.ffnPostNorm, n, eps)
		}
		dispatch(at(hooks.SiteMLPOut), h, H, 0)
		kernels.AxpyF32(x, 1, h)
		if err := m.checkFinite(x, H, l, "hook_resid_post", in, rows, nil); err != nil {
			return nil, err
		}
		if dispatchStop(at(hooks.SiteResidPost), x, H) {
			return stopped()
		}
	}
	for _, inp := range in {
		inp.Seq.n += len(inp.Tokens)
	}

	// ---- final norm and LM head, only for the rows that want logits ----
	for i := 0; i < n; i++ {
		kernels.RMSNorm(h[i*H:(i+1)*H], x[i*H:(i+1)*H], m.outNorm, eps)
	}
	dispatch(hooks.Point{Layer: -1, Site: hooks.SiteFinalNorm}, h, H, 0)
	var pick []int
	r = 0
	for _, inp := range in {
		switch inp.Logits {
		case LastLogits:
			if len(inp.Tokens) > 0 {
				pick = append(pick, r+len(inp.Tokens)-1)
			}
		case AllLogits:
			for j := range inp.Tokens {
				pick = append(pick, r+j)
			}
		}
		r += len(inp.Tokens)
	}
	out = make([][]float32, len(in))
	if len(pick) == 0 {
		return out, nil
	}
	V := c.VocabSize
	sel := ws.floats(len(pick) * H)
	for i, p := range pick {
		copy(sel[i*H:(i+1)*H], h[p*H:(p+1)*H])
	}
	logits := make([]float32, len(pick)*V)
	m.matmul(ws, logits, sel, len(pick), m.output)
	if c.FinalSoftcap > 0 {
		softcap(logits, c.FinalSoftcap)
	}
	if err := m.checkFinite(logits, V, c.Layers, "logits", in, rows, pick); err != nil {
		return nil, err
	}
	lp := hooks.Point{Layer: -1, Site: hooks.SiteLogits}
	if hooksCompiled && hk.Wants(lp) {
		lrows := &hooks.Rows{Phase: rows.Phase, Step: rows.Step}
		for _, p := range pick {
			lrows.Seq = append(lrows.Seq, rows.Seq[p])
			lrows.Pos = append(lrows.Pos, rows.Pos[p])
			lrows.Tag = append(lrows.Tag, rows.Tag[p])
		}
		callHooks(hk, lp, hooks.Tensor{Data: logits, Rows: len(pick), Cols: V}, lrows)
	}
	off := 0
	for i, inp := range in {
		switch {
		case inp.Logits == LastLogits && len(inp.Tokens) > 0:
			out[i] = logits[off*V : (off+1)*V : (off+1)*V]
			off++
		case inp.Logits == AllLogits:
			nt := len(inp.Tokens)
			out[i] = logits[off*V : (off+nt)*V : (off+nt)*V]
			off += nt
		}
	}
	return out, nil
}

// hookPanic carries a panic raised by a hook out of the forward pass, where
// Forward turns it into its error.
type hookPanic struct {
	p     hooks.Point
	value any
}

func (h hookPanic) Error() string {
	return fmt.Sprintf("engine: hook at %v failed: %v", h.p, h.value)
}

// callHooks dispatches the hooks at p, marking a panic as coming from them,
// so that Forward reports a failing hook as an error but lets a panic of
// its own (a bug) through.
func callHooks(hk *hooks.Hooks, p hooks.Point, t hooks.Tensor, rows *hooks.Rows) {
	defer func() {
		if r := recover(); r != nil {
			panic(hookPanic{p: p, value: r})
		}
	}()
	hk.Dispatch(p, t, rows)
}

func addBias(x, b []float32, n int) {
	d := len(b)
	for i := 0; i < n; i++ {
		kernels.AxpyF32(x[i*d:(i+1)*d], 1, b)
	}
}

// headNorm RMS-normalises each of the count head vectors of length d in x
// and multiplies by w (qwen3's q_norm/k_norm).
func headNorm(x, w []float32, count, d int, eps float32) {
	for i := 0; i < count; i++ {
		kernels.RMSNorm(x[i*d:(i+1)*d], x[i*d:(i+1)*d], w, eps)
	}
}

// rope rotates each head of x (rows of heads*HeadDim) by its row's position,
// in the Hugging Face ("NeoX", rotate-half) layout: element j of a head turns
// with element j+RopeDim/2. weights.Open presents GGUF llama q/k rows in this
// layout too, so one rotation serves every file. The cosines and sines of
// the rows' angles are computed once per forward pass (ws.rope remembers
// which rows they belong to) and serve every head and layer.
func (m *Model) rope(t *ropeTable, invFreq []float64, mscale float64, x []float32, rows *hooks.Rows, heads int) {
	D, half := m.Config.HeadDim, m.Config.RopeDim/2
	if t.rows != rows {
		n := len(rows.Pos)
		t.cos, t.sin = grow(t.cos, n*half), grow(t.sin, n*half)
		for i, p := range rows.Pos {
			for j := 0; j < half; j++ {
				s, c := math.Sincos(float64(p) * invFreq[j])
				t.cos[i*half+j], t.sin[i*half+j] = float32(c*mscale), float32(s*mscale)
			}
		}
		t.rows = rows
	}
	for i := range rows.Pos {
		cs, sn := t.cos[i*half:(i+1)*half], t.sin[i*half:(i+1)*half]
		if m.Config.RopeInterleaved {
			ropePairs(x[i*heads*D:(i+1)*heads*D], heads, D, cs, sn)
			continue
		}
		for h := 0; h < heads; h++ {
			v := x[(i*heads+h)*D:]
			lo, hi := v[:half], v[half:2*half]
			for j, c := range cs {
				s := sn[j]
				a, b := lo[j], hi[j]
				lo[j] = a*c - b*s
				hi[j] = b*c + a*s
			}
		}
	}
}

// ropeTable caches the rotary cosines and sines of one forward pass's rows.
// Holding the rows pointer keeps it from being reused by a later pass.
type ropeTable struct {
	rows     *hooks.Rows
	cos, sin []float32
}
