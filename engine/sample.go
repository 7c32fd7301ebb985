package engine

import (
	"fmt"
	"math"
	"math/rand/v2"
	"sort"
)

// Sampling configures how the next token is chosen from the logits. The zero
// value is greedy decoding (argmax).
type Sampling struct {
	// Temperature divides the logits; 0 means greedy.
	Temperature float32
	// TopK keeps the K most likely tokens (0: all).
	TopK int
	// TopP keeps the smallest set of most likely tokens whose probabilities
	// add up to at least TopP (0 or 1: all).
	TopP float32
	// MinP drops tokens whose probability is below MinP times the top one's.
	MinP float32
	// RepetitionPenalty divides positive logits and multiplies negative ones
	// of tokens already seen (the CTRL / Hugging Face rule); 0 or 1: off.
	RepetitionPenalty float32
	// RepetitionWindow limits the penalty to the last N tokens (0: all).
	RepetitionWindow int
	// Seed makes sampling reproducible.
	Seed uint64
}

// Validate reports a clear error for out-of-range settings.
func (s Sampling) Validate() error {
	switch {
	case s.Temperature < 0 || math.IsNaN(float64(s.Temperature)):
		return fmt.Errorf("temperature %g must be >= 0", s.Temperature)
	case s.TopK < 0:
		return fmt.Errorf("top-k %d must be >= 0", s.TopK)
	case s.TopP < 0 || s.TopP > 1:
		return fmt.Errorf("top-p %g must be in [0, 1]", s.TopP)
	case s.MinP < 0 || s.MinP > 1:
		return fmt.Errorf("min-p %g must be in [0, 1]", s.MinP)
	case s.RepetitionPenalty < 0:
		return fmt.Errorf("repetition penalty %g must be >= 0", s.RepetitionPenalty)
	case s.RepetitionWindow < 0:
		return fmt.Errorf("repetition window %d must be >= 0", s.RepetitionWindow)
	}
	return nil
}

// Sampler chooses tokens. It is not safe for concurrent use; make one per sequence.
type Sampler struct {
	cfg  Sampling
	rng  *rand.Rand
	idx  []int
	prob []float64
}

// NewSampler returns a sampler for the settings.
func NewSampler(s Sampling) *Sampler {
	return &Sampler{cfg: s, rng: rand.New(rand.NewPCG(s.Seed, s.Seed^0x9e3779b97f4a7c15))}
}

// Sample chooses the next token from logits (which it may modify) given the
// tokens of the sequence so far (for the repetition penalty). Empty logits
// give -1, an id no model accepts. Settings that Sampling.Validate refuses
// give unspecified tokens.
func (sp *Sampler) Sample(logits []float32, history []int32) int32 {
	if len(logits) == 0 {
		return -1
	}
	s := sp.cfg
	if s.RepetitionPenalty > 0 && s.RepetitionPenalty != 1 {
		h := history
		if s.RepetitionWindow > 0 && len(h) > s.RepetitionWindow {
			h = h[len(h)-s.RepetitionWindow:]
		}
		seen := make(map[int32]bool, len(h))
		for _, t := range h {
			if seen[t] || int(t) >= len(logits) || t < 0 {
				continue
			}
			seen[t] = true
			if logits[t] > 0 {
				logits[t] /= s.RepetitionPenalty
			} else {
				logits[t] *= s.RepetitionPenalty
			}
		}
	}
	if s.Temperature == 0 {
		return int32(argmax(logits))
	}
	// Sort candidate ids by logit, descending (ties by id, for determinism).
	idx := sp.idx[:0]
	for i := range logits {
		idx = append(idx, i)
	}
	sort.Slice(idx, func(a, b int) bool {
		la, lb := logits[idx[a]], logits[idx[b]]
		if la != lb {
			return la > lb
		}
		return idx[a] < idx[b]
	})
	if s.TopK > 0 && s.TopK < len(idx) {
		idx = idx[:s.TopK]
	}
	prob := sp.prob[:0]
	top := float64(logits[idx[0]])
	var sum float64
	for _, i := range idx {
		p := math.Exp((float64(logits[i]) - top) / float64(s.Temperature))
		prob = append(prob, p)
		sum += p
	}
	for i := range prob {
		prob[i] /= sum
	}
	keep := len(prob)
	if s.MinP > 0 {
		for keep > 1 && prob[keep-1] < float64(s.MinP)*prob[0] {
			keep--
		}
	}
	if s.TopP > 0 && s.TopP < 1 {
		var cum float64
		for i := 0; i < keep; i++ {
			cum += prob[i]
			if cum >= float64(s.TopP) {
				keep = i + 1
				break
			}
		}
	}
	var total float64
	for _, p := range prob[:keep] {
		total += p
	}
	u := sp.rng.Float64() * total
	choice := keep - 1
	for i, p := range prob[:keep] {
		u -= p
		if u < 0 {
			choice = i
			break
		}
	}
	sp.idx, sp.prob = idx, prob
	return int32(idx[choice])
}

func argmax(x []float32) int {
	best := 0
	for i, v := range x {
		if v > x[best] {
			best = i
		}
	}
	return best
}
