package main

import (
	"context"
	"encoding/binary"
	"fmt"
	"io"
	"sort"

	"github.com/valueexploration/valueexp/engine"
	"github.com/valueexploration/valueexp/hooks"
	"github.com/valueexploration/valueexp/internal/atomicfile"
	"github.com/valueexploration/valueexp/weights/safetensors"
)

// expertCapture keeps the rows every expert's hook_act saw, by (layer,
// position, expert).
type expertCapture struct {
	rows map[[3]int][]float32
}

func (c *expertCapture) Observe(p hooks.Point, t hooks.Tensor, r *hooks.Rows) {
	for i := 0; i < t.Rows; i++ {
		c.rows[[3]int{p.Layer, int(r.Pos[i]), p.Expert}] = append([]float32(nil), t.Row(i)...)
	}
}

// registerMoEDump registers the captures of a mixture-of-experts dump: the
// router logits and the residual output of every layer, and every
// expert's hook_act rows.
func registerMoEDump(h *hooks.Hooks, L int) (router, out *layerCapture, ex *expertCapture, err error) {
	router = &layerCapture{site: hooks.SiteRouterLogits, data: make([][]float32, L)}
	out = &layerCapture{site: hooks.SiteResidPost, data: make([][]float32, L)}
	ex = &expertCapture{rows: map[[3]int][]float32{}}
	for _, c := range []*layerCapture{router, out} {
		if err := h.Observe("blocks.*."+siteSuffix(c.site), c); err != nil {
			return nil, nil, nil, err
		}
	}
	if err := h.Observe("blocks.*.mlp.experts.*.hook_act", ex); err != nil {
		return nil, nil, nil, err
	}
	return router, out, ex, nil
}

// moeDumpTensors lays out a mixture-of-experts dump of n tokens: per layer,
// "router_logits" [n, experts], "experts" (I32 [n, k], the chosen experts
// by decreasing router logit, ties to the lower index as the engine
// routes), "ffn_gate_act" ([n, k, ffn], each chosen expert's hook_act row)
// and "out" [n, d_model].
func moeDumpTensors(m *engine.Model, n int, router, out *layerCapture, ex *expertCapture) ([]safetensors.Tensor, error) {
	c := m.Config
	E, K, F := c.MoE.Experts, c.MoE.Used, c.MoE.FFN
	var ts []safetensors.Tensor
	for l := 0; l < c.Layers; l++ {
		logits := router.data[l]
		if len(logits) != n*E {
			return nil, fmt.Errorf("dump: layer %d: %d router logits, want %d", l, len(logits), n*E)
		}
		experts := make([]byte, 4*n*K)
		acts := make([]float32, 0, n*K*F)
		order := make([]int, E)
		for i := 0; i < n; i++ {
			row := logits[i*E : (i+1)*E]
			for e := range order {
				order[e] = e
			}
			sort.SliceStable(order, func(a, b int) bool { return row[order[a]] > row[order[b]] })
			for k := 0; k < K; k++ {
				e := order[k]
				a, ok := ex.rows[[3]int{l, i, e}]
				if !ok {
					return nil, fmt.Errorf("dump: layer %d position %d: expert %d has the rank-%d logit but saw no row", l, i, e, k)
				}
				binary.LittleEndian.PutUint32(experts[4*(i*K+k):], uint32(e))
				acts = append(acts, a...)
			}
		}
		p := fmt.Sprintf("blk.%d.", l)
		ts = append(ts,
			safetensors.Tensor{Name: p + "router_logits", DType: "F32", Shape: []int{n, E}, Data: safetensors.Float32Bytes(logits)},
			safetensors.Tensor{Name: p + "experts", DType: "I32", Shape: []int{n, K}, Data: experts},
			safetensors.Tensor{Name: p + "ffn_gate_act", DType: "F32", Shape: []int{n, K, F}, Data: safetensors.Float32Bytes(acts)},
			safetensors.Tensor{Name: p + "out", DType: "F32", Shape: []int{n, out.cols}, Data: safetensors.Float32Bytes(out.data[l])})
	}
	return ts, nil
}

// dumpMoE is dump for a mixture-of-experts model (see moeDumpTensors).
func dumpMoE(e *env, m *engine.Model, h *hooks.Hooks, ids []int32, model, outPath string, iv interventions) error {
	router, out, ex, err := registerMoEDump(h, m.Config.Layers)
	if err != nil {
		return err
	}
	logits, err := m.Forward(context.Background(), []engine.Input{{Seq: m.NewSequence(), Tokens: ids, Tag: -1, Logits: engine.AllLogits}}, engine.RunOptions{Hooks: h})
	if err != nil {
		return err
	}
	n := len(ids)
	tokBytes := make([]byte, 4*n)
	for i, t := range ids {
		binary.LittleEndian.PutUint32(tokBytes[4*i:], uint32(t))
	}
	ts := []safetensors.Tensor{
		{Name: "tokens", DType: "I32", Shape: []int{n}, Data: tokBytes},
		{Name: "logits", DType: "F32", Shape: []int{n, m.Config.VocabSize}, Data: safetensors.Float32Bytes(logits[0])},
	}
	layers, err := moeDumpTensors(m, n, router, out, ex)
	if err != nil {
		return err
	}
	ts = append(ts, layers...)
	meta := map[string]string{"model": model, "arch": m.Config.Arch}
	if iv.any() {
		meta["neurons"], meta["deactivate"] = iv.neurons, iv.deactivate
	}
	if err := atomicfile.Write(outPath, func(w io.Writer) error { return safetensors.Write(w, ts, meta) }); err != nil {
		return err
	}
	fmt.Fprintf(e.stderr, "wrote %s: %d tokens, logits [%d, %d], %d layers x (router logits, experts, expert act, out)\n", outPath, n, n, m.Config.VocabSize, m.Config.Layers)
	return nil
}
