package engine

import (
	"errors"
	"fmt"
	"math"
	"runtime"
	"sync/atomic"

	"github.com/valueexploration/valueexp/hooks"

	"github.com/valueexploration/valueexp/weights"
)

// Options configure a loaded model.
type Options struct {
	// Threads is the number of worker goroutines (0: GOMAXPROCS).
	Threads int
	// ContextLength is the longest sequence the caller means to run, as
	// llama.cpp's context size (-c): for a LongRoPE model (Phi-3.5,
	// Phi-4-mini) a value above the original context selects the long
	// factors, as llama.cpp does; 0 or less keeps the short ones, and a
	// sequence may then not grow past the original context. Other models
	// ignore it.
	ContextLength int
	// InMemory copies the weights out of the mapped files into memory of
	// the process's own, on huge pages where the OS offers them
	// (weights.Model.LoadIntoMemory, llama.cpp's --no-mmap): loading reads
	// the whole model, and decode, which streams every weight per token,
	// runs faster. New applies it to the model it is given.
	InMemory bool
}

// Model is a loaded model ready to run. It is immutable after Load and safe
// for concurrent use by many sequences; each Sequence holds its own KV cache.
type Model struct {
	Config  weights.Config
	Weights *weights.Model

	embed     *weights.Tensor
	output    *matrix
	outNorm   []float32
	layers    []layer
	invFreq   []float64 // rotary inverse frequencies, one per rotated pair
	pool      *pool
	ownsFiles bool
	closed    atomic.Bool // Close was called: the weights may be unmapped

	// invFreqLocal are the sliding-window layers' frequencies when they
	// have their own rope base (Config.RopeThetaLocal), else nil.
	invFreqLocal []float64
	// ropeMScale multiplies the rotary cosines and sines (LongRoPE, YaRN);
	// maxPositions, when > 0, is the longest sequence the rope serves
	// (LongRoPE's short factors).
	ropeMScale   float64
	maxPositions int
}

// layer holds one decoder block's weights. Vectors (norms, biases) are
// converted to float32 at load; matrices stay in their file dtype.
type layer struct {
	attnNorm, ffnNorm   []float32
	q, k, v, o          *matrix
	qBias, kBias, vBias []float32
	qNorm, kNorm        []float32
	gate, up, down      *matrix

	// attnPostNorm and ffnPostNorm normalise the sublayer outputs
	// (Config.PostNorms), nil otherwise.
	attnPostNorm, ffnPostNorm []float32

	// moe replaces gate, up and down in a mixture-of-experts block.
	moe *moeLayer
}

// Load opens a model file or folder (see weights.Open) and prepares it to run.
// Close releases the files and the worker goroutines.
func Load(path string, opts Options) (*Model, error) {
	w, err := weights.Open(path)
	if err != nil {
		return nil, err
	}
	m, err := New(w, opts)
	if err != nil {
		w.Close()
		return nil, err
	}
	m.ownsFiles = true
	return m, nil
}

// New prepares an already opened model to run. The caller keeps ownership of w.
func New(w *weights.Model, opts Options) (*Model, error) {
	if w == nil {
		return nil, errors.New("engine: New: nil *weights.Model")
	}
	if opts.InMemory {
		if err := w.LoadIntoMemory(); err != nil {
			return nil, fmt.Errorf("engine: %w", err)
		}
	}
	c := w.Config
	m := &Model{Config: c, Weights: w}
	var err error
	fail := func(e error) (*Model, error) { return nil, fmt.Errorf("engine: %s: %w", w.Path, e) }
	if m.embed, err = w.Tensor("token_embd.weight"); err != nil {
		return fail(err)
	}
	if m.outNorm, err = vector(w, "output_norm.weight"); err != nil {
		return fail(err)
	}
	outName := "output.weight"
	if _, ok := w.Tensors[outName]; !ok {
		outName = "token_embd.weight" // tied embeddings
	}
	if m.output, err = matrixOf(w, outName); err != nil {
		return fail(err)
	}
	m.layers = make([]layer, c.Layers)
	for l := range m.layers {
		ly := &m.layers[l]
		p := fmt.Sprintf("blk.%d.", l)
		for _, v := range []struct {
			dst  *[]float32
			name string
			need bool
		}{
			{&ly.attnNorm, "attn_norm.weight", true},
			{&ly.ffnNorm, "ffn_norm.weight", true},
			{&ly.qBias, "attn_q.bias", c.AttnBias},
			{&ly.kBias, "attn_k.bias", c.AttnBias},
			{&ly.vBias, "attn_v.bias", c.AttnBias},
			{&ly.qNorm, "attn_q_norm.weight", c.QKNorm},
			{&ly.kNorm, "attn_k_norm.weight", c.QKNorm},
			{&ly.attnPostNorm, "post_attention_norm.weight", c.PostNorms},
			{&ly.ffnPostNorm, "post_ffw_norm.weight", c.PostNorms},
		} {
			if !v.need {
				continue
			}
			if *v.dst, err = vector(w, p+v.name); err != nil {
				return fail(err)
			}
		}
		for _, mt := range []struct {
			dst  **matrix
			name string
		}{
			{&ly.q, "attn_q.weight"}, {&ly.k, "attn_k.weight"}, {&ly.v, "attn_v.weight"},
			{&ly.o, "attn_output.weight"}, {&ly.gate, "ffn_gate.weight"},
			{&ly.up, "ffn_up.weight"}, {&ly.down, "ffn_down.weight"},
		} {
			if c.MoE != nil && (mt.dst == &ly.gate || mt.dst == &ly.up || mt.dst == &ly.down) {
				continue
			}
			if *mt.dst, err = matrixOf(w, p+mt.name); err != nil {
				return fail(err)
			}
		}
		if c.MoE != nil {
			if ly.moe, err = loadMoE(w, l); err != nil {
				return fail(err)
			}
		}
	}
	if m.invFreq, m.ropeMScale, m.maxPositions, err = ropeSetup(c, w, opts); err != nil {
		return fail(err)
	}
	if m.invFreqLocal, err = ropeInvFreqLocal(c); err != nil {
		return fail(err)
	}
	threads := opts.Threads
	if threads <= 0 {
		threads = runtime.GOMAXPROCS(0)
	}
	m.pool = newPool(threads)
	return m, nil
}

// Close stops the worker goroutines and, if Load opened the files, releases
// them. Forward and Generate return an error afterwards.
func (m *Model) Close() error {
	if m.closed.Swap(true) {
		return nil
	}
	m.pool.close()
	if m.ownsFiles {
		return m.Weights.Close()
	}
	return nil
}

// Threads returns the number of worker goroutines.
func (m *Model) Threads() int { return m.pool.workers }

func matrixOf(w *weights.Model, name string) (*matrix, error) {
	t, err := w.Tensor(name)
	if err != nil {
		return nil, err
	}
	return newMatrix(t)
}

// vector converts a small tensor (a norm, a bias) to float32 and refuses one
// holding NaN or Inf, which would turn every activation after it into NaN.
func vector(w *weights.Model, name string) ([]float32, error) {
	t, err := w.Tensor(name)
	if err != nil {
		return nil, err
	}
	v, err := t.Float32()
	if err != nil {
		return nil, err
	}
	if err := checkVector(t, v, w.FileNames); err != nil {
		return nil, err
	}
	return v, nil
}

// ropeInvFreq returns the rotary inverse frequency of each rotated pair,
// theta^(-2j/d), with the configured scaling applied: linear scaling divides
// every frequency by the factor; llama3 scaling (Llama 3.1/3.2) divides low
// frequencies by the factor, keeps high ones and blends in between. A GGUF
// that carries rope_freqs.weight (llama.cpp's precomputed llama3 factors)
// divides by those instead.
func ropeInvFreq(c weights.Config, w *weights.Model) ([]float64, error) {
	d := c.RopeDim
	inv := make([]float64, d/2)
	for j := range inv {
		inv[j] = 1 / math.Pow(c.RopeTheta, float64(2*j)/float64(d))
	}
	if t, ok := w.Tensors["rope_freqs.weight"]; ok {
		f, err := t.Float32()
		if err != nil {
			return nil, err
		}
		if len(f) != len(inv) {
			return nil, fmt.Errorf("tensor %q: %d factors, want %d", t.Name, len(f), len(inv))
		}
		if err := checkVector(t, f, w.FileNames); err != nil {
			return nil, err
		}
		for j, x := range f {
			if !(x > 0) {
				return nil, fmt.Errorf("tensor %q: factor %d is %g, want a positive number", t.Name, j, x)
			}
		}
		for j := range inv {
			inv[j] /= float64(f[j])
		}
		return inv, nil
	}
	s := c.RopeScaling
	switch s.Type {
	case "linear":
		for j := range inv {
			inv[j] /= s.Factor
		}
	case "llama3":
		orig := float64(s.OriginalMaxPositions)
		if orig == 0 || s.LowFreqFactor == 0 || s.HighFreqFactor <= s.LowFreqFactor {
			return nil, fmt.Errorf("llama3 rope scaling needs original_max_position_embeddings and low < high frequency factors, got %+v", s)
		}
		lowWavelen := orig / s.LowFreqFactor
		highWavelen := orig / s.HighFreqFactor
		for j, f := range inv {
			wavelen := 2 * math.Pi / f
			switch {
			case wavelen < highWavelen:
				// high frequency: unchanged
			case wavelen > lowWavelen:
				inv[j] = f / s.Factor
			default:
				smooth := (orig/wavelen - s.LowFreqFactor) / (s.HighFreqFactor - s.LowFreqFactor)
				inv[j] = (1-smooth)*f/s.Factor + smooth*f
			}
		}
	}
	return inv, nil
}

// Shape describes the model for validating neuron-set files against it.
func (m *Model) Shape() hooks.ModelShape {
	c := m.Config
	return hooks.ModelShape{
		Arch: c.Arch, Layers: c.Layers, DModel: c.HiddenSize, DMLP: c.FFNSize,
		Heads: c.Heads, KVHeads: c.KVHeads, HeadDim: c.HeadDim, Vocab: c.VocabSize,
		Experts: experts(c),
	}
}

// experts returns the expert count of c, 0 for a dense model.
func experts(c weights.Config) int {
	if c.MoE == nil {
		return 0
	}
	return c.MoE.Experts
}
