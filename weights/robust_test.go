package weights

import (
	"bytes"
	"encoding/binary"
	"encoding/json"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"sort"
	"strings"
	"testing"

	"github.com/valueexploration/valueexp/internal/shareddata"
	"github.com/valueexploration/valueexp/weights/safetensors"
)

// tinySpec describes a small model that tests write to disk in either format.
type tinySpec struct {
	arch                                                string
	hidden, layers, heads, kvHeads, headDim, ffn, vocab int
	bias, qkNorm, tied                                  bool
}

func tinyLlama() tinySpec {
	return tinySpec{arch: "llama", hidden: 8, layers: 2, heads: 2, kvHeads: 1, headDim: 4, ffn: 16, vocab: 16}
}

// tensorSpec is one tensor in canonical name and PyTorch shape.
type tensorSpec struct {
	name  string
	shape []int
	oneD  bool
}

// tensors lists the model's tensors in the order a converter writes them.
func (s tinySpec) tensors() []tensorSpec {
	q, kv := s.heads*s.headDim, s.kvHeads*s.headDim
	ts := []tensorSpec{{"token_embd.weight", []int{s.vocab, s.hidden}, false}}
	for l := 0; l < s.layers; l++ {
		p := fmt.Sprintf("blk.%d.", l)
		ts = append(ts,
			tensorSpec{p + "attn_norm.weight", []int{s.hidden}, true},
			tensorSpec{p + "attn_q.weight", []int{q, s.hidden}, false},
			tensorSpec{p + "attn_k.weight", []int{kv, s.hidden}, false},
			tensorSpec{p + "attn_v.weight", []int{kv, s.hidden}, false})
		if s.bias {
			ts = append(ts,
				tensorSpec{p + "attn_q.bias", []int{q}, true},
				tensorSpec{p + "attn_k.bias", []int{kv}, true},
				tensorSpec{p + "attn_v.bias", []int{kv}, true})
		}
		if s.qkNorm {
			ts = append(ts,
				tensorSpec{p + "attn_q_norm.weight", []int{s.headDim}, true},
				tensorSpec{p + "attn_k_norm.weight", []int{s.headDim}, true})
		}
		ts = append(ts,
			tensorSpec{p + "attn_output.weight", []int{s.hidden, q}, false},
			tensorSpec{p + "ffn_norm.weight", []int{s.hidden}, true},
			tensorSpec{p + "ffn_gate.weight", []int{s.ffn, s.hidden}, false},
			tensorSpec{p + "ffn_up.weight", []int{s.ffn, s.hidden}, false},
			tensorSpec{p + "ffn_down.weight", []int{s.hidden, s.ffn}, false})
	}
	ts = append(ts, tensorSpec{"output_norm.weight", []int{s.hidden}, true})
	if !s.tied {
		ts = append(ts, tensorSpec{"output.weight", []int{s.vocab, s.hidden}, false})
	}
	return ts
}

// f32Data gives distinct, recognisable values: tensor k element i is k+i/1000.
func f32Data(k int, shape []int) []byte {
	n := 1
	for _, d := range shape {
		n *= d
	}
	v := make([]float32, n)
	for i := range v {
		v[i] = float32(k) + float32(i)/1000
	}
	return Float32Bytes(v)
}

// ggufKV is the metadata a converter would write for the spec.
func (s tinySpec) ggufKV() []KV {
	a := s.arch + "."
	toks := make([]string, s.vocab)
	for i := range toks {
		toks[i] = fmt.Sprintf("t%d", i)
	}
	return []KV{
		{"general.architecture", s.arch},
		{"general.name", "tiny"},
		{a + "context_length", uint32(64)},
		{a + "embedding_length", uint32(s.hidden)},
		{a + "block_count", uint32(s.layers)},
		{a + "feed_forward_length", uint32(s.ffn)},
		{a + "attention.head_count", uint32(s.heads)},
		{a + "attention.head_count_kv", uint32(s.kvHeads)},
		{a + "attention.key_length", uint32(s.headDim)},
		{a + "rope.freq_base", float32(10000)},
		{a + "attention.layer_norm_rms_epsilon", float32(1e-5)},
		{"tokenizer.ggml.model", "llama"},
		{"tokenizer.ggml.tokens", toks},
		{"tokenizer.ggml.bos_token_id", uint32(1)},
		{"tokenizer.ggml.eos_token_id", uint32(2)},
		{"tokenizer.ggml.add_bos_token", true},
	}
}

// ggufTensors builds F32 tensors with GGUF names (q/k rows are left in
// whatever order the data has: robustness tests do not read values).
func (s tinySpec) ggufTensors() []*Tensor {
	var out []*Tensor
	for k, ts := range s.tensors() {
		out = append(out, &Tensor{Name: ts.name, DType: F32, Shape: ts.shape, Data: f32Data(k, ts.shape)})
	}
	return out
}

// ggufBytes writes kv and tensors as a GGUF file in memory.
func ggufBytes(t testing.TB, kv []KV, tensors []*Tensor) []byte {
	t.Helper()
	var buf bytes.Buffer
	if err := WriteGGUF(&buf, kv, tensors); err != nil {
		t.Fatal(err)
	}
	return buf.Bytes()
}

// writeFile writes b to name inside dir and returns the path.
func writeFile(t testing.TB, dir, name string, b []byte) string {
	t.Helper()
	p := filepath.Join(dir, name)
	if err := os.WriteFile(p, b, 0o644); err != nil {
		t.Fatal(err)
	}
	return p
}

// hfNames maps canonical names back to Hugging Face names (the inverse of
// CanonicalName, typed in from the table in refdata/README.md §3).
func hfName(canonical string) string {
	switch canonical {
	case "token_embd.weight":
		return "model.embed_tokens.weight"
	case "output_norm.weight":
		return "model.norm.weight"
	case "output.weight":
		return "lm_head.weight"
	}
	var l int
	var rest string
	if n, _ := fmt.Sscanf(canonical, "blk.%d.%s", &l, &rest); n != 2 {
		return canonical
	}
	hf := map[string]string{
		"attn_norm.weight": "input_layernorm.weight", "attn_q.weight": "self_attn.q_proj.weight",
		"attn_k.weight": "self_attn.k_proj.weight", "attn_v.weight": "self_attn.v_proj.weight",
		"attn_q.bias": "self_attn.q_proj.bias", "attn_k.bias": "self_attn.k_proj.bias",
		"attn_v.bias": "self_attn.v_proj.bias", "attn_output.weight": "self_attn.o_proj.weight",
		"attn_q_norm.weight": "self_attn.q_norm.weight", "attn_k_norm.weight": "self_attn.k_norm.weight",
		"ffn_norm.weight": "post_attention_layernorm.weight", "ffn_gate.weight": "mlp.gate_proj.weight",
		"ffn_up.weight": "mlp.up_proj.weight", "ffn_down.weight": "mlp.down_proj.weight",
	}[rest]
	return fmt.Sprintf("model.layers.%d.%s", l, hf)
}

// hfConfig is the config.json a transformers export would write.
func (s tinySpec) hfConfig() map[string]any {
	return map[string]any{
		"model_type": s.arch, "hidden_size": s.hidden, "num_hidden_layers": s.layers,
		"num_attention_heads": s.heads, "num_key_value_heads": s.kvHeads, "head_dim": s.headDim,
		"intermediate_size": s.ffn, "vocab_size": s.vocab, "max_position_embeddings": 64,
		"rope_theta": 10000.0, "rms_norm_eps": 1e-5, "tie_word_embeddings": s.tied,
		"attention_bias": s.bias, "hidden_act": "silu", "bos_token_id": 1, "eos_token_id": 2,
	}
}

// hfTensors builds F32 safetensors tensors with Hugging Face names.
func (s tinySpec) hfTensors() []safetensors.Tensor {
	var out []safetensors.Tensor
	for k, ts := range s.tensors() {
		out = append(out, safetensors.Tensor{Name: hfName(ts.name), DType: "F32", Shape: ts.shape, Data: f32Data(k, ts.shape)})
	}
	return out
}

// safetensorsBytes writes tensors as a safetensors file in memory.
func safetensorsBytes(t testing.TB, tensors []safetensors.Tensor) []byte {
	t.Helper()
	var buf bytes.Buffer
	if err := safetensors.Write(&buf, tensors, map[string]string{"format": "pt"}); err != nil {
		t.Fatal(err)
	}
	return buf.Bytes()
}

// writeHFFolder writes config.json (cfg marshalled, or raw bytes) and a
// single model.safetensors into a new folder and returns the folder.
func writeHFFolder(t testing.TB, cfg any, tensors []safetensors.Tensor) string {
	t.Helper()
	dir := t.TempDir()
	cb, ok := cfg.([]byte)
	if !ok {
		var err error
		if cb, err = json.Marshal(cfg); err != nil {
			t.Fatal(err)
		}
	}
	writeFile(t, dir, "config.json", cb)
	if tensors != nil {
		writeFile(t, dir, "model.safetensors", safetensorsBytes(t, tensors))
	}
	return dir
}

func TestTinyModelsOpen(t *testing.T) {
	// The builders above must produce files Open accepts, or every
	// corruption test below would pass for the wrong reason.
	s := tinyLlama()
	dir := t.TempDir()
	m, err := Open(writeFile(t, dir, "tiny.gguf", ggufBytes(t, s.ggufKV(), s.ggufTensors())))
	if err != nil {
		t.Fatal(err)
	}
	m.Close()
	m, err = Open(writeHFFolder(t, s.hfConfig(), s.hfTensors()))
	if err != nil {
		t.Fatal(err)
	}
	m.Close()
}

// stringField returns the position of a GGUF string (u64 length + bytes) in b.
func stringField(t *testing.T, b []byte, s string) int {
	t.Helper()
	enc := binary.LittleEndian.AppendUint64(nil, uint64(len(s)))
	enc = append(enc, s...)
	i := bytes.Index(b, enc)
	if i < 0 || bytes.Index(b[i+1:], enc) >= 0 {
		t.Fatalf("string %q not found exactly once", s)
	}
	return i
}

// valueAt returns the position of the type field of metadata key key.
func valueAt(t *testing.T, b []byte, key string) int {
	return stringField(t, b, key) + 8 + len(key)
}

// infoAt returns the position of the dimension count of tensor name's info.
func infoAt(t *testing.T, b []byte, name string) int {
	return stringField(t, b, name) + 8 + len(name)
}

func put32(b []byte, at int, v uint32) { binary.LittleEndian.PutUint32(b[at:], v) }
func put64(b []byte, at int, v uint64) { binary.LittleEndian.PutUint64(b[at:], v) }

// TestCorruptGGUF patches single fields of a valid file at known offsets (or
// writes a structurally bad file) and checks each error names the problem and
// the key or tensor.
func TestCorruptGGUF(t *testing.T) {
	s := tinyLlama()
	valid := ggufBytes(t, s.ggufKV(), s.ggufTensors())
	const q0 = "blk.0.attn_q.weight" // 2-D, nd = 2, ne = [8, 8]
	const n0 = "blk.0.attn_norm.weight"
	withKV := func(extra ...KV) []byte { return ggufBytes(t, append(s.ggufKV(), extra...), s.ggufTensors()) }
	deep := any([]int32{1})
	for i := 0; i < 9; i++ {
		deep = []any{deep}
	}
	dupTensors := append(s.ggufTensors(), s.ggufTensors()[2])
	badName := s.ggufTensors()
	badName[0].Name = "tok\xffen"
	for _, c := range []struct {
		name  string
		file  []byte
		patch func(b []byte)
		want  []string
	}{
		{"bad magic", valid, func(b []byte) { copy(b, "GGUX") }, []string{"bad magic 0x58554747: not a GGUF file"}},
		{"safetensors given as GGUF", safetensorsBytes(t, s.hfTensors()), nil, []string{"bad magic"}},
		{"version 1", valid, func(b []byte) { put32(b, 4, 1) }, []string{"version 1 is not supported"}},
		{"version 4", valid, func(b []byte) { put32(b, 4, 4) }, []string{"unsupported GGUF version 4 (want 2 or 3)"}},
		{"big-endian", valid, func(b []byte) { put32(b, 4, 3<<24) }, []string{"byte-swapped", "big-endian"}},
		{"tensor count huge", valid, func(b []byte) { put64(b, 8, 1<<40) }, []string{"tensor count 1099511627776 exceeds the limit"}},
		{"metadata count huge", valid, func(b []byte) { put64(b, 16, 1<<40) }, []string{"metadata count 1099511627776 exceeds the limit"}},
		{"metadata count too high", valid, func(b []byte) { put64(b, 16, 1000) }, []string{"metadata"}},
		{"unknown value type", valid, func(b []byte) { put32(b, valueAt(t, b, "llama.block_count"), 13) }, []string{`metadata key "llama.block_count": unknown value type 13`}},
		{"string length huge", valid, func(b []byte) { put64(b, valueAt(t, b, "general.name")+4, 1<<40) }, []string{`metadata key "general.name"`, "string length 1099511627776 exceeds the limit"}},
		{"string past end", valid, func(b []byte) { put64(b, valueAt(t, b, "general.name")+4, 1<<25) }, []string{`metadata key "general.name"`, "unexpected end of file"}},
		{"array length huge", valid, func(b []byte) { put64(b, valueAt(t, b, "tokenizer.ggml.tokens")+8, 1<<40) }, []string{`metadata key "tokenizer.ggml.tokens"`, "array of 1099511627776 elements exceeds the limit"}},
		{"array cannot fit", valid, func(b []byte) { put64(b, valueAt(t, b, "tokenizer.ggml.tokens")+8, 1<<27) }, []string{`metadata key "tokenizer.ggml.tokens"`, "cannot fit", "unexpected end of file"}},
		{"unknown array element type", valid, func(b []byte) { put32(b, valueAt(t, b, "tokenizer.ggml.tokens")+4, 13) }, []string{`metadata key "tokenizer.ggml.tokens"`, "unknown array element type 13"}},
		{"bool value 2", valid, func(b []byte) { b[valueAt(t, b, "tokenizer.ggml.add_bos_token")+4] = 2 }, []string{`metadata key "tokenizer.ggml.add_bos_token"`, "bool value 2"}},
		{"duplicate key", withKV(KV{"general.name", "again"}), nil, []string{`metadata key "general.name" appears twice`}},
		{"key not UTF-8", withKV(KV{"bad\xffkey", uint8(1)}), nil, []string{"key is not valid UTF-8"}},
		{"arrays nested too deep", withKV(KV{"deep", deep}), nil, []string{`metadata key "deep"`, "nested deeper than 8"}},
		{"alignment not a power of two", withKV(KV{"general.alignment", uint32(64)}), func(b []byte) { put32(b, valueAt(t, b, "general.alignment")+4, 48) }, []string{`"general.alignment"`, "48 must be a uint32 power of two"}},
		{"alignment of the wrong type", withKV(KV{"general.alignment", uint32(64)}), func(b []byte) { put32(b, valueAt(t, b, "general.alignment"), ggufInt32) }, []string{`"general.alignment"`, "power of two"}},
		{"duplicate tensor", ggufBytes(t, s.ggufKV(), dupTensors), nil, []string{`tensor "blk.0.attn_q.weight" appears twice`}},
		{"tensor name not UTF-8", ggufBytes(t, s.ggufKV(), badName), nil, []string{"tensor info 0", "not valid UTF-8"}},
		{"zero dimensions", valid, func(b []byte) { put32(b, infoAt(t, b, q0), 0) }, []string{`tensor "blk.0.attn_q.weight": 0 dimensions (want 1 to 4)`}},
		{"five dimensions", valid, func(b []byte) { put32(b, infoAt(t, b, q0), 5) }, []string{`tensor "blk.0.attn_q.weight": 5 dimensions`}},
		{"huge dimension", valid, func(b []byte) { put64(b, infoAt(t, b, q0)+4, 1<<40) }, []string{`tensor "blk.0.attn_q.weight": dimension 0 is 1099511627776`}},
		{"zero dimension", valid, func(b []byte) { put64(b, infoAt(t, b, q0)+12, 0) }, []string{`tensor "blk.0.attn_q.weight": dimension 1 is 0`}},
		{"shape overflows", valid, func(b []byte) { put64(b, infoAt(t, b, q0)+4, 1<<32); put64(b, infoAt(t, b, q0)+12, 1<<32) }, []string{`tensor "blk.0.attn_q.weight": shape [4294967296 4294967296] overflows`}},
		{"large shape, data past end", valid, func(b []byte) { put64(b, infoAt(t, b, q0)+4, 1<<30) }, []string{`tensor "blk.0.attn_q.weight"`, "run past the end of the file"}},
		{"unknown dtype", valid, func(b []byte) { put32(b, infoAt(t, b, q0)+20, 99) }, []string{`tensor "blk.0.attn_q.weight": unsupported tensor type type(99)`}},
		{"removed dtype Q4_2", valid, func(b []byte) { put32(b, infoAt(t, b, q0)+20, 4) }, []string{`tensor "blk.0.attn_q.weight"`, "type(4)"}},
		{"row not a block multiple", valid, func(b []byte) { put32(b, infoAt(t, b, q0)+20, uint32(Q8_0)) }, []string{`tensor "blk.0.attn_q.weight": row length 8 is not a multiple of the Q8_0 block size 32`}},
		{"misaligned offset", valid, func(b []byte) { at := infoAt(t, b, q0) + 24; put64(b, at, binary.LittleEndian.Uint64(b[at:])+4) }, []string{`tensor "blk.0.attn_q.weight": offset`, "is not a multiple of the alignment 32"}},
		{"offset past the end", valid, func(b []byte) { put64(b, infoAt(t, b, q0)+24, 1<<40) }, []string{`tensor "blk.0.attn_q.weight": 256 bytes at data offset 1099511627776 run past the end`}},
		{"offset near uint64 max", valid, func(b []byte) { put64(b, infoAt(t, b, q0)+24, 1<<64-32) }, []string{`tensor "blk.0.attn_q.weight"`, "run past the end"}},
		{"overlapping tensors", valid, func(b []byte) { put64(b, infoAt(t, b, q0)+24, 0) }, []string{`tensor "blk.0.attn_q.weight" (bytes 0..256) overlaps tensor "token_embd.weight" (bytes 0..512)`}},
		{"1-D tensor overlapping", valid, func(b []byte) { put64(b, infoAt(t, b, n0)+16, 0) }, []string{`tensor "blk.0.attn_norm.weight" (bytes 0..32) overlaps tensor "token_embd.weight"`}},
		{"truncated data", valid[:len(valid)-64], nil, []string{`tensor "output.weight"`, "run past the end"}},
	} {
		t.Run(c.name, func(t *testing.T) {
			b := bytes.Clone(c.file)
			if c.patch != nil {
				c.patch(b)
			}
			g, err := ParseGGUF(b, "broken.gguf")
			if err == nil {
				t.Fatalf("parsed %d tensors, want an error", len(g.Tensors))
			}
			msg := err.Error()
			if !strings.HasPrefix(msg, "gguf: broken.gguf: ") {
				t.Errorf("error %q does not name the file", msg)
			}
			for _, w := range c.want {
				if !strings.Contains(msg, w) {
					t.Errorf("error %q does not contain %q", msg, w)
				}
			}
		})
	}
}

// TestTruncatedRefdataGGUF cuts a real llama.cpp file at every 7th byte of its
// header and at a few hundred points of its data. Each cut must give an error
// that says where the file ended: inside which key or tensor info, or which
// tensor's data is missing.
func TestTruncatedRefdataGGUF(t *testing.T) {
	path := shareddata.Path(t, "refdata", "models", "llama-tiny", "llama-tiny.gguf")
	full, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	g, err := ParseGGUF(full, "full")
	if err != nil {
		t.Fatal(err)
	}
	// Where each key and tensor info starts, found by searching the bytes.
	type item struct {
		start, nameEnd int
		index          int
		name           string
		tensor         bool
	}
	var items []item
	pos := 24
	for i, kv := range g.KV {
		p := pos + stringField(t, full[pos:], kv.Key)
		items = append(items, item{p, p + 8 + len(kv.Key), i, kv.Key, false})
		pos = p + 8 + len(kv.Key)
	}
	for i, tn := range g.Tensors {
		p := pos + stringField(t, full[pos:], tn.Name)
		items = append(items, item{p, p + 8 + len(tn.Name), i, tn.Name, true})
		pos = p + 8 + len(tn.Name)
	}
	headerEnd := items[len(items)-1].nameEnd + 4 + 8*len(g.Tensors[len(g.Tensors)-1].Shape) + 4 + 8
	dataOff := int(g.DataOffset)
	lastEnd := 0
	tensorEnd := make([]int, len(g.Tensors))
	for i, tn := range g.Tensors {
		// The info's offset field, read from the bytes: after the dimension
		// count, the dimensions and the type.
		at := infoAt(t, full, tn.Name) + 4 + 8*len(tn.Shape) + 4
		tensorEnd[i] = dataOff + int(binary.LittleEndian.Uint64(full[at:])) + len(tn.Data)
		lastEnd = max(lastEnd, tensorEnd[i])
	}
	var cuts []int
	for n := 0; n < dataOff; n += 7 {
		cuts = append(cuts, n)
	}
	for k := 0; k < 300; k++ {
		cuts = append(cuts, dataOff+k*(len(full)-dataOff)/300)
	}
	cuts = append(cuts, headerEnd, dataOff, lastEnd-1)
	expect := func(n int) []string {
		switch {
		case n < 4:
			return []string{"reading magic", "unexpected end of file"}
		case n < 8:
			return []string{"reading version"}
		case n < 16:
			return []string{"reading tensor count"}
		case n < 24:
			return []string{"reading metadata count"}
		case n < headerEnd:
			it := items[0]
			for _, x := range items {
				if x.start <= n {
					it = x
				}
			}
			kind := "metadata entry"
			named := fmt.Sprintf("metadata key %q", it.name)
			if it.tensor {
				kind, named = "tensor info", fmt.Sprintf("tensor %q", it.name)
			}
			if n < it.nameEnd {
				return []string{fmt.Sprintf("%s %d", kind, it.index), "unexpected end of file"}
			}
			return []string{named, "unexpected end of file"}
		case n < dataOff:
			return []string{"data section at byte", "starts past the end"}
		}
		for i, tn := range g.Tensors {
			if tensorEnd[i] > n {
				return []string{fmt.Sprintf("tensor %q", tn.Name), "run past the end of the file"}
			}
		}
		return nil
	}
	for _, n := range cuts {
		_, err := ParseGGUF(full[:n:n], "cut.gguf")
		want := expect(n)
		if want == nil {
			if err != nil {
				t.Errorf("cut at %d (after every tensor): %v", n, err)
			}
			continue
		}
		if err == nil {
			t.Errorf("cut at %d of %d: no error", n, len(full))
			continue
		}
		for _, w := range want {
			if !strings.Contains(err.Error(), w) {
				t.Errorf("cut at %d: error %q does not contain %q", n, err, w)
			}
		}
		if n < headerEnd && n >= 24 && !errors.Is(err, errShort) {
			t.Errorf("cut at %d: error %q does not wrap the end-of-file error", n, err)
		}
	}
	// A few cuts through Open, which maps the file and adds the model checks.
	dir := t.TempDir()
	for _, n := range []int{0, 3, 24, headerEnd / 2, dataOff + 100, len(full) - 1} {
		p := writeFile(t, dir, fmt.Sprintf("cut%d.gguf", n), full[:n])
		m, err := Open(p)
		if err == nil {
			m.Close()
			t.Errorf("Open(cut at %d): no error", n)
		} else if !strings.Contains(err.Error(), p) {
			t.Errorf("Open(cut at %d): error %q does not name the file", n, err)
		}
	}
}

// TestTruncatedRefdataSafetensors does the same for a real safetensors file,
// directly and through Open on a Hugging Face folder.
func TestTruncatedRefdataSafetensors(t *testing.T) {
	dir := shareddata.Path(t, "refdata", "models", "llama-tiny", "hf")
	full, err := os.ReadFile(filepath.Join(dir, "model.safetensors"))
	if err != nil {
		t.Fatal(err)
	}
	cfg, err := os.ReadFile(filepath.Join(dir, "config.json"))
	if err != nil {
		t.Fatal(err)
	}
	f, err := safetensors.Parse(full)
	if err != nil {
		t.Fatal(err)
	}
	hdrEnd := 8 + int(binary.LittleEndian.Uint64(full))
	// Tensor end offsets in the data section, by name, read from the JSON.
	var header map[string]struct {
		Offsets []int `json:"data_offsets"`
	}
	if err := json.Unmarshal(full[8:hdrEnd], &header); err != nil {
		t.Fatal(err)
	}
	ends := map[string]int{}
	names := make([]string, 0, len(f.Tensors))
	for _, ti := range f.Tensors {
		ends[ti.Name] = header[ti.Name].Offsets[1]
		names = append(names, ti.Name)
	}
	sort.Strings(names) // Parse checks entries in name order
	var cuts []int
	for n := 0; n < hdrEnd; n += 7 {
		cuts = append(cuts, n)
	}
	for k := 0; k < 300; k++ {
		cuts = append(cuts, hdrEnd+k*(len(full)-hdrEnd)/300)
	}
	cuts = append(cuts, hdrEnd, len(full)-1)
	for _, n := range cuts {
		_, err := safetensors.Parse(full[:n:n])
		var want string
		switch {
		case n < 8:
			want = "too short for the header length"
		case n < hdrEnd:
			want = "runs past the end of the"
		default:
			for _, name := range names {
				if hdrEnd+ends[name] > n {
					want = fmt.Sprintf("tensor %q: data offsets", name)
					break
				}
			}
		}
		if err == nil || !strings.Contains(err.Error(), want) {
			t.Errorf("cut at %d of %d: error %v, want it to contain %q", n, len(full), err, want)
		}
	}
	tmp := t.TempDir()
	writeFile(t, tmp, "config.json", cfg)
	for _, n := range []int{5, hdrEnd - 1, hdrEnd + 1000, len(full) - 1} {
		writeFile(t, tmp, "model.safetensors", full[:n])
		m, err := Open(tmp)
		if err == nil {
			m.Close()
			t.Errorf("Open(cut at %d): no error", n)
		} else if !strings.Contains(err.Error(), "model.safetensors") {
			t.Errorf("Open(cut at %d): error %q does not name the file", n, err)
		}
	}
}

// setKV returns kv with key set to v (replaced in place, or appended); a nil
// v removes the key.
func setKV(kv []KV, key string, v any) []KV {
	out := make([]KV, 0, len(kv)+1)
	found := false
	for _, e := range kv {
		if e.Key == key {
			found = true
			if v == nil {
				continue
			}
			e.Value = v
		}
		out = append(out, e)
	}
	if !found && v != nil {
		out = append(out, KV{key, v})
	}
	return out
}

// TestOpenBrokenGGUFModel checks the model-level errors of structurally valid
// GGUF files whose metadata or tensors do not describe a runnable model.
func TestOpenBrokenGGUFModel(t *testing.T) {
	s := tinyLlama()
	gpt2 := s
	gpt2.arch = "gpt2"
	dropTensor := func(name string) []*Tensor {
		var out []*Tensor
		for _, x := range s.ggufTensors() {
			if x.Name != name {
				out = append(out, x)
			}
		}
		return out
	}
	reshape := func(name string, shape []int, dt DType) []*Tensor {
		ts := s.ggufTensors()
		for _, x := range ts {
			if x.Name == name {
				x.Shape, x.DType = shape, dt
				n := 1
				for _, d := range shape {
					n *= d
				}
				rb, _ := dt.RowBytes(shape[len(shape)-1])
				x.Data = make([]byte, rb*n/shape[len(shape)-1])
			}
		}
		return ts
	}
	kv := s.ggufKV()
	for _, c := range []struct {
		name    string
		kv      []KV
		tensors []*Tensor
		want    []string
	}{
		{"no architecture", setKV(kv, "general.architecture", nil), nil, []string{`"general.architecture" missing`}},
		{"architecture not a string", setKV(kv, "general.architecture", uint32(1)), nil, []string{`"general.architecture" missing or not a string`}},
		{"unknown architecture", gpt2.ggufKV(), nil, []string{`unsupported architecture "gpt2"`}},
		{"no hidden size", setKV(kv, "llama.embedding_length", nil), nil, []string{`metadata key "llama.embedding_length" missing`}},
		{"layer count a string", setKV(kv, "llama.block_count", "2"), nil, []string{`metadata key "llama.block_count" is not an integer`}},
		{"negative head count", setKV(kv, "llama.attention.head_count", int32(-2)), nil, []string{`"llama.attention.head_count": -2 out of range`}},
		{"zero heads", setKV(kv, "llama.attention.head_count", uint32(0)), nil, []string{`metadata key "llama.attention.head_count" is 0`}},
		{"zero kv heads", setKV(kv, "llama.attention.head_count_kv", uint32(0)), nil, []string{"kv head count is 0"}},
		{"heads not a multiple of kv heads", setKV(setKV(kv, "llama.attention.head_count", uint32(3)), "llama.attention.head_count_kv", uint32(2)), nil, []string{"3 heads is not a multiple of 2 kv heads"}},
		{"odd head dim", setKV(kv, "llama.attention.key_length", uint32(3)), nil, []string{"rope dimension 3 must be even"}},
		{"rope theta a string", setKV(kv, "llama.rope.freq_base", "1e4"), nil, []string{`metadata key "llama.rope.freq_base" is not a number`}},
		{"zero rope theta", setKV(kv, "llama.rope.freq_base", float32(0)), nil, []string{"rope theta 0 out of range"}},
		{"zero epsilon", setKV(kv, "llama.attention.layer_norm_rms_epsilon", float32(0)), nil, []string{"norm epsilon 0 out of range"}},
		{"unknown rope scaling", setKV(kv, "llama.rope.scaling.type", "dynamic"), nil, []string{`rope scaling type "dynamic" is not supported`}},
		{"bos outside vocab", setKV(kv, "tokenizer.ggml.bos_token_id", uint32(999)), nil, []string{"bos token id 999 outside the vocabulary of 16"}},
		{"eos outside vocab", setKV(kv, "tokenizer.ggml.eos_token_id", uint64(1<<40)), nil, []string{"eos token id", "outside the vocabulary of 16"}},
		{"missing tensor", kv, dropTensor("blk.1.ffn_up.weight"), []string{`tensor "blk.1.ffn_up.weight" missing`}},
		{"missing output", kv, dropTensor("output_norm.weight"), []string{`tensor "output_norm.weight" missing`}},
		{"embedding width differs", kv, reshape("token_embd.weight", []int{16, 10}, F32), []string{`tensor "token_embd.weight": shape [16 10], want [16 8] from the config`}},
		{"q rows differ", kv, reshape("blk.0.attn_q.weight", []int{12, 8}, F32), []string{`tensor "blk.0.attn_q.weight": shape [12 8], want [8 8]`}},
		{"ffn width differs", kv, reshape("blk.1.ffn_down.weight", []int{8, 15}, F32), []string{`tensor "blk.1.ffn_down.weight": shape [8 15], want [8 16]`}},
		{"integer norm", kv, reshape("blk.0.attn_norm.weight", []int{8}, I32), []string{`tensor "blk.0.attn_norm.weight": 1-D tensors must be F32, F16 or BF16, got I32`}},
		{"integer weights", kv, reshape("blk.0.ffn_up.weight", []int{16, 8}, I8), []string{`tensor "blk.0.ffn_up.weight": dtype I8 cannot hold weights`}},
		// A config claiming 2^24 layers or heads must fail at the first
		// missing or mis-shaped tensor without allocating per-layer tables.
		{"millions of layers", setKV(kv, "llama.block_count", uint32(1<<24)), nil, []string{`tensor "blk.2.attn_norm.weight" missing`}},
		{"millions of heads", setKV(setKV(setKV(kv, "llama.attention.head_count", uint32(1<<24)), "llama.attention.head_count_kv", uint32(1<<24)), "llama.attention.key_length", uint32(1<<24)),
			nil, []string{`tensor "blk.0.attn_q.weight": shape [8 8], want [281474976710656 8]`}},
	} {
		t.Run(c.name, func(t *testing.T) {
			ts := c.tensors
			if ts == nil {
				ts = s.ggufTensors()
			}
			path := writeFile(t, t.TempDir(), "model.gguf", ggufBytes(t, c.kv, ts))
			m, err := Open(path)
			if err == nil {
				m.Close()
				t.Fatal("opened, want an error")
			}
			msg := err.Error()
			if !strings.HasPrefix(msg, "gguf: "+path+": ") {
				t.Errorf("error %q does not name the file", msg)
			}
			for _, w := range c.want {
				if !strings.Contains(msg, w) {
					t.Errorf("error %q does not contain %q", msg, w)
				}
			}
		})
	}
}

// TestOpenBrokenHFFolder checks Open on Hugging Face folders with a broken
// config.json, weights that disagree with it, and broken shard indexes.
func TestOpenBrokenHFFolder(t *testing.T) {
	s := tinyLlama()
	cfg := func(edit func(map[string]any)) map[string]any {
		c := s.hfConfig()
		edit(c)
		return c
	}
	without := func(name string) []safetensors.Tensor {
		var out []safetensors.Tensor
		for _, x := range s.hfTensors() {
			if x.Name != name {
				out = append(out, x)
			}
		}
		return out
	}
	withDType := func(name, dtype string) []safetensors.Tensor {
		ts := s.hfTensors()
		for i := range ts {
			if ts[i].Name == name {
				ts[i].DType = dtype
				ts[i].Data = make([]byte, len(ts[i].Data)/4*safetensors.ElemSize(dtype))
			}
		}
		return ts
	}
	withExtra := func(x safetensors.Tensor) []safetensors.Tensor { return append(s.hfTensors(), x) }
	for _, c := range []struct {
		name    string
		cfg     any // a map, or raw bytes
		tensors []safetensors.Tensor
		want    []string
	}{
		{"config not JSON", []byte(`{"model_type": "llama",`), s.hfTensors(), []string{"config.json: bad JSON"}},
		{"config a list", []byte(`[1]`), s.hfTensors(), []string{"config.json: bad JSON"}},
		{"hidden size a string", cfg(func(c map[string]any) { c["hidden_size"] = "8" }), s.hfTensors(), []string{"config.json: bad JSON", "hidden_size"}},
		{"zero heads", cfg(func(c map[string]any) { c["num_attention_heads"] = 0 }), s.hfTensors(), []string{"config.json: config: head count is 0"}},
		{"heads not a multiple of kv heads", cfg(func(c map[string]any) { c["num_attention_heads"] = 3; c["num_key_value_heads"] = 2 }), s.hfTensors(), []string{"3 heads is not a multiple of 2 kv heads"}},
		{"unknown model_type", cfg(func(c map[string]any) { c["model_type"] = "gpt_neox" }), s.hfTensors(), []string{`unsupported architecture "gpt_neox"`}},
		{"no model_type", cfg(func(c map[string]any) { delete(c, "model_type") }), s.hfTensors(), []string{`unsupported architecture ""`}},
		{"gelu", cfg(func(c map[string]any) { c["hidden_act"] = "gelu" }), s.hfTensors(), []string{`hidden_act "gelu" is not supported`}},
		{"mlp bias", cfg(func(c map[string]any) { c["mlp_bias"] = true }), s.hfTensors(), []string{"mlp_bias true is not supported"}},
		{"bad eos", cfg(func(c map[string]any) { c["eos_token_id"] = "two" }), s.hfTensors(), []string{"eos_token_id: want an integer or a list"}},
		{"eos outside vocab", cfg(func(c map[string]any) { c["eos_token_id"] = []int{2, 16} }), s.hfTensors(), []string{"eos token id 16 outside the vocabulary of 16"}},
		{"bad rope scaling", cfg(func(c map[string]any) { c["rope_scaling"] = map[string]any{"rope_type": "dynamic", "factor": 2} }), s.hfTensors(), []string{`rope scaling type "dynamic" is not supported`}},
		{"hidden size differs from tensors", cfg(func(c map[string]any) { c["hidden_size"] = 12 }), s.hfTensors(), []string{`tensor "token_embd.weight" (in model.safetensors): shape [16 8], want [16 12] from the config`}},
		{"vocab differs from tensors", cfg(func(c map[string]any) { c["vocab_size"] = 32 }), s.hfTensors(), []string{`tensor "token_embd.weight" (in model.safetensors): shape [16 8], want [32 8]`}},
		{"ffn differs from tensors", cfg(func(c map[string]any) { c["intermediate_size"] = 20 }), s.hfTensors(), []string{`tensor "blk.0.ffn_gate.weight" (in model.safetensors): shape [16 8], want [20 8]`}},
		{"more layers than tensors", cfg(func(c map[string]any) { c["num_hidden_layers"] = 1 << 24 }), s.hfTensors(), []string{`tensor "blk.2.attn_norm.weight" missing`}},
		{"claims biases it lacks", cfg(func(c map[string]any) { c["attention_bias"] = true }), s.hfTensors(), []string{`tensor "blk.0.attn_q.bias" missing`}},
		{"missing tensor", s.hfConfig(), without("model.layers.1.mlp.up_proj.weight"), []string{`tensor "blk.1.ffn_up.weight" missing`}},
		{"missing lm_head", s.hfConfig(), without("lm_head.weight"), []string{`tensor "output.weight" missing`}},
		{"F8 dtype", s.hfConfig(), withDType("model.layers.0.mlp.up_proj.weight", "F8_E4M3"), []string{`tensor "model.layers.0.mlp.up_proj.weight": dtype F8_E4M3 is not supported`}},
		{"I64 weights", s.hfConfig(), withDType("model.layers.0.mlp.up_proj.weight", "I64"), []string{`tensor "blk.0.ffn_up.weight" (in model.safetensors): dtype I64 cannot hold weights`}},
		{"same tensor under both names", s.hfConfig(), withExtra(safetensors.Tensor{Name: "token_embd.weight", DType: "F32", Shape: []int{1}, Data: make([]byte, 4)}),
			[]string{`tensor "token_embd.weight" (canonical "token_embd.weight") is also stored as "model.embed_tokens.weight"`}},
		{"no weights", s.hfConfig(), nil, []string{"neither model.safetensors nor model.safetensors.index.json found"}},
	} {
		t.Run(c.name, func(t *testing.T) {
			dir := writeHFFolder(t, c.cfg, c.tensors)
			m, err := Open(dir)
			if err == nil {
				m.Close()
				t.Fatal("opened, want an error")
			}
			msg := err.Error()
			if !strings.HasPrefix(msg, "weights: ") || !strings.Contains(msg, dir) {
				t.Errorf("error %q does not name the folder", msg)
			}
			for _, w := range c.want {
				if !strings.Contains(msg, w) {
					t.Errorf("error %q does not contain %q", msg, w)
				}
			}
		})
	}
	t.Run("missing config.json", func(t *testing.T) {
		dir := t.TempDir()
		writeFile(t, dir, "model.safetensors", safetensorsBytes(t, s.hfTensors()))
		if _, err := Open(dir); err == nil || !strings.Contains(err.Error(), "config.json") {
			t.Fatalf("error %v, want it to name config.json", err)
		}
		// A single .safetensors file needs the config beside it too.
		if _, err := Open(filepath.Join(dir, "model.safetensors")); err == nil || !strings.Contains(err.Error(), "config.json") {
			t.Fatalf("error %v, want it to name config.json", err)
		}
	})
}

// writeSharded splits the tiny model over two shards (layer 1 and the head
// in the second) and writes an index; edit may change the index and shards.
func writeSharded(t *testing.T, edit func(index map[string]string, shards map[string][]safetensors.Tensor)) string {
	t.Helper()
	s := tinyLlama()
	dir := writeHFFolder(t, s.hfConfig(), nil)
	index := map[string]string{}
	shards := map[string][]safetensors.Tensor{}
	for _, x := range s.hfTensors() {
		f := "model-00001-of-00002.safetensors"
		if strings.Contains(x.Name, "layers.1.") || x.Name == "lm_head.weight" || x.Name == "model.norm.weight" {
			f = "model-00002-of-00002.safetensors"
		}
		index[x.Name] = f
		shards[f] = append(shards[f], x)
	}
	edit(index, shards)
	for f, ts := range shards {
		writeFile(t, dir, f, safetensorsBytes(t, ts))
	}
	ib, err := json.Marshal(map[string]any{"metadata": map[string]any{"total_size": 1}, "weight_map": index})
	if err != nil {
		t.Fatal(err)
	}
	writeFile(t, dir, "model.safetensors.index.json", ib)
	return dir
}

func TestOpenSharded(t *testing.T) {
	dir := writeSharded(t, func(map[string]string, map[string][]safetensors.Tensor) {})
	m, err := Open(dir)
	if err != nil {
		t.Fatal(err)
	}
	defer m.Close()
	if up := m.Tensors["blk.1.ffn_up.weight"]; up == nil || filepath.Base(up.File) != "model-00002-of-00002.safetensors" {
		t.Errorf("blk.1.ffn_up.weight: %+v, want it from the second shard", up)
	}
	if m.FileNames["blk.1.ffn_up.weight"] != "model.layers.1.mlp.up_proj.weight" {
		t.Errorf("FileNames: %v", m.FileNames)
	}
	const second = "model-00002-of-00002.safetensors"
	for _, c := range []struct {
		name string
		edit func(index map[string]string, shards map[string][]safetensors.Tensor)
		want []string
	}{
		{"missing shard", func(_ map[string]string, sh map[string][]safetensors.Tensor) { delete(sh, second) }, []string{`shard "model-00002-of-00002.safetensors" is missing`}},
		{"shard outside the folder", func(ix map[string]string, _ map[string][]safetensors.Tensor) {
			ix["lm_head.weight"] = "../x.safetensors"
		}, []string{`tensor "lm_head.weight": shard name "../x.safetensors" must be a plain file name`}},
		{"absolute shard path", func(ix map[string]string, _ map[string][]safetensors.Tensor) { ix["lm_head.weight"] = "/etc/passwd" }, []string{`shard name "/etc/passwd" must be a plain file name`}},
		{"dot-dot shard", func(ix map[string]string, _ map[string][]safetensors.Tensor) { ix["lm_head.weight"] = ".." }, []string{`shard name ".." must be a plain file name`}},
		{"index lists a tensor no shard holds", func(ix map[string]string, _ map[string][]safetensors.Tensor) {
			ix["model.layers.0.mlp.extra.weight"] = second
		}, []string{`tensor "model.layers.0.mlp.extra.weight" is listed for shard "model-00002-of-00002.safetensors" but no shard holds it`}},
		{"index names the wrong shard", func(ix map[string]string, _ map[string][]safetensors.Tensor) {
			ix["lm_head.weight"] = "model-00001-of-00002.safetensors"
		}, []string{`tensor "lm_head.weight" is listed for shard "model-00001-of-00002.safetensors" but is in "model-00002-of-00002.safetensors"`}},
		{"duplicate tensor across shards", func(_ map[string]string, sh map[string][]safetensors.Tensor) {
			sh[second] = append(sh[second], sh["model-00001-of-00002.safetensors"][0])
		}, []string{`tensor "model.embed_tokens.weight" (canonical "token_embd.weight") is also stored as "model.embed_tokens.weight"`}},
		{"broken shard", func(_ map[string]string, sh map[string][]safetensors.Tensor) {
			sh[second][0].DType = "I32"
		}, []string{`tensor "blk.1.attn_norm.weight" (in model-00002-of-00002.safetensors): 1-D tensors must be F32, F16 or BF16, got I32`}},
	} {
		t.Run(c.name, func(t *testing.T) {
			dir := writeSharded(t, c.edit)
			m, err := Open(dir)
			if err == nil {
				m.Close()
				t.Fatal("opened, want an error")
			}
			for _, w := range c.want {
				if !strings.Contains(err.Error(), w) {
					t.Errorf("error %q does not contain %q", err, w)
				}
			}
		})
	}
	t.Run("index not JSON", func(t *testing.T) {
		dir := writeSharded(t, func(map[string]string, map[string][]safetensors.Tensor) {})
		writeFile(t, dir, "model.safetensors.index.json", []byte(`{"weight_map": {`))
		if _, err := Open(dir); err == nil || !strings.Contains(err.Error(), "model.safetensors.index.json: bad JSON") {
			t.Fatalf("error %v", err)
		}
		writeFile(t, dir, "model.safetensors.index.json", []byte(`{"metadata": {}}`))
		if _, err := Open(dir); err == nil || !strings.Contains(err.Error(), "empty or missing weight_map") {
			t.Fatalf("error %v", err)
		}
	})
}
