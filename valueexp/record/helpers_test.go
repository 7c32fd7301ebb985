package record

import (
	"testing"

	"github.com/valueexploration/valueexp/engine"
	"github.com/valueexploration/valueexp/internal/testmodel"
	"github.com/valueexploration/valueexp/valueexp/cvoice"
	"github.com/valueexploration/valueexp/valueexp/cvoice/sample"
)

// testVocab is the vocabulary size of the random test model; byteEncode
// maps text onto it.
const testVocab = 64

// writeRandomLlama writes a tiny random-weight llama GGUF (2 layers, FFN
// width 48) and returns its path.
func writeRandomLlama(t testing.TB, seed uint64) string {
	t.Helper()
	gguf, _ := testmodel.Write(t, testmodel.Spec{Arch: "llama", Layers: 2, Hidden: 32, FFN: 48, Heads: 4, KV: 2, HeadDim: 8, Vocab: testVocab, Seed: seed})
	return gguf
}

// loadModel loads a model for a test and closes it at the end.
func loadModel(t testing.TB, path string) *engine.Model {
	t.Helper()
	m, err := engine.Load(path, engine.Options{Threads: 2})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { m.Close() })
	return m
}

// byteEncode is a stand-in tokenizer: BOS (1), then one token per byte,
// folded into the vocabulary above the special ids.
func byteEncode(s string) []int32 {
	ids := make([]int32, 0, len(s)+1)
	ids = append(ids, 1)
	for i := 0; i < len(s); i++ {
		ids = append(ids, 3+int32(s[i])%(testVocab-3))
	}
	return ids
}

// sampleItems loads the repository's embedded C-voice sample.
func sampleItems(t testing.TB) []cvoice.Item {
	t.Helper()
	d, err := sample.Load()
	if err != nil {
		t.Fatal(err)
	}
	return d.Items()
}

// testJob returns a job over a subset of the sample: every step-th
// activation unit, in both languages.
func testJob(t testing.TB, m *engine.Model, out string, step int) *Job {
	t.Helper()
	langs := []cvoice.Language{cvoice.LangChinese, cvoice.LangEnglish}
	units, tags, err := Units(sampleItems(t), langs, ModeText)
	if err != nil {
		t.Fatal(err)
	}
	var sub []Unit
	for i := 0; i < len(units); i += step {
		sub = append(sub, units[i])
	}
	return &Job{
		Model: m, Encode: byteEncode, ModelName: "rand-llama", Fingerprint: Fingerprint(m.Weights),
		Units: sub, Tags: tags, Langs: []string{"zh", "en"}, Mode: ModeText, Out: out, BatchTokens: 1024,
	}
}
