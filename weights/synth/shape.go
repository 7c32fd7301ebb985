package synth

import (
	"fmt"
	"strings"

	"github.com/valueexploration/valueexp/weights"
)

// Shape is the architecture of a model to synthesise: the hyperparameters a
// GGUF file's "{arch}.*" keys carry, plus the features that decide which
// tensors exist.
type Shape struct {
	Name    string
	Arch    string // "llama", "qwen2", "qwen3", "gemma2", "gemma3", "phi3", "chatglm" or "glm4"; "" for the toy shapes, which take Options.Arch
	Hidden  int
	Layers  int
	Heads   int
	KVHeads int
	HeadDim int
	FFN     int
	// Vocab is the vocabulary size; 0 means the synthetic tokenizer's own
	// size (no padding tokens).
	Vocab     int
	Context   int
	RopeTheta float64
	NormEps   float64
	// Tied is true when there is no output.weight and the LM head reuses
	// token_embd.weight.
	Tied     bool
	AttnBias bool // q/k/v biases (qwen2)
	QKNorm   bool // per-head q/k RMSNorm (qwen3)
	// RopeScaling is the Hugging Face rope scaling; "llama3" scaling is
	// written as llama.cpp's rope_freqs.weight tensor.
	RopeScaling weights.RopeScaling
	// Window is the sliding window of the Gemma architectures' local
	// layers (written as "{arch}.attention.sliding_window").
	Window int
	// RopeDim is the number of rotated dimensions per head (0: HeadDim;
	// Phi-4-mini rotates three quarters).
	RopeDim int
	// Experts, ExpertsUsed (top-k), ExpertFFN and SharedFFN describe a
	// mixture-of-experts shape (qwen2moe, qwen3moe, mixtral; see moe.go).
	Experts, ExpertsUsed, ExpertFFN, SharedFFN int
}

// The real shapes come from each base model's Hugging Face config.json.
var shapes = []Shape{
	{Name: "qwen2.5-0.5b", Arch: "qwen2", Hidden: 896, Layers: 24, Heads: 14, KVHeads: 2, HeadDim: 64, FFN: 4864,
		Vocab: 151936, Context: 32768, RopeTheta: 1e6, NormEps: 1e-6, Tied: true, AttnBias: true},
	// The base model's config says 131072 positions; its -Instruct config 32768.
	{Name: "qwen2.5-1.5b", Arch: "qwen2", Hidden: 1536, Layers: 28, Heads: 12, KVHeads: 2, HeadDim: 128, FFN: 8960,
		Vocab: 151936, Context: 131072, RopeTheta: 1e6, NormEps: 1e-6, Tied: true, AttnBias: true},
	{Name: "llama-3.2-1b", Arch: "llama", Hidden: 2048, Layers: 16, Heads: 32, KVHeads: 8, HeadDim: 64, FFN: 8192,
		Vocab: 128256, Context: 131072, RopeTheta: 500000, NormEps: 1e-5, Tied: true,
		RopeScaling: weights.RopeScaling{Type: "llama3", Factor: 32, LowFreqFactor: 1, HighFreqFactor: 4, OriginalMaxPositions: 8192}},
	{Name: "qwen3-0.6b", Arch: "qwen3", Hidden: 1024, Layers: 28, Heads: 16, KVHeads: 8, HeadDim: 128, FFN: 3072,
		Vocab: 151936, Context: 40960, RopeTheta: 1e6, NormEps: 1e-6, Tied: true, QKNorm: true},
	{Name: "gemma-2-2b", Arch: "gemma2", Hidden: 2304, Layers: 26, Heads: 8, KVHeads: 4, HeadDim: 256, FFN: 9216,
		Vocab: 256000, Context: 8192, RopeTheta: 10000, NormEps: 1e-6, Tied: true, Window: 4096},
	{Name: "gemma-3-1b", Arch: "gemma3", Hidden: 1152, Layers: 26, Heads: 4, KVHeads: 1, HeadDim: 256, FFN: 6912,
		Vocab: 262144, Context: 32768, RopeTheta: 1e6, NormEps: 1e-6, Tied: true, QKNorm: true, Window: 512},
	// Phi-3.5-mini-instruct, with its LongRoPE factors.
	{Name: "phi-3.5-mini", Arch: "phi3", Hidden: 3072, Layers: 32, Heads: 32, KVHeads: 32, HeadDim: 96, FFN: 8192,
		Vocab: 32064, Context: 131072, RopeTheta: 10000, NormEps: 1e-5, Window: 262144,
		RopeScaling: weights.RopeScaling{Type: "longrope", OriginalMaxPositions: 4096, ShortFactor: phi35ShortFactor, LongFactor: phi35LongFactor}},
	// GLM-4-9B-chat's Hugging Face config (THUDM/glm-4-9b-chat-hf); the
	// -0414 model has the same sizes (--arch glm4 gives its layout).
	{Name: "glm-4-9b", Arch: "chatglm", Hidden: 4096, Layers: 40, Heads: 32, KVHeads: 2, HeadDim: 128, FFN: 13696,
		Vocab: 151552, Context: 131072, RopeTheta: 10000, NormEps: 1.5625e-7, AttnBias: true},
	{Name: "qwen3-30b-a3b", Arch: "qwen3moe", Hidden: 2048, Layers: 48, Heads: 32, KVHeads: 4, HeadDim: 128, FFN: 6144,
		Vocab: 151936, Context: 40960, RopeTheta: 1e6, NormEps: 1e-6, QKNorm: true,
		Experts: 128, ExpertsUsed: 8, ExpertFFN: 768},
	{Name: "qwen1.5-moe-a2.7b", Arch: "qwen2moe", Hidden: 2048, Layers: 24, Heads: 16, KVHeads: 16, HeadDim: 128, FFN: 5632,
		Vocab: 151936, Context: 8192, RopeTheta: 1e6, NormEps: 1e-6, AttnBias: true,
		Experts: 60, ExpertsUsed: 4, ExpertFFN: 1408, SharedFFN: 5632},
	{Name: "mixtral-8x7b", Arch: "mixtral", Hidden: 4096, Layers: 32, Heads: 32, KVHeads: 8, HeadDim: 128, FFN: 14336,
		Vocab: 32000, Context: 32768, RopeTheta: 1e6, NormEps: 1e-5,
		Experts: 8, ExpertsUsed: 2, ExpertFFN: 14336},
	// Toy shapes for tests and the demo. tiny's rows (128) are too short for
	// K-quants, so its q4_k file falls back to Q5_0/Q8_0; small's 512-wide
	// rows take real Q4_K and Q6_K blocks.
	{Name: "tiny", Hidden: 128, Layers: 4, Heads: 4, KVHeads: 2, HeadDim: 32, FFN: 384, Context: 2048},
	{Name: "small", Hidden: 512, Layers: 8, Heads: 8, KVHeads: 2, HeadDim: 64, FFN: 1536, Context: 4096},
}

// Shapes returns the known shapes, real models first.
func Shapes() []Shape { return append([]Shape(nil), shapes...) }

// ShapeNames returns the names of the known shapes.
func ShapeNames() []string {
	names := make([]string, len(shapes))
	for i, s := range shapes {
		names[i] = s.Name
	}
	return names
}

// LookupShape returns the shape with the given name (case-insensitive).
func LookupShape(name string) (Shape, error) {
	for _, s := range shapes {
		if strings.EqualFold(s.Name, name) {
			return s, nil
		}
	}
	return Shape{}, fmt.Errorf("synth: unknown shape %q (known: %s)", name, strings.Join(ShapeNames(), ", "))
}

// WithArch returns the shape for architecture arch. A real shape keeps its
// own architecture, and arch must be "" or equal to it. A toy shape takes
// the architecture's features: llama gets an untied output head; qwen2 a
// tied head and q/k/v biases; qwen3 a tied head and q/k norms (with
// RopeTheta and NormEps of the real families).
func (s Shape) WithArch(arch string) (Shape, error) {
	if s.Arch != "" {
		if isGLM(s.Arch) && isGLM(arch) {
			s.Arch = arch // one shape, two layouts
			return s, nil
		}
		if arch != "" && arch != s.Arch {
			return s, fmt.Errorf("synth: shape %s is a %s model, not %s", s.Name, s.Arch, arch)
		}
		return s, nil
	}
	if arch == "" {
		arch = "qwen2"
	}
	s.Arch = arch
	switch arch {
	case "llama":
		s.RopeTheta, s.NormEps = 10000, 1e-5
	case "qwen2":
		s.RopeTheta, s.NormEps, s.Tied, s.AttnBias = 1e6, 1e-6, true, true
	case "qwen3":
		s.RopeTheta, s.NormEps, s.Tied, s.QKNorm = 1e6, 1e-6, true, true
	case "gemma2", "gemma3":
		s = gemmaToy(s)
	case "phi3":
		s = phiToy(s)
	case "chatglm", "glm4":
		s = glmToy(s)
	case "qwen2moe", "qwen3moe", "mixtral":
		s = moeToy(s)
	default:
		return s, fmt.Errorf("synth: unknown architecture %q (known: llama, qwen2, qwen3, gemma2, gemma3, phi3, chatglm, glm4, qwen2moe, qwen3moe, mixtral)", arch)
	}
	return s, nil
}

// validate checks that the shape describes a model the engine can run.
func (s Shape) validate() error {
	switch {
	case s.Arch != "llama" && s.Arch != "qwen2" && s.Arch != "qwen3" && !isGemma(s.Arch) && s.Arch != "phi3" && !isGLM(s.Arch) && !isMoE(s.Arch):
		return fmt.Errorf("synth: shape %s: unknown architecture %q", s.Name, s.Arch)
	case s.Hidden <= 0 || s.Layers <= 0 || s.Heads <= 0 || s.KVHeads <= 0 || s.HeadDim <= 0 || s.FFN <= 0:
		return fmt.Errorf("synth: shape %s: sizes must be positive: %+v", s.Name, s)
	case s.Layers > MaxLayers:
		return fmt.Errorf("synth: shape %s: %d layers is more than the %d this tool writes", s.Name, s.Layers, MaxLayers)
	case s.Vocab < 0 || s.Vocab > MaxVocab:
		return fmt.Errorf("synth: shape %s: vocabulary %d is outside [0, %d]", s.Name, s.Vocab, MaxVocab)
	case s.Heads%s.KVHeads != 0:
		return fmt.Errorf("synth: shape %s: %d heads is not a multiple of %d kv heads", s.Name, s.Heads, s.KVHeads)
	case s.Arch == "chatglm" && s.Heads*s.HeadDim != s.Hidden:
		return fmt.Errorf("synth: shape %s: chatglm needs heads*head_dim = hidden (llama.cpp sizes q by the hidden size), got %d*%d != %d", s.Name, s.Heads, s.HeadDim, s.Hidden)
	case s.HeadDim%2 != 0:
		return fmt.Errorf("synth: shape %s: head dim %d is odd", s.Name, s.HeadDim)
	case s.RopeDim < 0 || s.RopeDim > s.HeadDim || s.RopeDim%2 != 0:
		return fmt.Errorf("synth: shape %s: rope dim %d must be even and at most head dim %d", s.Name, s.RopeDim, s.HeadDim)
	case s.RopeScaling.Type == "longrope" && (s.RopeScaling.OriginalMaxPositions <= 0 || s.Context < s.RopeScaling.OriginalMaxPositions):
		return fmt.Errorf("synth: shape %s: longrope needs an original context in (0, %d], got %d", s.Name, s.Context, s.RopeScaling.OriginalMaxPositions)
	case s.Hidden%weights.QK != 0 || s.FFN%weights.QK != 0 || s.Heads*s.HeadDim%weights.QK != 0:
		return fmt.Errorf("synth: shape %s: hidden, ffn and q widths must be multiples of %d for the block quant types", s.Name, weights.QK)
	}
	return s.validateMoE()
}

// MaxLayers and MaxVocab bound the --layers and --vocab overrides: the plan
// holds about a dozen tensor descriptions per layer and one string per
// token, so these keep it to a few hundred MiB at most, far above any real
// model (the largest have under 200 layers and about 256k tokens).
const (
	MaxLayers = 4096
	MaxVocab  = 1 << 22
)
