package weights

import (
	"encoding/json"
	"fmt"
	"regexp"
	"strconv"
)

// Mixture-of-experts models (Qwen2-MoE, Qwen3-MoE, Mixtral) replace the
// feed-forward block of every layer by a router and a set of experts, each
// a gated FFN of its own width; Qwen2-MoE adds a shared expert whose output
// is scaled by a sigmoid gate. Everything else is the block of the dense
// family (qwen2, qwen3, llama), so the description is data: Config.MoE.
//
// Tensors (canonical names; shapes outermost first):
//
//	blk.L.ffn_gate_inp.weight           router [experts, hidden]
//	blk.L.ffn_{gate,up}_exps.weight     [experts, expert_ffn, hidden]  (GGUF, 3-D)
//	blk.L.ffn_down_exps.weight          [experts, hidden, expert_ffn]
//	blk.L.ffn_{gate,up,down}.E.weight   expert E as a matrix (Hugging Face
//	                                    folders and old Mixtral GGUFs)
//	blk.L.ffn_{gate,up,down}_shexp.weight  shared expert (Qwen2-MoE)
//	blk.L.ffn_gate_inp_shexp.weight     shared expert's gate [hidden] or [1, hidden]
//
// A GGUF's 3-D expert tensors stay as they are in the memory map;
// Model.ExpertTensors presents each expert as a matrix view of its slice of
// the bytes, without a copy.

// MoEConfig describes a model's experts.
type MoEConfig struct {
	// Experts is the number of experts per layer, Used the number each
	// token is routed to (top-k).
	Experts int `json:"experts"`
	Used    int `json:"experts_used"`
	// FFN is the width of one expert's FFN (Config.FFNSize is set to it too,
	// so that d_mlp of an expert's hook_act is the model's d_mlp).
	FFN int `json:"expert_ffn"`
	// SharedFFN is the width of the shared expert (Qwen2-MoE); 0: none.
	SharedFFN int `json:"shared_ffn,omitempty"`
	// NormTopK renormalises the top-k routing weights to sum to 1 (Mixtral,
	// and Qwen3-MoE's norm_topk_prob); otherwise they are the softmax over
	// every expert's logit, taken at the chosen experts (Qwen2-MoE).
	NormTopK bool `json:"norm_topk"`
}

// maxExperts bounds the expert count a file may declare, so that a hostile
// count cannot make the loader build millions of names.
const maxExperts = 4096

// isMoEArch reports whether arch is one of the mixture-of-experts architectures.
func isMoEArch(arch string) bool {
	return arch == "qwen2moe" || arch == "qwen3moe" || arch == "mixtral"
}

// moeGGUF reads the expert keys llama.cpp's converter writes
// ("{arch}.expert_count", "expert_used_count", "expert_feed_forward_length",
// "expert_shared_feed_forward_length", "expert_weights_norm"). A llama GGUF
// with experts is Mixtral. Models without experts are left alone.
func moeGGUF(g *GGUF, c *Config) error {
	a := c.Arch + "."
	n, ok := g.Int(a + "expert_count")
	if !ok {
		if _, present := g.Get(a + "expert_count"); present {
			return fmt.Errorf("metadata key %q is not an integer", a+"expert_count")
		}
		if isMoEArch(c.Arch) {
			return fmt.Errorf("metadata key %q missing (a %s model has experts)", a+"expert_count", c.Arch)
		}
		return nil
	}
	if n == 0 && !isMoEArch(c.Arch) {
		return nil
	}
	geti := func(key string, def int64) (int, error) {
		v, ok := g.Int(a + key)
		if !ok {
			if _, present := g.Get(a + key); present {
				return 0, fmt.Errorf("metadata key %q is not an integer", a+key)
			}
			v = def
		}
		if v < 0 || v > 1<<24 {
			return 0, fmt.Errorf("metadata key %q: %d out of range", a+key, v)
		}
		return int(v), nil
	}
	if n < 0 || n > maxExperts {
		return fmt.Errorf("metadata key %q: %d experts out of range [1, %d]", a+"expert_count", n, maxExperts)
	}
	moe := &MoEConfig{Experts: int(n)}
	var err error
	if _, present := g.Get(a + "expert_used_count"); !present {
		return fmt.Errorf("metadata key %q missing", a+"expert_used_count")
	}
	if moe.Used, err = geti("expert_used_count", 0); err != nil {
		return err
	}
	if moe.FFN, err = geti("expert_feed_forward_length", int64(c.FFNSize)); err != nil {
		return err
	}
	switch c.Arch {
	case "llama":
		c.Arch = "mixtral"
	case "qwen2moe":
		// llama.cpp gives the shared expert the dense width when the key is absent.
		if moe.SharedFFN, err = geti("expert_shared_feed_forward_length", int64(c.FFNSize)); err != nil {
			return err
		}
	}
	if !isMoEArch(c.Arch) {
		return fmt.Errorf("architecture %q with experts is not supported (supported: qwen2moe, qwen3moe, and llama with experts: Mixtral)", c.Arch)
	}
	// llama.cpp renormalises the top-k weights of Mixtral and Qwen3-MoE
	// and not those of Qwen2-MoE; a file may say otherwise.
	moe.NormTopK = c.Arch != "qwen2moe"
	if v, ok := g.Bool(a + "expert_weights_norm"); ok {
		moe.NormTopK = v
	}
	c.MoE = moe
	c.FFNSize = moe.FFN
	return nil
}

// moeHFConfig holds the config.json fields of the mixture-of-experts models.
type moeHFConfig struct {
	NumExperts      *int  `json:"num_experts"`       // qwen2_moe, qwen3_moe
	NumLocalExperts *int  `json:"num_local_experts"` // mixtral
	PerTok          *int  `json:"num_experts_per_tok"`
	MoEFFN          *int  `json:"moe_intermediate_size"`
	SharedFFN       *int  `json:"shared_expert_intermediate_size"`
	NormTopK        *bool `json:"norm_topk_prob"`
	SparseStep      *int  `json:"decoder_sparse_step"`
	MLPOnlyLayers   []int `json:"mlp_only_layers"`
}

// moeHF prepares the parse of a mixture-of-experts config.json: it renames
// the model type to the canonical architecture and returns a function that
// sets Config.MoE on the parsed Config. Other model types get a no-op.
// Configs whose layers are not all sparse (decoder_sparse_step > 1,
// mlp_only_layers) are refused.
func moeHF(b []byte, h *hfConfig) (func(*Config) error, error) {
	none := func(*Config) error { return nil }
	arch := map[string]string{"qwen2_moe": "qwen2moe", "qwen3_moe": "qwen3moe", "mixtral": "mixtral"}[h.ModelType]
	if arch == "" {
		return none, nil
	}
	var m moeHFConfig
	if err := json.Unmarshal(b, &m); err != nil {
		return none, fmt.Errorf("bad JSON: %w", err)
	}
	h.ModelType = arch
	if m.SparseStep != nil && *m.SparseStep != 1 {
		return none, fmt.Errorf("decoder_sparse_step %d is not supported (every layer must be a mixture of experts)", *m.SparseStep)
	}
	if len(m.MLPOnlyLayers) > 0 {
		return none, fmt.Errorf("mlp_only_layers %v is not supported (every layer must be a mixture of experts)", m.MLPOnlyLayers)
	}
	// The defaults of the Hugging Face config classes.
	moe := &MoEConfig{}
	pick := func(p *int, def int) int {
		if p != nil {
			return *p
		}
		return def
	}
	switch arch {
	case "mixtral":
		moe.Experts, moe.Used, moe.NormTopK = pick(m.NumLocalExperts, 8), pick(m.PerTok, 2), true
		if h.FFNSize == 0 {
			h.FFNSize = 14336
		}
		moe.FFN = h.FFNSize
	case "qwen2moe":
		moe.Experts, moe.Used, moe.FFN = pick(m.NumExperts, 60), pick(m.PerTok, 4), pick(m.MoEFFN, 1408)
		moe.SharedFFN = pick(m.SharedFFN, 5632)
		if h.AttentionBias == nil {
			t := true // Qwen2-MoE's q/k/v projections have biases
			h.AttentionBias = &t
		}
	case "qwen3moe":
		moe.Experts, moe.Used, moe.FFN = pick(m.NumExperts, 128), pick(m.PerTok, 8), pick(m.MoEFFN, 768)
	}
	if m.NormTopK != nil {
		moe.NormTopK = *m.NormTopK
	}
	return func(c *Config) error {
		if arch == "qwen3moe" {
			c.QKNorm = true
		}
		if arch == "qwen2moe" || arch == "qwen3moe" {
			c.SlidingWindow = 0 // both ship use_sliding_window false
		}
		c.MoE = moe
		c.FFNSize = moe.FFN
		return nil
	}, nil
}

// validateMoE checks the expert description of a config.
func validateMoE(c Config) error {
	if c.MoE == nil {
		if isMoEArch(c.Arch) {
			return fmt.Errorf("config: a %s model needs an expert count", c.Arch)
		}
		return nil
	}
	e := c.MoE
	switch {
	case e.Experts < 1 || e.Experts > maxExperts:
		return fmt.Errorf("config: expert count %d out of range [1, %d]", e.Experts, maxExperts)
	case e.Used < 1 || e.Used > e.Experts:
		return fmt.Errorf("config: %d experts used per token, want 1 to the %d experts", e.Used, e.Experts)
	case e.FFN <= 0 || e.FFN > 1<<24:
		return fmt.Errorf("config: expert ffn size %d out of range", e.FFN)
	case e.SharedFFN < 0 || e.SharedFFN > 1<<24:
		return fmt.Errorf("config: shared expert ffn size %d out of range", e.SharedFFN)
	case e.FFN != c.FFNSize:
		return fmt.Errorf("config: expert ffn size %d differs from the ffn size %d", e.FFN, c.FFNSize)
	}
	return nil
}

// hfExpertName matches a Hugging Face expert tensor (Qwen MoE and Mixtral
// naming) inside a layer.
var hfExpertName = regexp.MustCompile(`^(?:mlp|block_sparse_moe)\.experts\.(\d+)\.(gate_proj|up_proj|down_proj|w1|w2|w3)\.weight$`)

// moeLayerNames maps the Hugging Face names of a mixture-of-experts layer
// that are not per expert.
var moeLayerNames = map[string]string{
	"mlp.gate.weight":                    "ffn_gate_inp.weight",
	"block_sparse_moe.gate.weight":       "ffn_gate_inp.weight",
	"mlp.shared_expert.gate_proj.weight": "ffn_gate_shexp.weight",
	"mlp.shared_expert.up_proj.weight":   "ffn_up_shexp.weight",
	"mlp.shared_expert.down_proj.weight": "ffn_down_shexp.weight",
	"mlp.shared_expert_gate.weight":      "ffn_gate_inp_shexp.weight",
}

var hfExpertProj = map[string]string{
	"gate_proj": "ffn_gate", "w1": "ffn_gate",
	"up_proj": "ffn_up", "w3": "ffn_up",
	"down_proj": "ffn_down", "w2": "ffn_down",
}

// moeCanonical maps the Hugging Face name of a mixture-of-experts tensor to
// its canonical name; ok is false for other names (and other architectures).
func moeCanonical(arch, hf string) (string, bool) {
	if !isMoEArch(arch) {
		return "", false
	}
	m := hfLayerName.FindStringSubmatch(hf)
	if m == nil {
		return "", false
	}
	if g := moeLayerNames[m[2]]; g != "" {
		return "blk." + m[1] + "." + g, true
	}
	if e := hfExpertName.FindStringSubmatch(m[2]); e != nil {
		return "blk." + m[1] + "." + hfExpertProj[e[2]] + "." + e[1] + ".weight", true
	}
	return "", false
}

// moeKinds are the three matrices of an expert.
var moeKinds = []string{"ffn_gate", "ffn_up", "ffn_down"}

// moeSuffixes returns the layer tensor suffixes a mixture-of-experts layer
// may hold (both expert layouts), for checkUnused.
func moeSuffixes(c Config) []string {
	if c.MoE == nil {
		return nil
	}
	s := []string{"ffn_norm.weight", "ffn_gate_inp.weight"}
	for _, k := range moeKinds {
		s = append(s, k+"_exps.weight")
		for e := 0; e < c.MoE.Experts; e++ {
			s = append(s, k+"."+strconv.Itoa(e)+".weight")
		}
	}
	if c.MoE.SharedFFN > 0 {
		s = append(s, "ffn_gate_shexp.weight", "ffn_up_shexp.weight", "ffn_down_shexp.weight", "ffn_gate_inp_shexp.weight")
	}
	return s
}

// moeWants returns the feed-forward tensors layer l of a mixture-of-experts
// model must hold, with their shapes: the 3-D GGUF form of each expert
// matrix when the file has it, else one matrix per expert.
func moeWants(m *Model, l int) []struct {
	name  string
	shape []int
} {
	c := m.Config
	e := c.MoE
	p := "blk." + strconv.Itoa(l) + "."
	type want = struct {
		name  string
		shape []int
	}
	ws := []want{
		{p + "ffn_norm.weight", []int{c.HiddenSize}},
		{p + "ffn_gate_inp.weight", []int{e.Experts, c.HiddenSize}},
	}
	for _, k := range moeKinds {
		rows, cols := e.FFN, c.HiddenSize
		if k == "ffn_down" {
			rows, cols = cols, rows
		}
		if _, ok := m.Tensors[p+k+"_exps.weight"]; ok {
			ws = append(ws, want{p + k + "_exps.weight", []int{e.Experts, rows, cols}})
			continue
		}
		for x := 0; x < e.Experts; x++ {
			ws = append(ws, want{p + k + "." + strconv.Itoa(x) + ".weight", []int{rows, cols}})
		}
	}
	if e.SharedFFN > 0 {
		gate := []int{c.HiddenSize}
		if t, ok := m.Tensors[p+"ffn_gate_inp_shexp.weight"]; ok && len(t.Shape) == 2 {
			gate = []int{1, c.HiddenSize} // Hugging Face's nn.Linear(hidden, 1)
		}
		ws = append(ws,
			want{p + "ffn_gate_shexp.weight", []int{e.SharedFFN, c.HiddenSize}},
			want{p + "ffn_up_shexp.weight", []int{e.SharedFFN, c.HiddenSize}},
			want{p + "ffn_down_shexp.weight", []int{c.HiddenSize, e.SharedFFN}},
			want{p + "ffn_gate_inp_shexp.weight", gate})
	}
	return ws
}

// ExpertTensors returns the matrices of kind "ffn_gate", "ffn_up" or
// "ffn_down" of every expert of layer l, in expert order: views of the 3-D
// GGUF tensor's bytes (no copy), or the per-expert tensors.
func (m *Model) ExpertTensors(l int, kind string) ([]*Tensor, error) {
	c := m.Config
	if c.MoE == nil {
		return nil, fmt.Errorf("%s: the model has no experts", m.Path)
	}
	p := "blk." + strconv.Itoa(l) + "." + kind
	out := make([]*Tensor, c.MoE.Experts)
	if t, ok := m.Tensors[p+"_exps.weight"]; ok {
		if len(t.Shape) != 3 || t.Shape[0] != len(out) {
			return nil, fmt.Errorf("%s: tensor %q: shape %v, want [%d, rows, cols]", m.Path, t.Name, t.Shape, len(out))
		}
		rows, cols := t.Shape[1], t.Shape[2]
		rb, err := t.DType.RowBytes(cols)
		if err != nil {
			return nil, fmt.Errorf("%s: tensor %q: %w", m.Path, t.Name, err)
		}
		size := rb * rows
		if len(t.Data) != size*len(out) {
			return nil, fmt.Errorf("%s: tensor %q: %d bytes, want %d", m.Path, t.Name, len(t.Data), size*len(out))
		}
		for e := range out {
			out[e] = &Tensor{Name: fmt.Sprintf("%s[%d]", t.Name, e), DType: t.DType, Shape: []int{rows, cols},
				Data: t.Data[e*size : (e+1)*size : (e+1)*size], File: t.File}
		}
		return out, nil
	}
	for e := range out {
		name := p + "." + strconv.Itoa(e) + ".weight"
		t, ok := m.Tensors[name]
		if !ok {
			return nil, fmt.Errorf("%s: tensor %q not found", m.Path, m.fileName(name))
		}
		out[e] = t
	}
	return out, nil
}

// moeOptions describes the experts of c for inspect, or returns "".
func moeOptions(c Config) string {
	e := c.MoE
	if e == nil {
		return ""
	}
	s := fmt.Sprintf("%d experts of ffn %d, %d per token", e.Experts, e.FFN, e.Used)
	if e.NormTopK {
		s += " (weights renormalised)"
	}
	if e.SharedFFN > 0 {
		s += fmt.Sprintf(", shared expert of ffn %d", e.SharedFFN)
	}
	return s
}
