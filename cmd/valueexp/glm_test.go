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

// TestGLMSynthCommands runs synth, tokenize, dump, generate, record,
// evaluate and bench on a synth GLM-4 model of both layouts (tiny shape, 2
// layers). The prompt's ids are llama-tokenize b4748's on the same file:
// GLM GGUFs add no BOS, even with --add-special. The dump's act(gate) must
// be SiLU's: never below its minimum (about -0.2785), and reaching below
// GELU's (about -0.170), which a GELU gate never does.
func TestGLMSynthCommands(t *testing.T) {
	for _, arch := range []string{"chatglm", "glm4"} {
		t.Run(arch, func(t *testing.T) {
			dir := t.TempDir()
			model := filepath.Join(dir, arch+".gguf")
			mustRun(t, nil, "synth", "--shape", "tiny", "--arch", arch, "--dtype", "f32", "--layers", "2", "--out", model)
			sets := writeFile(t, "n.json", tinyNeuronSets)

			ids := mustRun(t, nil, "tokenize", "--model", model, "--add-special", "Harmony, freedom and equality: values we share")
			assert.Equal(t, "[1857,271,1864,366,1876,285,1808,468,483,324,341,328]", strings.TrimSpace(ids))

			dump := filepath.Join(dir, "dump.safetensors")
			mustRun(t, nil, "dump", "--model", model, "--prompt", "Harmony and freedom", "--out", dump)
			b, err := os.ReadFile(dump)
			require.NoError(t, err)
			f, err := safetensors.Parse(b)
			require.NoError(t, err)
			assert.Equal(t, arch, f.Metadata["arch"])
			ti, ok := f.Tensor("blk.1.ffn_gate_act")
			require.True(t, ok)
			assert.Equal(t, []int{3, 384}, ti.Shape, "3 tokens (no BOS), ffn 384 (half the fused projection)")
			act, err := ti.Float32s()
			require.NoError(t, err)
			lo := act[0]
			for _, v := range act {
				lo = min(lo, v)
			}
			assert.GreaterOrEqual(t, lo, float32(-0.2785), "SiLU's minimum")
			assert.Less(t, lo, float32(-0.171), "gate values below GELU's minimum")

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
