// Package synth writes GGUF files with random weights in the shape of real
// models (Qwen2.5-0.5B/1.5B, Llama-3.2-1B, Qwen3-0.6B, Gemma-2-2B,
// Gemma-3-1B, Phi-3.5-mini, GLM-4-9B, and the mixtures of experts
// Qwen3-30B-A3B, Qwen1.5-MoE-A2.7B and Mixtral-8x7B) or of small toy models,
// for benchmarks, tests and the demo.
//
// The files use the tensor names, metadata keys and per-tensor types that
// llama.cpp's converter and llama-quantize produce, so llama.cpp and this
// module's engine can be timed on the same file. The weights follow the
// conventions of the project's reference models: embeddings N(0, 0.02),
// projections N(0, 1/fan_in), norm weights 1 + N(0, 0.1), biases N(0, 0.1).
// They are drawn from a seeded generator in fixed chunks, so a seed gives
// the same bytes whatever the number of threads.
//
// The vocabulary is a small SentencePiece ("llama") one (see BaseVocab),
// padded with unused tokens up to the shape's vocabulary size. The metadata
// carries general.name "valueexp synth SHAPE DTYPE (random weights)" and
// valueexp.synthetic = true so that reports can flag random models.
package synth

import (
	"bufio"
	"context"
	"fmt"
	"io"
	"math"
	"math/rand/v2"
	"os"
	"path/filepath"
	"runtime"
	"sync"

	"github.com/valueexploration/valueexp/weights"
)

// Options describe the file to write.
type Options struct {
	// Shape is the model shape, with its architecture set (see Shape.WithArch).
	Shape Shape
	// Mix chooses the tensor types.
	Mix Mix
	// Layers, when > 0, overrides the shape's layer count (for quick tests);
	// at most MaxLayers.
	Layers int
	// Vocab, when > 0, overrides the shape's vocabulary size (for quick
	// tests; it must hold the synthetic tokenizer's tokens).
	Vocab int
	// NoChat leaves out the ChatML turn markers and the chat template, for
	// the vocabulary synth files had before they carried them: the reference
	// dumps in engine/testdata were made from such files, and their models
	// are rebuilt with it.
	NoChat bool
	// Seed selects the random weights.
	Seed uint64
	// Threads is the number of goroutines that draw and quantize (0: GOMAXPROCS).
	// It does not change the output.
	Threads int
}

// init says how a tensor's values are drawn.
type initKind uint8

const (
	initNormal    initKind = iota // N(mean, std)
	initRopeFreqs                 // llama3 rope frequency factors, not random
	initRopeShort                 // LongRoPE short factors, not random
	initRopeLong                  // LongRoPE long factors, not random
)

// TensorSpec is one tensor of the planned file.
type TensorSpec struct {
	Name  string
	Shape []int // outermost first: [rows, cols] for a matrix
	DType weights.DType
	init  initKind
	mean  float32
	std   float32
}

// Rows returns the number of rows (1 for a vector).
func (t *TensorSpec) Rows() int {
	n := 1
	for _, d := range t.Shape[:len(t.Shape)-1] {
		n *= d // a 3-D expert tensor is experts × rows rows
	}
	return n
}

// Cols returns the row length.
func (t *TensorSpec) Cols() int { return t.Shape[len(t.Shape)-1] }

// Bytes returns the tensor's size in the file.
func (t *TensorSpec) Bytes() int64 {
	rb, _ := t.DType.RowBytes(t.Cols())
	return int64(rb) * int64(t.Rows())
}

// Plan is everything a file will hold: metadata and tensors, without data.
type Plan struct {
	Shape   Shape // with Layers overridden
	Mix     Mix
	Vocab   *Vocab
	KV      []weights.KV
	Tensors []TensorSpec
	chat    bool // the vocabulary has the ChatML markers; the file gets ChatTemplate
}

// Params returns the number of weights of all tensors.
func (p *Plan) Params() int64 {
	var n int64
	for i := range p.Tensors {
		n += int64(p.Tensors[i].Rows()) * int64(p.Tensors[i].Cols())
	}
	return n
}

// TypeCounts returns how many tensors have each type.
func (p *Plan) TypeCounts() map[weights.DType]int {
	c := map[weights.DType]int{}
	for i := range p.Tensors {
		c[p.Tensors[i].DType]++
	}
	return c
}

// Name returns the general.name the file carries.
func (p *Plan) Name() string {
	name := p.Shape.Name
	if ref, err := LookupShape(p.Shape.Name); err == nil {
		if p.Shape.Layers != ref.Layers {
			name = fmt.Sprintf("%s-%dL", name, p.Shape.Layers)
		}
		if ref.Vocab != 0 && p.Shape.Vocab != ref.Vocab {
			name = fmt.Sprintf("%s-V%d", name, p.Shape.Vocab)
		}
	}
	if p.Shape.Name == "tiny" || p.Shape.Name == "small" {
		name = p.Shape.Arch + "-" + name
	}
	return fmt.Sprintf("valueexp synth %s %s (random weights)", name, p.Mix)
}

// NewPlan lays out the file for opt without drawing any weights.
func NewPlan(opt Options) (*Plan, error) {
	s := opt.Shape
	if opt.Layers > 0 {
		s.Layers = opt.Layers
	}
	if opt.Vocab > 0 {
		s.Vocab = opt.Vocab
	}
	if err := s.validate(); err != nil {
		return nil, err
	}
	if _, err := ParseMix(string(opt.Mix)); err != nil {
		return nil, err
	}
	vocab := baseVocab(!opt.NoChat)
	if s.Arch == "phi3" {
		phiVocab(vocab)
	}
	if s.Vocab == 0 {
		s.Vocab = vocab.Len()
	}
	if s.Vocab < vocab.Len() {
		return nil, fmt.Errorf("synth: shape %s: vocabulary %d is smaller than the synthetic tokenizer's %d tokens", s.Name, s.Vocab, vocab.Len())
	}
	vocab.padTo(s.Vocab)
	p := &Plan{Shape: s, Mix: opt.Mix, Vocab: vocab, chat: !opt.NoChat}
	p.Tensors = p.tensors()
	p.KV = p.metadata(opt.Seed)
	return p, nil
}

func (p *Plan) tensors() []TensorSpec {
	s, mix := p.Shape, p.Mix
	if s.Arch == "phi3" {
		return p.phiTensors()
	}
	H, F, V := s.Hidden, s.FFN, s.Vocab
	qDim, kvDim := s.Heads*s.HeadDim, s.KVHeads*s.HeadDim
	var ts []TensorSpec
	vector := func(name string, n int, mean, std float32) {
		ts = append(ts, TensorSpec{Name: name, Shape: []int{n}, DType: weights.F32, mean: mean, std: std})
	}
	matrix := func(name, role string, layer, rows, cols int, std float32, head bool) {
		dt := mix.matrixType(role, layer, s.Layers, cols, head)
		ts = append(ts, TensorSpec{Name: name, Shape: []int{rows, cols}, DType: dt, std: std})
	}

	matrix("token_embd.weight", "token_embd", -1, V, H, 0.02, s.Tied)
	if s.RopeScaling.Type == "llama3" {
		ts = append(ts, TensorSpec{Name: "rope_freqs.weight", Shape: []int{s.HeadDim / 2}, DType: weights.F32, init: initRopeFreqs})
	}
	vector("output_norm.weight", H, 1, 0.1)
	if !s.Tied {
		matrix("output.weight", "output", -1, V, H, proj(H), true)
	}
	for l := 0; l < s.Layers; l++ {
		if isGLM(s.Arch) {
			ts = p.glmLayerTensors(ts, l)
			continue
		}
		b := fmt.Sprintf("blk.%d.", l)
		vector(b+"attn_norm.weight", H, 1, 0.1)
		matrix(b+"attn_q.weight", "attn_q", l, qDim, H, proj(H), false)
		matrix(b+"attn_k.weight", "attn_k", l, kvDim, H, proj(H), false)
		matrix(b+"attn_v.weight", "attn_v", l, kvDim, H, proj(H), false)
		if s.AttnBias {
			vector(b+"attn_q.bias", qDim, 0, 0.1)
			vector(b+"attn_k.bias", kvDim, 0, 0.1)
			vector(b+"attn_v.bias", kvDim, 0, 0.1)
		}
		if s.QKNorm {
			vector(b+"attn_q_norm.weight", s.HeadDim, 1, 0.1)
			vector(b+"attn_k_norm.weight", s.HeadDim, 1, 0.1)
		}
		matrix(b+"attn_output.weight", "attn_output", l, H, qDim, proj(qDim), false)
		if isMoE(s.Arch) {
			ts = moeTensors(ts, s, mix, l, b)
		} else {
			vector(b+"ffn_norm.weight", H, 1, 0.1)
			matrix(b+"ffn_gate.weight", "ffn_gate", l, F, H, proj(H), false)
			matrix(b+"ffn_up.weight", "ffn_up", l, F, H, proj(H), false)
			matrix(b+"ffn_down.weight", "ffn_down", l, H, F, proj(F), false)
		}
		if isGemma(s.Arch) {
			vector(b+"post_attention_norm.weight", H, 1, 0.1)
			vector(b+"post_ffw_norm.weight", H, 1, 0.1)
		}
	}
	return ts
}

// metadata returns the GGUF keys llama.cpp's converter writes for the
// architecture, then the tokenizer and the synthetic-model markers.
func (p *Plan) metadata(seed uint64) []weights.KV {
	s := p.Shape
	a := ggufArch(s.Arch) + "."
	kv := []weights.KV{
		{Key: "general.architecture", Value: ggufArch(s.Arch)},
		{Key: "general.type", Value: "model"},
		{Key: "general.name", Value: p.Name()},
		{Key: a + "block_count", Value: uint32(s.Layers)},
		{Key: a + "context_length", Value: uint32(s.Context)},
		{Key: a + "embedding_length", Value: uint32(s.Hidden)},
		{Key: a + "feed_forward_length", Value: uint32(s.FFN)},
		{Key: a + "attention.head_count", Value: uint32(s.Heads)},
		{Key: a + "attention.head_count_kv", Value: uint32(s.KVHeads)},
		{Key: a + "rope.freq_base", Value: float32(s.RopeTheta)},
		{Key: a + "attention.layer_norm_rms_epsilon", Value: float32(s.NormEps)},
	}
	// Hugging Face configs of llama 3 and qwen3 state head_dim, and the
	// converter then writes key/value_length; llama adds its rope and
	// vocabulary sizes.
	if s.Arch != "qwen2" || s.HeadDim != s.Hidden/s.Heads {
		kv = append(kv,
			weights.KV{Key: a + "attention.key_length", Value: uint32(s.HeadDim)},
			weights.KV{Key: a + "attention.value_length", Value: uint32(s.HeadDim)})
	}
	if s.Arch == "llama" || s.Arch == "mixtral" {
		kv = append(kv,
			weights.KV{Key: a + "vocab_size", Value: uint32(s.Vocab)},
			weights.KV{Key: a + "rope.dimension_count", Value: uint32(s.HeadDim)})
	}
	kv = append(kv, gemmaKV(s)...)
	kv = append(kv, phiKV(s)...)
	kv = append(kv, ropeScalingKV(s)...)
	kv = append(kv, glmKV(s)...)
	kv = append(kv, moeKV(s)...)
	kv = append(kv, weights.KV{Key: "general.file_type", Value: p.Mix.FileType()})
	if p.Mix != MixF32 && p.Mix != MixF16 && p.Mix != MixBF16 {
		kv = append(kv, weights.KV{Key: "general.quantization_version", Value: uint32(2)})
	}
	kv = append(kv,
		weights.KV{Key: "tokenizer.ggml.model", Value: "llama"},
		weights.KV{Key: "tokenizer.ggml.pre", Value: "default"},
		weights.KV{Key: "tokenizer.ggml.tokens", Value: p.Vocab.Tokens},
		weights.KV{Key: "tokenizer.ggml.scores", Value: p.Vocab.Scores},
		weights.KV{Key: "tokenizer.ggml.token_type", Value: p.Vocab.Types},
		weights.KV{Key: "tokenizer.ggml.bos_token_id", Value: uint32(BOSID)},
		weights.KV{Key: "tokenizer.ggml.eos_token_id", Value: uint32(EOSID)},
		weights.KV{Key: "tokenizer.ggml.unknown_token_id", Value: uint32(UnknownID)},
		weights.KV{Key: "tokenizer.ggml.add_bos_token", Value: !isGLM(s.Arch)},
		weights.KV{Key: "tokenizer.ggml.add_eos_token", Value: false},
		weights.KV{Key: "valueexp.synthetic", Value: true},
		weights.KV{Key: "valueexp.synth.shape", Value: s.Name},
		weights.KV{Key: "valueexp.synth.dtype", Value: string(p.Mix)},
		weights.KV{Key: "valueexp.synth.seed", Value: seed},
	)
	if p.chat {
		kv = append(kv, weights.KV{Key: "tokenizer.chat_template", Value: ChatTemplate})
	}
	return kv
}

// ropeFreqFactors returns llama.cpp's rope_freqs.weight for llama3 scaling:
// per rotated pair, the number its frequency is divided by (1 for high
// frequencies, Factor for low ones, a blend between), as convert_hf_to_gguf
// computes it.
func ropeFreqFactors(s Shape) []float32 {
	rs := s.RopeScaling
	d := s.HeadDim
	out := make([]float32, d/2)
	lowWavelen := float64(rs.OriginalMaxPositions) / rs.LowFreqFactor
	highWavelen := float64(rs.OriginalMaxPositions) / rs.HighFreqFactor
	for j := range out {
		freq := 1 / math.Pow(s.RopeTheta, float64(2*j)/float64(d))
		wavelen := 2 * math.Pi / freq
		switch {
		case wavelen < highWavelen:
			out[j] = 1
		case wavelen > lowWavelen:
			out[j] = float32(rs.Factor)
		default:
			smooth := (float64(rs.OriginalMaxPositions)/wavelen - rs.LowFreqFactor) / (rs.HighFreqFactor - rs.LowFreqFactor)
			out[j] = float32(1 / ((1-smooth)/rs.Factor + smooth))
		}
	}
	return out
}

// proj is the standard deviation of a projection's weights, 1/sqrt(fan_in).
func proj(fanIn int) float32 { return float32(1 / math.Sqrt(float64(fanIn))) }

// chunkElems is the number of weights drawn from one generator stream. It is
// fixed (never derived from the thread count) so that the output does not
// depend on how many threads drew it.
const chunkElems = 1 << 16

// Summary describes a written file.
type Summary struct {
	Plan  *Plan
	Bytes int64 // file size
}

// headerTensors describes the planned tensors for weights.EncodeGGUFHeader
// (names, types and shapes; the data is streamed later).
func (p *Plan) headerTensors() []*weights.Tensor {
	ts := make([]*weights.Tensor, len(p.Tensors))
	for i, t := range p.Tensors {
		ts[i] = &weights.Tensor{Name: t.Name, DType: t.DType, Shape: t.Shape}
	}
	return ts
}

// Write writes the GGUF file for opt to w.
func Write(w io.Writer, opt Options) (*Summary, error) {
	return WriteContext(context.Background(), w, opt)
}

// WriteContext is Write that stops with ctx's error when ctx is cancelled. It
// checks ctx between blocks of at most 4×threads×64k weights, so a
// cancellation takes effect within a fraction of a second.
func WriteContext(ctx context.Context, w io.Writer, opt Options) (*Summary, error) {
	p, err := NewPlan(opt)
	if err != nil {
		return nil, err
	}
	header, offsets, align, err := weights.EncodeGGUFHeader(p.KV, p.headerTensors())
	if err != nil {
		return nil, fmt.Errorf("synth: %w", err)
	}
	bw := bufio.NewWriterSize(w, 4<<20)
	n := int64(0)
	write := func(b []byte) error {
		k, err := bw.Write(b)
		n += int64(k)
		return err
	}
	if err := write(header); err != nil {
		return nil, fmt.Errorf("synth: write header: %w", err)
	}
	threads := opt.Threads
	if threads <= 0 {
		threads = runtime.GOMAXPROCS(0)
	}
	zeros := make([]byte, align)
	dataStart := n
	for i := range p.Tensors {
		t := &p.Tensors[i]
		if pad := dataStart + int64(offsets[i]) - n; pad > 0 {
			if err := write(zeros[:pad]); err != nil {
				return nil, fmt.Errorf("synth: write: %w", err)
			}
		}
		if err := writeTensor(ctx, write, p, i, opt.Seed, threads); err != nil {
			return nil, fmt.Errorf("synth: tensor %q: %w", t.Name, err)
		}
	}
	if pad := (int64(align) - n%int64(align)) % int64(align); pad > 0 {
		if err := write(zeros[:pad]); err != nil {
			return nil, fmt.Errorf("synth: write: %w", err)
		}
	}
	if err := bw.Flush(); err != nil {
		return nil, fmt.Errorf("synth: write: %w", err)
	}
	return &Summary{Plan: p, Bytes: n}, nil
}

// WriteFile writes the GGUF file for opt to path. It writes a temporary file
// beside path and renames it, so an interrupted run leaves no partial model.
func WriteFile(path string, opt Options) (*Summary, error) {
	return WriteFileContext(context.Background(), path, opt)
}

// WriteFileContext is WriteFile that stops when ctx is cancelled. The
// temporary file is removed on every error, cancellation included (the CLI
// cancels ctx on SIGINT and SIGTERM), so an interrupted run leaves neither a
// partial model nor a multi-gigabyte temporary file; only SIGKILL can leave
// one, as path.tmpNNNN.
func WriteFileContext(ctx context.Context, path string, opt Options) (*Summary, error) {
	if err := ctx.Err(); err != nil {
		return nil, fmt.Errorf("synth: %s: %w", path, err)
	}
	f, err := os.CreateTemp(filepath.Dir(path), filepath.Base(path)+".tmp*")
	if err != nil {
		return nil, fmt.Errorf("synth: %w", err)
	}
	tmp := f.Name()
	sum, err := WriteContext(ctx, f, opt)
	if err == nil {
		err = f.Chmod(0o644) // CreateTemp makes the file private; a model is not
	}
	if cerr := f.Close(); err == nil && cerr != nil {
		err = fmt.Errorf("synth: %s: %w", path, cerr)
	}
	if err == nil {
		err = os.Rename(tmp, path)
	}
	if err != nil {
		os.Remove(tmp)
		return nil, err
	}
	return sum, nil
}

// writeTensor draws tensor i in chunks of whole rows, a window of chunks at
// a time in parallel, and writes each window in order.
func writeTensor(ctx context.Context, write func([]byte) error, p *Plan, i int, seed uint64, threads int) error {
	if err := ctx.Err(); err != nil {
		return err
	}
	t := &p.Tensors[i]
	if t.init == initRopeFreqs {
		return write(weights.Float32Bytes(ropeFreqFactors(p.Shape)))
	}
	if t.init == initRopeShort || t.init == initRopeLong {
		return write(weights.Float32Bytes(longRopeFactors(p.Shape, t.init == initRopeLong)))
	}
	rows, cols := t.Rows(), t.Cols()
	rowBytes, err := t.DType.RowBytes(cols)
	if err != nil {
		return err
	}
	chunkRows := max(1, chunkElems/cols)
	nChunks := (rows + chunkRows - 1) / chunkRows
	window := min(nChunks, 4*threads)
	buf := make([]byte, window*chunkRows*rowBytes)
	srcs := make([][]float32, min(threads, window))
	for g := range srcs {
		srcs[g] = make([]float32, chunkRows*cols)
	}
	for first := 0; first < nChunks; first += window {
		if err := ctx.Err(); err != nil {
			return err
		}
		last := min(nChunks, first+window)
		errs := make([]error, len(srcs))
		var wg sync.WaitGroup
		for g := range srcs {
			wg.Add(1)
			go func() {
				defer wg.Done()
				for c := first + g; c < last; c += len(srcs) {
					lo, hi := c*chunkRows, min(rows, (c+1)*chunkRows)
					src := srcs[g][:(hi-lo)*cols]
					r := rand.New(rand.NewPCG(seed, uint64(i)<<32|uint64(c)))
					for k := range src {
						src[k] = t.mean + t.std*float32(r.NormFloat64())
					}
					dst := buf[(c-first)*chunkRows*rowBytes : (c-first)*chunkRows*rowBytes+(hi-lo)*rowBytes]
					if err := weights.Quantize(dst, src, t.DType); err != nil {
						errs[g] = err
						return
					}
				}
			}()
		}
		wg.Wait()
		for _, err := range errs {
			if err != nil {
				return err
			}
		}
		end := min(rows, last*chunkRows) - first*chunkRows
		if err := write(buf[:end*rowBytes]); err != nil {
			return err
		}
	}
	return nil
}
