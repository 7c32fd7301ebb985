package engine

import (
	"fmt"
	"math"

	"github.com/valueexploration/valueexp/weights"
)

// ropeSetup returns the rotary inverse frequencies of c, the scale of the
// rotary cosines and sines, and the longest sequence the rope serves (0:
// no limit). LongRoPE and YaRN are computed here, the other scalings by
// ropeInvFreq.
//
// LongRoPE divides each pair's frequency by a factor: the short factors
// when opts.ContextLength is within the original context (the sequences
// must then stay within it), the long ones beyond. This is llama.cpp's
// rule (it chooses by its context size); Hugging Face instead chooses by
// the length of the sequence in each forward pass, which gives the same
// rotation for every sequence that fits the original context.
func ropeSetup(c weights.Config, w *weights.Model, opts Options) (inv []float64, mscale float64, maxPos int, err error) {
	rs := c.RopeScaling
	mscale = 1
	if rs.AttnFactor > 0 {
		mscale = rs.AttnFactor
	}
	switch rs.Type {
	case "longrope":
		inv = plainInvFreq(c)
		factors := rs.LongFactor
		if opts.ContextLength <= rs.OriginalMaxPositions {
			factors, maxPos = rs.ShortFactor, rs.OriginalMaxPositions
		}
		if len(factors) != len(inv) {
			return nil, 0, 0, fmt.Errorf("longrope: %d factors for %d rotated pairs", len(factors), len(inv))
		}
		for j := range inv {
			inv[j] /= factors[j]
		}
		return inv, mscale, maxPos, nil
	case "yarn":
		inv = plainInvFreq(c)
		// One float32 scale, as llama.cpp computes it and as transformers
		// applies it to its float32 cosines.
		return inv, float64(float32(mscale * yarnScale(inv, c))), 0, nil
	}
	inv, err = ropeInvFreq(c, w)
	return inv, mscale, 0, err
}

// plainInvFreq returns theta^(-2j/d) for each rotated pair j.
func plainInvFreq(c weights.Config) []float64 {
	d := c.RopeDim
	inv := make([]float64, d/2)
	for j := range inv {
		inv[j] = 1 / math.Pow(c.RopeTheta, float64(2*j)/float64(d))
	}
	return inv
}

// yarnScale applies YaRN to inv in place and returns its cosine and sine
// scale, 1 + 0.1·ln(factor). Pair j keeps its frequency (extrapolation) below
// the correction range [low, high] that beta_fast and beta_slow set, is
// divided by the factor (interpolation) above it, and blends linearly in
// between, as llama.cpp's rope_yarn and transformers' _compute_yarn_parameters
// do (llama.cpp blends the angles, transformers the frequencies: the same
// numbers).
func yarnScale(inv []float64, c weights.Config) float64 {
	rs := c.RopeScaling
	betaFast, betaSlow := rs.BetaFast, rs.BetaSlow
	if betaFast == 0 {
		betaFast = 32
	}
	if betaSlow == 0 {
		betaSlow = 1
	}
	d := float64(c.RopeDim)
	// The pair whose wavelength makes `rotations` turns over the original context.
	corr := func(rotations float64) float64 {
		return d * math.Log(float64(rs.OriginalMaxPositions)/(rotations*2*math.Pi)) / (2 * math.Log(c.RopeTheta))
	}
	low := math.Max(0, math.Floor(corr(betaFast)))
	high := math.Min(d-1, math.Ceil(corr(betaSlow)))
	for j, f := range inv {
		y := (float64(j) - low) / math.Max(0.001, high-low)
		keep := 1 - math.Min(1, math.Max(0, y))
		inv[j] = f/rs.Factor*(1-keep) + f*keep
	}
	return 1 + 0.1*math.Log(rs.Factor)
}

// positionsError explains a sequence that would grow past the positions the
// model's rope serves (LongRoPE's short factors).
func (m *Model) positionsError(input, n int) error {
	return fmt.Errorf("engine: input %d: the sequence would hold %d tokens, more than the %d positions of the model's LongRoPE short factors (its original context length); a context length above %d (engine.Options.ContextLength) selects its long factors, as llama.cpp does for -c above %d",
		input, n, m.maxPositions, m.maxPositions, m.maxPositions)
}
