package evaluate

import (
	"context"
	"errors"
	"fmt"
	"math"

	"github.com/valueexploration/valueexp/engine"
	"github.com/valueexploration/valueexp/hooks"
	"github.com/valueexploration/valueexp/tokenizer"
	"github.com/valueexploration/valueexp/valueexp/cvoice"
)

// question is one item asked in one option order, tokenized: the prompt
// shared by both answers and the continuation of each answer letter.
type question struct {
	swapped bool
	prefix  []int32
	conts   [2][]int32
}

// prepared is an item's questions (one per order asked), tokenized once and
// reused by every condition.
type prepared struct {
	lang cvoice.Language
	qs   []question
}

// prepareLikelihood tokenizes an item's forced-choice questions.
func prepareLikelihood(tok *tokenizer.Tokenizer, it cvoice.Item, orders []bool, chat bool, ctxLen int) (*prepared, error) {
	p := &prepared{lang: it.Language}
	for _, swapped := range orders {
		text, err := prompt(tok, it, swapped, Likelihood, chat)
		if err != nil {
			return nil, fmt.Errorf("item %s: %w", it.ID, err)
		}
		prefix, conts, err := splitOptions(tok, text, chat)
		if err != nil {
			return nil, fmt.Errorf("item %s: %w", it.ID, err)
		}
		if n := len(prefix) + max(len(conts[0]), len(conts[1])); ctxLen > 0 && n > ctxLen {
			return nil, fmt.Errorf("item %s: the question takes %d tokens, more than the model's context length %d", it.ID, n, ctxLen)
		}
		p.qs = append(p.qs, question{swapped: swapped, prefix: prefix, conts: conts})
	}
	return p, nil
}

// commonPrefix returns the length of the longest common prefix of a and b.
func commonPrefix(a, b []int32) int {
	k := 0
	for k < len(a) && k < len(b) && a[k] == b[k] {
		k++
	}
	return k
}

// scorer runs the forced-choice questions of one condition, sharing work:
//
//   - the head, the tokens every question of a language starts with (BOS,
//     chat-template head, "Hypothetical dilemma:"), is run once per condition
//     and language and cloned for every item;
//   - the stem, what the two option orders of an item share (the dilemma up
//     to the first option), is run once per item and cloned for the second
//     order;
//   - the tails (the rest of each order's prompt) get the logits of the
//     answer letter; a letter of several tokens continues a clone.
//
// Passes are pipelined: one forward pass holds the tails of the items whose
// stems ran in the previous pass and the stems of the next items, filled up
// to batchTokens, so passes stay full although every item needs two steps.
// The engine's results do not depend on how tokens are cut into passes or
// packed together (engine invariants), so the probabilities are bit-identical
// to running every question on its own.
type scorer struct {
	ctx         context.Context
	m           *engine.Model
	hooks       *hooks.Hooks
	batchTokens int
	// dry counts the tokens and passes without running the model.
	dry  bool
	work *CondWork
	// failTo is set when run stops at a NonFiniteError: the items before
	// it (from the first not emitted) were in the pass that failed.
	failTo int
}

// forward runs one pass (or, dry, only counts it).
func (s *scorer) forward(in []engine.Input) ([][]float32, error) {
	if len(in) == 0 {
		return nil, nil
	}
	s.work.Passes++
	for _, x := range in {
		s.work.Tokens += int64(len(x.Tokens))
	}
	if s.dry {
		return make([][]float32, len(in)), nil
	}
	return s.m.Forward(s.ctx, in, engine.RunOptions{Hooks: s.hooks})
}

// newSeq returns a fresh sequence (none in a dry run).
func (s *scorer) newSeq() *engine.Sequence {
	if s.dry {
		return nil
	}
	return s.m.NewSequence()
}

func (s *scorer) clone(q *engine.Sequence) *engine.Sequence {
	if s.dry {
		return nil
	}
	return q.Clone()
}

// inflight is an item between its stem pass and its tail pass.
type inflight struct {
	p     *prepared
	seq   *engine.Sequence // head + stem
	stem  []int32
	tails [][]int32
}

// run scores the items ps in order and calls emit with each item's aligned
// shares (one per order; empty in a dry run), in order, as they complete.
// passDone is called after every pass that completed items.
func (s *scorer) run(ps []*prepared, emit func(k int, shares []float64) error, passDone func() error) error {
	// Heads: per language, the longest prefix every question starts with,
	// leaving each question at least one token of its own.
	type head struct {
		toks []int32
		seq  *engine.Sequence
		set  bool
	}
	heads := map[cvoice.Language]*head{}
	var langs []cvoice.Language
	for _, p := range ps {
		h := heads[p.lang]
		if h == nil {
			h = &head{}
			heads[p.lang] = h
			langs = append(langs, p.lang)
		}
		for _, q := range p.qs {
			if !h.set {
				h.toks, h.set = q.prefix[:len(q.prefix)-1], true
				continue
			}
			h.toks = h.toks[:commonPrefix(h.toks, q.prefix[:len(q.prefix)-1])]
		}
	}
	var in []engine.Input
	for _, l := range langs {
		h := heads[l]
		h.seq = s.newSeq()
		if len(h.toks) > 0 {
			in = append(in, engine.Input{Seq: h.seq, Tokens: h.toks, Tag: -1, Logits: engine.NoLogits})
		}
	}
	if _, err := s.forward(in); err != nil {
		s.failTo = len(ps)
		return err
	}

	// plan splits an item into stem and tails after its language's head.
	plan := func(p *prepared) *inflight {
		h := len(heads[p.lang].toks)
		f := &inflight{p: p}
		stem := 0
		if len(p.qs) > 1 {
			stem = len(p.qs[0].prefix) - h - 1
			for _, q := range p.qs[1:] {
				stem = min(stem, commonPrefix(p.qs[0].prefix[h:], q.prefix[h:]), len(q.prefix)-h-1)
			}
		}
		f.stem = p.qs[0].prefix[h : h+stem]
		for _, q := range p.qs {
			f.tails = append(f.tails, q.prefix[h+stem:])
		}
		return f
	}
	sum := func(ts [][]int32) int {
		n := 0
		for _, t := range ts {
			n += len(t)
		}
		return n
	}

	next, emitted := 0, 0
	var carried []*inflight
	for next < len(ps) || len(carried) > 0 {
		in = in[:0]
		tokens := 0
		var tails []int // the carried item of each tail input
		for fi, f := range carried {
			for o, t := range f.tails {
				seq := f.seq
				if o < len(f.tails)-1 {
					seq = s.clone(f.seq)
				}
				in = append(in, engine.Input{Seq: seq, Tokens: t, Tag: -1, Logits: engine.LastLogits})
				tails = append(tails, fi)
				tokens += len(t)
			}
		}
		var admitted []*inflight
		nextTails := 0
		for next < len(ps) {
			f := plan(ps[next])
			if len(in) > 0 && tokens+len(f.stem) > s.batchTokens {
				break
			}
			if t := sum(f.tails); len(admitted) > 0 && nextTails+t > s.batchTokens {
				break
			}
			f.seq = s.clone(heads[f.p.lang].seq)
			if len(f.stem) > 0 {
				in = append(in, engine.Input{Seq: f.seq, Tokens: f.stem, Tag: -1, Logits: engine.NoLogits})
			}
			tokens += len(f.stem)
			nextTails += sum(f.tails)
			admitted = append(admitted, f)
			next++
		}
		s.failTo = next
		out, err := s.forward(in)
		if err != nil {
			return err
		}
		if len(carried) > 0 {
			if err := s.finish(carried, in[:len(tails)], out[:len(tails)], func(shares []float64) error {
				if err := emit(emitted, shares); err != nil {
					return err
				}
				emitted++
				return nil
			}); err != nil {
				return err
			}
			if err := passDone(); err != nil {
				return err
			}
		}
		carried = admitted
	}
	return nil
}

// runRobust is run that survives NaN: when a pass fails with an
// engine.NonFiniteError, the items of that pass are run again one at a time
// (and an item that fails alone, one order at a time), the orders that fail
// alone get a NaN share and the engine's message as reason, and the rest of
// the items are run packed again. The engine's results do not depend on the
// packing, so the shares of the items that are fine are the same bits as in
// a run without the broken ones. Other errors stop the run.
func (s *scorer) runRobust(ps []*prepared, emit func(shares []float64, reason string) error, passDone func() error) error {
	from := 0
	for from < len(ps) {
		done := from
		err := s.run(ps[from:], func(k int, shares []float64) error {
			done = from + k + 1
			return emit(shares, "")
		}, passDone)
		var nf *engine.NonFiniteError
		if err == nil || s.dry || !errors.As(err, &nf) {
			return err
		}
		to := from + s.failTo
		for i := done; i < to; i++ {
			shares, reason, err := s.alone(ps[i])
			if err != nil {
				return err
			}
			if err := emit(shares, reason); err != nil {
				return err
			}
		}
		if err := passDone(); err != nil {
			return err
		}
		from = to
	}
	return nil
}

// alone scores one item on its own, and if that fails with a
// NonFiniteError, each of its orders on its own: an order that still fails
// gets a NaN share, and reason is the first such error's message.
func (s *scorer) alone(p *prepared) (shares []float64, reason string, err error) {
	one := func(p *prepared) ([]float64, error) {
		var got []float64
		err := s.run([]*prepared{p}, func(_ int, sh []float64) error {
			got = sh
			return nil
		}, func() error { return nil })
		return got, err
	}
	got, err := one(p)
	var nf *engine.NonFiniteError
	if err == nil || !errors.As(err, &nf) {
		return got, "", err
	}
	for _, q := range p.qs {
		got, err := one(&prepared{lang: p.lang, qs: []question{q}})
		switch {
		case err == nil:
			shares = append(shares, got[0])
		case errors.As(err, &nf):
			shares = append(shares, math.NaN())
			if reason == "" {
				reason = nf.Error()
			}
		default:
			return nil, "", err
		}
	}
	return shares, reason, nil
}

// finish scores the answer letters of the carried items from their tail
// logits, running one more pass for letters of several tokens, and emits
// the items in order.
func (s *scorer) finish(carried []*inflight, tailIn []engine.Input, tailOut [][]float32, emit func(shares []float64) error) error {
	lps := make([][][2]float64, len(carried))
	var more []engine.Input
	type moreAt struct{ f, o, opt int }
	var at []moreAt
	k := -1 // the tail input of (fi, o): carried order, then option order
	for fi, f := range carried {
		lps[fi] = make([][2]float64, len(f.p.qs))
		for o, q := range f.p.qs {
			k++
			for opt := 0; opt < 2; opt++ {
				if !s.dry {
					lps[fi][o][opt] = logProb(tailOut[k], q.conts[opt][0])
				}
				if len(q.conts[opt]) > 1 {
					// Multi-token answer: continue a copy of the prompt.
					seq := tailIn[k].Seq
					if opt == 0 {
						seq = s.clone(seq)
					}
					more = append(more, engine.Input{Seq: seq, Tokens: q.conts[opt][:len(q.conts[opt])-1], Tag: -1, Logits: engine.AllLogits})
					at = append(at, moreAt{fi, o, opt})
				}
			}
		}
	}
	out, err := s.forward(more)
	if err != nil {
		return err
	}
	if !s.dry {
		V := s.m.Config.VocabSize
		for k, a := range at {
			rest := carried[a.f].p.qs[a.o].conts[a.opt][1:]
			for j, t := range rest {
				lps[a.f][a.o][a.opt] += logProb(out[k][j*V:(j+1)*V], t)
			}
		}
	}
	for fi, f := range carried {
		var shares []float64
		if !s.dry {
			for o, q := range f.p.qs {
				lp := lps[fi][o]
				// P(A) / (P(A) + P(B)), computed stably.
				pA := 1 / (1 + math.Exp(lp[1]-lp[0]))
				aligned := pA
				if q.swapped {
					aligned = 1 - pA
				}
				shares = append(shares, aligned)
			}
		}
		if err := emit(shares); err != nil {
			return err
		}
	}
	return nil
}

// unsharedTokens is what the questions cost when each order is run on its
// own, as evaluate did before prefix sharing: every prompt in full plus the
// extra tokens of multi-token letters.
func unsharedTokens(p *prepared) int64 {
	var n int64
	for _, q := range p.qs {
		n += int64(len(q.prefix))
		for _, c := range q.conts {
			n += int64(len(c) - 1)
		}
	}
	return n
}
