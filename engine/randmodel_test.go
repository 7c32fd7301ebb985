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
}
