package record

import (
	"fmt"
	"math"
	"math/rand/v2"
	"os"
	"path/filepath"
	"testing"

	"github.com/valueexploration/valueexp/engine"
	"github.com/valueexploration/valueexp/valueexp/cvoice"
	"github.com/valueexploration/valueexp/valueexp/cvoice/sample"
	"github.com/valueexploration/valueexp/weights"
)

// testVocab is the vocabulary size of the random test model; byteEncode
// maps text onto it.
const testVocab = 64

// writeRandomLlama writes a tiny random-weight llama GGUF (2 layers, FFN
// width 48) and returns its path.
func writeRandomLlama(t testing.TB, seed uint64) string {
	t.Helper()
	const layers, hidden, ffn, heads, kv, hd = 2, 32, 48, 4, 2, 8
	rng := rand.New(rand.NewPCG(seed, 11))
	normal := func(n int, std float64) []float32 {
		v := make([]float32, n)
		for i := range v {
			v[i] = float32(rng.NormFloat64() * std)
		}
		return v
	}
	ones := func(n int) []float32 {
		v := normal(n, 0.1)
		for i := range v {
			v[i]++
		}
		return v
	}
	var ts []*weights.Tensor
	add := func(name string, shape []int, data []float32) {
		ts = append(ts, &weights.Tensor{Name: name, DType: weights.F32, Shape: shape, Data: weights.Float32Bytes(data)})
	}
	in := 1 / math.Sqrt(hidden)
	add("token_embd.weight", []int{testVocab, hidden}, normal(testVocab*hidden, 0.5))
	add("output_norm.weight", []int{hidden}, ones(hidden))
	add("output.weight", []int{testVocab, hidden}, normal(testVocab*hidden, in))
	for l := range layers {
		p := fmt.Sprintf("blk.%d.", l)
		add(p+"attn_norm.weight", []int{hidden}, ones(hidden))
		add(p+"attn_q.weight", []int{heads * hd, hidden}, normal(heads*hd*hidden, in))
		add(p+"attn_k.weight", []int{kv * hd, hidden}, normal(kv*hd*hidden, in))
		add(p+"attn_v.weight", []int{kv * hd, hidden}, normal(kv*hd*hidden, in))
		add(p+"attn_output.weight", []int{hidden, heads * hd}, normal(hidden*heads*hd, 1/math.Sqrt(heads*hd)))
		add(p+"ffn_norm.weight", []int{hidden}, ones(hidden))
		add(p+"ffn_gate.weight", []int{ffn, hidden}, normal(ffn*hidden, in))
		add(p+"ffn_up.weight", []int{ffn, hidden}, normal(ffn*hidden, in))
		add(p+"ffn_down.weight", []int{hidden, ffn}, normal(hidden*ffn, 1/math.Sqrt(ffn)))
	}
	kvs := []weights.KV{
		{Key: "general.architecture", Value: "llama"},
		{Key: "llama.embedding_length", Value: uint32(hidden)},
		{Key: "llama.block_count", Value: uint32(layers)},
		{Key: "llama.attention.head_count", Value: uint32(heads)},
		{Key: "llama.attention.head_count_kv", Value: uint32(kv)},
		{Key: "llama.attention.key_length", Value: uint32(hd)},
		{Key: "llama.feed_forward_length", Value: uint32(ffn)},
		{Key: "llama.context_length", Value: uint32(256)},
		{Key: "llama.rope.freq_base", Value: float32(10000)},
		{Key: "llama.attention.layer_norm_rms_epsilon", Value: float32(1e-5)},
		{Key: "tokenizer.ggml.bos_token_id", Value: uint32(1)},
		{Key: "tokenizer.ggml.eos_token_id", Value: uint32(2)},
	}
	path := filepath.Join(t.TempDir(), "rand-llama.gguf")
	f, err := os.Create(path)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	if err := weights.WriteGGUF(f, kvs, ts); err != nil {
		t.Fatal(err)
	}
	return path
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
