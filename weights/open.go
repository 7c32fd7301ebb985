package weights

import (
	"bytes"
	"encoding/binary"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"math"
	"os"
	"path/filepath"
	"regexp"
	"slices"
	"sort"
	"strings"

	"github.com/valueexploration/valueexp/weights/safetensors"
)

// Model is an opened model: its configuration and its tensors under canonical
// (GGUF-style) names, in the canonical (Hugging Face) q/k row layout.
type Model struct {
	Path    string // what was opened: a .gguf file, a .safetensors file or a folder
	Format  string // "gguf" or "safetensors"
	Config  Config
	Tensors map[string]*Tensor
	// GGUF is the parsed GGUF file (metadata, tokenizer arrays), or nil.
	GGUF *GGUF
	// Dir is the Hugging Face folder (config.json, tokenizer.json), or "".
	Dir      string
	FileSize int64 // bytes of all weight files together
	// FileNames maps a canonical tensor name to the name the file stores it
	// under, for the tensors whose names differ (Hugging Face names).
	FileNames map[string]string
	releases  []func() error
}

// Close releases the model's file mappings. No tensor may be used afterwards.
func (m *Model) Close() error {
	var errs []error
	for _, r := range m.releases {
		errs = append(errs, r())
	}
	m.releases = nil
	return errors.Join(errs...)
}

// Tensor returns the tensor with the canonical name, or an error naming it.
func (m *Model) Tensor(name string) (*Tensor, error) {
	t, ok := m.Tensors[name]
	if !ok {
		return nil, fmt.Errorf("%s: tensor %q not found", m.Path, name)
	}
	return t, nil
}

// Names returns the canonical tensor names, sorted (layers in numeric order).
func (m *Model) Names() []string {
	names := make([]string, 0, len(m.Tensors))
	for n := range m.Tensors {
		names = append(names, n)
	}
	sort.Slice(names, func(i, j int) bool { return naturalLess(names[i], names[j]) })
	return names
}

// Params returns the total number of elements over all tensors.
func (m *Model) Params() int64 {
	var n int64
	for _, t := range m.Tensors {
		n += int64(t.Elems())
	}
	return n
}

// Open opens a model: a .gguf file, a .safetensors file (with config.json in
// the same folder), a Hugging Face folder holding config.json and
// model.safetensors or a sharded model.safetensors.index.json, or a folder
// without config.json that holds exactly one .gguf file. A path that is none
// of these gets an error saying what a model path must be (ModelPathHelp).
func Open(path string) (*Model, error) {
	if path == "" {
		return nil, fmt.Errorf("weights: no model path given; %s", ModelPathHelp)
	}
	st, err := os.Stat(path)
	if errors.Is(err, fs.ErrNotExist) {
		return nil, fmt.Errorf("weights: %s does not exist; %s", path, ModelPathHelp)
	}
	if err != nil {
		return nil, fmt.Errorf("weights: %w", err)
	}
	if st.IsDir() {
		return openDir(path)
	}
	if strings.HasSuffix(strings.ToLower(path), ".safetensors") {
		if err := checkSafetensorsModel(path); err != nil {
			return nil, err
		}
		if _, err := os.Stat(filepath.Join(filepath.Dir(path), "config.json")); errors.Is(err, fs.ErrNotExist) {
			return nil, fmt.Errorf("weights: %s: no config.json beside it, which a .safetensors model needs; %s", path, ModelPathHelp)
		}
		return openHF(filepath.Dir(path), path)
	}
	if !hasGGUFMagic(path) {
		return nil, fmt.Errorf("weights: %s is neither a GGUF file (it does not start with \"GGUF\") nor a .safetensors file; %s", path, ModelPathHelp)
	}
	return openGGUFModel(path)
}

// ModelPathHelp says what Open accepts; errors about a path that is not a
// model end with it.
const ModelPathHelp = "a model path must be a .gguf file, a .safetensors model file with config.json beside it, " +
	"a Hugging Face folder with config.json and model.safetensors (or model.safetensors.index.json), " +
	"or a folder holding exactly one .gguf file"

// openDir opens a folder: a Hugging Face folder when it has config.json,
// else its one .gguf file.
func openDir(dir string) (*Model, error) {
	if _, err := os.Stat(filepath.Join(dir, "config.json")); err == nil {
		return openHF(dir, "")
	}
	g, err := GGUFInFolder(dir)
	if err != nil {
		return nil, err
	}
	if g != "" {
		return openGGUFModel(g)
	}
	if st, _ := filesWithSuffix(dir, ".safetensors"); len(st) > 0 {
		return nil, fmt.Errorf("weights: folder %s has .safetensors files (%s) but no config.json; %s",
			dir, strings.Join(st, ", "), ModelPathHelp)
	}
	return nil, fmt.Errorf("weights: folder %s holds neither config.json nor a .gguf file; %s", dir, ModelPathHelp)
}

// GGUFInFolder returns the path of the one .gguf file in dir, "" when there
// is none, and an error listing them when there are several: the rule Open
// (and tokenizer.Load) apply to a folder without config.json.
func GGUFInFolder(dir string) (string, error) {
	ggufs, err := filesWithSuffix(dir, ".gguf")
	if err != nil {
		return "", fmt.Errorf("weights: %w", err)
	}
	switch len(ggufs) {
	case 0:
		return "", nil
	case 1:
		return filepath.Join(dir, ggufs[0]), nil
	}
	return "", fmt.Errorf("weights: folder %s holds %d .gguf files and no config.json; name one of them: %s",
		dir, len(ggufs), strings.Join(ggufs, ", "))
}

// filesWithSuffix lists the names of the files (not folders) in dir whose
// names end with suffix, in any case, sorted.
func filesWithSuffix(dir, suffix string) ([]string, error) {
	entries, err := os.ReadDir(dir)
	if err != nil {
		return nil, err
	}
	var names []string
	for _, e := range entries {
		if !e.IsDir() && strings.HasSuffix(strings.ToLower(e.Name()), suffix) {
			names = append(names, e.Name())
		}
	}
	return names, nil
}

// hasGGUFMagic reports whether the file starts with GGUF's magic bytes.
func hasGGUFMagic(path string) bool {
	f, err := os.Open(path)
	if err != nil {
		return true // let OpenGGUF report the error
	}
	defer f.Close()
	var b [4]byte
	if _, err := io.ReadFull(f, b[:]); err != nil {
		return false
	}
	return binary.LittleEndian.Uint32(b[:]) == ggufMagic
}

// checkSafetensorsModel reports a .safetensors file that holds no model
// weights (no tensor named like a weight, "*.weight"), such as a valueexp
// dump or a file of activation counts, naming what it does hold. A file
// that does not parse is left to openHF, which says why.
func checkSafetensorsModel(path string) error {
	b, release, err := mapFile(path)
	if err != nil {
		return fmt.Errorf("weights: %w", err)
	}
	defer release()
	f, err := safetensors.Parse(b)
	if err != nil {
		return fmt.Errorf("weights: %s: %w", path, err)
	}
	names := make([]string, 0, len(f.Tensors))
	for _, t := range f.Tensors {
		name, _ := CanonicalName(t.Name)
		if strings.HasSuffix(name, ".weight") {
			return nil
		}
		names = append(names, t.Name)
	}
	sort.Slice(names, func(i, j int) bool { return naturalLess(names[i], names[j]) })
	what := "no tensors"
	if len(names) > 0 {
		shown := names[:min(len(names), 4)]
		what = fmt.Sprintf("%d tensors (%s", len(names), strings.Join(shown, ", "))
		if len(names) > len(shown) {
			what += ", ..."
		}
		what += ")"
	}
	if format := f.Metadata["format"]; format != "" {
		what += fmt.Sprintf(" with format %q", format)
	}
	return fmt.Errorf("weights: %s is not a model: it holds %s and no weights (a valueexp dump or counts file is not a model); %s", path, what, ModelPathHelp)
}

func openGGUFModel(path string) (*Model, error) {
	g, err := OpenGGUF(path)
	if err != nil {
		return nil, err
	}
	m, err := modelFromGGUF(g, path)
	if err != nil {
		g.Close()
		return nil, err
	}
	if st, err := os.Stat(path); err == nil {
		m.FileSize = st.Size()
	}
	return m, nil
}

// modelFromGGUF reads the config of a parsed GGUF file and presents its
// tensors as a Model. Closing the Model closes g.
func modelFromGGUF(g *GGUF, path string) (*Model, error) {
	m := &Model{Path: path, Format: "gguf", GGUF: g, Tensors: map[string]*Tensor{}, FileNames: map[string]string{}}
	for _, t := range g.Tensors {
		m.Tensors[t.Name] = t
	}
	cfg, err := configFromGGUF(g, m.Tensors)
	if err != nil {
		return nil, fmt.Errorf("gguf: %s: %w", path, err)
	}
	m.Config = cfg
	if err := splitFused(m); err != nil {
		return nil, fmt.Errorf("gguf: %s: %w", path, err)
	}
	// Shapes first: then the permutation below works on tensors known to
	// exist with heads*head_dim rows, whatever the metadata claims.
	if err := checkShapes(m); err != nil {
		return nil, fmt.Errorf("gguf: %s: %w", path, err)
	}
	if ggufPermutesQK(cfg.Arch) {
		if err := unpermuteQK(m); err != nil {
			return nil, fmt.Errorf("gguf: %s: %w", path, err)
		}
	}
	m.releases = []func() error{g.Close}
	return m, nil
}

// ggufPermutesQK reports whether GGUF converters permute the q/k rows of an
// architecture (those that llama.cpp runs with its "normal" rope, which
// rotates adjacent pairs instead of the two halves of each head).
func ggufPermutesQK(arch string) bool {
	return arch == "llama" || arch == "mistral" || arch == "mixtral"
}

// unpermuteQK gives attn_q/attn_k a RowOrder that presents the Hugging Face
// row order without copying. Biases, if any, are small and are copied.
func unpermuteQK(m *Model) error {
	c := m.Config
	// Every layer shares the same two orders; the tensors only read them.
	orders := map[int][]int32{}
	orderFor := func(heads int) []int32 {
		if o, ok := orders[heads]; ok {
			return o
		}
		o := qkRowOrder(heads, c.HeadDim)
		orders[heads] = o
		return o
	}
	for l := 0; l < c.Layers; l++ {
		for _, p := range []struct {
			name  string
			heads int
		}{{"attn_q", c.Heads}, {"attn_k", c.KVHeads}} {
			// Compare sizes before building an order, so a hostile head
			// count cannot make us allocate heads*head_dim entries.
			rows := p.heads * c.HeadDim
			wn := fmt.Sprintf("blk.%d.%s.weight", l, p.name)
			if w, ok := m.Tensors[wn]; ok {
				if w.Rows() != rows {
					return fmt.Errorf("tensor %q: %d rows, want heads*head_dim = %d*%d = %d", wn, w.Rows(), p.heads, c.HeadDim, rows)
				}
				w.RowOrder = orderFor(p.heads)
			}
			bn := fmt.Sprintf("blk.%d.%s.bias", l, p.name)
			if b, ok := m.Tensors[bn]; ok {
				if b.Elems() != rows {
					return fmt.Errorf("tensor %q: %d elements, want heads*head_dim = %d", bn, b.Elems(), rows)
				}
				nb, err := permuteVector(b, orderFor(p.heads))
				if err != nil {
					return err
				}
				m.Tensors[bn] = nb
			}
		}
	}
	return nil
}

// qkRowOrder maps Hugging Face row h*D+j to the GGUF row that stores it:
// GGUF row h*D+2i holds HF row h*D+i, and GGUF row h*D+2i+1 holds HF row
// h*D+D/2+i.
func qkRowOrder(heads, headDim int) []int32 {
	order := make([]int32, heads*headDim)
	half := headDim / 2
	for h := 0; h < heads; h++ {
		for j := 0; j < headDim; j++ {
			var phys int
			if j < half {
				phys = 2 * j
			} else {
				phys = 2*(j-half) + 1
			}
			order[h*headDim+j] = int32(h*headDim + phys)
		}
	}
	return order
}

func permuteVector(t *Tensor, order []int32) (*Tensor, error) {
	if t.Elems() != len(order) {
		return nil, fmt.Errorf("tensor %q: %d elements, want %d", t.Name, t.Elems(), len(order))
	}
	if t.DType != F32 {
		return nil, fmt.Errorf("tensor %q: a permuted bias must be F32, got %v", t.Name, t.DType)
	}
	out := make([]byte, len(t.Data))
	for i, p := range order {
		copy(out[4*i:4*i+4], t.Data[4*p:4*p+4])
	}
	nt := *t
	nt.Data = out
	return &nt, nil
}

func configFromGGUF(g *GGUF, tensors map[string]*Tensor) (Config, error) {
	var c Config
	arch, ok := g.String("general.architecture")
	if !ok {
		return c, errors.New(`metadata key "general.architecture" missing or not a string`)
	}
	c.Arch = arch
	geti := func(key string, def int, required bool) (int, error) {
		full := arch + "." + key
		v, ok := g.Int(full)
		if !ok {
			if _, present := g.Get(full); present {
				return 0, fmt.Errorf("metadata key %q is not an integer", full)
			}
			if required {
				return 0, fmt.Errorf("metadata key %q missing", full)
			}
			return def, nil
		}
		if v < 0 || v > math.MaxInt32 {
			return 0, fmt.Errorf("metadata key %q: %d out of range", full, v)
		}
		return int(v), nil
	}
	var err error
	getf := func(key string, def float64) float64 {
		full := arch + "." + key
		if v, ok := g.Float(full); ok {
			return v
		}
		if _, present := g.Get(full); present && err == nil {
			err = fmt.Errorf("metadata key %q is not a number", full)
		}
		return def
	}
	for _, f := range []struct {
		dst      *int
		key      string
		def      int
		required bool
	}{
		{&c.HiddenSize, "embedding_length", 0, true},
		{&c.Layers, "block_count", 0, true},
		{&c.Heads, "attention.head_count", 0, true},
		{&c.FFNSize, "feed_forward_length", 0, true},
		{&c.ContextLength, "context_length", 0, false},
		{&c.SlidingWindow, "attention.sliding_window", 0, false},
	} {
		if *f.dst, err = geti(f.key, f.def, f.required); err != nil {
			return c, err
		}
	}
	if c.KVHeads, err = geti("attention.head_count_kv", c.Heads, false); err != nil {
		return c, err
	}
	if c.Heads == 0 {
		return c, fmt.Errorf("metadata key %q is 0", arch+".attention.head_count")
	}
	if c.HeadDim, err = geti("attention.key_length", c.HiddenSize/c.Heads, false); err != nil {
		return c, err
	}
	if c.RopeDim, err = geti("rope.dimension_count", c.HeadDim, false); err != nil {
		return c, err
	}
	c.RopeTheta = getf("rope.freq_base", 10000)
	c.NormEps = getf("attention.layer_norm_rms_epsilon", 1e-5)
	if typ, ok := g.String(arch + ".rope.scaling.type"); ok && typ != "none" {
		c.RopeScaling.Type = typ
		c.RopeScaling.Factor = getf("rope.scaling.factor", 1)
		if n, err := geti("rope.scaling.original_context_length", 0, false); err == nil {
			c.RopeScaling.OriginalMaxPositions = n
		}
	} else if f := getf("rope.scale_linear", 0); f != 0 && f != 1 {
		c.RopeScaling = RopeScaling{Type: "linear", Factor: f}
	}
	if err != nil {
		return c, err
	}
	toks, hasToks := g.Strings("tokenizer.ggml.tokens")
	if hasToks {
		c.VocabSize = len(toks)
	}
	if emb, ok := tensors["token_embd.weight"]; ok && len(emb.Shape) == 2 {
		c.VocabSize = emb.Shape[0]
		// Ids the tokenizer can produce must have an embedding row, or the
		// first text that uses one fails in the middle of a run.
		if hasToks && len(toks) > emb.Shape[0] {
			return c, fmt.Errorf("the tokenizer has %d tokens (tokenizer.ggml.tokens) but token_embd.weight has only %d rows", len(toks), emb.Shape[0])
		}
	}
	_, hasOutput := tensors["output.weight"]
	c.TiedEmbeddings = !hasOutput
	_, c.AttnBias = tensors["blk.0.attn_q.bias"]
	_, c.QKNorm = tensors["blk.0.attn_q_norm.weight"]
	if err := gemmaGGUF(g, &c); err != nil {
		return c, err
	}
	if err := phiGGUF(g, &c); err != nil {
		return c, err
	}
	if err := ggufRopeScaling(g, &c, tensors); err != nil {
		return c, err
	}
	glmGGUF(&c, tensors)
	if err := moeGGUF(g, &c); err != nil {
		return c, err
	}
	c.BOS = -1
	if v, ok := g.Int("tokenizer.ggml.bos_token_id"); ok {
		c.BOS = clampID(v)
	}
	for _, k := range []string{"tokenizer.ggml.eos_token_id", "tokenizer.ggml.eot_token_id", "tokenizer.ggml.eom_token_id"} {
		if v, ok := g.Int(k); ok && !containsInt(c.EOS, clampID(v)) {
			c.EOS = append(c.EOS, clampID(v))
		}
	}
	return c, validateConfig(c)
}

// clampID keeps a token id from a file inside the int32 range so that the
// range check in validateConfig sees it as out of range rather than wrapped.
func clampID(v int64) int {
	return int(max(min(v, math.MaxInt32), math.MinInt32))
}

func containsInt(s []int, v int) bool {
	for _, x := range s {
		if x == v {
			return true
		}
	}
	return false
}

// SupportedArchs lists the architectures the engine runs.
var supportedArchs = map[string]bool{"llama": true, "mistral": true, "qwen2": true, "qwen3": true, "gemma2": true, "gemma3": true, "phi3": true,
	"chatglm": true, "glm4": true, "qwen2moe": true, "qwen3moe": true, "mixtral": true}

func validateConfig(c Config) error {
	if !supportedArchs[c.Arch] {
		return fmt.Errorf("unsupported architecture %q (supported: llama, mistral, qwen2, qwen3, gemma2, gemma3, phi3, chatglm, glm4, qwen2moe, qwen3moe, mixtral)", c.Arch)
	}
	for _, f := range []struct {
		name string
		v    int
	}{{"hidden size", c.HiddenSize}, {"layer count", c.Layers}, {"head count", c.Heads}, {"kv head count", c.KVHeads}, {"head dim", c.HeadDim}, {"ffn size", c.FFNSize}, {"vocab size", c.VocabSize}} {
		if f.v <= 0 || f.v > 1<<24 {
			return fmt.Errorf("config: %s is %d", f.name, f.v)
		}
	}
	if c.Heads%c.KVHeads != 0 {
		return fmt.Errorf("config: %d heads is not a multiple of %d kv heads", c.Heads, c.KVHeads)
	}
	if c.RopeDim <= 0 || c.RopeDim > c.HeadDim || c.RopeDim%2 != 0 {
		return fmt.Errorf("config: rope dimension %d must be even and at most head dim %d", c.RopeDim, c.HeadDim)
	}
	if c.HeadDim%2 != 0 {
		return fmt.Errorf("config: head dim %d must be even", c.HeadDim)
	}
	if !(c.NormEps > 0 && c.NormEps < 1) {
		return fmt.Errorf("config: norm epsilon %g out of range", c.NormEps)
	}
	if !(c.RopeTheta > 0) || math.IsInf(c.RopeTheta, 0) {
		return fmt.Errorf("config: rope theta %g out of range", c.RopeTheta)
	}
	if c.BOS < -1 || c.BOS >= c.VocabSize {
		return fmt.Errorf("config: bos token id %d outside the vocabulary of %d", c.BOS, c.VocabSize)
	}
	for _, id := range c.EOS {
		if id < 0 || id >= c.VocabSize {
			return fmt.Errorf("config: eos token id %d outside the vocabulary of %d", id, c.VocabSize)
		}
	}
	if err := validateBlockOptions(c); err != nil {
		return err
	}
	if err := validateMoE(c); err != nil {
		return err
	}
	if c.ContextLength < 0 || c.SlidingWindow < 0 {
		return fmt.Errorf("config: context length %d and sliding window %d must not be negative", c.ContextLength, c.SlidingWindow)
	}
	return validateRopeScaling(c)
}

// hfConfig is the subset of a Hugging Face config.json the engine needs.
type hfConfig struct {
	ModelType           string          `json:"model_type"`
	HiddenSize          int             `json:"hidden_size"`
	Layers              int             `json:"num_hidden_layers"`
	Heads               int             `json:"num_attention_heads"`
	KVHeads             *int            `json:"num_key_value_heads"`
	HeadDim             *int            `json:"head_dim"`
	FFNSize             int             `json:"intermediate_size"`
	VocabSize           int             `json:"vocab_size"`
	MaxPositions        int             `json:"max_position_embeddings"`
	OrigMaxPositions    int             `json:"original_max_position_embeddings"`
	RopeTheta           *float64        `json:"rope_theta"`
	RopeScaling         json.RawMessage `json:"rope_scaling"`
	RMSNormEps          *float64        `json:"rms_norm_eps"`
	TieWordEmbeddings   *bool           `json:"tie_word_embeddings"`
	AttentionBias       *bool           `json:"attention_bias"`
	MLPBias             bool            `json:"mlp_bias"`
	SlidingWindow       *int            `json:"sliding_window"`
	UseSlidingWindow    *bool           `json:"use_sliding_window"`
	BOSTokenID          json.RawMessage `json:"bos_token_id"`
	EOSTokenID          json.RawMessage `json:"eos_token_id"`
	HiddenAct           string          `json:"hidden_act"`
	PartialRotaryFactor *float64        `json:"partial_rotary_factor"`
	TorchDType          string          `json:"torch_dtype"`
}

// ParseHFConfig reads a Hugging Face config.json into a Config. name is used in errors.
//
// Memory: b may be at most 4 MiB (maxHFConfigBytes), checked first; decoding
// keeps only the fields the engine reads (unknown ones are skipped, however
// deep) and allocates at most 20 bytes per input byte plus 64 KiB (deep
// nesting, the worst case, comes to about 15 with encoding/json's own
// nesting limit of 10000; TestHFConfigMemoryBound measures it), so at most
// 80 MiB. Token id lists are limited to 1024 ids, counted before they
// are decoded.
func ParseHFConfig(b []byte, name string) (Config, error) {
	if len(b) > maxHFConfigBytes {
		return Config{}, fmt.Errorf("%s: %d bytes exceed the limit of %d for a config.json", name, len(b), maxHFConfigBytes)
	}
	c, err := parseHFConfig(b)
	if err != nil {
		return c, fmt.Errorf("%s: %w", name, err)
	}
	return c, nil
}

func parseHFConfig(b []byte) (Config, error) {
	var h hfConfig
	var c Config
	if err := json.Unmarshal(b, &h); err != nil {
		return c, fmt.Errorf("bad JSON: %w", err)
	}
	setGemma, err := gemmaHF(b, &h)
	if err != nil {
		return c, err
	}
	if err := glmRemoteCode(&h); err != nil {
		return c, err
	}
	setGLM := glmHF(&h)
	if err := glmPartialRotary(&h); err != nil {
		return c, err
	}
	setMoE, err := moeHF(b, &h)
	if err != nil {
		return c, err
	}
	c.Arch = h.ModelType
	c.HiddenSize, c.Layers, c.Heads, c.FFNSize, c.VocabSize = h.HiddenSize, h.Layers, h.Heads, h.FFNSize, h.VocabSize
	c.ContextLength = h.MaxPositions
	c.KVHeads = c.Heads
	if h.KVHeads != nil {
		c.KVHeads = *h.KVHeads
	}
	if h.HeadDim != nil && *h.HeadDim > 0 {
		c.HeadDim = *h.HeadDim
	} else if c.Heads > 0 {
		c.HeadDim = c.HiddenSize / c.Heads
	}
	c.RopeDim = c.HeadDim
	if h.PartialRotaryFactor != nil {
		c.RopeDim = int(float64(c.HeadDim) * *h.PartialRotaryFactor)
	}
	c.RopeTheta = 10000
	if h.RopeTheta != nil {
		c.RopeTheta = *h.RopeTheta
	}
	c.NormEps = 1e-6
	if h.RMSNormEps != nil {
		c.NormEps = *h.RMSNormEps
	}
	if h.HiddenAct != "" && h.HiddenAct != "silu" {
		return c, fmt.Errorf("hidden_act %q is not supported (want silu)", h.HiddenAct)
	}
	if h.MLPBias {
		return c, errors.New("mlp_bias true is not supported")
	}
	if c.RopeScaling, err = parseHFRopeScaling(h.RopeScaling, h.MaxPositions, h.OrigMaxPositions); err != nil {
		return c, err
	}
	switch c.Arch {
	case "qwen2":
		c.AttnBias = true // Qwen2 always has q/k/v biases
	case "qwen3":
		c.QKNorm = true
	}
	if h.AttentionBias != nil {
		c.AttnBias = *h.AttentionBias
	}
	if h.TieWordEmbeddings != nil {
		c.TiedEmbeddings = *h.TieWordEmbeddings
	}
	if h.SlidingWindow != nil && *h.SlidingWindow > 0 {
		if h.UseSlidingWindow == nil || *h.UseSlidingWindow {
			c.SlidingWindow = *h.SlidingWindow
		}
	}
	if c.Arch == "qwen2" || c.Arch == "qwen3" {
		if h.UseSlidingWindow == nil || !*h.UseSlidingWindow {
			c.SlidingWindow = 0
		}
	}
	c.BOS = -1
	if ids, err := tokenIDs(h.BOSTokenID); err != nil {
		return c, fmt.Errorf("bos_token_id: %w", err)
	} else if len(ids) > 0 {
		c.BOS = ids[0]
	}
	ids, err := tokenIDs(h.EOSTokenID)
	if err != nil {
		return c, fmt.Errorf("eos_token_id: %w", err)
	}
	c.EOS = ids
	if err := setGemma(&c); err != nil {
		return c, err
	}
	setGLM(&c)
	if err := setMoE(&c); err != nil {
		return c, err
	}
	return c, validateConfig(c)
}

// tokenIDs accepts null, an integer or a list of integers.
func tokenIDs(raw json.RawMessage) ([]int, error) {
	if len(raw) == 0 || string(raw) == "null" {
		return nil, nil
	}
	var one int
	if err := json.Unmarshal(raw, &one); err == nil {
		return []int{one}, nil
	}
	if n := bytes.Count(raw, []byte(",")) + 1; n > maxTokenIDs {
		return nil, fmt.Errorf("a list of %d ids exceeds the limit of %d", n, maxTokenIDs)
	}
	var many []int
	if err := json.Unmarshal(raw, &many); err != nil {
		return nil, fmt.Errorf("want an integer or a list of integers, got %s", raw)
	}
	return many, nil
}

var hfLayerName = regexp.MustCompile(`^model\.layers\.(\d+)\.(.+)$`)

var hfLayerMap = map[string]string{
	"input_layernorm.weight":          "attn_norm.weight",
	"self_attn.q_proj.weight":         "attn_q.weight",
	"self_attn.k_proj.weight":         "attn_k.weight",
	"self_attn.v_proj.weight":         "attn_v.weight",
	"self_attn.q_proj.bias":           "attn_q.bias",
	"self_attn.k_proj.bias":           "attn_k.bias",
	"self_attn.v_proj.bias":           "attn_v.bias",
	"self_attn.o_proj.weight":         "attn_output.weight",
	"self_attn.q_norm.weight":         "attn_q_norm.weight",
	"self_attn.k_norm.weight":         "attn_k_norm.weight",
	"post_attention_layernorm.weight": "ffn_norm.weight",
	"mlp.gate_proj.weight":            "ffn_gate.weight",
	"mlp.up_proj.weight":              "ffn_up.weight",
	"mlp.down_proj.weight":            "ffn_down.weight",
}

// CanonicalName maps a Hugging Face tensor name to the canonical GGUF-style
// name. Names it does not know are returned unchanged with ok false.
func CanonicalName(hf string) (name string, ok bool) {
	switch hf {
	case "model.embed_tokens.weight":
		return "token_embd.weight", true
	case "model.norm.weight":
		return "output_norm.weight", true
	case "lm_head.weight":
		return "output.weight", true
	}
	if m := hfLayerName.FindStringSubmatch(hf); m != nil {
		if g, ok := hfLayerMap[m[2]]; ok {
			return "blk." + m[1] + "." + g, true
		}
	}
	return hf, false
}

func openHF(dir, single string) (*Model, error) {
	cfgPath := filepath.Join(dir, "config.json")
	cb, err := readLimited(cfgPath, maxHFConfigBytes, "a config.json")
	if err != nil {
		return nil, fmt.Errorf("weights: %w", err)
	}
	cfg, err := ParseHFConfig(cb, cfgPath)
	if err != nil {
		return nil, fmt.Errorf("weights: %w", err)
	}
	m := &Model{Path: dir, Format: "safetensors", Config: cfg, Dir: dir, Tensors: map[string]*Tensor{}, FileNames: map[string]string{}}
	if single != "" {
		m.Path = single
	}
	files := []string{single}
	var index map[string]string
	if single == "" {
		files, index, err = hfWeightFiles(dir)
		if err != nil {
			return nil, fmt.Errorf("weights: %w", err)
		}
	}
	for _, f := range files {
		if err := m.addSafetensors(f); err != nil {
			m.Close()
			return nil, fmt.Errorf("weights: %w", err)
		}
	}
	if err := m.checkIndex(index); err != nil {
		m.Close()
		return nil, fmt.Errorf("weights: %s: %w", filepath.Join(dir, hfIndexName), err)
	}
	if err := splitFused(m); err != nil {
		m.Close()
		return nil, fmt.Errorf("weights: %s: %w", m.Path, err)
	}
	if err := checkShapes(m); err != nil {
		m.Close()
		return nil, fmt.Errorf("weights: %s: %w", m.Path, err)
	}
	if err := shiftNorms(m); err != nil {
		m.Close()
		return nil, fmt.Errorf("weights: %s: %w", m.Path, err)
	}
	return m, nil
}

const hfIndexName = "model.safetensors.index.json"

// hfWeightFiles lists the safetensors files of a folder: the shards named by
// model.safetensors.index.json, or model.safetensors. With an index it also
// returns the index's map from tensor name to shard file name.
func hfWeightFiles(dir string) (files []string, index map[string]string, err error) {
	idxPath := filepath.Join(dir, hfIndexName)
	b, err := readLimited(idxPath, maxHFIndexBytes, "a shard index")
	if errors.Is(err, os.ErrNotExist) {
		single := filepath.Join(dir, "model.safetensors")
		if _, err := os.Stat(single); err != nil {
			return nil, nil, fmt.Errorf("%s: neither model.safetensors nor %s found", dir, hfIndexName)
		}
		return []string{single}, nil, nil
	}
	if err != nil {
		return nil, nil, err
	}
	weightMap, err := parseHFIndex(b, idxPath)
	if err != nil {
		return nil, nil, err
	}
	seen := map[string]bool{}
	for tensor, f := range weightMap {
		if !seen[f] {
			seen[f] = true
			p := filepath.Join(dir, f)
			if _, err := os.Stat(p); err != nil {
				return nil, nil, fmt.Errorf("%s: tensor %q: shard %q is missing: %w", idxPath, tensor, f, err)
			}
			files = append(files, p)
		}
	}
	sort.Strings(files)
	return files, weightMap, nil
}

// checkIndex verifies that every tensor a sharded index lists is in the shard
// the index names, so a stale index is reported instead of half-trusted.
func (m *Model) checkIndex(index map[string]string) error {
	if index == nil {
		return nil
	}
	names := make([]string, 0, len(index))
	for n := range index {
		names = append(names, n)
	}
	sort.Slice(names, func(i, j int) bool { return naturalLess(names[i], names[j]) })
	for _, n := range names {
		if skipHFTensor(m.Config.Arch, n) {
			continue
		}
		canon, _ := canonicalFor(m.Config.Arch, n)
		t, ok := m.Tensors[canon]
		if !ok {
			return fmt.Errorf("tensor %q is listed for shard %q but no shard holds it", n, index[n])
		}
		if filepath.Base(t.File) != index[n] {
			return fmt.Errorf("tensor %q is listed for shard %q but is in %q", n, index[n], filepath.Base(t.File))
		}
	}
	return nil
}

func (m *Model) addSafetensors(path string) error {
	b, release, err := mapFile(path)
	if err != nil {
		return fmt.Errorf("safetensors: %w", err)
	}
	m.releases = append(m.releases, release)
	m.FileSize += int64(len(b))
	f, err := safetensors.Parse(b)
	if err != nil {
		return fmt.Errorf("%s: %w", path, err)
	}
	for _, ti := range f.Tensors {
		if skipHFTensor(m.Config.Arch, ti.Name) {
			continue
		}
		dt, err := ParseDType(ti.DType)
		if err != nil || dt.Quantized() {
			return fmt.Errorf("%s: tensor %q: dtype %s is not supported", path, ti.Name, ti.DType)
		}
		name, _ := canonicalFor(m.Config.Arch, ti.Name)
		if prev, dup := m.Tensors[name]; dup {
			prevName := name
			if fn, ok := m.FileNames[name]; ok {
				prevName = fn
			}
			return fmt.Errorf("%s: tensor %q (canonical %q) is also stored as %q in %s", path, ti.Name, name, prevName, prev.File)
		}
		m.Tensors[name] = &Tensor{Name: name, DType: dt, Shape: ti.Shape, Data: ti.Data, File: path}
		if name != ti.Name {
			m.FileNames[name] = ti.Name
		}
	}
	return nil
}

// checkShapes verifies that every tensor the engine will read is present with
// the shape the config implies, so a mismatch is reported at open time and
// names the tensor, instead of surfacing as a wrong answer later. Layers are
// checked in order and the first problem stops the check, so a config that
// claims millions of layers costs nothing. Tensors the config does not
// account for are refused too (see checkUnused).
func checkShapes(m *Model) error {
	c := m.Config
	type want struct {
		name  string
		shape []int
	}
	check := func(ws ...want) error {
		for _, w := range ws {
			t, ok := m.Tensors[w.name]
			if !ok {
				return fmt.Errorf("tensor %q missing", w.name)
			}
			where := ""
			if t.File != m.Path {
				where = " (in " + filepath.Base(t.File) + ")"
			}
			if !slices.Equal(t.Shape, w.shape) {
				return fmt.Errorf("tensor %q%s: shape %v, want %v from the config", w.name, where, t.Shape, w.shape)
			}
			switch {
			case len(w.shape) == 1 && !t.DType.Float():
				return fmt.Errorf("tensor %q%s: 1-D tensors must be F32, F16 or BF16, got %v", w.name, where, t.DType)
			case !t.DType.Float() && !t.DType.Quantized():
				return fmt.Errorf("tensor %q%s: dtype %v cannot hold weights (want a float or quantized type)", w.name, where, t.DType)
			}
		}
		return nil
	}
	top := []want{
		{"token_embd.weight", []int{c.VocabSize, c.HiddenSize}},
		{"output_norm.weight", []int{c.HiddenSize}},
	}
	if !c.TiedEmbeddings {
		top = append(top, want{"output.weight", []int{c.VocabSize, c.HiddenSize}})
	}
	if err := check(top...); err != nil {
		return err
	}
	q, kv := c.Heads*c.HeadDim, c.KVHeads*c.HeadDim
	for l := 0; l < c.Layers; l++ {
		p := fmt.Sprintf("blk.%d.", l)
		ws := []want{
			{p + "attn_norm.weight", []int{c.HiddenSize}},
			{p + "attn_q.weight", []int{q, c.HiddenSize}},
			{p + "attn_k.weight", []int{kv, c.HiddenSize}},
			{p + "attn_v.weight", []int{kv, c.HiddenSize}},
			{p + "attn_output.weight", []int{c.HiddenSize, q}},
		}
		if c.MoE != nil {
			for _, w := range moeWants(m, l) {
				ws = append(ws, want(w))
			}
		} else {
			ws = append(ws,
				want{p + "ffn_norm.weight", []int{c.HiddenSize}},
				want{p + "ffn_gate.weight", []int{c.FFNSize, c.HiddenSize}},
				want{p + "ffn_up.weight", []int{c.FFNSize, c.HiddenSize}},
				want{p + "ffn_down.weight", []int{c.HiddenSize, c.FFNSize}})
		}
		if c.AttnBias {
			ws = append(ws, want{p + "attn_q.bias", []int{q}}, want{p + "attn_k.bias", []int{kv}}, want{p + "attn_v.bias", []int{kv}})
		}
		if c.QKNorm {
			ws = append(ws, want{p + "attn_q_norm.weight", []int{c.HeadDim}}, want{p + "attn_k_norm.weight", []int{c.HeadDim}})
		}
		if c.PostNorms {
			for _, s := range postNormSuffixes {
				ws = append(ws, want{p + s, []int{c.HiddenSize}})
			}
		}
		if err := check(ws...); err != nil {
			return fmt.Errorf("%w%s", err, missingLayerHint(m, l))
		}
	}
	return checkUnused(m)
}

// naturalLess orders names with embedded numbers numerically ("blk.2" < "blk.10").
func naturalLess(a, b string) bool {
	for a != "" && b != "" {
		da, db := digitsPrefix(a), digitsPrefix(b)
		if da > 0 && db > 0 {
			na, nb := strings.TrimLeft(a[:da], "0"), strings.TrimLeft(b[:db], "0")
			if len(na) != len(nb) {
				return len(na) < len(nb)
			}
			if na != nb {
				return na < nb
			}
			a, b = a[da:], b[db:]
			continue
		}
		if a[0] != b[0] {
			return a[0] < b[0]
		}
		a, b = a[1:], b[1:]
	}
	return len(a) < len(b)
}

func digitsPrefix(s string) int {
	i := 0
	for i < len(s) && s[i] >= '0' && s[i] <= '9' {
		i++
	}
	return i
}
