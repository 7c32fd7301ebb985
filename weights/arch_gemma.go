package weights

import (
	"encoding/json"
	"fmt"
	"math"
	"strings"
)

// The Gemma family (Gemma 2, Gemma 3 text) differs from llama only by data:
//
//   - GeGLU feed-forward: gelu_tanh(gate) * up (Config.FFNAct "gelu_tanh");
//   - RMSNorm with weight (1 + w): Hugging Face stores w, llama.cpp's
//     converter stores 1 + w in the GGUF. Open presents the GGUF convention,
//     so a Hugging Face folder's norm weights get 1 added (in float32, as
//     the reference computes 1.0 + w.float()) when it is opened;
//   - norms before and after attention and feed-forward (Config.PostNorms,
//     tensors post_attention_norm and post_ffw_norm);
//   - embeddings scaled by sqrt(hidden) (Config.EmbedScale);
//   - attention scores scaled by query_pre_attn_scalar^-1/2
//     (Config.AttnScale), and soft-capped (Gemma 2, Config.AttnSoftcap), and
//     the logits soft-capped (Gemma 2, Config.FinalSoftcap);
//   - sliding-window layers interleaved with global ones
//     (Config.SlidingPattern: every second layer global in Gemma 2, every
//     sixth in Gemma 3), and for Gemma 3 a second rope base for the local
//     layers (Config.RopeThetaLocal);
//   - per-head q/k norms (Gemma 3, Config.QKNorm).

// isGemma reports whether arch is one of the Gemma architectures.
func isGemma(arch string) bool { return arch == "gemma2" || arch == "gemma3" }

// IsSliding reports whether layer l attends within SlidingWindow (false:
// it attends to the whole causal context).
func (c Config) IsSliding(l int) bool {
	if c.SlidingWindow <= 0 {
		return false
	}
	if c.SlidingPattern <= 1 {
		return true
	}
	return l%c.SlidingPattern != c.SlidingPattern-1
}

// gemmaLayerNames maps the Hugging Face names of a Gemma decoder layer that
// differ from llama's: in Gemma, post_attention_layernorm normalises the
// attention output, and pre_feedforward_layernorm is the FFN input norm.
var gemmaLayerNames = map[string]string{
	"post_attention_layernorm.weight":   "post_attention_norm.weight",
	"pre_feedforward_layernorm.weight":  "ffn_norm.weight",
	"post_feedforward_layernorm.weight": "post_ffw_norm.weight",
}

// archLayerNames holds, per architecture, the layer tensor names whose
// meaning differs from hfLayerMap's.
var archLayerNames = map[string]map[string]string{
	"gemma2":  gemmaLayerNames,
	"gemma3":  gemmaLayerNames,
	"phi3":    phi3LayerNames,
	"chatglm": glmLayerNames,
	"glm4":    glmLayerNames,
}

// canonicalFor is CanonicalName for a model of architecture arch: names
// whose meaning depends on the architecture are mapped by archLayerNames,
// and the text model of a Gemma 3 multimodal checkpoint
// ("language_model.model.X" or "model.language_model.X") is read as "model.X".
func canonicalFor(arch, hf string) (string, bool) {
	if arch == "gemma3" {
		for _, p := range []string{"language_model.model.", "model.language_model."} {
			if rest, ok := strings.CutPrefix(hf, p); ok {
				hf = "model." + rest
				break
			}
		}
		if hf == "language_model.lm_head.weight" {
			hf = "lm_head.weight"
		}
	}
	if name, ok := moeCanonical(arch, hf); ok {
		return name, true
	}
	if names := archLayerNames[arch]; names != nil {
		if m := hfLayerName.FindStringSubmatch(hf); m != nil {
			if g, ok := names[m[2]]; ok {
				return "blk." + m[1] + "." + g, true
			}
		}
	}
	return CanonicalName(hf)
}

// skipHFTensor reports whether a checkpoint tensor belongs to a part of the
// model the engine does not run (the vision tower of a Gemma 3 multimodal
// checkpoint), so that it is neither loaded nor refused as unused.
func skipHFTensor(arch, hf string) bool {
	if arch != "gemma3" {
		return false
	}
	for _, p := range []string{"vision_tower.", "multi_modal_projector.", "model.vision_tower.", "model.multi_modal_projector."} {
		if strings.HasPrefix(hf, p) {
			return true
		}
	}
	return false
}

// postNormSuffixes are the layer tensors PostNorms adds.
var postNormSuffixes = []string{"post_attention_norm.weight", "post_ffw_norm.weight"}

// shiftNorms adds 1 to every norm weight of a Hugging Face Gemma folder, so
// that the model presents the GGUF convention (the weight the normalised
// vector is multiplied by). The shifted weights are F32 copies.
func shiftNorms(m *Model) error {
	if !isGemma(m.Config.Arch) {
		return nil
	}
	for name, t := range m.Tensors {
		if !strings.HasSuffix(name, "norm.weight") {
			continue
		}
		v, err := t.Float32()
		if err != nil {
			return fmt.Errorf("tensor %q: %w", m.fileName(name), err)
		}
		for i := range v {
			v[i] = float32(1 + v[i])
		}
		nt := *t
		nt.DType, nt.Data, nt.RowOrder = F32, Float32Bytes(v), nil
		m.Tensors[name] = &nt
	}
	return nil
}

// gemmaGGUF reads the Gemma keys llama.cpp's converter writes
// ("{arch}.attn_logit_softcapping", "{arch}.final_logit_softcapping",
// "{arch}.attention.sliding_window") and sets what llama.cpp derives from
// the architecture: the query scale (1/sqrt(head_dim), or 1/sqrt(hidden /
// heads) for the 27B models, as llama.cpp decides by layer count), the
// sliding pattern and Gemma 3's local rope base (10000 unless
// "{arch}.rope.freq_base_swa" says otherwise).
func gemmaGGUF(g *GGUF, c *Config) error {
	if !isGemma(c.Arch) {
		return nil
	}
	a := c.Arch + "."
	getf := func(key string, def float64) (float64, error) {
		if v, ok := g.Float(a + key); ok {
			return v, nil
		}
		if _, present := g.Get(a + key); present {
			return 0, fmt.Errorf("metadata key %q is not a number", a+key)
		}
		return def, nil
	}
	c.FFNAct, c.PostNorms = "gelu_tanh", true
	c.EmbedScale = math.Sqrt(float64(c.HiddenSize))
	scalar := float64(c.HeadDim)
	if (c.Arch == "gemma2" && c.Layers == 46) || (c.Arch == "gemma3" && c.Layers == 62) {
		scalar = float64(c.HiddenSize / c.Heads)
	}
	c.AttnScale = 1 / math.Sqrt(scalar)
	var err error
	switch c.Arch {
	case "gemma2":
		c.SlidingPattern = 2
		if c.SlidingWindow == 0 {
			c.SlidingWindow = 4096 // llama.cpp's default for Gemma 2
		}
		if c.AttnSoftcap, err = getf("attn_logit_softcapping", 50); err != nil {
			return err
		}
		if c.FinalSoftcap, err = getf("final_logit_softcapping", 30); err != nil {
			return err
		}
	case "gemma3":
		c.SlidingPattern = 6
		if c.RopeThetaLocal, err = getf("rope.freq_base_swa", 10000); err != nil {
			return err
		}
		if c.FinalSoftcap, err = getf("final_logit_softcapping", 0); err != nil {
			return err
		}
		if c.AttnSoftcap, err = getf("attn_logit_softcapping", 0); err != nil {
			return err
		}
	}
	if v, ok := g.Int(a + "attention.sliding_window_pattern"); ok {
		c.SlidingPattern = int(max(min(v, math.MaxInt32), 0))
	}
	return nil
}

// gemmaHFConfig holds the config.json fields of Gemma 2 and 3 beyond
// hfConfig's.
type gemmaHFConfig struct {
	HiddenActivation   string          `json:"hidden_activation"`
	QueryPreAttnScalar *float64        `json:"query_pre_attn_scalar"`
	AttnSoftcap        json.RawMessage `json:"attn_logit_softcapping"` // null: none
	FinalSoftcap       json.RawMessage `json:"final_logit_softcapping"`
	RopeLocalBase      *float64        `json:"rope_local_base_freq"`
	SlidingPattern     *int            `json:"sliding_window_pattern"`
	LayerTypes         []string        `json:"layer_types"`
	TextConfig         json.RawMessage `json:"text_config"`
}

// gemmaHF prepares the parse of a Gemma config.json: it replaces a Gemma 3
// multimodal config by its text_config (keeping the top level's token ids
// when the text config has none), fills the defaults of the Hugging Face
// config classes that shipped configs leave out, accepts the GELU
// activation, and returns a function that sets the Gemma fields of the
// parsed Config. For other architectures it returns a no-op.
func gemmaHF(b []byte, h *hfConfig) (func(*Config) error, error) {
	none := func(*Config) error { return nil }
	var g gemmaHFConfig
	switch h.ModelType {
	case "gemma2", "gemma3", "gemma3_text":
	default:
		return none, nil
	}
	if err := json.Unmarshal(b, &g); err != nil {
		return none, fmt.Errorf("bad JSON: %w", err)
	}
	if len(g.TextConfig) > 0 && string(g.TextConfig) != "null" {
		top := *h
		*h = hfConfig{}
		if err := json.Unmarshal(g.TextConfig, h); err != nil {
			return none, fmt.Errorf("text_config: %w", err)
		}
		tc := g.TextConfig
		g = gemmaHFConfig{}
		if err := json.Unmarshal(tc, &g); err != nil {
			return none, fmt.Errorf("text_config: %w", err)
		}
		if len(h.BOSTokenID) == 0 {
			h.BOSTokenID = top.BOSTokenID
		}
		if len(h.EOSTokenID) == 0 {
			h.EOSTokenID = top.EOSTokenID
		}
		if h.TieWordEmbeddings == nil {
			h.TieWordEmbeddings = top.TieWordEmbeddings
		}
	}
	arch := "gemma2"
	if h.ModelType != "gemma2" {
		arch = "gemma3"
	}
	h.ModelType = arch
	for _, act := range []string{h.HiddenAct, g.HiddenActivation} {
		if act != "" && act != "gelu_pytorch_tanh" && act != "gelu_tanh" {
			return none, fmt.Errorf("hidden_activation %q is not supported for %s (want gelu_pytorch_tanh)", act, arch)
		}
	}
	h.HiddenAct = ""
	if h.TieWordEmbeddings == nil {
		t := true // Gemma's config classes tie by default
		h.TieWordEmbeddings = &t
	}
	if arch == "gemma3" {
		// Gemma3TextConfig's defaults: the 4B-27B checkpoints' text_config
		// states only what differs from them.
		defInt := func(p *int, v int) {
			if *p == 0 {
				*p = v
			}
		}
		defInt(&h.Heads, 8)
		defInt(&h.VocabSize, 262208)
		defInt(&h.MaxPositions, 131072)
		defInt(&h.HiddenSize, 2304)
		defInt(&h.FFNSize, 9216)
		defInt(&h.Layers, 26)
		if h.KVHeads == nil {
			kv := 4
			h.KVHeads = &kv
		}
		if h.HeadDim == nil {
			d := 256
			h.HeadDim = &d
		}
		if h.RopeTheta == nil {
			r := 1e6
			h.RopeTheta = &r
		}
		if h.SlidingWindow == nil {
			w := 4096
			h.SlidingWindow = &w
		}
		if len(h.BOSTokenID) == 0 {
			h.BOSTokenID = json.RawMessage("2")
		}
		if len(h.EOSTokenID) == 0 {
			h.EOSTokenID = json.RawMessage("1")
		}
	}
	pattern := map[string]int{"gemma2": 2, "gemma3": 6}[arch]
	if g.SlidingPattern != nil {
		pattern = *g.SlidingPattern
	}
	noWindow := false
	if len(g.LayerTypes) > 0 {
		p, allFull, err := patternOf(g.LayerTypes)
		if err != nil {
			return none, err
		}
		pattern, noWindow = p, allFull
	}
	return func(c *Config) error {
		c.FFNAct, c.PostNorms = "gelu_tanh", true
		c.EmbedScale = math.Sqrt(float64(c.HiddenSize))
		scalar := float64(c.HeadDim)
		if g.QueryPreAttnScalar != nil {
			scalar = *g.QueryPreAttnScalar
		}
		if !(scalar > 0) || math.IsInf(scalar, 0) {
			return fmt.Errorf("query_pre_attn_scalar %g must be a positive number", scalar)
		}
		c.AttnScale = 1 / math.Sqrt(scalar)
		c.SlidingPattern = pattern
		if noWindow {
			c.SlidingWindow = 0
		}
		switch arch {
		case "gemma2":
			c.AttnSoftcap, c.FinalSoftcap = 50, 30
		case "gemma3":
			c.QKNorm = true
			c.RopeThetaLocal = 10000
			if g.RopeLocalBase != nil {
				c.RopeThetaLocal = *g.RopeLocalBase
			}
		}
		var err error
		if c.AttnSoftcap, err = softcapValue(g.AttnSoftcap, c.AttnSoftcap); err != nil {
			return fmt.Errorf("attn_logit_softcapping: %w", err)
		}
		if c.FinalSoftcap, err = softcapValue(g.FinalSoftcap, c.FinalSoftcap); err != nil {
			return fmt.Errorf("final_logit_softcapping: %w", err)
		}
		return nil
	}, nil
}

// softcapValue reads a soft-capping field: absent keeps def, null is 0 (no
// capping), otherwise a number.
func softcapValue(raw json.RawMessage, def float64) (float64, error) {
	switch {
	case len(raw) == 0:
		return def, nil
	case string(raw) == "null":
		return 0, nil
	}
	var v float64
	if err := json.Unmarshal(raw, &v); err != nil {
		return 0, fmt.Errorf("want a number or null, got %s", raw)
	}
	return v, nil
}

// patternOf turns a config's layer_types list into a sliding pattern: the
// list must repeat p-1 "sliding_attention" layers and one "full_attention"
// layer (possibly cut short at the end), or hold only one of the two kinds.
// allFull reports a list without sliding layers.
func patternOf(types []string) (p int, allFull bool, err error) {
	full := 0
	for _, t := range types {
		if t == "full_attention" {
			full++
		}
	}
	if full == len(types) {
		return 0, true, nil
	}
	p = 1
	for i, t := range types {
		if t == "full_attention" {
			p = i + 1
			break
		}
	}
	for i, t := range types {
		want := "sliding_attention"
		if p > 1 && i%p == p-1 {
			want = "full_attention"
		}
		if t != want {
			return 0, false, fmt.Errorf("layer_types: layer %d is %q, but the list is not a repeating pattern of sliding layers followed by one full layer", i, t)
		}
	}
	return p, false, nil
}

// validateBlockOptions checks the Gemma-style block options of a config.
func validateBlockOptions(c Config) error {
	switch c.FFNAct {
	case "", "silu", "gelu_tanh":
	default:
		return fmt.Errorf("config: feed-forward activation %q is not supported (supported: silu, gelu_tanh)", c.FFNAct)
	}
	for _, f := range []struct {
		name string
		v    float64
	}{{"embedding scale", c.EmbedScale}, {"attention scale", c.AttnScale}, {"attention soft-cap", c.AttnSoftcap},
		{"final logit soft-cap", c.FinalSoftcap}, {"local rope base", c.RopeThetaLocal}} {
		if !(f.v >= 0) || math.IsInf(f.v, 0) {
			return fmt.Errorf("config: %s %g must be a finite number, not negative", f.name, f.v)
		}
	}
	if c.SlidingPattern < 0 {
		return fmt.Errorf("config: sliding pattern %d must not be negative", c.SlidingPattern)
	}
	return nil
}

// blockOptions describes the Gemma-style block options of c for inspect,
// or returns "" when c has none.
func blockOptions(c Config) string {
	var parts []string
	if c.FFNAct != "" && c.FFNAct != "silu" {
		parts = append(parts, c.FFNAct+" feed-forward")
	}
	if c.PostNorms {
		parts = append(parts, "post-attention and post-FFN norms")
	}
	if c.EmbedScale > 0 {
		parts = append(parts, fmt.Sprintf("embeddings x %.6g", c.EmbedScale))
	}
	if c.AttnScale > 0 {
		parts = append(parts, fmt.Sprintf("score scale %.6g", c.AttnScale))
	}
	if c.AttnSoftcap > 0 || c.FinalSoftcap > 0 {
		parts = append(parts, fmt.Sprintf("soft-caps %g (scores) / %g (logits)", c.AttnSoftcap, c.FinalSoftcap))
	}
	if c.SlidingWindow > 0 && c.SlidingPattern > 1 {
		parts = append(parts, fmt.Sprintf("1 global layer in %d", c.SlidingPattern))
	}
	if c.RopeThetaLocal > 0 {
		parts = append(parts, fmt.Sprintf("local rope theta %g", c.RopeThetaLocal))
	}
	if c.RopeInterleaved {
		parts = append(parts, "rope on adjacent pairs (GLM)")
	}
	return strings.Join(parts, ", ")
}
