package engine

import (
	"encoding/json"
	"os"
	"path/filepath"
	"testing"

	"github.com/stretchr/testify/require"

	"github.com/valueexploration/valueexp/weights/safetensors"
	"github.com/valueexploration/valueexp/weights/synth"
)

// writeRefSynth writes, as dir/file, the random-weight model a reference
// dump in testdata was made from: synth's tiny shape with architecture
// arch, F32, seed 1, layers layers (0: the shape's), changed by edit when
// it is not nil. The dumps' README files give the same settings, so the
// file is byte for byte the one llama.cpp or PyTorch ran.
func writeRefSynth(t testing.TB, dir, file, arch string, layers int, edit func(*synth.Shape)) string {
	t.Helper()
	shape, err := synth.LookupShape("tiny")
	require.NoError(t, err)
	shape, err = shape.WithArch(arch)
	require.NoError(t, err)
	if edit != nil {
		edit(&shape)
	}
	path := filepath.Join(dir, file)
	// NoChat: the reference dumps were made before synth files carried the
	// ChatML markers, which add two rows to the embedding and the head.
	_, err = synth.WriteFile(path, synth.Options{Shape: shape, Mix: synth.MixF32, NoChat: true, Layers: layers, Seed: 1})
	require.NoError(t, err)
	return path
}

// writeHFFolder writes a Hugging Face model folder, dir, holding config.json
// (cfg) and model.safetensors (tensors), and returns dir.
func writeHFFolder(t testing.TB, dir string, cfg map[string]any, tensors []safetensors.Tensor) string {
	t.Helper()
	require.NoError(t, os.Mkdir(dir, 0o755))
	cb, err := json.Marshal(cfg)
	require.NoError(t, err)
	require.NoError(t, os.WriteFile(filepath.Join(dir, "config.json"), cb, 0o644))
	f, err := os.Create(filepath.Join(dir, "model.safetensors"))
	require.NoError(t, err)
	require.NoError(t, safetensors.Write(f, tensors, map[string]string{"format": "pt"}))
	require.NoError(t, f.Close())
	return dir
}
