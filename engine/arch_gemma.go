package engine

import (
	"math"

	"github.com/valueexploration/valueexp/engine/kernels"
	"github.com/valueexploration/valueexp/hooks"
	"github.com/valueexploration/valueexp/weights"
)

// The block options of the Gemma family, switched on by weights.Config
// fields (see weights/arch_gemma.go). Each is a small step of the one
// forward pass:
//
//	x   = embed(t) * EmbedScale
//	x  += postNorm( o( attention(...) ) )           (PostNorms)
//	x  += postNorm( down( act(gate) * up ) )        (PostNorms, FFNAct)
//	logits = cap * tanh(logits / cap)               (FinalSoftcap)
//
// with attention scores scaled by AttnScale and soft-capped by
// AttnSoftcap, and layers that slide (Config.IsSliding) rotating with
// their own rope base when RopeThetaLocal is set. With these options,
// hook_embed sees the scaled embeddings, hook_attn_out and hook_mlp_out
// the normalised sublayer outputs (what is added to the residual stream),
// mlp.hook_act the activated gate (GELU for Gemma) and hook_logits the
// capped logits.

// ffnAct writes the gate activation of gate to act.
func (m *Model) ffnAct(act, gate []float32) {
	if m.Config.FFNAct == "gelu_tanh" {
		// tanh costs about as much as a 20-element dot product: spread it
		// over the workers (each element alone, so any split gives the
		// same bits).
		m.pool.parallel(len(act), 4096, 1, func(lo, hi int) { geluTanh(act[lo:hi], gate[lo:hi]) })
		return
	}
	kernels.SiLU(act, gate)
}

// geluTanh is the tanh approximation of GELU,
// 0.5·x·(1 + tanh(u)) with u = √(2/π)·(x + 0.044715·x³), computed in
// float64 as x / (1 + exp(-2u)) (the same function: 1 + tanh(u) =
// 2/(1 + exp(-2u))), which needs one exp instead of tanh's several, and
// rounded once. The explicit conversions keep it from being fused into FMA
// on some architectures and not others.
func geluTanh(dst, src []float32) {
	const c2 = 2 * 0.7978845608028654 // 2·√(2/π)
	for i, v := range src {
		x := float64(v)
		u2 := float64(c2 * float64(x+float64(0.044715*float64(x*float64(x*x)))))
		dst[i] = float32(x / (1 + math.Exp(-u2)))
	}
}

// softcap replaces every x by cap·tanh(x/cap).
func softcap(x []float32, cap float64) {
	for i, v := range x {
		x[i] = float32(cap * math.Tanh(float64(v)/cap))
	}
}

// postNorm RMS-normalises each of the n rows of h in place with weight w.
func postNorm(h, w []float32, n int, eps float32) {
	d := len(w)
	for i := 0; i < n; i++ {
		kernels.RMSNorm(h[i*d:(i+1)*d], h[i*d:(i+1)*d], w, eps)
	}
}

// ropeLayer rotates x for layer l: with the local rope base for a sliding
// layer of a model that has one, else with the model's rope.
func (m *Model) ropeLayer(ws *workspace, l int, x []float32, rows *hooks.Rows, heads int) {
	if m.invFreqLocal != nil && m.Config.IsSliding(l) {
		m.rope(&ws.ropeLocal, m.invFreqLocal, 1, x, rows, heads)
		return
	}
	m.rope(&ws.rope, m.invFreq, m.ropeMScale, x, rows, heads)
}

// ropeInvFreqLocal returns the inverse frequencies of the sliding-window
// layers' own rope base (Gemma 3's rope_local_base_freq, unscaled), or nil
// when the model has none.
func ropeInvFreqLocal(c weights.Config) ([]float64, error) {
	if c.RopeThetaLocal <= 0 {
		return nil, nil
	}
	d := c.RopeDim
	inv := make([]float64, d/2)
	for j := range inv {
		inv[j] = 1 / math.Pow(c.RopeThetaLocal, float64(2*j)/float64(d))
	}
	return inv, nil
}
