package evaluate

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"math"
	"path/filepath"
	"slices"
	"strings"
	"testing"

	"github.com/stretchr/testify/require"
	"github.com/valueexploration/valueexp/engine"
	"github.com/valueexploration/valueexp/hooks"
	"github.com/valueexploration/valueexp/tokenizer"
	"github.com/valueexploration/valueexp/valueexp/cvoice"
	"github.com/valueexploration/valueexp/valueexp/cvoice/sample"
	"github.com/valueexploration/valueexp/valueexp/record"
)

// jobFixture is a small evaluation job: the tiny model, one item per value
// and language of the sample, the plain model, one deactivated set and its
// random control.
type jobFixture struct {
	m     *engine.Model
	tok   *tokenizer.Tokenizer
	data  *cvoice.Dataset
	conds []Condition
	opt   Options
}

func newJobFixture(t *testing.T, swap bool) *jobFixture {
	t.Helper()
	m, tok := loadStories(t)
	data, err := sample.Load()
	require.NoError(t, err)
	f := &hooks.NeuronSetFile{Format: "neuron-sets", Version: 1, NeuronSets: []hooks.NeuronSet{
		{Name: "诚信/zh", Site: "mlp.hook_act", Layers: []hooks.LayerIndices{{Layer: 0, Indices: []int32{1, 2, 30}}, {Layer: 2, Indices: []int32{9}}}},
	}}
	opt := Options{Mode: Likelihood, SwapOrder: swap, MaxItems: 1, RandomSeed: 7, ModelFingerprint: "fixture-model", NeuronsSHA256: "fixture-neurons", BatchTokens: 300}
	conds, err := Conditions(f, nil, m.Shape(), opt)
	require.NoError(t, err)
	return &jobFixture{m: m, tok: tok, data: data, conds: conds, opt: opt}
}

func (f *jobFixture) run(t *testing.T, ctx context.Context, opt Options) (*Results, error) {
	t.Helper()
	return Run(ctx, f.m, f.tok, f.data, f.conds, opt)
}

func marshal(t *testing.T, r *Results) []byte {
	t.Helper()
	b, err := r.Marshal()
	require.NoError(t, err)
	return b
}

// TestShardsMergeToSingleRun splits a job into 3 shards (with different
// batch sizes, so passes are cut differently) and checks that merging them
// gives the single run's file byte for byte, in any input order.
func TestShardsMergeToSingleRun(t *testing.T) {
	f := newJobFixture(t, true)
	single, err := f.run(t, context.Background(), f.opt)
	require.NoError(t, err)
	want := marshal(t, single)
	require.Equal(t, 3*24, len(single.Items), "3 conditions x 24 items")

	var shards []*Results
	for i := 0; i < 3; i++ {
		opt := f.opt
		opt.Shard = record.Shard{Index: i, Count: 3}
		opt.BatchTokens = 100 + 400*i
		r, err := f.run(t, context.Background(), opt)
		require.NoError(t, err)
		require.Nil(t, r.Cells, "a shard has no cells")
		require.Equal(t, opt.Shard.Size(len(single.Items)), len(r.Items))
		// Through JSON, as merge reads them.
		var back Results
		require.NoError(t, json.Unmarshal(marshal(t, r), &back))
		shards = append(shards, &back)
	}
	merged, err := Merge(shards[2], shards[0], shards[1])
	require.NoError(t, err)
	if got := marshal(t, merged); !bytes.Equal(got, want) {
		t.Fatalf("merged shards differ from the single run:\n%s", firstDiff(got, want))
	}

	t.Run("refused", func(t *testing.T) {
		other := *shards[1]
		job := *other.Job
		job.ModelFingerprint = "another-model"
		other.Job = &job
		_, err := Merge(shards[0], &other, shards[2])
		require.ErrorContains(t, err, "model fingerprint differs")

		job = *shards[1].Job
		job.NeuronsSHA256 = "another-neuron-file"
		other.Job = &job
		_, err = Merge(shards[0], &other, shards[2])
		require.ErrorContains(t, err, "neuron file sha256 differs")

		job = *shards[1].Job
		job.Settings = strings.Replace(job.Settings, "swap_order=true", "swap_order=false", 1)
		other.Job = &job
		_, err = Merge(shards[0], &other, shards[2])
		require.ErrorContains(t, err, "settings differ")

		_, err = Merge(shards[0], shards[2])
		require.ErrorContains(t, err, "shard 1/3 is missing")
		_, err = Merge(shards[0], shards[1], shards[1], shards[2])
		require.ErrorContains(t, err, "given twice")
		_, err = Merge(single)
		require.ErrorContains(t, err, "whole run")
		partial := *shards[0]
		partial.Partial = true
		_, err = Merge(&partial, shards[1], shards[2])
		require.ErrorContains(t, err, "checkpoint")
	})
}

// TestResumeEqualsSingleRun cancels runs after a few units, at several
// points (mid-condition, between conditions), resumes from the checkpoint
// each time, and checks the final file equals an uninterrupted run's.
func TestResumeEqualsSingleRun(t *testing.T) {
	f := newJobFixture(t, true)
	single, err := f.run(t, context.Background(), f.opt)
	require.NoError(t, err)
	want := marshal(t, single)

	for _, shard := range []record.Shard{record.Whole, {Index: 1, Count: 2}} {
		opt := f.opt
		opt.Shard = shard
		opt.Checkpoint = filepath.Join(t.TempDir(), "results.json.partial")
		ref, err := f.run(t, context.Background(), Options{Shard: shard, Mode: opt.Mode, SwapOrder: true, MaxItems: 1, RandomSeed: 7, ModelFingerprint: "fixture-model", NeuronsSHA256: "fixture-neurons"})
		require.NoError(t, err)
		stops := []int{5, 20, 24, 30}
		var res *Results
		for attempt := 0; ; attempt++ {
			ctx, cancel := context.WithCancel(context.Background())
			o := opt
			if attempt < len(stops) {
				stop := stops[attempt]
				o.Progress = func(done, total int) {
					if done >= stop {
						cancel()
					}
				}
			}
			res, err = f.run(t, ctx, o)
			cancel()
			if err == nil {
				break
			}
			require.True(t, errors.Is(err, ErrInterrupted), "attempt %d: %v", attempt, err)
			cp, lerr := LoadResults(opt.Checkpoint)
			require.NoError(t, lerr)
			require.True(t, cp.Partial)
			require.GreaterOrEqual(t, len(cp.Items), stops[attempt], "the checkpoint keeps every unit done")
			require.Less(t, attempt, len(stops))
		}
		if shard == record.Whole {
			require.Equal(t, string(want), string(marshal(t, res)))
		} else {
			require.Equal(t, string(marshal(t, ref)), string(marshal(t, res)))
		}
	}

	t.Run("other job refused", func(t *testing.T) {
		opt := f.opt
		opt.Checkpoint = filepath.Join(t.TempDir(), "r.partial")
		ctx, cancel := context.WithCancel(context.Background())
		opt.Progress = func(done, _ int) {
			if done >= 3 {
				cancel()
			}
		}
		_, err := f.run(t, ctx, opt)
		require.ErrorIs(t, err, ErrInterrupted)
		opt.Progress = nil
		opt.SwapOrder = false
		_, err = f.run(t, context.Background(), opt)
		require.ErrorContains(t, err, "cannot be resumed: settings differ")
		opt.SwapOrder, opt.Shard = true, record.Shard{Index: 0, Count: 2}
		_, err = f.run(t, context.Background(), opt)
		require.ErrorContains(t, err, "it is shard 0/1, this run is shard 0/2")
	})
}

// TestSharedPrefixesMatchUnsharedReference checks the prefix-sharing
// scheduler against a reference that runs every question in full on a
// fresh sequence, the way evaluate worked before sharing: the shares must
// be bit-identical (the engine's results do not depend on how a sequence is
// cut into passes), with and without a chat template and a deactivation.
func TestSharedPrefixesMatchUnsharedReference(t *testing.T) {
	f := newJobFixture(t, true)
	for _, chat := range []bool{false, true} {
		if chat && f.tok.ChatTemplate() == "" {
			continue
		}
		opt := f.opt
		opt.Chat = chat
		res, err := f.run(t, context.Background(), opt)
		require.NoError(t, err)
		byID := map[string]cvoice.Item{}
		for it := range f.data.All() {
			byID[it.ID] = it
		}
		condHooks := map[string]*hooks.Hooks{}
		for _, c := range f.conds {
			condHooks[c.Name] = c.hooks
		}
		for _, r := range res.Items[:60] {
			it := byID[r.ID]
			for o, swapped := range []bool{false, true} {
				text, err := prompt(f.tok, it, swapped, Likelihood, chat)
				require.NoError(t, err)
				prefix, conts, err := splitOptions(f.tok, text, chat)
				require.NoError(t, err)
				var lp [2]float64
				for opt := 0; opt < 2; opt++ {
					ids := append(append([]int32(nil), prefix...), conts[opt]...)
					out, err := f.m.Forward(context.Background(), []engine.Input{{Seq: f.m.NewSequence(), Tokens: ids, Logits: engine.AllLogits}}, engine.RunOptions{Hooks: condHooks[r.Condition]})
					require.NoError(t, err)
					V := f.m.Config.VocabSize
					for j := len(prefix); j < len(ids); j++ {
						lp[opt] += logProb(out[0][(j-1)*V:j*V], ids[j])
					}
				}
				pA := 1 / (1 + math.Exp(lp[1]-lp[0]))
				want := pA
				if swapped {
					want = 1 - pA
				}
				if math.Float64bits(r.Orders[o]) != math.Float64bits(want) {
					t.Fatalf("chat %t, %s %s order %d: shared %v, unshared reference %v", chat, r.Condition, r.ID, o, r.Orders[o], want)
				}
			}
		}
	}
}

// TestPlanCountsTheRunsWork checks that Plan predicts exactly the tokens
// and passes Run then feeds the model, and reports the saving of prefix
// sharing on the sample (forward-pass tokens per condition).
func TestPlanCountsTheRunsWork(t *testing.T) {
	for _, swap := range []bool{false, true} {
		f := newJobFixture(t, swap)
		plan, err := Plan(f.m, f.tok, f.data, f.conds, f.opt)
		require.NoError(t, err)
		opt := f.opt
		opt.Work = &Work{}
		_, err = f.run(t, context.Background(), opt)
		require.NoError(t, err)
		require.Equal(t, plan.Conditions, opt.Work.Conditions)
		tot := plan.Total()
		require.Less(t, tot.Tokens, tot.Unshared, "sharing saves tokens")
		t.Logf("swap %t: per condition %d forward-pass tokens with sharing, %d without (%d passes)",
			swap, plan.Conditions[0].Tokens, plan.Conditions[0].Unshared, plan.Conditions[0].Passes)
	}
}

// TestNaNKeepsOtherResults runs a condition whose activations are NaN next
// to a clean one: the results still marshal, the NaN units are listed with
// their condition and orders, their cells have null rates and no deltas,
// and the clean condition's cells are the same as in a run without it.
func TestNaNKeepsOtherResults(t *testing.T) {
	f := newJobFixture(t, true)
	h := hooks.New(f.m.Config.Layers)
	require.NoError(t, h.Edit("blocks.1.mlp.hook_act", nanEditor(4, 0)))
	conds := []Condition{f.conds[0], {Name: "broken", Kind: "deactivate", Set: "broken", Neurons: 1, hooks: h}}
	opt := f.opt
	opt.Checkpoint = filepath.Join(t.TempDir(), "r.partial")
	res, err := Run(context.Background(), f.m, f.tok, f.data, conds, opt)
	require.NoError(t, err)
	b := marshal(t, res)
	require.Len(t, res.NaN, 24)
	// The engine's message says where the activations went NaN (layer 1,
	// where the hook writes it).
	require.Contains(t, res.NaN[0].Reason, "activations became NaN/Inf at layer 1")
	require.Equal(t, NaNItem{Condition: "broken", ID: res.Items[24].ID, Orders: []int{0, 1}, Reason: res.NaN[0].Reason}, res.NaN[0])
	var back Results
	require.NoError(t, json.Unmarshal(b, &back))
	for _, c := range back.Cells {
		if c.Condition == "broken" {
			require.True(t, math.IsNaN(c.SupportRate), "cell %s %s", c.Value, c.Language)
			require.Len(t, c.NaNItems, 1)
			require.Nil(t, c.DeltaVsNone)
			require.Equal(t, 0, c.ParseFailures)
		} else {
			require.False(t, math.IsNaN(c.SupportRate))
			require.Empty(t, c.NaNItems)
		}
	}
	require.Contains(t, string(b), `"support_rate": null`)
	clean, err := Run(context.Background(), f.m, f.tok, f.data, conds[:1], f.opt)
	require.NoError(t, err)
	require.Equal(t, clean.Cells, back.Cells[:len(clean.Cells)])
}

// TestSummarizeMarksOnlyTheNaNCell is a hand-made table: one NaN item in one
// cell leaves the others' rates as computed by hand.
func TestSummarizeMarksOnlyTheNaNCell(t *testing.T) {
	conds := []Condition{{Name: "none", Kind: "none"}}
	items := []ItemResult{
		{Condition: "none", ID: "a", Value: "诚信", Language: "zh", Aligned: 0.8, Orders: []float64{0.8}, Answered: true},
		{Condition: "none", ID: "b", Value: "诚信", Language: "zh", Aligned: 0.4, Orders: []float64{0.4}, Answered: true},
		{Condition: "none", ID: "c", Value: "诚信", Language: "en", Aligned: 0.9, Orders: []float64{0.9}, Answered: true},
		{Condition: "none", ID: "d", Value: "诚信", Language: "en", Orders: []float64{math.NaN()}, Answered: true},
	}
	markNaN(&items[3])
	cells := summarize(conds, items)
	require.Len(t, cells, 2)
	require.InDelta(t, 60.0, cells[0].SupportRate, 1e-12)
	require.Equal(t, 0.5, cells[0].AlignedChoiceRate)
	require.True(t, math.IsNaN(cells[1].SupportRate))
	require.Equal(t, []string{"d"}, cells[1].NaNItems)
	require.Equal(t, 1, cells[1].Answered)
	b, err := json.Marshal(cells)
	require.NoError(t, err)
	require.Contains(t, string(b), `"support_rate":null,"aligned_choice_rate":null`)
}

func firstDiff(a, b []byte) string {
	i := 0
	for i < len(a) && i < len(b) && a[i] == b[i] {
		i++
	}
	lo := max(0, i-200)
	return "got: ..." + string(a[lo:min(len(a), i+200)]) + "\nwant: ..." + string(b[lo:min(len(b), i+200)])
}

// TestGenerateSharedHeadMatchesUnshared checks generate mode with the
// system prompt run once per condition and cloned: every answer equals the
// one generated from the whole prompt, the prefill tokens are those Plan
// predicts, and fewer than without sharing.
func TestGenerateSharedHeadMatchesUnshared(t *testing.T) {
	f := newJobFixture(t, false)
	opt := f.opt
	opt.Mode, opt.MaxTokens, opt.Work = Generation, 6, &Work{}
	conds := f.conds[:2] // plain and deactivated
	res, err := Run(context.Background(), f.m, f.tok, f.data, conds, opt)
	require.NoError(t, err)
	byID := map[string]cvoice.Item{}
	for it := range f.data.All() {
		byID[it.ID] = it
	}
	for k, r := range res.Items {
		if k%4 != 0 {
			continue // a quarter of the items, in both conditions and languages, keeps the test short
		}
		it := byID[r.ID]
		text, err := prompt(f.tok, it, false, Generation, false)
		require.NoError(t, err)
		var h *hooks.Hooks
		for _, c := range conds {
			if c.Name == r.Condition {
				h = c.hooks
			}
		}
		out, err := f.m.Generate(context.Background(), []engine.Prompt{{Tokens: encode(f.tok, text, false), Tag: -1}},
			engine.GenerateOptions{MaxTokens: 6, StopTokens: f.tok.EOS(), Decoder: f.tok, Hooks: h})
		require.NoError(t, err)
		require.Equal(t, []string{out[0].Text}, r.Texts, "%s %s", r.Condition, r.ID)
	}
	plan, err := Plan(f.m, f.tok, f.data, conds, Options{Mode: Generation, MaxTokens: 6, MaxItems: 1})
	require.NoError(t, err)
	for i, c := range plan.Conditions {
		got := opt.Work.Conditions[i]
		require.Equal(t, c.Tokens, got.Tokens, c.Condition)
		require.Equal(t, c.Passes, got.Passes, c.Condition)
		require.Less(t, c.Tokens, c.Unshared)
		require.LessOrEqual(t, got.DecodeTokens, c.MaxDecodeTokens)
	}
	t.Logf("generate mode, per condition: %d prefill tokens with the shared head, %d without", plan.Conditions[0].Tokens, plan.Conditions[0].Unshared)
}

// TestNaNOnSomeInputsOnly makes the activations NaN only at positions from
// P on, so exactly the questions that reach position P fail. The expected
// NaN orders come from the question lengths: a question runs positions
// 0..len(prefix)+len(longest letter)-2. Every other order must keep the
// bits of a run without the hook, although it shared passes with broken
// ones.
func TestNaNOnSomeInputsOnly(t *testing.T) {
	f := newJobFixture(t, true)
	clean, err := Run(context.Background(), f.m, f.tok, f.data, f.conds[:1], f.opt)
	require.NoError(t, err)

	lastPos := map[string][]int{} // item id -> last position of each order
	var all []int
	for _, r := range clean.Items {
		it, ok := f.data.ByID(r.ID)
		require.True(t, ok)
		p, err := prepareLikelihood(f.tok, it, []bool{false, true}, false, 0)
		require.NoError(t, err)
		for _, q := range p.qs {
			n := len(q.prefix) + max(len(q.conts[0]), len(q.conts[1])) - 2
			lastPos[r.ID] = append(lastPos[r.ID], n)
			all = append(all, n)
		}
	}
	slices.Sort(all)
	P := all[len(all)/2]
	require.Greater(t, P, all[0], "the cut must leave some questions clean")

	h := hooks.New(f.m.Config.Layers)
	require.NoError(t, h.Edit("blocks.1.mlp.hook_act", nanEditor(4, int32(P))))
	conds := []Condition{{Name: "none", Kind: "none", hooks: h}}
	res, err := Run(context.Background(), f.m, f.tok, f.data, conds, f.opt)
	require.NoError(t, err)
	_, err = res.Marshal()
	require.NoError(t, err)

	require.Len(t, res.Items, len(clean.Items))
	nanUnits, cleanUnits := 0, 0
	for i, r := range res.Items {
		c := clean.Items[i]
		require.Equal(t, c.ID, r.ID)
		var wantNaN []int
		for o, last := range lastPos[r.ID] {
			if last >= P {
				wantNaN = append(wantNaN, o)
				require.Equal(t, -1.0, r.Orders[o], "item %s order %d", r.ID, o)
			} else {
				require.Equal(t, c.Orders[o], r.Orders[o], "item %s order %d: same bits as without the hook", r.ID, o)
			}
		}
		if len(wantNaN) == 0 {
			cleanUnits++
			require.Equal(t, c, r)
			continue
		}
		nanUnits++
		require.True(t, r.NaN, "item %s", r.ID)
		require.False(t, r.Answered)
		require.Contains(t, r.Reason, "activations became NaN/Inf at layer 1")
	}
	require.Positive(t, nanUnits)
	require.Positive(t, cleanUnits)
	require.Len(t, res.NaN, nanUnits)
}

// TestGenerateNaNOnSomePromptsOnly is TestNaNOnSomeInputsOnly in generate
// mode: the activations go NaN from position P on, so a prompt of L tokens
// with L-1 ≥ P fails in its prefill, one with L+1 ≤ P never reaches P (two
// tokens are generated: positions up to L), and the others depend on
// whether the first answer token stops. The failing prompts' orders are
// NaN, the others keep the answers of a run without the hook.
func TestGenerateNaNOnSomePromptsOnly(t *testing.T) {
	f := newJobFixture(t, true)
	opt := f.opt
	opt.Mode, opt.MaxTokens = Generation, 2
	clean, err := Run(context.Background(), f.m, f.tok, f.data, f.conds[:1], opt)
	require.NoError(t, err)

	lens := map[string][]int{}
	var all []int
	for _, r := range clean.Items {
		it, ok := f.data.ByID(r.ID)
		require.True(t, ok)
		for _, swapped := range []bool{false, true} {
			text, err := prompt(f.tok, it, swapped, Generation, false)
			require.NoError(t, err)
			n := len(encode(f.tok, text, false))
			lens[r.ID] = append(lens[r.ID], n)
			all = append(all, n)
		}
	}
	slices.Sort(all)
	P := all[len(all)/2]

	h := hooks.New(f.m.Config.Layers)
	require.NoError(t, h.Edit("blocks.1.mlp.hook_act", nanEditor(4, int32(P))))
	res, err := Run(context.Background(), f.m, f.tok, f.data, []Condition{{Name: "none", Kind: "none", hooks: h}}, opt)
	require.NoError(t, err)
	_, err = res.Marshal()
	require.NoError(t, err)
	nan, fine := 0, 0
	for i, r := range res.Items {
		c := clean.Items[i]
		for o, L := range lens[r.ID] {
			switch {
			case L-1 >= P:
				nan++
				require.Equal(t, -1.0, r.Orders[o], "item %s order %d", r.ID, o)
				require.True(t, r.NaN)
				require.Contains(t, r.Reason, "activations became NaN/Inf")
			case L+1 <= P:
				fine++
				require.Equal(t, c.Texts[o], r.Texts[o], "item %s order %d", r.ID, o)
				require.Equal(t, c.Orders[o], r.Orders[o])
			}
		}
	}
	require.Positive(t, nan)
	require.Positive(t, fine)
}

// nanEditor writes NaN into column col of every row at position minPos or
// later, the way a broken weight or an overflow would make an activation
// NaN. (The library's neuron edits refuse a NaN value, so this is a raw
// editor.)
func nanEditor(col int, minPos int32) hooks.Editor {
	return hooks.EditorFunc(func(_ hooks.Point, t hooks.Tensor, rows *hooks.Rows) {
		for r := 0; r < t.Rows; r++ {
			if rows.Pos[r] >= minPos {
				t.Row(r)[col] = float32(math.NaN())
			}
		}
	})
}
