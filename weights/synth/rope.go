package synth

import "github.com/valueexploration/valueexp/weights"

// ropeScalingKV returns the "{arch}.rope.scaling.*" keys llama.cpp's
// converter writes for a YaRN-scaled model (Qwen2.5's long-context
// configs): type, factor and original context. Other scalings are written
// as tensors (llama3, longrope) or not at all.
func ropeScalingKV(s Shape) []weights.KV {
	rs := s.RopeScaling
	if rs.Type != "yarn" {
		return nil
	}
	a := s.Arch + "."
	return []weights.KV{
		{Key: a + "rope.scaling.type", Value: "yarn"},
		{Key: a + "rope.scaling.factor", Value: float32(rs.Factor)},
		{Key: a + "rope.scaling.original_context_length", Value: uint32(rs.OriginalMaxPositions)},
	}
}
