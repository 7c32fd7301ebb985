package weights

// RopeScaling describes a rotary-embedding frequency scaling. Type is "" (none),
// "linear", "llama3", "longrope" (Phi-3's LongRoPE, also called "su") or
// "yarn"; other types are rejected when a config is read.
type RopeScaling struct {
	Type                 string  `json:"type,omitempty"`
	Factor               float64 `json:"factor,omitempty"`
	LowFreqFactor        float64 `json:"low_freq_factor,omitempty"`
	HighFreqFactor       float64 `json:"high_freq_factor,omitempty"`
	OriginalMaxPositions int     `json:"original_max_position_embeddings,omitempty"`
	// ShortFactor and LongFactor (longrope) divide the frequency of each
	// rotated pair: the short factors for contexts up to
	// OriginalMaxPositions, the long ones beyond (see weights/arch_phi.go).
	ShortFactor []float64 `json:"short_factor,omitempty"`
	LongFactor  []float64 `json:"long_factor,omitempty"`
	// AttnFactor multiplies the rotary cosines and sines (llama.cpp's
	// rope.scaling.attn_factor; for longrope sqrt(1 + ln(s)/ln(orig)) with
	// s the context extension); 0 means 1. YaRN multiplies it by its own
	// 1 + 0.1·ln(Factor).
	AttnFactor float64 `json:"attn_factor,omitempty"`
	// BetaFast and BetaSlow bound YaRN's blend between interpolated and
	// extrapolated frequencies (0: llama.cpp's and Hugging Face's 32 and 1).
	BetaFast float64 `json:"beta_fast,omitempty"`
	BetaSlow float64 `json:"beta_slow,omitempty"`
}

// Config is the architecture-neutral description of a decoder-only model,
// filled from a Hugging Face config.json or from a GGUF file's "{arch}.*" keys.
type Config struct {
	Arch          string      `json:"arch"` // "llama", "mistral", "qwen2", "qwen3", "gemma2", "gemma3", "phi3", "chatglm", "glm4", "qwen2moe", "qwen3moe", "mixtral"
	HiddenSize    int         `json:"hidden_size"`
	Layers        int         `json:"layers"`
	Heads         int         `json:"heads"`
	KVHeads       int         `json:"kv_heads"`
	HeadDim       int         `json:"head_dim"`
	FFNSize       int         `json:"ffn_size"`
	VocabSize     int         `json:"vocab_size"`
	ContextLength int         `json:"context_length"`
	RopeTheta     float64     `json:"rope_theta"`
	RopeDim       int         `json:"rope_dim"` // rotated dims per head; usually HeadDim
	RopeScaling   RopeScaling `json:"rope_scaling"`
	NormEps       float64     `json:"norm_eps"`
	// TiedEmbeddings is true when the output head reuses token_embd.weight.
	TiedEmbeddings bool `json:"tied_embeddings"`
	// AttnBias is true when q, k and v projections carry biases (qwen2).
	AttnBias bool `json:"attn_bias"`
	// QKNorm is true when q and k are RMS-normalised per head before rope (qwen3).
	QKNorm bool `json:"qk_norm"`
	// SlidingWindow is the attention window in tokens (0 = full causal attention).
	SlidingWindow int `json:"sliding_window"`
	// Block options of the Gemma family (gemma2, gemma3), described as data
	// so later architectures reuse them (see weights/arch_gemma.go). Zero
	// values keep the llama behaviour.
	//
	// FFNAct is the gate activation: "" or "silu" (SwiGLU), "gelu_tanh"
	// (GeGLU with the tanh-approximated GELU).
	FFNAct string `json:"ffn_act,omitempty"`
	// PostNorms is true when the attention and feed-forward outputs are
	// RMS-normalised (post_attention_norm, post_ffw_norm) before the residual add.
	PostNorms bool `json:"post_norms,omitempty"`
	// EmbedScale multiplies the token embeddings (Gemma: sqrt(hidden size),
	// rounded to float32); 0 means no scaling.
	EmbedScale float64 `json:"embed_scale,omitempty"`
	// AttnScale multiplies the attention scores; 0 means 1/sqrt(HeadDim)
	// (Gemma: query_pre_attn_scalar^-1/2).
	AttnScale float64 `json:"attn_scale,omitempty"`
	// AttnSoftcap and FinalSoftcap, when > 0, cap the attention scores and
	// the logits as cap*tanh(x/cap) (Gemma 2).
	AttnSoftcap  float64 `json:"attn_softcap,omitempty"`
	FinalSoftcap float64 `json:"final_softcap,omitempty"`
	// SlidingPattern interleaves sliding-window and global layers: with
	// SlidingWindow > 0 and SlidingPattern p > 1, layer l attends globally
	// when l%p == p-1 and within the window otherwise (Gemma 2: 2, Gemma 3:
	// 6). 0 or 1: every layer uses the window.
	SlidingPattern int `json:"sliding_pattern,omitempty"`
	// RopeThetaLocal, when > 0, is the rope base of the sliding-window
	// layers, which then rotate without RopeScaling (Gemma 3).
	RopeThetaLocal float64 `json:"rope_theta_local,omitempty"`
	// RopeInterleaved is true when rope turns adjacent pairs (0,1), (2,3),
	// ... of the first RopeDim values of a head (GLM-4, see
	// weights/arch_glm.go) instead of value j with value j+RopeDim/2.
	RopeInterleaved bool `json:"rope_interleaved,omitempty"`
	// MoE describes the experts of a mixture-of-experts model (qwen2moe,
	// qwen3moe, mixtral; see weights/arch_moe.go); nil for dense models.
	MoE *MoEConfig `json:"moe,omitempty"`

	// BOS is the beginning-of-sequence id, -1 if unknown.
	BOS int `json:"bos"`
	// EOS lists every end-of-sequence or end-of-turn id, first the primary one.
	EOS []int `json:"eos"`
}
