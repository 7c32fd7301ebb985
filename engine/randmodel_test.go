package engine

import (
	"testing"

	"github.com/valueexploration/valueexp/internal/testmodel"
)

type randSpec = testmodel.Spec

func writeRandomModel(t testing.TB, s randSpec) (ggufPath, hfDir string) {
	t.Helper()
	return testmodel.Write(t, s)
}

var randSpecs = []testmodel.Spec{
	{Arch: "llama", Layers: 2, Hidden: 64, FFN: 96, Heads: 4, KV: 2, HeadDim: 16, Vocab: 80, Seed: 1},
	{Arch: "mistral", Layers: 2, Hidden: 64, FFN: 96, Heads: 4, KV: 1, HeadDim: 16, Vocab: 80, Window: 5, Seed: 2},
	{Arch: "qwen2", Layers: 2, Hidden: 64, FFN: 96, Heads: 4, KV: 2, HeadDim: 16, Vocab: 80, Seed: 3},
	{Arch: "qwen3", Layers: 2, Hidden: 64, FFN: 96, Heads: 4, KV: 2, HeadDim: 24, Vocab: 80, Seed: 4},
	// Gemma 2: layer 0 slides over 4 tokens, layer 1 is global; Gemma 3:
	// layers 0-4 slide (local rope base), layer 5 is global.
	{Arch: "gemma2", Layers: 2, Hidden: 64, FFN: 96, Heads: 4, KV: 2, HeadDim: 16, Vocab: 80, Window: 4, Seed: 5},
	{Arch: "gemma3", Layers: 6, Hidden: 64, FFN: 96, Heads: 4, KV: 1, HeadDim: 16, Vocab: 80, Window: 4, Seed: 6},
	// Phi-3: fused qkv and gate_up, 12 of 16 dims rotated, LongRoPE, a
	// window of 5.
	{Arch: "phi3", Layers: 2, Hidden: 64, FFN: 96, Heads: 4, KV: 2, HeadDim: 16, Vocab: 80, Window: 5, Seed: 7},
	// GLM-4: fused q/k/v (chatglm GGUF) and gate/up, rope over half of
	// each head in adjacent pairs; glm4 adds post norms.
	{Arch: "chatglm", Layers: 2, Hidden: 64, FFN: 96, Heads: 4, KV: 2, HeadDim: 16, Vocab: 80, Seed: 7},
	{Arch: "glm4", Layers: 2, Hidden: 64, FFN: 96, Heads: 4, KV: 1, HeadDim: 24, Vocab: 80, Seed: 8},
	// Mixtures of experts: 6 experts of width 32, 2 per token (Qwen2-MoE
	// with a shared expert of 64).
	{Arch: "qwen2moe", Layers: 2, Hidden: 64, FFN: 32, Heads: 4, KV: 2, HeadDim: 16, Vocab: 80, Experts: 6, Used: 2, Seed: 7},
	{Arch: "qwen3moe", Layers: 2, Hidden: 64, FFN: 32, Heads: 4, KV: 2, HeadDim: 16, Vocab: 80, Experts: 6, Used: 3, Seed: 8},
	{Arch: "mixtral", Layers: 2, Hidden: 64, FFN: 32, Heads: 4, KV: 2, HeadDim: 16, Vocab: 80, Experts: 4, Used: 2, Seed: 9},
}
