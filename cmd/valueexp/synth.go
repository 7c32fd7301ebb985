package main

import (
	"context"
	"fmt"
	"os"
	"os/signal"
	"sort"
	"strings"
	"syscall"
	"time"

	"github.com/valueexploration/valueexp/weights"
	"github.com/valueexploration/valueexp/weights/synth"
)

const synthHelp = `Writes a GGUF with random weights in a real model's shape, which llama.cpp
and this engine both load, for benchmarks and the demo.

Shapes: qwen2.5-0.5b, qwen2.5-1.5b (qwen2), llama-3.2-1b (llama, llama3 rope
scaling written as rope_freqs.weight), qwen3-0.6b (qwen3; llama.cpp builds
before Qwen3 support cannot load it), gemma-2-2b (gemma2; llama.cpp runs
Gemma 2 only with 26, 42 or 46 layers), gemma-3-1b (gemma3), phi-3.5-mini
(phi3: fused attn_qkv and ffn_up, LongRoPE with Phi-3.5's factors), glm-4-9b
(chatglm, GLM-4-9B-chat's layout with fused attn_qkv, which llama.cpp b4748
loads; --arch glm4 gives GLM-4-9B-0414's, with post norms, which it does
not), the mixtures of experts qwen3-30b-a3b (qwen3moe, 128 experts, 8 per
token; llama.cpp b4748 cannot load it), qwen1.5-moe-a2.7b (qwen2moe, 60
experts and a shared one) and mixtral-8x7b (mixtral, written as llama with 8
experts), and the toy shapes tiny (hidden 128, 4 layers) and small (hidden
512, 8 layers), whose architecture is --arch (default qwen2; gemma2, gemma3
and phi3 toys slide over a window of 5 tokens; the phi3 toy has LongRoPE over
4 x 512 positions; qwen2moe, qwen3moe and mixtral toys have 8 experts of
width hidden, 2 per token). The real MoE shapes are large (one Mixtral layer
is 1.4 billion weights): use --layers.

Dtypes, per tensor as llama-quantize chooses them; 1-D tensors (norms,
biases, rope_freqs) are always F32:
  f32, f16, bf16, q8_0   every matrix in that type
  q4_0                   Q4_0; the output head (token_embd when tied) Q6_K
  q4_k                   llama-quantize's Q4_K_M: Q4_K; the output head Q6_K;
                         attn_v and ffn_down Q6_K in the first and last eighth
                         of the layers and every third layer between
  q6_k                   every matrix Q6_K
  A matrix whose rows are not a multiple of 256 falls back like llama-quantize:
  Q4_K -> Q5_0, Q6_K -> Q8_0 (so most Qwen2.5-0.5B tensors, 896 wide, are Q5_0).
  GLM's fused attn_qkv is Q5_K in q4_k (Q5_1 when its rows are too short).

Weights: embeddings N(0,0.02), projections N(0,1/fan_in), norms 1+N(0,0.1),
biases N(0,0.1), from --seed (same seed, same bytes). The vocabulary is a
small SentencePiece one (specials, 256 byte tokens, common English pieces, the
12 core values, the ChatML turn markers) padded with unused tokens; any text
encodes via byte fallback. A Qwen2.5-style ChatML chat template is stored, so
generate --chat, evaluate and serve run chats on the model.
The file says valueexp.synthetic = true.`

func runSynth(e *env, args []string) error {
	fs := newFlags(e, "synth", "--shape NAME [--dtype TYPE] --out FILE.gguf [--arch ARCH] [--seed N] [--layers N] [--vocab N] [--threads N]\n\n"+synthHelp)
	arch := fs.String("arch", "", "architecture `ARCH`: must match a real shape; llama, qwen2, qwen3, gemma2, gemma3, phi3, chatglm, glm4, qwen2moe, qwen3moe or mixtral for tiny/small (default qwen2); glm4 or chatglm for glm-4-9b")
	shapeName := fs.String("shape", "", "model `SHAPE`: "+strings.Join(synth.ShapeNames(), ", "))
	dtype := fs.String("dtype", "f16", "tensor `TYPE` mix: f32, f16, bf16, q8_0, q4_0, q4_k, q6_k")
	out := fs.String("out", "", "output `FILE` (.gguf)")
	seed := fs.Uint64("seed", 1, "random seed")
	layers := fs.Int("layers", 0, "override the layer count (0: the shape's)")
	vocab := fs.Int("vocab", 0, "override the vocabulary size (0: the shape's)")
	threads := fs.Int("threads", 0, "threads drawing and quantizing weights (0: all cores; does not change the output)")
	fs.alias("t", "threads")
	if err := parseFlags(fs, args, false); err != nil {
		return err
	}
	if *shapeName == "" || *out == "" {
		return usageErr("--shape and --out are required")
	}
	shape, err := synth.LookupShape(*shapeName)
	if err != nil {
		return usageErr("%v", err)
	}
	if shape, err = shape.WithArch(*arch); err != nil {
		return usageErr("%v", err)
	}
	mix, err := synth.ParseMix(*dtype)
	if err != nil {
		return usageErr("%v", err)
	}
	if *layers < 0 || *vocab < 0 {
		return usageErr("--layers and --vocab must not be negative")
	}
	start := time.Now()
	// On SIGINT or SIGTERM the writer stops and removes its temporary file
	// (a multi-GB one for real shapes) instead of dying with it on disk.
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()
	sum, err := synth.WriteFileContext(ctx, *out, synth.Options{Shape: shape, Mix: mix, Layers: *layers, Vocab: *vocab, Seed: *seed, Threads: *threads})
	if err != nil {
		return err
	}
	p := sum.Plan
	fmt.Fprintf(e.stderr, "wrote %s: %s, %d tensors (%s), %.2f M params, %.1f MiB in %.1fs\n",
		*out, p.Name(), len(p.Tensors), typeCounts(p.TypeCounts()), float64(p.Params())/1e6,
		float64(sum.Bytes)/(1<<20), time.Since(start).Seconds())
	return nil
}

// typeCounts formats tensor counts per type, most frequent first: "Q5_0 132, Q8_0 13".
func typeCounts(c map[weights.DType]int) string {
	types := make([]weights.DType, 0, len(c))
	for t := range c {
		types = append(types, t)
	}
	sort.Slice(types, func(i, j int) bool {
		if c[types[i]] != c[types[j]] {
			return c[types[i]] > c[types[j]]
		}
		return types[i] < types[j]
	})
	parts := make([]string, len(types))
	for i, t := range types {
		parts[i] = fmt.Sprintf("%v %d", t, c[t])
	}
	return strings.Join(parts, ", ")
}
