package engine

import (
	"context"
	"errors"
	"fmt"
	"strings"

	"github.com/valueexploration/valueexp/hooks"
)

// Decoder turns token ids into text (the tokenizer package's Tokenizer is one).
// Stop strings are searched for in its output, so it should return the text
// exactly as it is shown to the user: the tokenizer's Decode returns valid
// UTF-8, replacing ill-formed bytes the same way its StreamDecoder does, so
// that a streaming caller's cut and CutAtStop's agree.
type Decoder interface {
	Decode(ids []int32) string
}

// Prompt is one sequence to continue.
type Prompt struct {
	Tokens []int32
	Tag    int32 // passed to hooks for every row of this sequence; -1: none
	// Seq, if set, already holds the first Seq.Len() tokens of Tokens (for
	// example a clone of a prefilled prompt head shared by many prompts);
	// Generate continues it with the rest instead of starting an empty
	// sequence. Tokens is still the whole prompt (repetition penalties see
	// it), and at least one token must be left to feed.
	Seq *Sequence
}

// GenerateOptions control Generate.
type GenerateOptions struct {
	// MaxTokens is the most tokens generated per sequence (required, > 0).
	MaxTokens int
	Sampling  Sampling
	// StopTokens end a sequence when generated (not included in the text).
	// nil means the model's end-of-sequence ids (Config.EOS).
	StopTokens []int32
	// StopStrings end a sequence when its decoded text contains one; the
	// text is cut before it. They need Decoder.
	StopStrings []string
	// Decoder renders Completion.Text and is needed for StopStrings.
	Decoder Decoder
	// MaxContext caps prompt plus generated tokens (0: the model's context length).
	MaxContext int
	// Hooks are called on the prefill and on every decode step.
	Hooks *hooks.Hooks
	// OnToken, if set, is called after each sampled token of sequence seq
	// (the index into the prompts); an error stops generation and is returned.
	OnToken func(seq int, token int32) error
}

// FinishReason says why a sequence stopped.
type FinishReason string

// The finish reasons.
const (
	FinishStop    FinishReason = "stop"    // a stop token or stop string
	FinishLength  FinishReason = "length"  // MaxTokens reached
	FinishContext FinishReason = "context" // the context length reached
)

// Completion is what Generate produced for one prompt.
type Completion struct {
	Tokens []int32 // generated tokens, without the stop token
	Text   string  // decoded Tokens, cut at a stop string (empty without a Decoder)
	Finish FinishReason
}

// Generate continues every prompt: one packed prefill, then decode steps that
// advance all live sequences together. Each sequence samples with its own
// generator seeded from Sampling.Seed plus its index, so results do not depend
// on which other prompts share the batch.
//
// Options and prompts are checked before anything runs, and the hooks
// against the model (see Forward). When an error ends generation after the
// prefill (a failing hook, OnToken, ctx), the completions so far are returned
// with it; sequences that were still running have an empty Finish.
func (m *Model) Generate(ctx context.Context, prompts []Prompt, opt GenerateOptions) ([]Completion, error) {
	if opt.MaxTokens <= 0 {
		return nil, fmt.Errorf("engine: MaxTokens must be positive, got %d", opt.MaxTokens)
	}
	if err := opt.Sampling.Validate(); err != nil {
		return nil, fmt.Errorf("engine: sampling: %w", err)
	}
	if len(opt.StopStrings) > 0 && opt.Decoder == nil {
		return nil, errors.New("engine: stop strings need a Decoder")
	}
	maxCtx := opt.MaxContext
	if maxCtx <= 0 {
		maxCtx = m.Config.ContextLength
	}
	stop := map[int32]bool{}
	if opt.StopTokens != nil {
		for _, t := range opt.StopTokens {
			stop[t] = true
		}
	} else {
		for _, t := range m.Config.EOS {
			stop[int32(t)] = true
		}
	}
	n := len(prompts)
	seqs := make([]*Sequence, n)
	samplers := make([]*Sampler, n)
	history := make([][]int32, n)
	out := make([]Completion, n)
	inputs := make([]Input, n)
	for i, p := range prompts {
		if len(p.Tokens) == 0 {
			return nil, fmt.Errorf("engine: prompt %d is empty", i)
		}
		if maxCtx > 0 && len(p.Tokens) >= maxCtx {
			return nil, fmt.Errorf("engine: prompt %d has %d tokens, which leaves no room in the context length of %d", i, len(p.Tokens), maxCtx)
		}
		seqs[i] = m.NewSequence()
		feed := p.Tokens
		if p.Seq != nil {
			if p.Seq.Len() >= len(p.Tokens) {
				return nil, fmt.Errorf("engine: prompt %d: its sequence holds %d tokens, the prompt only %d; at least one must be left to feed", i, p.Seq.Len(), len(p.Tokens))
			}
			seqs[i], feed = p.Seq, p.Tokens[p.Seq.Len():]
		}
		s := opt.Sampling
		s.Seed += uint64(i)
		samplers[i] = NewSampler(s)
		history[i] = append([]int32(nil), p.Tokens...)
		inputs[i] = Input{Seq: seqs[i], Tokens: feed, Tag: p.Tag, Logits: LastLogits}
	}
	logits, err := m.Forward(ctx, inputs, RunOptions{Hooks: opt.Hooks, Phase: hooks.Prefill})
	if err != nil {
		return nil, err
	}
	live := make([]int, n) // indices of sequences still generating
	for i := range live {
		live[i] = i
	}
	for step := 1; len(live) > 0; step++ {
		var next []Input
		var nextLive []int
		for k, i := range live {
			tok := samplers[i].Sample(logits[k], history[i])
			if opt.OnToken != nil {
				if err := opt.OnToken(i, tok); err != nil {
					return out, err
				}
			}
			c := &out[i]
			if stop[tok] {
				c.Finish = FinishStop
				continue
			}
			c.Tokens = append(c.Tokens, tok)
			history[i] = append(history[i], tok)
			if opt.Decoder != nil {
				c.Text = opt.Decoder.Decode(c.Tokens)
				if cut, ok := CutAtStop(c.Text, opt.StopStrings); ok {
					c.Text, c.Finish = cut, FinishStop
					continue
				}
			}
			switch {
			case len(c.Tokens) >= opt.MaxTokens:
				c.Finish = FinishLength
				continue
			case maxCtx > 0 && seqs[i].Len()+1 >= maxCtx:
				c.Finish = FinishContext
				continue
			}
			next = append(next, Input{Seq: seqs[i], Tokens: []int32{tok}, Tag: prompts[i].Tag, Logits: LastLogits})
			nextLive = append(nextLive, i)
		}
		live = nextLive
		if len(live) == 0 {
			break
		}
		if logits, err = m.Forward(ctx, next, RunOptions{Hooks: opt.Hooks, Phase: hooks.Decode, Step: step}); err != nil {
			return out, err
		}
	}
	return out, nil
}

// CutAtStop returns text up to the earliest occurrence of any of the stop
// strings (empty ones are ignored), and whether one occurred: the rule
// Generate applies to Completion.Text.
func CutAtStop(text string, stops []string) (string, bool) {
	cut, found := len(text), false
	for _, s := range stops {
		if s == "" {
			continue
		}
		if i := strings.Index(text, s); i >= 0 && i < cut {
			cut, found = i, true
		}
	}
	return text[:cut], found
}
