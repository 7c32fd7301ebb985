package weights

import (
	"encoding/json"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"unsafe"

	"github.com/valueexploration/valueexp/internal/shareddata"
)

// refdataFile reads a shared reference file for a fuzz seed, or returns nil
// when the shared data is absent (the fuzz target then runs on its built-in
// seeds only instead of being skipped).
func refdataFile(parts ...string) []byte {
	root := shareddata.Root()
	if root == "" {
		return nil
	}
	b, err := os.ReadFile(filepath.Join(append([]string{root, "refdata"}, parts...)...))
	if err != nil {
		return nil
	}
	return b
}

// FuzzParseGGUF feeds ParseGGUF arbitrary bytes. It must never panic; a file
// it accepts must be self-consistent (every tensor's Data inside the input at
// an aligned offset, exactly shape×dtype bytes, no overlaps, lookups work),
// and the model built from it must present valid q/k row orders.
func FuzzParseGGUF(f *testing.F) {
	s := tinySpec{arch: "llama", hidden: 4, layers: 1, heads: 2, kvHeads: 1, headDim: 2, ffn: 4, vocab: 4}
	f.Add(ggufBytes(f, s.ggufKV(), s.ggufTensors()))
	q := s
	q.arch, q.bias, q.tied = "qwen2", true, true
	f.Add(ggufBytes(f, q.ggufKV(), q.ggufTensors()))
	f.Add(ggufBytes(f, []KV{
		{"general.alignment", uint32(64)}, {"u8", uint8(7)}, {"i16", int16(-7)}, {"f64", 2.5},
		{"as", []string{"a", ""}}, {"nested", []any{[]int32{1}, []string{"x"}}}, {"b", []bool{true}},
	}, []*Tensor{
		{Name: "q", DType: Q8_0, Shape: []int{1, 32}, Data: make([]byte, 34)},
		{Name: "h", DType: F16, Shape: []int{3}, Data: make([]byte, 6)},
	}))
	f.Add([]byte("GGUF\x03\x00\x00\x00"))
	f.Add(moeGGUFBytes(f, nil))
	f.Add(ggufBytes(f, []KV{
		{"general.architecture", "gemma2"}, {"gemma2.embedding_length", uint32(4)}, {"gemma2.block_count", uint32(1)},
		{"gemma2.attention.head_count", uint32(2)}, {"gemma2.feed_forward_length", uint32(4)},
		{"gemma2.attn_logit_softcapping", float32(50)}, {"gemma2.attention.sliding_window_pattern", int32(3)},
		{"gemma3.rope.freq_base_swa", float32(1e4)},
	}, nil))
	// Phi-3: fused tensors split at open, LongRoPE factor tensors.
	pkv, pts := phiTiny(5, true)
	f.Add(ggufBytes(f, pkv, pts))
	// GLM: q/k/v and gate/up fused, which Open splits into row views.
	f.Add(ggufBytes(f, glmFuzzSeed(true).kv(), glmFuzzSeed(true).tensors()))
	f.Add(ggufBytes(f, glmFuzzSeed(false).kv(), glmFuzzSeed(false).tensors()))
	// Real llama.cpp headers (metadata and tensor infos, no data): the
	// fuzzer starts from the exact layouts llama.cpp writes.
	for _, name := range []string{"llama-tiny/llama-tiny-Q4_0.gguf", "qwen2-tiny/qwen2-tiny.gguf", "llama256/llama256-Q4_K_M.gguf"} {
		b := refdataFile("models", name)
		if b == nil {
			continue
		}
		if g, err := ParseGGUF(b, name); err == nil {
			f.Add(b[:g.DataOffset])
		}
	}
	f.Fuzz(func(t *testing.T, b []byte) {
		g, err := ParseGGUF(b, "fuzz")
		if err != nil {
			return
		}
		checkGGUF(t, b, g)
		m, err := modelFromGGUF(g, "fuzz")
		if err != nil {
			return
		}
		checkModel(t, m)
	})
}

func checkGGUF(t *testing.T, b []byte, g *GGUF) {
	t.Helper()
	base := uintptr(unsafe.Pointer(unsafe.SliceData(b)))
	// A file without tensors may end before the padding to the data
	// section (vocab-only files do), and then DataOffset is its length.
	aligned := g.DataOffset%int64(g.Alignment) == 0 || (len(g.Tensors) == 0 && g.DataOffset == int64(len(b)))
	if g.DataOffset < 0 || g.DataOffset > int64(len(b)) || !aligned {
		t.Fatalf("data offset %d in a %d-byte file (alignment %d)", g.DataOffset, len(b), g.Alignment)
	}
	type span struct {
		lo, hi uintptr
		name   string
	}
	var spans []span
	for _, tn := range g.Tensors {
		rb, err := tn.DType.RowBytes(tn.Cols())
		if err != nil {
			t.Fatalf("tensor %q: %v", tn.Name, err)
		}
		if len(tn.Data) != rb*tn.Rows() || len(tn.Data) == 0 {
			t.Fatalf("tensor %q: %v %v has %d bytes, want %d", tn.Name, tn.DType, tn.Shape, len(tn.Data), rb*tn.Rows())
		}
		lo := uintptr(unsafe.Pointer(unsafe.SliceData(tn.Data))) - base
		hi := lo + uintptr(len(tn.Data))
		if lo < uintptr(g.DataOffset) || hi > uintptr(len(b)) || (lo-uintptr(g.DataOffset))%uintptr(g.Alignment) != 0 {
			t.Fatalf("tensor %q: bytes %d..%d outside the data section %d..%d or misaligned", tn.Name, lo, hi, g.DataOffset, len(b))
		}
		for _, s := range spans {
			if lo < s.hi && s.lo < hi {
				t.Fatalf("tensor %q overlaps %q", tn.Name, s.name)
			}
		}
		spans = append(spans, span{lo, hi, tn.Name})
		if got, ok := g.Tensor(tn.Name); !ok || got != tn {
			t.Fatalf("Tensor(%q) does not find it", tn.Name)
		}
	}
	for _, kv := range g.KV {
		if _, ok := g.Get(kv.Key); !ok {
			t.Fatalf("Get(%q) does not find it", kv.Key)
		}
	}
}

// checkModel asserts that every q/k row order is a permutation of the rows
// and that every small tensor can be read without a panic.
func checkModel(t *testing.T, m *Model) {
	t.Helper()
	for name, tn := range m.Tensors {
		if tn.RowOrder != nil {
			if len(tn.RowOrder) != tn.Rows() {
				t.Fatalf("tensor %q: row order of %d for %d rows", name, len(tn.RowOrder), tn.Rows())
			}
			seen := make([]bool, tn.Rows())
			for _, r := range tn.RowOrder {
				if r < 0 || int(r) >= len(seen) || seen[r] {
					t.Fatalf("tensor %q: row order %v is not a permutation", name, tn.RowOrder)
				}
				seen[r] = true
			}
		}
		if tn.Elems() <= 1<<16 {
			if _, err := tn.Float32(); err != nil && tn.DType.Float() {
				t.Fatalf("tensor %q: %v", name, err)
			}
		}
	}
}

// FuzzParseHFConfig feeds ParseHFConfig arbitrary JSON. It must never panic,
// and an accepted config must describe a runnable model.
func FuzzParseHFConfig(f *testing.F) {
	b, _ := json.Marshal(tinyLlama().hfConfig())
	f.Add(b)
	f.Add([]byte(`{"model_type":"llama","hidden_size":64,"num_hidden_layers":2,"num_attention_heads":4,"intermediate_size":128,"vocab_size":100,` +
		`"rope_scaling":{"rope_type":"llama3","factor":8,"low_freq_factor":1,"high_freq_factor":4,"original_max_position_embeddings":8192},"eos_token_id":[1,2]}`))
	f.Add([]byte(`{"model_type":"mistral","hidden_size":32,"num_hidden_layers":1,"num_attention_heads":4,"num_key_value_heads":1,"intermediate_size":64,"vocab_size":50,"sliding_window":16,"partial_rotary_factor":0.5}`))
	f.Add([]byte(`{"model_type":"qwen2","hidden_size":32,"num_hidden_layers":1,"num_attention_heads":2,"intermediate_size":64,"vocab_size":50,"use_sliding_window":true,"sliding_window":8,"bos_token_id":null}`))
	f.Add([]byte(`null`))
	f.Add([]byte(gemma2Config))
	f.Add([]byte(gemma3MultimodalConfig))
	f.Add([]byte(phi35MiniConfig))
	f.Add([]byte(phi4MiniConfig))
	f.Add([]byte(qwen25YarnConfig))
	f.Add([]byte(glm4ChatHFConfig))
	f.Add([]byte(glm4_0414Config))
	f.Add([]byte(`{"model_type":"glm","hidden_size":32,"num_hidden_layers":1,"num_attention_heads":2,"intermediate_size":64,"vocab_size":50,"partial_rotary_factor":0.25,"attention_bias":false}`))
	f.Add([]byte(qwen3MoEConfig))
	f.Add([]byte(mixtralConfig))
	f.Add([]byte(qwen2MoEConfig))
	f.Add([]byte(`{"model_type":"gemma3_text","hidden_size":64,"num_hidden_layers":2,"num_attention_heads":2,"intermediate_size":64,"vocab_size":10,"layer_types":["sliding_attention","full_attention"],"final_logit_softcapping":null}`))
	for _, dir := range []string{"stories260K", "llama-tiny", "qwen2-tiny", "qwen3-tiny", "llama256"} {
		if b := refdataFile("models", dir, "hf", "config.json"); b != nil {
			f.Add(b)
		}
	}
	f.Fuzz(func(t *testing.T, b []byte) {
		c, err := ParseHFConfig(b, "config.json")
		if err != nil {
			return
		}
		if err := validateConfig(c); err != nil {
			t.Fatalf("accepted config fails validation: %v", err)
		}
		if c.Heads%c.KVHeads != 0 || c.HeadDim%2 != 0 || c.RopeDim > c.HeadDim || c.BOS >= c.VocabSize {
			t.Fatalf("accepted config %+v is not runnable", c)
		}
		if _, err := json.Marshal(c); err != nil {
			t.Fatalf("config does not marshal: %v", err)
		}
	})
}

// FuzzParseHFIndex feeds parseHFIndex arbitrary bytes. It must never panic;
// an index it accepts must list at least one and at most maxHFIndexEntries
// tensors, each in a shard with a plain file name, and must agree with
// encoding/json's own reading of the weight_map.
func FuzzParseHFIndex(f *testing.F) {
	f.Add([]byte(`{"metadata":{"total_size":1024},"weight_map":{"model.embed_tokens.weight":"model-00001-of-00002.safetensors","lm_head.weight":"model-00002-of-00002.safetensors"}}`))
	f.Add([]byte(`{"weight_map":{"a":"b","\u0061b":"c"}}`))
	f.Add([]byte(`{"weight_map":{"a":"../b"}}`))
	f.Add([]byte(`{"weight_map":{}}`))
	f.Add([]byte(`{"metadata":[[[[]]]],"weight_map":{"x":"y"}}`))
	f.Add([]byte(`[]`))
	f.Fuzz(func(t *testing.T, b []byte) {
		m, err := parseHFIndex(b, "index.json")
		if err != nil {
			return
		}
		if len(m) == 0 || len(m) > maxHFIndexEntries {
			t.Fatalf("accepted %d entries", len(m))
		}
		var ref struct {
			WeightMap map[string]string `json:"weight_map"`
		}
		if err := json.Unmarshal(b, &ref); err != nil || len(ref.WeightMap) != len(m) {
			t.Fatalf("encoding/json reads %d entries (%v), parseHFIndex %d", len(ref.WeightMap), err, len(m))
		}
		for k, v := range m {
			if ref.WeightMap[k] != v {
				t.Fatalf("tensor %q: %q, encoding/json says %q", k, v, ref.WeightMap[k])
			}
			if v == "" || v == "." || v == ".." || filepath.Base(v) != v || strings.ContainsAny(v, `/\`) {
				t.Fatalf("tensor %q: shard %q is not a plain file name", k, v)
			}
		}
	})
}
