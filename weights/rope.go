package weights

import (
	"encoding/json"
	"fmt"
	"math"
)

// Rope scaling as the two file formats state it. Hugging Face configs carry
// a "rope_scaling" object; GGUF files carry "{arch}.rope.scaling.*" keys and,
// for llama3 and LongRoPE, precomputed per-pair factors as tensors
// (rope_freqs.weight; rope_factors_short.weight and rope_factors_long.weight).
//
//   - longrope (Phi-3 128k, Phi-3.5, Phi-4-mini; older configs say "su"):
//     each pair's frequency is divided by its short factor when the context
//     fits OriginalMaxPositions and by its long factor beyond, and the
//     cosines and sines are multiplied by
//     AttnFactor = sqrt(1 + ln(s)/ln(orig)), s = max_position_embeddings/orig.
//   - yarn (Qwen2.5 long-context configs): frequencies blend between
//     interpolated (divided by Factor) and kept, by a ramp over the pairs
//     set by BetaFast and BetaSlow, and the cosines and sines are
//     multiplied by AttnFactor·(1 + 0.1·ln(Factor)).

// hfRopeScaling is a config.json "rope_scaling" object.
type hfRopeScaling struct {
	Type            string    `json:"type"`
	RopeType        string    `json:"rope_type"`
	Factor          float64   `json:"factor"`
	LowFreqFactor   float64   `json:"low_freq_factor"`
	HighFreqFactor  float64   `json:"high_freq_factor"`
	Original        int       `json:"original_max_position_embeddings"`
	ShortFactor     []float64 `json:"short_factor"`
	LongFactor      []float64 `json:"long_factor"`
	AttentionFactor *float64  `json:"attention_factor"`
	BetaFast        *float64  `json:"beta_fast"`
	BetaSlow        *float64  `json:"beta_slow"`
	Mscale          *float64  `json:"mscale"`
	MscaleAllDim    *float64  `json:"mscale_all_dim"`
	Truncate        *bool     `json:"truncate"`
}

// parseHFRopeScaling reads a config.json's rope_scaling (raw, possibly
// absent or null). maxPos is max_position_embeddings and origTop the
// top-level original_max_position_embeddings (0 when absent), which Phi-3
// configs state beside rope_scaling rather than inside it.
func parseHFRopeScaling(raw json.RawMessage, maxPos, origTop int) (RopeScaling, error) {
	if len(raw) == 0 || string(raw) == "null" {
		return RopeScaling{}, nil
	}
	var rs hfRopeScaling
	if err := json.Unmarshal(raw, &rs); err != nil {
		return RopeScaling{}, fmt.Errorf("rope_scaling: %w", err)
	}
	typ := rs.RopeType
	if typ == "" {
		typ = rs.Type
	}
	out := RopeScaling{Type: typ, Factor: rs.Factor, LowFreqFactor: rs.LowFreqFactor, HighFreqFactor: rs.HighFreqFactor, OriginalMaxPositions: rs.Original}
	switch typ {
	case "default":
		return RopeScaling{}, nil
	case "su", "longrope":
		out.Type = "longrope"
		// transformers holds the factors and the attention factor in
		// float32 (a Python float multiplying a float32 tensor is rounded
		// to float32), as llama.cpp's GGUF does.
		out.ShortFactor, out.LongFactor = roundF32(rs.ShortFactor), roundF32(rs.LongFactor)
		// As transformers' _compute_longrope_parameters: a top-level
		// original_max_position_embeddings sets both the original context
		// and the extension factor.
		if origTop > 0 {
			out.OriginalMaxPositions = origTop
			out.Factor = float64(maxPos) / float64(origTop)
		}
		if out.OriginalMaxPositions == 0 {
			out.OriginalMaxPositions = maxPos
		}
		if out.Factor == 0 {
			out.Factor = 1
		}
		out.AttnFactor = longRopeAttnFactor(out.Factor, out.OriginalMaxPositions)
		if rs.AttentionFactor != nil {
			out.AttnFactor = *rs.AttentionFactor
		}
		out.AttnFactor = float64(float32(out.AttnFactor))
	case "yarn":
		if rs.Mscale != nil || rs.MscaleAllDim != nil {
			return out, fmt.Errorf("rope_scaling: yarn with mscale or mscale_all_dim (DeepSeek's variant) is not supported")
		}
		if rs.Truncate != nil && !*rs.Truncate {
			return out, fmt.Errorf("rope_scaling: yarn with truncate false (an unrounded correction range, gpt-oss) is not supported")
		}
		if out.OriginalMaxPositions == 0 {
			out.OriginalMaxPositions = maxPos
		}
		if rs.BetaFast != nil {
			out.BetaFast = *rs.BetaFast
		}
		if rs.BetaSlow != nil {
			out.BetaSlow = *rs.BetaSlow
		}
		// Hugging Face's attention_factor replaces 1 + 0.1·ln(factor);
		// llama.cpp's attn_factor multiplies it. Keep llama.cpp's meaning.
		if rs.AttentionFactor != nil {
			if m := yarnMscale(out.Factor); m > 0 {
				out.AttnFactor = *rs.AttentionFactor / m
			}
		}
	}
	return out, nil
}

// roundF32 rounds every value to float32.
func roundF32(v []float64) []float64 {
	out := make([]float64, len(v))
	for i, x := range v {
		out[i] = float64(float32(x))
	}
	return out
}

// longRopeAttnFactor is LongRoPE's cosine and sine scale for a context
// extended s times past orig positions.
func longRopeAttnFactor(s float64, orig int) float64 {
	if s <= 1 || orig <= 1 {
		return 1
	}
	return math.Sqrt(1 + math.Log(s)/math.Log(float64(orig)))
}

// yarnMscale is YaRN's cosine and sine scale for a factor: 1 + 0.1·ln(f)
// (1 for f <= 1).
func yarnMscale(f float64) float64 {
	if f <= 1 {
		return 1
	}
	return 1 + 0.1*math.Log(f)
}

// ggufRopeScaling completes c.RopeScaling from what a GGUF file adds to the
// "rope.scaling.type" keys configFromGGUF reads: the attention factor
// ("{arch}.rope.scaling.attn_factor", which llama.cpp applies to every
// architecture), YaRN's default original context (the training context, as
// in llama.cpp), and LongRoPE's factor tensors (rope_factors_short.weight
// and rope_factors_long.weight, written by llama.cpp's Phi-3 converter
// with no scaling type key).
func ggufRopeScaling(g *GGUF, c *Config, tensors map[string]*Tensor) error {
	a := c.Arch + "."
	if v, ok := g.Float(a + "rope.scaling.attn_factor"); ok {
		c.RopeScaling.AttnFactor = v
	} else if _, present := g.Get(a + "rope.scaling.attn_factor"); present {
		return fmt.Errorf("metadata key %q is not a number", a+"rope.scaling.attn_factor")
	}
	if c.RopeScaling.Type == "yarn" && c.RopeScaling.OriginalMaxPositions == 0 {
		c.RopeScaling.OriginalMaxPositions = c.ContextLength
	}
	short, hasShort := tensors["rope_factors_short.weight"]
	long, hasLong := tensors["rope_factors_long.weight"]
	if !hasShort && !hasLong {
		return nil
	}
	if c.Arch != "phi3" {
		return fmt.Errorf("rope_factors_short.weight and rope_factors_long.weight (LongRoPE) are read for phi3 models only, not %s", c.Arch)
	}
	if hasShort != hasLong {
		return fmt.Errorf("the file holds only one of rope_factors_short.weight and rope_factors_long.weight; LongRoPE needs both")
	}
	if c.RopeScaling.Type != "" && c.RopeScaling.Type != "longrope" && c.RopeScaling.Type != "none" {
		return fmt.Errorf("rope_factors_short.weight and rope_factors_long.weight (LongRoPE) contradict %q = %q", a+"rope.scaling.type", c.RopeScaling.Type)
	}
	rs := &c.RopeScaling
	rs.Type = "longrope"
	for _, f := range []struct {
		t   *Tensor
		dst *[]float64
	}{{short, &rs.ShortFactor}, {long, &rs.LongFactor}} {
		if len(f.t.Shape) != 1 || f.t.Elems() != c.RopeDim/2 {
			return fmt.Errorf("tensor %q: shape %v, want [%d] (half the rotated dimensions, %s)", f.t.Name, f.t.Shape, c.RopeDim/2, a+"rope.dimension_count")
		}
		v, err := f.t.Float32()
		if err != nil {
			return err
		}
		*f.dst = make([]float64, len(v))
		for i, x := range v {
			(*f.dst)[i] = float64(x)
		}
	}
	if rs.OriginalMaxPositions == 0 {
		rs.OriginalMaxPositions = c.ContextLength
		if v, ok := g.Int(a + "rope.scaling.original_context_length"); ok && v > 0 && v <= math.MaxInt32 {
			rs.OriginalMaxPositions = int(v)
		}
	}
	if rs.OriginalMaxPositions > 0 && c.ContextLength > 0 {
		rs.Factor = float64(c.ContextLength) / float64(rs.OriginalMaxPositions)
	}
	if rs.Factor == 0 {
		rs.Factor = 1
	}
	return nil
}

// ggufRopeTensor reports whether name is a rope tensor a GGUF file may
// carry beside the weights (read into the config or by the engine).
func ggufRopeTensor(name string) bool {
	switch name {
	case "rope_freqs.weight", "rope_factors_short.weight", "rope_factors_long.weight":
		return true
	}
	return false
}

// validateRopeScaling checks c.RopeScaling against c.
func validateRopeScaling(c Config) error {
	rs := c.RopeScaling
	finite := func(v float64) bool { return !math.IsNaN(v) && !math.IsInf(v, 0) }
	switch rs.Type {
	case "", "linear", "llama3", "longrope", "yarn":
	default:
		return fmt.Errorf("config: rope scaling type %q is not supported (supported: linear, llama3, longrope, yarn)", rs.Type)
	}
	if rs.Type != "" && !(rs.Factor > 0 && finite(rs.Factor)) {
		return fmt.Errorf("config: rope scaling %q needs a positive finite factor, got %g", rs.Type, rs.Factor)
	}
	if rs.OriginalMaxPositions < 0 || !(rs.AttnFactor >= 0 && finite(rs.AttnFactor)) || !(rs.BetaFast >= 0 && finite(rs.BetaFast)) || !(rs.BetaSlow >= 0 && finite(rs.BetaSlow)) {
		return fmt.Errorf("config: rope scaling original context %d, attention factor %g and betas %g, %g must be finite and not negative",
			rs.OriginalMaxPositions, rs.AttnFactor, rs.BetaFast, rs.BetaSlow)
	}
	switch rs.Type {
	case "", "linear", "llama3":
		if !(rs.LowFreqFactor >= 0 && rs.HighFreqFactor >= 0) || math.IsInf(rs.LowFreqFactor+rs.HighFreqFactor, 0) {
			return fmt.Errorf("config: rope scaling original context %d and frequency factors %g, %g must be finite and not negative", rs.OriginalMaxPositions, rs.LowFreqFactor, rs.HighFreqFactor)
		}
	case "longrope":
		if rs.OriginalMaxPositions <= 0 {
			return fmt.Errorf("config: longrope scaling needs the original context length (original_max_position_embeddings)")
		}
		for _, f := range []struct {
			name string
			v    []float64
		}{{"short_factor", rs.ShortFactor}, {"long_factor", rs.LongFactor}} {
			if len(f.v) != c.RopeDim/2 {
				return fmt.Errorf("config: longrope %s has %d values, want %d (half the %d rotated dimensions)", f.name, len(f.v), c.RopeDim/2, c.RopeDim)
			}
			for i, x := range f.v {
				if !(x > 0) || !finite(x) {
					return fmt.Errorf("config: longrope %s[%d] is %g, want a positive finite number", f.name, i, x)
				}
			}
		}
	case "yarn":
		if rs.OriginalMaxPositions <= 0 {
			return fmt.Errorf("config: yarn scaling needs the original context length (original_max_position_embeddings)")
		}
	}
	return nil
}

// ropeScalingDetail describes the parts of a LongRoPE or YaRN scaling that
// inspect shows beyond its type and factor.
func ropeScalingDetail(rs RopeScaling) string {
	var d string
	if rs.OriginalMaxPositions > 0 && (rs.Type == "longrope" || rs.Type == "yarn") {
		d += fmt.Sprintf(" of %d original positions", rs.OriginalMaxPositions)
	}
	if rs.AttnFactor > 0 && rs.AttnFactor != 1 {
		d += fmt.Sprintf(", attention factor %.6g", rs.AttnFactor)
	}
	if rs.Type == "longrope" {
		d += fmt.Sprintf(", %d short and long factors (long ones beyond the original context)", len(rs.ShortFactor))
	}
	return d
}
