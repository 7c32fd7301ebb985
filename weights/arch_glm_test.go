package weights

import (
	"encoding/json"
	"fmt"
	"testing"
	"unsafe"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/valueexploration/valueexp/weights/safetensors"
)

// glm4ChatHFConfig is THUDM/glm-4-9b-chat-hf's config.json as published
// (the GlmForCausalLM conversion, 661 bytes): it states no
// partial_rotary_factor, so GlmConfig's default 0.5 applies.
// glm4_0414Config holds the values of THUDM/GLM-4-9B-0414's config.json
// (Glm4ForCausalLM) as we have them: the GlmConfig sizes, 32768 positions,
// rms_norm_eps 1e-5 and partial_rotary_factor stated; it could not be
// checked byte for byte against the published file here.
const (
	glm4ChatHFConfig = `{"architectures":["GlmForCausalLM"],"attention_bias":true,"attention_dropout":0.0,
"eos_token_id":[151329,151336,151338],"head_dim":128,"hidden_act":"silu","hidden_size":4096,"initializer_range":0.02,
"intermediate_size":13696,"max_position_embeddings":131072,"model_type":"glm","num_attention_heads":32,
"num_hidden_layers":40,"num_key_value_heads":2,"pad_token_id":151329,"rms_norm_eps":1.5625e-07,"rope_theta":10000.0,
"tie_word_embeddings":false,"torch_dtype":"bfloat16","transformers_version":"4.46.0.dev0","use_cache":true,"vocab_size":151552}`
	glm4_0414Config = `{"architectures":["Glm4ForCausalLM"],"attention_bias":true,"attention_dropout":0.0,
"eos_token_id":[151329,151336,151338],"head_dim":128,"hidden_act":"silu","hidden_size":4096,"initializer_range":0.02,
"intermediate_size":13696,"max_position_embeddings":32768,"model_type":"glm4","num_attention_heads":32,
"num_hidden_layers":40,"num_key_value_heads":2,"pad_token_id":151329,"partial_rotary_factor":0.5,"rms_norm_eps":1e-05,
"rope_theta":10000.0,"tie_word_embeddings":false,"torch_dtype":"bfloat16","transformers_version":"4.51.3",
"use_cache":true,"vocab_size":151552}`
)

func TestGLMHFConfig(t *testing.T) {
	base := Config{HiddenSize: 4096, Layers: 40, Heads: 32, KVHeads: 2, HeadDim: 128, FFNSize: 13696,
		VocabSize: 151552, RopeTheta: 10000, RopeDim: 64, AttnBias: true, RopeInterleaved: true,
		BOS: -1, EOS: []int{151329, 151336, 151338}}
	chat := base
	chat.Arch, chat.ContextLength, chat.NormEps = "chatglm", 131072, 1.5625e-7
	v0414 := base
	v0414.Arch, v0414.ContextLength, v0414.NormEps, v0414.PostNorms = "glm4", 32768, 1e-5, true
	for _, c := range []struct {
		name, json string
		want       Config
	}{
		{"glm-4-9b-chat-hf", glm4ChatHFConfig, chat},
		{"GLM-4-9B-0414", glm4_0414Config, v0414},
	} {
		t.Run(c.name, func(t *testing.T) {
			got, err := ParseHFConfig([]byte(c.json), "config.json")
			require.NoError(t, err)
			assert.Equal(t, c.want, got)
		})
	}
}

func TestGLMHFConfigErrors(t *testing.T) {
	const sizes = `"hidden_size":64,"num_hidden_layers":1,"num_attention_heads":4,"intermediate_size":96,"vocab_size":80`
	for _, c := range []struct {
		name, json, want string
	}{
		{"remote code", `{"model_type":"chatglm","hidden_size":64,"num_layers":1}`, "glm-4-9b-chat-hf"},
		{"factor 0", `{"model_type":"glm",` + sizes + `,"partial_rotary_factor":0}`, "partial_rotary_factor 0 must be in (0, 1]"},
		{"factor 2", `{"model_type":"glm4",` + sizes + `,"partial_rotary_factor":2}`, "partial_rotary_factor 2 must be in (0, 1]"},
		{"gelu", `{"model_type":"glm4",` + sizes + `,"hidden_act":"gelu"}`, `hidden_act "gelu"`},
		{"odd rope dims", `{"model_type":"glm",` + sizes + `,"head_dim":10,"partial_rotary_factor":0.3}`, "rope dimension 3"},
	} {
		t.Run(c.name, func(t *testing.T) {
			_, err := ParseHFConfig([]byte(c.json), "config.json")
			require.Error(t, err)
			assert.Contains(t, err.Error(), c.want)
		})
	}
}

// glmGGUFSpec builds a small GLM GGUF: chatglm with q/k/v fused in
// attn_qkv (llama.cpp b4748's converter on THUDM/glm-4-9b-chat), or with
// them separate (newer converters on the -hf model; glm4), the gate and up
// fused in ffn_up. qkvRows and upRows, when not 0, override the fused
// tensors' row counts, to make them wrong. dt is the matrices' type.
type glmGGUFSpec struct {
	arch             string
	fusedQKV         bool
	qkvRows, upRows  int
	dt               DType
	hidden, ffn, lay int
}

func (s glmGGUFSpec) build(t *testing.T) []byte {
	t.Helper()
	heads, kvHeads, hd := 2, 1, s.hidden/2
	q, kv := heads*hd, kvHeads*hd
	a := s.arch + "."
	kvs := []KV{
		{"general.architecture", s.arch}, {a + "embedding_length", uint32(s.hidden)}, {a + "block_count", uint32(s.lay)},
		{a + "feed_forward_length", uint32(s.ffn)}, {a + "attention.head_count", uint32(heads)},
		{a + "attention.head_count_kv", uint32(kvHeads)}, {a + "rope.dimension_count", uint32(hd / 2)},
		{a + "attention.layer_norm_rms_epsilon", float32(1.5625e-7)},
	}
	k := 0
	var ts []*Tensor
	add := func(name string, dt DType, shape ...int) {
		k++
		v := f32Data(k, shape)
		data := v
		if dt != F32 {
			n := len(v) / 4
			f := make([]float32, n)
			for i := range f {
				f[i] = float32(k) + float32(i)/1000
			}
			rb, err := dt.RowBytes(len(f))
			require.NoError(t, err)
			data = make([]byte, rb)
			require.NoError(t, Quantize(data, f, dt))
		}
		ts = append(ts, &Tensor{Name: name, DType: dt, Shape: shape, Data: data})
	}
	vocab := 8
	add("token_embd.weight", F32, vocab, s.hidden)
	add("output_norm.weight", F32, s.hidden)
	add("output.weight", s.dt, vocab, s.hidden)
	for l := 0; l < s.lay; l++ {
		p := fmt.Sprintf("blk.%d.", l)
		add(p+"attn_norm.weight", F32, s.hidden)
		if s.fusedQKV {
			rows := q + 2*kv
			if s.qkvRows != 0 {
				rows = s.qkvRows
			}
			add(p+"attn_qkv.weight", s.dt, rows, s.hidden)
			add(p+"attn_qkv.bias", F32, rows)
		} else {
			add(p+"attn_q.weight", s.dt, q, s.hidden)
			add(p+"attn_k.weight", s.dt, kv, s.hidden)
			add(p+"attn_v.weight", s.dt, kv, s.hidden)
			add(p+"attn_q.bias", F32, q)
			add(p+"attn_k.bias", F32, kv)
			add(p+"attn_v.bias", F32, kv)
		}
		add(p+"attn_output.weight", s.dt, s.hidden, q)
		add(p+"ffn_norm.weight", F32, s.hidden)
		up := 2 * s.ffn
		if s.upRows != 0 {
			up = s.upRows
		}
		add(p+"ffn_up.weight", s.dt, up, s.hidden)
		add(p+"ffn_down.weight", s.dt, s.hidden, s.ffn)
		if s.arch == "glm4" {
			add(p+"post_attention_norm.weight", F32, s.hidden)
			add(p+"post_ffw_norm.weight", F32, s.hidden)
		}
	}
	return ggufBytes(t, kvs, ts)
}

func openGLM(t *testing.T, s glmGGUFSpec) (*Model, *GGUF, error) {
	t.Helper()
	b := s.build(t)
	g, err := ParseGGUF(b, "glm.gguf")
	require.NoError(t, err)
	m, err := modelFromGGUF(g, "glm.gguf")
	return m, g, err
}

// TestGLMFusedSplit checks that the fused tensors are presented as row
// views of the file's bytes (no copy), for F32 and a quantized type, with
// q/k/v fused or not, and that the config says what the file implies.
func TestGLMFusedSplit(t *testing.T) {
	for _, s := range []glmGGUFSpec{
		{arch: "chatglm", fusedQKV: true, dt: F32, hidden: 8, ffn: 12, lay: 2},
		{arch: "chatglm", fusedQKV: true, dt: Q8_0, hidden: 64, ffn: 96, lay: 1},
		{arch: "chatglm", fusedQKV: false, dt: F32, hidden: 8, ffn: 12, lay: 1},
		{arch: "glm4", fusedQKV: false, dt: Q8_0, hidden: 64, ffn: 32, lay: 2},
	} {
		t.Run(fmt.Sprintf("%s-fused%v-%v", s.arch, s.fusedQKV, s.dt), func(t *testing.T) {
			m, g, err := openGLM(t, s)
			require.NoError(t, err)
			c := m.Config
			assert.True(t, c.RopeInterleaved)
			assert.True(t, c.AttnBias)
			assert.Equal(t, s.arch == "glm4", c.PostNorms)
			assert.Equal(t, c.HeadDim/2, c.RopeDim)
			q, kv := c.Heads*c.HeadDim, c.KVHeads*c.HeadDim
			for l := 0; l < s.lay; l++ {
				p := fmt.Sprintf("blk.%d.", l)
				assert.NotContains(t, m.Tensors, p+"attn_qkv.weight")
				// Each part must alias the fused tensor's bytes at its offset.
				check := func(fused, part string, rowOff, rows int) {
					ft, ok := g.Tensor(p + fused)
					require.True(t, ok, fused)
					pt := m.Tensors[p+part]
					require.NotNil(t, pt, part)
					rb := ft.RowBytes()
					if len(ft.Shape) == 1 {
						rb = 4
					}
					assert.Equal(t, rows, pt.Shape[0], part)
					assert.Same(t, &ft.Data[rowOff*rb], &pt.Data[0], "%s must be a view of %s", part, fused)
					assert.Len(t, pt.Data, rows*rb, part)
					assert.Equal(t, fmt.Sprintf("%s%s[%d:%d]", p, fused, rowOff, rowOff+rows), m.fileName(p+part))
				}
				if s.fusedQKV {
					check("attn_qkv.weight", "attn_q.weight", 0, q)
					check("attn_qkv.weight", "attn_k.weight", q, kv)
					check("attn_qkv.weight", "attn_v.weight", q+kv, kv)
					check("attn_qkv.bias", "attn_q.bias", 0, q)
					check("attn_qkv.bias", "attn_k.bias", q, kv)
					check("attn_qkv.bias", "attn_v.bias", q+kv, kv)
				}
				check("ffn_up.weight", "ffn_gate.weight", 0, c.FFNSize)
				check("ffn_up.weight", "ffn_up.weight", c.FFNSize, c.FFNSize)
			}
			// Values: the gate's first row is the fused tensor's first row.
			gate, err := m.Tensors["blk.0.ffn_gate.weight"].Float32()
			require.NoError(t, err)
			fused, _ := g.Tensor("blk.0.ffn_up.weight")
			all, err := fused.Float32()
			require.NoError(t, err)
			assert.Equal(t, all[:len(gate)], gate)
			up, err := m.Tensors["blk.0.ffn_up.weight"].Float32()
			require.NoError(t, err)
			assert.Equal(t, all[len(gate):], up)
		})
	}
}

func TestGLMFusedErrors(t *testing.T) {
	for _, c := range []struct {
		name string
		s    glmGGUFSpec
		want string
	}{
		{"qkv rows", glmGGUFSpec{arch: "chatglm", fusedQKV: true, qkvRows: 15, dt: F32, hidden: 8, ffn: 12, lay: 1},
			`tensor "blk.0.attn_qkv.weight" (the fused q, k and v projection): shape [15 8], want [16 8]`},
		{"up rows", glmGGUFSpec{arch: "chatglm", fusedQKV: true, upRows: 12, dt: F32, hidden: 8, ffn: 12, lay: 1},
			`tensor "blk.0.ffn_up.weight" (the fused gate and up projection): shape [12 8], want [24 8]`},
		{"up rows glm4", glmGGUFSpec{arch: "glm4", upRows: 25, dt: F32, hidden: 8, ffn: 12, lay: 2},
			`tensor "blk.0.ffn_up.weight" (the fused gate and up projection): shape [25 8], want [24 8]`},
	} {
		t.Run(c.name, func(t *testing.T) {
			_, _, err := openGLM(t, c.s)
			require.Error(t, err)
			assert.Contains(t, err.Error(), c.want)
		})
	}
}

// TestGLMHFNames checks the Hugging Face names of GLM layers.
func TestGLMHFNames(t *testing.T) {
	for _, c := range []struct{ arch, hf, want string }{
		{"chatglm", "model.layers.3.mlp.gate_up_proj.weight", "blk.3.ffn_up.weight"},
		{"chatglm", "model.layers.0.post_attention_layernorm.weight", "blk.0.ffn_norm.weight"},
		{"glm4", "model.layers.1.post_self_attn_layernorm.weight", "blk.1.post_attention_norm.weight"},
		{"glm4", "model.layers.1.post_mlp_layernorm.weight", "blk.1.post_ffw_norm.weight"},
		{"glm4", "model.layers.1.self_attn.q_proj.bias", "blk.1.attn_q.bias"},
	} {
		got, ok := canonicalFor(c.arch, c.hf)
		assert.True(t, ok, c.hf)
		assert.Equal(t, c.want, got, c.hf)
	}
}

// glmFuzzSpec is a one-layer GLM GGUF for the fuzz seeds: chatglm with
// fused q/k/v, or glm4 with post norms.
type glmFuzzSpec struct{ chatglm bool }

func glmFuzzSeed(chatglm bool) glmFuzzSpec { return glmFuzzSpec{chatglm} }

func (s glmFuzzSpec) arch() string {
	if s.chatglm {
		return "chatglm"
	}
	return "glm4"
}

func (s glmFuzzSpec) kv() []KV {
	a := s.arch() + "."
	return []KV{
		{"general.architecture", s.arch()}, {a + "embedding_length", uint32(4)}, {a + "block_count", uint32(1)},
		{a + "feed_forward_length", uint32(2)}, {a + "attention.head_count", uint32(2)},
		{a + "attention.head_count_kv", uint32(1)}, {a + "rope.dimension_count", uint32(2)},
	}
}

func (s glmFuzzSpec) tensors() []*Tensor {
	var ts []*Tensor
	add := func(name string, shape ...int) {
		ts = append(ts, &Tensor{Name: name, DType: F32, Shape: shape, Data: f32Data(len(ts), shape)})
	}
	add("token_embd.weight", 3, 4)
	add("output_norm.weight", 4)
	add("output.weight", 3, 4)
	add("blk.0.attn_norm.weight", 4)
	if s.chatglm {
		add("blk.0.attn_qkv.weight", 8, 4)
		add("blk.0.attn_qkv.bias", 8)
	} else {
		add("blk.0.attn_q.weight", 4, 4)
		add("blk.0.attn_k.weight", 2, 4)
		add("blk.0.attn_v.weight", 2, 4)
		add("blk.0.post_attention_norm.weight", 4)
		add("blk.0.post_ffw_norm.weight", 4)
	}
	add("blk.0.attn_output.weight", 4, 4)
	add("blk.0.ffn_norm.weight", 4)
	add("blk.0.ffn_up.weight", 4, 4)
	add("blk.0.ffn_down.weight", 4, 2)
	return ts
}

// TestGLMFuzzSeedsOpen makes sure the fuzz seeds are valid models, so the
// fuzzer starts from files that get through the split.
func TestGLMFuzzSeedsOpen(t *testing.T) {
	for _, chatglm := range []bool{true, false} {
		s := glmFuzzSeed(chatglm)
		g, err := ParseGGUF(ggufBytes(t, s.kv(), s.tensors()), "seed.gguf")
		require.NoError(t, err)
		m, err := modelFromGGUF(g, "seed.gguf")
		require.NoError(t, err, s.arch())
		assert.Contains(t, m.Tensors, "blk.0.ffn_gate.weight")
	}
}

func TestGLMBlockOptions(t *testing.T) {
	c, err := ParseHFConfig([]byte(glm4_0414Config), "config.json")
	require.NoError(t, err)
	assert.Equal(t, "post-attention and post-FFN norms, rope on adjacent pairs (GLM)", blockOptions(c))
}

// glmHFTensors builds a one-layer glm4 checkpoint's tensors with Hugging
// Face names (hidden 8, 2 heads of 4, 1 kv head, ffn 12); upRows sets
// gate_up_proj's rows (24 when right).
func glmHFTensors(upRows int) []safetensors.Tensor {
	var out []safetensors.Tensor
	add := func(name string, shape ...int) {
		out = append(out, safetensors.Tensor{Name: name, DType: "F32", Shape: shape, Data: f32Data(len(out), shape)})
	}
	add("model.embed_tokens.weight", 16, 8)
	add("model.norm.weight", 8)
	add("lm_head.weight", 16, 8)
	p := "model.layers.0."
	add(p+"input_layernorm.weight", 8)
	add(p+"self_attn.q_proj.weight", 8, 8)
	add(p+"self_attn.k_proj.weight", 4, 8)
	add(p+"self_attn.v_proj.weight", 4, 8)
	add(p+"self_attn.q_proj.bias", 8)
	add(p+"self_attn.k_proj.bias", 4)
	add(p+"self_attn.v_proj.bias", 4)
	add(p+"self_attn.o_proj.weight", 8, 8)
	add(p+"post_self_attn_layernorm.weight", 8)
	add(p+"post_attention_layernorm.weight", 8)
	add(p+"mlp.gate_up_proj.weight", upRows, 8)
	add(p+"mlp.down_proj.weight", 8, 12)
	add(p+"post_mlp_layernorm.weight", 8)
	return out
}

const glmTinyHFConfig = `{"model_type":"glm4","hidden_size":8,"num_hidden_layers":1,"num_attention_heads":2,
"num_key_value_heads":1,"head_dim":4,"intermediate_size":12,"vocab_size":16,"partial_rotary_factor":0.5}`

// TestGLMHFFolder opens a glm4 checkpoint sharded in two files: the index
// names gate_up_proj, which the split then presents as ffn_gate and ffn_up
// views; a gate_up_proj of the wrong size is an error naming it.
func TestGLMHFFolder(t *testing.T) {
	ts := glmHFTensors(24)
	dir := t.TempDir()
	writeFile(t, dir, "config.json", []byte(glmTinyHFConfig))
	index := map[string]string{}
	shards := [][]safetensors.Tensor{ts[:8], ts[8:]}
	for i, sh := range shards {
		name := fmt.Sprintf("model-%05d-of-00002.safetensors", i+1)
		writeFile(t, dir, name, safetensorsBytes(t, sh))
		for _, tn := range sh {
			index[tn.Name] = name
		}
	}
	ib, err := json.Marshal(map[string]any{"metadata": map[string]any{}, "weight_map": index})
	require.NoError(t, err)
	writeFile(t, dir, "model.safetensors.index.json", ib)
	m, err := Open(dir)
	require.NoError(t, err)
	defer m.Close()
	assert.True(t, m.Config.PostNorms)
	assert.Equal(t, 2, m.Config.RopeDim)
	gate, up := m.Tensors["blk.0.ffn_gate.weight"], m.Tensors["blk.0.ffn_up.weight"]
	require.NotNil(t, gate)
	require.NotNil(t, up)
	assert.Equal(t, []int{12, 8}, gate.Shape)
	assert.Equal(t, "model.layers.0.mlp.gate_up_proj.weight[12:24]", m.fileName("blk.0.ffn_up.weight"))
	assert.Equal(t, "model.layers.0.post_mlp_layernorm.weight", m.fileName("blk.0.post_ffw_norm.weight"))
	// The up half starts where the gate half ends: one fused tensor, viewed.
	assert.Equal(t, uintptr(len(gate.Data)), uintptr(unsafe.Pointer(&up.Data[0]))-uintptr(unsafe.Pointer(&gate.Data[0])))

	bad := writeHFFolder(t, []byte(glmTinyHFConfig), glmHFTensors(20))
	_, err = Open(bad)
	require.Error(t, err)
	assert.Contains(t, err.Error(), `tensor "model.layers.0.mlp.gate_up_proj.weight" (the fused gate and up projection): shape [20 8], want [24 8]`)
}
