package engine

import (
	"fmt"
	"math"

	"github.com/valueexploration/valueexp/engine/kernels"
	"github.com/valueexploration/valueexp/hooks"
	"github.com/valueexploration/valueexp/weights"
)

// The mixture-of-experts feed-forward block (Qwen2-MoE, Qwen3-MoE, Mixtral;
// weights.Config.MoE), in place of down(act(gate)·up) on the normalised
// residual h:
//
//	logits = router · h                                   mlp.hook_router_logits
//	p      = softmax(logits); top-k experts by p (ties: the lower index)
//	w      = p at the chosen experts, / their sum when NormTopK
//	y_e    = down_e( silu(gate_e·h) · up_e·h )            mlp.experts.E.hook_act
//	out    = Σ_k w_k · y_{e_k}   (in rank order)
//	       + sigmoid(g·h) · down_s( silu(gate_s·h) · up_s·h )   shared expert
//	                                                      mlp.shared_expert.hook_act
//
// The tokens routed to an expert are packed and multiplied together, so each
// expert runs one matmul per pass over the tokens it serves; its hook_act
// rows are those tokens (hooks.Rows gives their sequences and positions).
// Mixtral's softmax over the top-k logits equals the softmax over all
// logits renormalised over the top k, which is how it is computed here.
// hook_mlp_out sees the mixture, the dense sites mlp.hook_pre, hook_act and
// hook_post do not fire in these layers.

// moeLayer holds the router and experts of one block. Expert matrices stay
// in their file dtype (views of the mapped file).
type moeLayer struct {
	router         *matrix
	gate, up, down []*matrix // per expert
	// The shared expert (Qwen2-MoE), nil otherwise, and its gate vector.
	shGate, shUp, shDown *matrix
	shGateInp            []float32
}

// loadMoE prepares layer l's router and experts.
func loadMoE(w *weights.Model, l int) (*moeLayer, error) {
	p := fmt.Sprintf("blk.%d.", l)
	ml := &moeLayer{}
	var err error
	if ml.router, err = matrixOf(w, p+"ffn_gate_inp.weight"); err != nil {
		return nil, err
	}
	for _, k := range []struct {
		dst  *[]*matrix
		kind string
	}{{&ml.gate, "ffn_gate"}, {&ml.up, "ffn_up"}, {&ml.down, "ffn_down"}} {
		ts, err := w.ExpertTensors(l, k.kind)
		if err != nil {
			return nil, err
		}
		*k.dst = make([]*matrix, len(ts))
		for e, t := range ts {
			if (*k.dst)[e], err = newMatrix(t); err != nil {
				return nil, err
			}
		}
	}
	if w.Config.MoE.SharedFFN > 0 {
		for _, mt := range []struct {
			dst  **matrix
			name string
		}{{&ml.shGate, "ffn_gate_shexp.weight"}, {&ml.shUp, "ffn_up_shexp.weight"}, {&ml.shDown, "ffn_down_shexp.weight"}} {
			if *mt.dst, err = matrixOf(w, p+mt.name); err != nil {
				return nil, err
			}
		}
		if ml.shGateInp, err = vector(w, p+"ffn_gate_inp_shexp.weight"); err != nil {
			return nil, err
		}
	}
	return ml, nil
}

// moeFFN replaces h [n×H] (the normalised residual) by the block's output.
func (m *Model) moeFFN(ws *workspace, ml *moeLayer, l int, h []float32, n int, rows *hooks.Rows, hk *hooks.Hooks) {
	c := m.Config
	H, F, E, K := c.HiddenSize, c.MoE.FFN, c.MoE.Experts, c.MoE.Used
	dispatch := func(p hooks.Point, data []float32, r *hooks.Rows, nr, cols int) {
		if hooksCompiled && hk.Wants(p) {
			callHooks(hk, p, hooks.Tensor{Data: data, Rows: nr, Cols: cols}, r)
		}
	}

	// ---- routing ----
	logits := ws.floats(n * E)
	m.matmul(ws, logits, h, n, ml.router)
	dispatch(hooks.Point{Layer: l, Site: hooks.SiteRouterLogits}, logits, rows, n, E)
	sel := make([]int32, n*K)
	wt := make([]float32, n*K)
	prob := make([]float32, E)
	for i := 0; i < n; i++ {
		route(prob, logits[i*E:(i+1)*E], sel[i*K:(i+1)*K], wt[i*K:(i+1)*K], c.MoE.NormTopK)
	}

	// ---- experts, each over the tokens routed to it ----
	y := ws.floats(n * K * H) // output of the k-th expert of token i at (i*K+k)*H
	xe, ye := ws.floats(n*H), ws.floats(n*H)
	g, u := ws.floats(n*F), ws.floats(n*F)
	slots := make([]int32, 0, n)
	sub := &hooks.Rows{Seq: make([]int32, 0, n), Pos: make([]int32, 0, n), Tag: make([]int32, 0, n), Phase: rows.Phase, Step: rows.Step}
	for e := 0; e < E; e++ {
		slots = slots[:0]
		for s, x := range sel {
			if int(x) == e {
				slots = append(slots, int32(s))
			}
		}
		cnt := len(slots)
		if cnt == 0 {
			continue
		}
		sub.Seq, sub.Pos, sub.Tag = sub.Seq[:0], sub.Pos[:0], sub.Tag[:0]
		for r, s := range slots {
			i := int(s) / K
			copy(xe[r*H:(r+1)*H], h[i*H:(i+1)*H])
			sub.Seq = append(sub.Seq, rows.Seq[i])
			sub.Pos = append(sub.Pos, rows.Pos[i])
			sub.Tag = append(sub.Tag, rows.Tag[i])
		}
		gc, uc := g[:cnt*F], u[:cnt*F]
		m.matmul(ws, gc, xe, cnt, ml.gate[e])
		m.matmul(ws, uc, xe, cnt, ml.up[e])
		kernels.SiLU(gc, gc)
		dispatch(hooks.Point{Layer: l, Site: hooks.SiteExpertAct, Expert: e}, gc, sub, cnt, F)
		for j := range gc {
			gc[j] *= uc[j]
		}
		m.matmul(ws, ye, gc, cnt, ml.down[e])
		for r, s := range slots {
			copy(y[int(s)*H:(int(s)+1)*H], ye[r*H:(r+1)*H])
		}
	}

	// ---- the mixture, in rank order ----
	out := ws.floats(n * H)
	for i := 0; i < n; i++ {
		o := out[i*H : (i+1)*H]
		for k := 0; k < K; k++ {
			s := i*K + k
			w, yk := wt[s], y[s*H:(s+1)*H]
			if k == 0 {
				for j, v := range yk {
					o[j] = float32(w * v)
				}
				continue
			}
			for j, v := range yk {
				o[j] += float32(w * v)
			}
		}
	}

	// ---- shared expert ----
	if ml.shGate != nil {
		S := c.MoE.SharedFFN
		sg, su := ws.floats(n*S), ws.floats(n*S)
		m.matmul(ws, sg, h, n, ml.shGate)
		m.matmul(ws, su, h, n, ml.shUp)
		kernels.SiLU(sg, sg)
		dispatch(hooks.Point{Layer: l, Site: hooks.SiteSharedAct}, sg, rows, n, S)
		for j := range sg {
			sg[j] *= su[j]
		}
		m.matmul(ws, ye, sg, n, ml.shDown)
		for i := 0; i < n; i++ {
			var d float64
			for j, v := range h[i*H : (i+1)*H] {
				d += float64(v) * float64(ml.shGateInp[j])
			}
			gate := float32(1 / (1 + math.Exp(-d)))
			o := out[i*H : (i+1)*H]
			for j, v := range ye[i*H : (i+1)*H] {
				o[j] += float32(gate * v)
			}
		}
	}
	copy(h, out)
}

// route picks the top-k experts of one token from its router logits: sel
// gets the experts by decreasing probability (ties: the lower index first,
// as PyTorch's topk and llama.cpp's argsort do on equal values in
// practice), wt their softmax probabilities, renormalised to sum to 1 when
// norm is set. prob is scratch of the logits' length.
func route(prob, logits []float32, sel []int32, wt []float32, norm bool) {
	mx := float32(math.Inf(-1))
	for _, v := range logits {
		mx = max(mx, v)
	}
	var sum float64
	for j, v := range logits {
		e := math.Exp(float64(v - mx))
		prob[j] = float32(e)
		sum += e
	}
	for j := range prob {
		prob[j] = float32(float64(prob[j]) / sum)
	}
	for k := range sel {
		best := -1
		for j, p := range prob {
			if p < 0 {
				continue // taken
			}
			if best < 0 || p > prob[best] {
				best = j
			}
		}
		sel[k], wt[k] = int32(best), prob[best]
		prob[best] = -1
	}
	if norm {
		var s float64
		for _, w := range wt {
			s += float64(w)
		}
		for k := range wt {
			wt[k] = float32(float64(wt[k]) / s)
		}
	}
}
