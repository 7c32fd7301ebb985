package synth

import (
	"context"
	"math"
	"path/filepath"
	"testing"

	"github.com/stretchr/testify/require"

	"github.com/valueexploration/valueexp/engine"
	"github.com/valueexploration/valueexp/weights"
)

// TestMoERealShapes checks the plans of the real mixture-of-experts shapes
// against the published sizes of the models (total parameters from each
// model card) and llama.cpp's tensor layout, without writing them.
func TestMoERealShapes(t *testing.T) {
	for _, tc := range []struct {
		shape      string
		arch       string // general.architecture
		params     float64
		experts    int
		sharedKeys bool
	}{
		{"qwen3-30b-a3b", "qwen3moe", 30.5e9, 128, false},
		{"qwen1.5-moe-a2.7b", "qwen2moe", 14.3e9, 60, true},
		{"mixtral-8x7b", "llama", 46.7e9, 8, false},
	} {
		t.Run(tc.shape, func(t *testing.T) {
			s, err := LookupShape(tc.shape)
			require.NoError(t, err)
			p, err := NewPlan(Options{Shape: s, Mix: MixQ4_K, Seed: 1})
			require.NoError(t, err)
			got := float64(p.Params())
			require.InDelta(t, 1, got/tc.params, 0.02, "params %.4g, model card %.4g", got, tc.params)
			kv := map[string]any{}
			for _, x := range p.KV {
				kv[x.Key] = x.Value
			}
			require.Equal(t, tc.arch, kv["general.architecture"])
			require.Equal(t, uint32(tc.experts), kv[tc.arch+".expert_count"])
			_, hasShared := kv[tc.arch+".expert_shared_feed_forward_length"]
			require.Equal(t, tc.sharedKeys, hasShared)
			shapes := map[string][]int{}
			for _, ts := range p.Tensors {
				shapes[ts.Name] = ts.Shape
			}
			require.Equal(t, []int{s.Experts, s.ExpertFFN, s.Hidden}, shapes["blk.0.ffn_gate_exps.weight"])
			require.Equal(t, []int{s.Experts, s.Hidden, s.ExpertFFN}, shapes["blk.0.ffn_down_exps.weight"])
			require.Equal(t, []int{s.Experts, s.Hidden}, shapes["blk.0.ffn_gate_inp.weight"])
			require.NotContains(t, shapes, "blk.0.ffn_gate.weight")
		})
	}
}

// TestMoEToysRun writes the toy mixture-of-experts models in every mix and
// checks that the config reads back and the engine runs them.
func TestMoEToysRun(t *testing.T) {
	tiny, err := LookupShape("tiny")
	require.NoError(t, err)
	for _, arch := range []string{"qwen2moe", "qwen3moe", "mixtral"} {
		for _, mix := range []Mix{MixF32, MixQ8_0, MixQ4_K} {
			t.Run(arch+"/"+string(mix), func(t *testing.T) {
				s, err := tiny.WithArch(arch)
				require.NoError(t, err)
				path := filepath.Join(t.TempDir(), "m.gguf")
				_, err = WriteFile(path, Options{Shape: s, Mix: mix, Layers: 2, Seed: 3})
				require.NoError(t, err)
				m, err := engine.Load(path, engine.Options{Threads: 2})
				require.NoError(t, err)
				defer m.Close()
				c := m.Config
				require.Equal(t, arch, c.Arch)
				require.Equal(t, &weights.MoEConfig{Experts: 8, Used: 2, FFN: 128, SharedFFN: s.SharedFFN, NormTopK: arch != "qwen2moe"}, c.MoE)
				out, err := m.Forward(context.Background(), []engine.Input{{Seq: m.NewSequence(), Tokens: []int32{1, 300, 301}, Logits: engine.AllLogits}}, engine.RunOptions{})
				require.NoError(t, err)
				for _, x := range out[0] {
					require.False(t, math.IsNaN(float64(x)) || math.IsInf(float64(x), 0))
				}
			})
		}
	}
}
