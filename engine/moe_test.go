package engine

import (
	"context"
	"encoding/binary"
	"fmt"
	"testing"

	"github.com/stretchr/testify/require"

	"github.com/valueexploration/valueexp/hooks"
	"github.com/valueexploration/valueexp/weights"
)

// moeSpecs are the mixture-of-experts models of randSpecs.
func moeSpecs() []randSpec {
	var out []randSpec
	for _, s := range randSpecs {
		if s.Experts > 0 {
			out = append(out, s)
		}
	}
	return out
}

// zeroExpertDownColumns returns the GGUF model at path with the listed
// columns of the listed experts' down projections zeroed (layer → expert
// → columns; F32 3-D expert tensors only).
func zeroExpertDownColumns(t *testing.T, path string, cols map[int]map[int][]int32) *Model {
	t.Helper()
	w, err := weights.Open(path)
	require.NoError(t, err)
	t.Cleanup(func() { w.Close() })
	for l, experts := range cols {
		name := fmt.Sprintf("blk.%d.ffn_down_exps.weight", l)
		orig := w.Tensors[name]
		require.NotNil(t, orig, name)
		nt := *orig
		nt.Data = append([]byte(nil), orig.Data...)
		rows, ncol := orig.Shape[1], orig.Shape[2]
		for e, idx := range experts {
			for r := 0; r < rows; r++ {
				for _, j := range idx {
					binary.LittleEndian.PutUint32(nt.Data[4*((e*rows+r)*ncol+int(j)):], 0)
				}
			}
		}
		w.Tensors[name] = &nt
	}
	m, err := New(w, Options{Threads: 2})
	require.NoError(t, err)
	t.Cleanup(func() { m.Close() })
	return m
}

// expertSet builds a neuron-set file with one set at the experts' site.
func expertSet(set map[int]map[int][]int32, layers int) *hooks.NeuronSetFile {
	s := hooks.NeuronSet{Name: "s", Site: "mlp.experts.hook_act"}
	for l := 0; l < layers; l++ {
		for e := 0; e < 64; e++ {
			if idx, ok := set[l][e]; ok {
				s.Layers = append(s.Layers, hooks.LayerIndices{Layer: l, Expert: &e, Indices: idx})
			}
		}
	}
	return &hooks.NeuronSetFile{Format: hooks.NeuronSetsFormat, Version: hooks.NeuronSetsVersion, NeuronSets: []hooks.NeuronSet{s}}
}

// TestZeroingExpertActEqualsZeroingExpertDownColumns checks deactivation of
// expert neurons at mlp.experts.E.hook_act against the same columns removed
// from that expert's down projection (and only that expert's).
func TestZeroingExpertActEqualsZeroingExpertDownColumns(t *testing.T) {
	for _, spec := range moeSpecs() {
		t.Run(spec.Arch, func(t *testing.T) {
			gguf, _ := writeRandomModel(t, spec)
			m := mustLoad(t, gguf, 2)
			toks := randTokens(spec.Seed+5, 10, m.Config.VocabSize)
			plain := prefill(t, m, toks)
			for si, set := range []map[int]map[int][]int32{
				{0: {0: {3, 17}}},
				{1: {1: {0, 1, 2, 31}}},
				{0: {0: {7}, 2: {7, 8}}, 1: {0: {5}, 3: {9, 10, 11}}},
			} {
				h := hooks.New(m.Config.Layers)
				f := expertSet(set, m.Config.Layers)
				require.NoError(t, f.Validate(m.Shape()))
				require.NoError(t, hooks.ZeroSets(h, f, nil, hooks.When{}))
				out, err := m.Forward(context.Background(), []Input{{Seq: m.NewSequence(), Tokens: toks, Logits: AllLogits}}, RunOptions{Hooks: h})
				require.NoError(t, err)
				want := prefill(t, zeroExpertDownColumns(t, gguf, set), toks)
				if e := relErr(out[0], want); e > 1e-6 {
					t.Errorf("set %d: expert hook_act deactivation vs zeroed expert W_down columns: relative error %.2e", si, e)
				}
				if relErr(out[0], plain) < 1e-5 {
					t.Errorf("set %d: deactivation did not change the logits", si)
				}
			}
		})
	}
}

// routeCount records, per (layer, expert), the hook_act rows an expert saw
// and how many of each neuron's values were positive: a plain recount of
// what the expert ActProb should hold.
type routeCount struct {
	tokens map[[2]int]int
	pos    map[[3]int]int
}

func (r *routeCount) Observe(p hooks.Point, t hooks.Tensor, rows *hooks.Rows) {
	for i := 0; i < t.Rows; i++ {
		r.tokens[[2]int{p.Layer, p.Expert}]++
		for j, v := range t.Row(i) {
			if v > 0 {
				r.pos[[3]int{p.Layer, p.Expert, j}]++
			}
		}
	}
}

// TestExpertActProb checks the per-expert counter on a packed batch against
// a recount of the expert rows, and against the same sequences run one by
// one: routing, and so every count, depends on nothing but the token.
func TestExpertActProb(t *testing.T) {
	for _, spec := range moeSpecs() {
		t.Run(spec.Arch, func(t *testing.T) {
			_, hf := writeRandomModel(t, spec)
			m := mustLoad(t, hf, 2)
			c := m.Config
			seqs := [][]int32{randTokens(spec.Seed+20, 9, c.VocabSize), randTokens(spec.Seed+21, 4, c.VocabSize), randTokens(spec.Seed+22, 13, c.VocabSize)}
			run := func(batches [][]int) (*hooks.ActProb, *routeCount) {
				ap, err := hooks.NewExpertActProb(c.Layers, c.MoE.Experts, c.FFNSize, 2)
				require.NoError(t, err)
				rc := &routeCount{tokens: map[[2]int]int{}, pos: map[[3]int]int{}}
				h := hooks.New(c.Layers)
				require.NoError(t, h.Observe("blocks.*.mlp.experts.*.hook_act", ap))
				require.NoError(t, h.Observe("blocks.*.mlp.experts.*.hook_act", rc))
				for _, b := range batches {
					var in []Input
					for _, i := range b {
						in = append(in, Input{Seq: m.NewSequence(), Tokens: seqs[i], Tag: int32(i % 2), Logits: NoLogits})
					}
					_, err := m.Forward(context.Background(), in, RunOptions{Hooks: h})
					require.NoError(t, err)
				}
				return ap, rc
			}
			packed, rc := run([][]int{{0, 1, 2}})
			alone, _ := run([][]int{{0}, {1}, {2}})
			require.Equal(t, packed.Count, alone.Count)
			require.Equal(t, packed.Tokens, alone.Tokens)
			total := 0
			for l := 0; l < c.Layers; l++ {
				for e := 0; e < c.MoE.Experts; e++ {
					n := int(packed.Tokens[(0*c.Layers+l)*c.MoE.Experts+e] + packed.Tokens[(1*c.Layers+l)*c.MoE.Experts+e])
					require.Equal(t, rc.tokens[[2]int{l, e}], n, "layer %d expert %d tokens", l, e)
					total += n
					for j := 0; j < c.FFNSize; j++ {
						got := 0
						for tag := 0; tag < 2; tag++ {
							got += int(packed.Count[((tag*c.Layers+l)*c.MoE.Experts+e)*c.FFNSize+j])
						}
						require.Equal(t, rc.pos[[3]int{l, e, j}], got, "layer %d expert %d neuron %d", l, e, j)
					}
				}
			}
			// Every token goes to exactly Used experts in every layer.
			require.Equal(t, (9+4+13)*c.MoE.Used*c.Layers, total)
		})
	}
}
