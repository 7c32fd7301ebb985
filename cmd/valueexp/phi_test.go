package main

import (
	"encoding/json"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/valueexploration/valueexp/valueexp/evaluate"
	"github.com/valueexploration/valueexp/weights/safetensors"
)

// TestPhiSynthCommands runs synth, inspect, dump, generate, record,
// evaluate and bench on a synth Phi-3 model (tiny shape, 2 layers: fused
// qkv and gate_up, LongRoPE, a window of 5). The dump's act(gate) must be a
// SiLU's: never below its minimum (about -0.2785) and reaching below GELU's
// (-0.170).
func TestPhiSynthCommands(t *testing.T) {
	dir := t.TempDir()
	model := filepath.Join(dir, "phi3.gguf")
	mustRun(t, nil, "synth", "--shape", "tiny", "--arch", "phi3", "--dtype", "q8_0", "--layers", "2", "--out", model)
	sets := writeFile(t, "n.json", tinyNeuronSets)

	info := mustRun(t, nil, "inspect", "--model", model)
	assert.Contains(t, info, "phi3")
	assert.Contains(t, info, "longrope")
	assert.Contains(t, info, "blk.0.attn_qkv.weight[0:128]", "inspect names the fused tensor a split view lives in")

	dump := filepath.Join(dir, "dump.safetensors")
	mustRun(t, nil, "dump", "--model", model, "--prompt", "Harmony and freedom", "--out", dump)
	b, err := os.ReadFile(dump)
	require.NoError(t, err)
	f, err := safetensors.Parse(b)
	require.NoError(t, err)
	assert.Equal(t, "phi3", f.Metadata["arch"])
	ti, ok := f.Tensor("blk.1.ffn_gate_act")
	require.True(t, ok)
	act, err := ti.Float32s()
	require.NoError(t, err)
	lo := act[0]
	for _, v := range act {
		lo = min(lo, v)
	}
	assert.GreaterOrEqual(t, lo, float32(-0.2785), "SiLU's minimum")
	assert.Less(t, lo, float32(-0.18), "gate values reach below GELU's minimum")

	out := mustRun(t, nil, "generate", "--model", model, "--prompt", "Once", "-n", "4", "--neurons", sets, "--deactivate", "Prosperity", "--compare")
	assert.Contains(t, out, "4 generated")

	counts := filepath.Join(dir, "counts.safetensors")
	mustRun(t, nil, "record", "--model", model, "--lang", "en", "--threads", "2", "--out", counts)
	_, err = os.Stat(counts)
	require.NoError(t, err)

	results := filepath.Join(dir, "results.json")
	mustRun(t, nil, "evaluate", "--model", model, "--neurons", sets, "--deactivate", "Prosperity", "--lang", "en",
		"--max-items", "1", "--no-random-control", "--out", results)
	rb, err := os.ReadFile(results)
	require.NoError(t, err)
	var res evaluate.Results
	require.NoError(t, json.Unmarshal(rb, &res))
	assert.NotEmpty(t, res.Cells)

	mustRun(t, nil, "bench", "--model", model, "-p", "8", "-n", "4", "-r", "1", "-t", "1")
}

// TestGenerateContextFlag checks --ctx on a synth Phi-3 model (LongRoPE
// over an original context of 512): a prompt longer than 512 tokens is
// refused without it, naming the limit, and runs with --ctx 2048 (the long
// factors); a negative --ctx is a usage error.
func TestGenerateContextFlag(t *testing.T) {
	model := filepath.Join(t.TempDir(), "phi3.gguf")
	mustRun(t, nil, "synth", "--shape", "tiny", "--arch", "phi3", "--dtype", "q8_0", "--layers", "1", "--out", model)
	prompt := strings.Repeat("harmony ", 600) // one token per word at least
	code, _, stderr := runCLIEnv(t, nil, "generate", "--model", model, "--prompt", prompt, "-n", "2")
	assert.NotEqual(t, 0, code)
	assert.Contains(t, stderr, "512 positions")
	out := mustRun(t, nil, "generate", "--model", model, "--prompt", prompt, "-n", "2", "--ctx", "2048")
	assert.Contains(t, out, "2 generated")
	code, _, stderr = runCLIEnv(t, nil, "generate", "--model", model, "--prompt", "Once", "--ctx", "-1")
	assert.Equal(t, 2, code)
	assert.Contains(t, stderr, "--ctx -1")
}
