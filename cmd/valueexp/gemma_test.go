package main

import (
	"encoding/json"
	"os"
	"path/filepath"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/valueexploration/valueexp/valueexp/evaluate"
	"github.com/valueexploration/valueexp/weights/safetensors"
)

// TestGemmaSynthCommands runs synth, dump, generate, record, evaluate and
// bench on a synth Gemma 2 and Gemma 3 model (tiny shape, 2 layers). The
// dump's act(gate) must be a GELU's: never below GELU's minimum (about
// -0.170), while SiLU (the llama activation) goes down to -0.278.
func TestGemmaSynthCommands(t *testing.T) {
	for _, arch := range []string{"gemma2", "gemma3"} {
		t.Run(arch, func(t *testing.T) {
			dir := t.TempDir()
			model := filepath.Join(dir, arch+".gguf")
			mustRun(t, nil, "synth", "--shape", "tiny", "--arch", arch, "--dtype", "f32", "--layers", "2", "--out", model)
			sets := writeFile(t, "n.json", tinyNeuronSets)

			dump := filepath.Join(dir, "dump.safetensors")
			mustRun(t, nil, "dump", "--model", model, "--prompt", "Harmony and freedom", "--out", dump)
			b, err := os.ReadFile(dump)
			require.NoError(t, err)
			f, err := safetensors.Parse(b)
			require.NoError(t, err)
			assert.Equal(t, arch, f.Metadata["arch"])
			ti, ok := f.Tensor("blk.1.ffn_gate_act")
			require.True(t, ok)
			act, err := ti.Float32s()
			require.NoError(t, err)
			lo := act[0]
			for _, v := range act {
				lo = min(lo, v)
			}
			assert.GreaterOrEqual(t, lo, float32(-0.1701), "GELU's minimum")
			assert.Less(t, lo, float32(-0.1), "gate values reach GELU's negative lobe")

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
		})
	}
}
