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

// moeNeuronSets addresses expert neurons of the tiny MoE synth models (8
// experts of 128 neurons).
const moeNeuronSets = `{"format": "neuron-sets", "version": 1, "neuron_sets": [
 {"name": "Prosperity", "site": "mlp.experts.hook_act", "layers": [
  {"layer": 0, "expert": 1, "indices": [5, 7]}, {"layer": 0, "expert": 6, "indices": [9]}, {"layer": 1, "expert": 3, "indices": [1, 2, 3]}]}]}
`

// TestMoESynthCommands runs synth, dump, generate, record, evaluate and
// bench on the synth Qwen2-MoE, Qwen3-MoE and Mixtral models (tiny shape,
// 2 layers), with a neuron set of expert neurons for generate and evaluate.
// The dump's chosen experts must be the experts whose hook_act rows it
// holds, and each token's top-k by router logit.
func TestMoESynthCommands(t *testing.T) {
	for _, arch := range []string{"qwen2moe", "qwen3moe", "mixtral"} {
		t.Run(arch, func(t *testing.T) {
			dir := t.TempDir()
			model := filepath.Join(dir, arch+".gguf")
			mustRun(t, nil, "synth", "--shape", "tiny", "--arch", arch, "--dtype", "q8_0", "--layers", "2", "--out", model)
			sets := writeFile(t, "n.json", moeNeuronSets)

			dump := filepath.Join(dir, "dump.safetensors")
			mustRun(t, nil, "dump", "--model", model, "--prompt", "Harmony and freedom", "--out", dump)
			b, err := os.ReadFile(dump)
			require.NoError(t, err)
			f, err := safetensors.Parse(b)
			require.NoError(t, err)
			assert.Equal(t, arch, f.Metadata["arch"])
			ti, ok := f.Tensor("blk.1.ffn_gate_act")
			require.True(t, ok)
			n := ti.Shape[0]
			assert.Equal(t, []int{n, 2, 128}, ti.Shape)
			rl, ok := f.Tensor("blk.1.router_logits")
			require.True(t, ok)
			logits, err := rl.Float32s()
			require.NoError(t, err)
			ex, ok := f.Tensor("blk.1.experts")
			require.True(t, ok)
			require.Equal(t, []int{n, 2}, ex.Shape)
			for i := 0; i < n; i++ {
				e0 := int(int32(uint32(ex.Data[8*i]) | uint32(ex.Data[8*i+1])<<8 | uint32(ex.Data[8*i+2])<<16 | uint32(ex.Data[8*i+3])<<24))
				e1 := int(int32(uint32(ex.Data[8*i+4]) | uint32(ex.Data[8*i+5])<<8 | uint32(ex.Data[8*i+6])<<16 | uint32(ex.Data[8*i+7])<<24))
				row := logits[i*8 : (i+1)*8]
				for e, v := range row {
					if e != e0 && e != e1 {
						assert.LessOrEqual(t, v, row[e1], "token %d: expert %d beats the chosen %d", i, e, e1)
					}
				}
				assert.GreaterOrEqual(t, row[e0], row[e1])
			}

			out := mustRun(t, nil, "generate", "--model", model, "--prompt", "Once", "-n", "4", "--neurons", sets, "--deactivate", "Prosperity", "--compare")
			assert.Contains(t, out, "4 generated")

			counts := filepath.Join(dir, "counts.safetensors")
			mustRun(t, nil, "record", "--model", model, "--lang", "en", "--threads", "2", "--out", counts)
			cb, err := os.ReadFile(counts)
			require.NoError(t, err)
			cf, err := safetensors.Parse(cb)
			require.NoError(t, err)
			ct, ok := cf.Tensor("count")
			require.True(t, ok)
			assert.Equal(t, 4, len(ct.Shape), "counts [tags, layers, experts, dim]")
			assert.Equal(t, "mlp.experts.hook_act", cf.Metadata["site"])

			// identify finds expert neurons, normalised per expert, and
			// writes them as expert neuron sets that evaluate deactivates.
			found := filepath.Join(dir, "found.json")
			mustRun(t, nil, "identify", "--counts", counts, "--out", found)
			fb, err := os.ReadFile(found)
			require.NoError(t, err)
			var nf struct {
				Sets []struct {
					Site   string `json:"site"`
					Layers []struct {
						Layer  int  `json:"layer"`
						Expert *int `json:"expert"`
					} `json:"layers"`
				} `json:"neuron_sets"`
			}
			require.NoError(t, json.Unmarshal(fb, &nf))
			require.NotEmpty(t, nf.Sets)
			withExperts := 0
			for _, s := range nf.Sets {
				assert.Equal(t, "mlp.experts.hook_act", s.Site)
				for _, l := range s.Layers {
					require.NotNil(t, l.Expert)
					assert.Less(t, l.Layer, 2)
					assert.Less(t, *l.Expert, 8)
					withExperts++
				}
			}
			assert.Positive(t, withExperts)
			mustRun(t, nil, "evaluate", "--model", model, "--neurons", found, "--deactivate", "富强/en", "--lang", "en",
				"--max-items", "1", "--no-random-control", "--out", filepath.Join(dir, "found-results.json"))

			results := filepath.Join(dir, "results.json")
			mustRun(t, nil, "evaluate", "--model", model, "--neurons", sets, "--deactivate", "Prosperity", "--lang", "en",
				"--max-items", "1", "--out", results)
			rb, err := os.ReadFile(results)
			require.NoError(t, err)
			var res evaluate.Results
			require.NoError(t, json.Unmarshal(rb, &res))
			assert.NotEmpty(t, res.Cells)

			mustRun(t, nil, "bench", "--model", model, "-p", "8", "-n", "4", "-r", "1", "-t", "1")

			// A dense neuron set is refused on a mixture of experts, by name.
			dense := writeFile(t, "d.json", tinyNeuronSets)
			code, _, stderr := runCLI(t, "", "generate", "--model", model, "--prompt", "Once", "-n", "2", "--neurons", dense, "--deactivate", "富强/en")
			assert.NotEqual(t, 0, code)
			assert.Contains(t, stderr, "experts")
		})
	}
}
