package weights_test

import (
	"os"
	"path/filepath"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/valueexploration/valueexp/hooks"
	"github.com/valueexploration/valueexp/internal/testmodel"
	"github.com/valueexploration/valueexp/tokenizer"
	"github.com/valueexploration/valueexp/weights"
	"github.com/valueexploration/valueexp/weights/safetensors"
	"github.com/valueexploration/valueexp/weights/synth"
)

// TestOpenModelPaths checks how Open (and tokenizer.Load) resolve what a
// user passes as a model path, and that every path that is not a model says
// what a model path must be.
func TestOpenModelPaths(t *testing.T) {
	const help = "a model path must be a .gguf file, a .safetensors model file with config.json beside it"
	root := t.TempDir()
	mkdir := func(name string) string {
		d := filepath.Join(root, name)
		require.NoError(t, os.MkdirAll(d, 0o755))
		return d
	}
	write := func(path string, b []byte) string {
		require.NoError(t, os.WriteFile(path, b, 0o644))
		return path
	}
	// A synth model (4 layers, with a tokenizer) as a file to copy around.
	shape, err := synth.LookupShape("tiny")
	require.NoError(t, err)
	shape, err = shape.WithArch("qwen2")
	require.NoError(t, err)
	src := filepath.Join(mkdir("src"), "tiny.gguf")
	_, err = synth.WriteFile(src, synth.Options{Shape: shape, Mix: synth.MixF32, Layers: 2, Seed: 1})
	require.NoError(t, err)
	model, err := os.ReadFile(src)
	require.NoError(t, err)
	// The same kind of weights as a Hugging Face folder.
	_, hf := testmodel.Write(t, testmodel.Spec{Arch: "llama", Layers: 3, Hidden: 32, FFN: 64, Heads: 2, KV: 1, HeadDim: 16, Vocab: 64, Seed: 1})
	hfFile := filepath.Join(hf, "model.safetensors")
	hfBytes, err := os.ReadFile(hfFile)
	require.NoError(t, err)

	one := mkdir("one")
	write(filepath.Join(one, "Model-Q8_0.GGUF"), model)
	write(filepath.Join(one, "README.md"), []byte("notes"))
	require.NoError(t, os.Mkdir(filepath.Join(one, "sub.gguf"), 0o755)) // a folder is not a file

	two := mkdir("two")
	write(filepath.Join(two, "b.gguf"), model)
	write(filepath.Join(two, "a.gguf"), model)

	stNoConfig := mkdir("st-no-config")
	write(filepath.Join(stNoConfig, "model.safetensors"), hfBytes)

	dumps := mkdir("dumps")
	var dump, counts, empty []byte
	{
		f := filepath.Join(dumps, "x")
		fh, err := os.Create(f)
		require.NoError(t, err)
		require.NoError(t, safetensors.Write(fh, []safetensors.Tensor{
			{Name: "tokens", DType: "I32", Shape: []int{2}, Data: make([]byte, 8)},
			{Name: "logits", DType: "F32", Shape: []int{2, 3}, Data: make([]byte, 24)},
			{Name: "blk.0.ffn_act", DType: "F32", Shape: []int{2, 2}, Data: make([]byte, 16)},
			{Name: "blk.1.ffn_act", DType: "F32", Shape: []int{2, 2}, Data: make([]byte, 16)},
			{Name: "blk.10.ffn_act", DType: "F32", Shape: []int{2, 2}, Data: make([]byte, 16)},
		}, map[string]string{"model": "tiny.gguf"}))
		require.NoError(t, fh.Close())
		dump, err = os.ReadFile(f)
		require.NoError(t, err)
		c, err := hooks.NewActProb(hooks.SiteMLPAct, 2, 4, 1)
		require.NoError(t, err)
		require.NoError(t, c.Save(f))
		counts, err = os.ReadFile(f)
		require.NoError(t, err)
		fh, err = os.Create(f)
		require.NoError(t, err)
		require.NoError(t, safetensors.Write(fh, nil, nil))
		require.NoError(t, fh.Close())
		empty, err = os.ReadFile(f)
		require.NoError(t, err)
	}
	// Beside a config.json, so that only their content can be the problem.
	write(filepath.Join(dumps, "config.json"), must(os.ReadFile(filepath.Join(hf, "config.json"))))
	dumpPath := write(filepath.Join(dumps, "dump.safetensors"), dump)
	countsPath := write(filepath.Join(dumps, "counts.safetensors"), counts)
	emptyPath := write(filepath.Join(dumps, "empty.safetensors"), empty)
	text := write(filepath.Join(root, "notes.txt"), []byte("not a model"))
	renamed := write(filepath.Join(root, "model.bin"), model)

	for _, c := range []struct {
		name, path string
		layers     int    // > 0: opens, with this many layers
		file       string // the file it opens, when it is not path
		tokenizer  bool   // tokenizer.Load accepts the path too
		want       []string
	}{
		{name: "gguf file", path: src, layers: 2, tokenizer: true},
		{name: "gguf without the extension", path: renamed, layers: 2},
		{name: "Hugging Face folder", path: hf, layers: 3},
		{name: "safetensors model file", path: hfFile, layers: 3},
		{name: "folder with one gguf", path: one, layers: 2, file: filepath.Join(one, "Model-Q8_0.GGUF"), tokenizer: true},
		{name: "folder with two ggufs", path: two, want: []string{"holds 2 .gguf files and no config.json; name one of them: a.gguf, b.gguf"}},
		{name: "missing", path: filepath.Join(root, "nope"), want: []string{"nope does not exist; " + help}},
		{name: "empty path", path: "", want: []string{"no model path given; " + help}},
		{name: "empty folder", path: mkdir("empty"), want: []string{"holds neither config.json nor a .gguf file; " + help}},
		{name: "folder of safetensors without config", path: stNoConfig,
			want: []string{"has .safetensors files (model.safetensors) but no config.json; " + help}},
		{name: "safetensors model without config", path: filepath.Join(stNoConfig, "model.safetensors"),
			want: []string{"model.safetensors: no config.json beside it", help}},
		{name: "dump", path: dumpPath, want: []string{
			"dump.safetensors is not a model: it holds 5 tensors (blk.0.ffn_act, blk.1.ffn_act, blk.10.ffn_act, logits, ...) and no weights", help}},
		{name: "counts", path: countsPath, want: []string{
			`counts.safetensors is not a model: it holds 2 tensors (count, tokens) with format "valueexp.actprob" and no weights`, help}},
		{name: "empty safetensors", path: emptyPath, want: []string{"empty.safetensors is not a model: it holds no tensors", help}},
		{name: "text file", path: text, want: []string{`notes.txt is neither a GGUF file (it does not start with "GGUF") nor a .safetensors file; ` + help}},
	} {
		t.Run(c.name, func(t *testing.T) {
			m, err := weights.Open(c.path)
			if c.layers == 0 {
				require.Error(t, err)
				for _, w := range c.want {
					assert.Contains(t, err.Error(), w)
				}
				return
			}
			require.NoError(t, err)
			defer m.Close()
			assert.Equal(t, c.layers, m.Config.Layers)
			if c.file != "" {
				assert.Equal(t, c.file, m.Path)
			}
			if c.tokenizer {
				tok, err := tokenizer.Load(c.path)
				require.NoError(t, err)
				assert.Equal(t, m.Config.VocabSize, tok.VocabSize())
			}
		})
	}
	t.Run("tokenizer of a folder with two ggufs", func(t *testing.T) {
		_, err := tokenizer.Load(two)
		require.ErrorContains(t, err, "name one of them: a.gguf, b.gguf")
	})
}

func must(b []byte, err error) []byte {
	if err != nil {
		panic(err)
	}
	return b
}
