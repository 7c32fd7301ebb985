package engine

import (
	"context"
	"encoding/binary"
	"fmt"
	"math"
	"testing"

	"github.com/valueexploration/valueexp/hooks"
	"github.com/valueexploration/valueexp/weights"
)

// neuronFile builds a neuron-set file with one set per entry of sets.
func neuronFile(sets map[string]map[int][]int32) *hooks.NeuronSetFile {
	f := &hooks.NeuronSetFile{Format: "neuron-sets", Version: 1}
	for name, layers := range sets {
		s := hooks.NeuronSet{Name: name, Site: "mlp.hook_act"}
		for l := 0; l < 16; l++ {
			if idx, ok := layers[l]; ok {
				s.Layers = append(s.Layers, hooks.LayerIndices{Layer: l, Indices: idx})
			}
		}
		f.NeuronSets = append(f.NeuronSets, s)
	}
	return f
}

// zeroDownColumns returns a copy of the model's weights in which the listed
// columns of each layer's ffn_down are zero (F32 weights only).
func zeroDownColumns(t *testing.T, path string, cols map[int][]int32) *Model {
	t.Helper()
	w, err := weights.Open(path)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { w.Close() })
	for l, idx := range cols {
		name := fmt.Sprintf("blk.%d.ffn_down.weight", l)
		orig := w.Tensors[name]
		nt := *orig
		nt.Data = append([]byte(nil), orig.Data...)
		rows, ncol := orig.Shape[0], orig.Shape[1]
		for r := 0; r < rows; r++ {
			for _, j := range idx {
				binary.LittleEndian.PutUint32(nt.Data[4*(r*ncol+int(j)):], 0)
			}
		}
		w.Tensors[name] = &nt
	}
	m, err := New(w, Options{Threads: 2})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { m.Close() })
	return m
}

// TestZeroingActEqualsZeroingDownColumns checks deactivation at hook_act
// against the same neurons removed from the weights, on several layers and
// sets, for every architecture.
func TestZeroingActEqualsZeroingDownColumns(t *testing.T) {
	for _, spec := range randSpecs {
		if spec.Experts > 0 {
			continue // TestZeroingExpertActEqualsZeroingExpertDownColumns
		}
		t.Run(spec.Arch, func(t *testing.T) {
			_, hf := writeRandomModel(t, spec)
			m := mustLoad(t, hf, 2)
			toks := randTokens(spec.Seed+5, 10, m.Config.VocabSize)
			for si, set := range []map[int][]int32{
				{0: {3, 17, 50}},
				{1: {0, 1, 2, 95}},
				{0: {7}, 1: {7, 8, 40, 41, 42, 60}},
			} {
				h := hooks.New(m.Config.Layers)
				if err := hooks.ZeroSets(h, neuronFile(map[string]map[int][]int32{"s": set}), []string{"s"}, hooks.When{}); err != nil {
					t.Fatal(err)
				}
				out, err := m.Forward(context.Background(), []Input{{Seq: m.NewSequence(), Tokens: toks, Logits: AllLogits}}, RunOptions{Hooks: h})
				if err != nil {
					t.Fatal(err)
				}
				want := prefill(t, zeroDownColumns(t, hf, set), toks)
				if e := relErr(out[0], want); e > 1e-6 {
					t.Errorf("set %d: hook_act deactivation vs zeroed W_down columns: relative error %.2e", si, e)
				}
				if relErr(out[0], prefill(t, m, toks)) < 1e-4 {
					t.Errorf("set %d: deactivation did not change the logits", si)
				}
			}
		})
	}
}

// TestHookPositionsDuringGeneration checks the row metadata hooks see in the
// prefill and in each cached decode step.
func TestHookPositionsDuringGeneration(t *testing.T) {
	_, hf := writeRandomModel(t, randSpecs[0])
	m := mustLoad(t, hf, 2)
	type call struct {
		phase hooks.Phase
		step  int
		pos   []int32
		tags  []int32
	}
	var calls []call
	h := hooks.New(m.Config.Layers)
	if err := h.Observe("blocks.1.hook_resid_post", hooks.ObserverFunc(func(_ hooks.Point, x hooks.Tensor, r *hooks.Rows) {
		calls = append(calls, call{r.Phase, r.Step, append([]int32(nil), r.Pos...), append([]int32(nil), r.Tag...)})
	})); err != nil {
		t.Fatal(err)
	}
	prompts := []Prompt{{Tokens: []int32{1, 5, 9}, Tag: 4}, {Tokens: []int32{1, 7}, Tag: 6}}
	if _, err := m.Generate(context.Background(), prompts, GenerateOptions{MaxTokens: 3, StopTokens: []int32{}, Hooks: h}); err != nil {
		t.Fatal(err)
	}
	want := []call{
		{hooks.Prefill, 0, []int32{0, 1, 2, 0, 1}, []int32{4, 4, 4, 6, 6}},
		{hooks.Decode, 1, []int32{3, 2}, []int32{4, 6}},
		{hooks.Decode, 2, []int32{4, 3}, []int32{4, 6}},
	}
	if fmt.Sprint(calls) != fmt.Sprint(want) {
		t.Errorf("hook calls\n got %v\nwant %v", calls, want)
	}
}

// TestDecodeScopedEditLeavesPrefill checks that an edit scoped to decode
// steps leaves the prompt's rows (and their cached keys and values) alone.
func TestDecodeScopedEditLeavesPrefill(t *testing.T) {
	_, hf := writeRandomModel(t, randSpecs[2])
	m := mustLoad(t, hf, 2)
	set := neuronFile(map[string]map[int][]int32{"s": {0: {1, 2, 3, 4, 5, 6, 7, 8}, 1: {10, 11, 12, 13, 14}}})
	h := hooks.New(m.Config.Layers)
	if err := hooks.ZeroSets(h, set, nil, hooks.When{Phases: hooks.Decode}); err != nil {
		t.Fatal(err)
	}
	var plainPrefill, editedPrefill, plainSteps, editedSteps []float32
	for _, run := range []struct {
		hk             *hooks.Hooks
		prefill, steps *[]float32
	}{{hooks.New(m.Config.Layers), &plainPrefill, &plainSteps}, {h, &editedPrefill, &editedSteps}} {
		pre, steps := run.prefill, run.steps
		if err := run.hk.Observe("hook_logits", hooks.ObserverFunc(func(_ hooks.Point, x hooks.Tensor, r *hooks.Rows) {
			if r.Phase == hooks.Prefill {
				*pre = append(*pre, x.Data...)
			} else {
				*steps = append(*steps, x.Data...)
			}
		})); err != nil {
			t.Fatal(err)
		}
		if _, err := m.Generate(context.Background(), []Prompt{{Tokens: randTokens(8, 9, m.Config.VocabSize), Tag: -1}}, GenerateOptions{MaxTokens: 4, StopTokens: []int32{}, Hooks: run.hk}); err != nil {
			t.Fatal(err)
		}
	}
	bitsEqual(t, "prefill logits with a decode-only edit", editedPrefill, plainPrefill)
	if relErr(editedSteps, plainSteps) < 1e-4 {
		t.Error("the decode-only edit did not change the decode steps")
	}
}

// TestActProbPackedEqualsOneByOne counts hook_act > 0 over a packed batch of
// differently tagged sequences and compares with counts made by hand from
// activations captured one sequence at a time.
func TestActProbPackedEqualsOneByOne(t *testing.T) {
	_, hf := writeRandomModel(t, randSpecs[3])
	m := mustLoad(t, hf, 2)
	L, F := m.Config.Layers, m.Config.FFNSize
	seqs := []struct {
		toks []int32
		tag  int32
	}{{randTokens(1, 9, 80), 0}, {randTokens(2, 5, 80), 2}, {randTokens(3, 12, 80), 0}, {randTokens(4, 4, 80), -1}}
	ap, err := hooks.NewActProb(hooks.SiteMLPAct, L, F, 3)
	if err != nil {
		t.Fatal(err)
	}
	h := hooks.New(L)
	if err := h.Observe("blocks.*.mlp.hook_act", ap); err != nil {
		t.Fatal(err)
	}
	var in []Input
	for _, s := range seqs {
		in = append(in, Input{Seq: m.NewSequence(), Tokens: s.toks, Tag: s.tag, Logits: NoLogits})
	}
	stop := hooks.Point{Layer: L - 1, Site: hooks.SiteMLPAct}
	if _, err := m.Forward(context.Background(), in, RunOptions{Hooks: h, StopAfter: &stop}); err != nil {
		t.Fatal(err)
	}
	wantCount := make([]uint64, 3*L*F)
	wantTokens := make([]uint64, 3*L)
	for _, s := range seqs {
		got := capture{}
		hk := hooks.New(L)
		if err := hk.Observe("blocks.*.mlp.hook_act", got); err != nil {
			t.Fatal(err)
		}
		if _, err := m.Forward(context.Background(), []Input{{Seq: m.NewSequence(), Tokens: s.toks, Logits: NoLogits}}, RunOptions{Hooks: hk}); err != nil {
			t.Fatal(err)
		}
		if s.tag < 0 {
			continue
		}
		for l := 0; l < L; l++ {
			act := got[fmt.Sprintf("blocks.%d.mlp.hook_act", l)]
			for r := 0; r < len(s.toks); r++ {
				for j := 0; j < F; j++ {
					if act[r*F+j] > 0 {
						wantCount[(int(s.tag)*L+l)*F+j]++
					}
				}
			}
			wantTokens[int(s.tag)*L+l] += uint64(len(s.toks))
		}
	}
	if fmt.Sprint(ap.Tokens) != fmt.Sprint(wantTokens) {
		t.Errorf("tokens %v, want %v", ap.Tokens, wantTokens)
	}
	for i := range wantCount {
		if ap.Count[i] != wantCount[i] {
			t.Fatalf("count %d: %d, want %d", i, ap.Count[i], wantCount[i])
		}
	}
	var total uint64
	for _, c := range wantCount {
		total += c
	}
	if total == 0 || math.IsNaN(float64(total)) {
		t.Fatal("no activations counted")
	}
}
