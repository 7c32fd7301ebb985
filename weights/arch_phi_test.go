package weights

import (
	"fmt"
	"math"
	"strings"
	"testing"
	"unsafe"

	"github.com/stretchr/testify/require"

	"github.com/valueexploration/valueexp/weights/safetensors"
)

// phi35MiniConfig is microsoft/Phi-3.5-mini-instruct's config.json (the
// fields the engine reads, and a few it skips).
const phi35MiniConfig = `{
  "architectures": ["Phi3ForCausalLM"], "attention_dropout": 0.0, "bos_token_id": 1, "embd_pdrop": 0.0,
  "eos_token_id": 32000, "hidden_act": "silu", "hidden_size": 3072, "initializer_range": 0.02,
  "intermediate_size": 8192, "max_position_embeddings": 131072, "model_type": "phi3",
  "num_attention_heads": 32, "num_hidden_layers": 32, "num_key_value_heads": 32,
  "original_max_position_embeddings": 4096, "pad_token_id": 32000, "resid_pdrop": 0.0, "rms_norm_eps": 1e-05,
  "rope_scaling": {
    "long_factor": [1.0800000429153442, 1.1100000143051147, 1.1399999856948853, 1.340000033378601, 1.5899999141693115, 1.600000023841858, 1.6200000047683716, 2.620000123977661, 3.2300000190734863, 3.2300000190734863, 4.789999961853027, 7.400000095367432, 7.700000286102295, 9.09000015258789, 12.199999809265137, 17.670000076293945, 24.46000099182129, 28.57000160217285, 30.420001983642578, 30.840002059936523, 32.590003967285156, 32.93000411987305, 42.320003509521484, 44.96000289916992, 50.340003967285156, 50.45000457763672, 57.55000305175781, 57.93000411987305, 58.21000289916992, 60.1400032043457, 62.61000442504883, 62.62000274658203, 62.71000289916992, 63.1400032043457, 63.1400032043457, 63.77000427246094, 63.93000411987305, 63.96000289916992, 63.970001220703125, 64.02999877929688, 64.06999969482422, 64.08000183105469, 64.12000274658203, 64.41000366210938, 64.4800033569336, 64.51000213623047, 64.52999877929688, 64.83999633789062],
    "short_factor": [1.0, 1.0199999809265137, 1.0299999713897705, 1.0299999713897705, 1.0499999523162842, 1.0499999523162842, 1.0499999523162842, 1.0499999523162842, 1.0499999523162842, 1.0699999332427979, 1.0999999046325684, 1.1099998950958252, 1.1599998474121094, 1.1599998474121094, 1.1699998378753662, 1.2899998426437378, 1.339999794960022, 1.679999828338623, 1.7899998426437378, 1.8199998140335083, 1.8499997854232788, 1.8799997568130493, 1.9099997282028198, 1.9399996995925903, 1.9899996519088745, 2.0199997425079346, 2.0199997425079346, 2.0199997425079346, 2.0199997425079346, 2.0199997425079346, 2.0199997425079346, 2.0299997329711914, 2.0299997329711914, 2.0299997329711914, 2.0299997329711914, 2.0299997329711914, 2.0299997329711914, 2.0299997329711914, 2.0299997329711914, 2.0299997329711914, 2.0799996852874756, 2.0899996757507324, 2.189999580383301, 2.2199995517730713, 2.5899994373321533, 2.729999542236328, 2.749999523162842, 2.8399994373321533],
    "type": "longrope"
  },
  "rope_theta": 10000.0, "sliding_window": 262144, "tie_word_embeddings": false, "torch_dtype": "bfloat16",
  "transformers_version": "4.43.3", "use_cache": true, "attention_bias": false, "vocab_size": 32064
}`

// phi4MiniConfig is microsoft/Phi-4-mini-instruct's config.json (the
// fields the engine reads, and a few it skips): grouped kv heads, three
// quarters of each head rotated, tied embeddings. The factor lists were
// typed in from a published copy of the config, not fetched from the Hub
// here; the test checks how they are read, not the numbers.
const phi4MiniConfig = `{
  "architectures": ["Phi3ForCausalLM"], "attention_bias": false, "attention_dropout": 0.0, "bos_token_id": 199999,
  "embd_pdrop": 0.0, "eos_token_id": 199999, "full_attn_mod": 1, "hidden_act": "silu", "hidden_size": 3072,
  "initializer_range": 0.02, "intermediate_size": 8192, "interpolate_factor": 1, "lm_head_bias": false,
  "max_position_embeddings": 131072, "mlp_bias": false, "model_type": "phi3", "num_attention_heads": 24,
  "num_hidden_layers": 32, "num_key_value_heads": 8, "original_max_position_embeddings": 4096,
  "pad_token_id": 199999, "partial_rotary_factor": 0.75, "resid_pdrop": 0.0, "rms_norm_eps": 1e-05,
  "rope_scaling": {
    "long_factor": [1, 1.118320672, 1.250641126, 1.398617824, 1.564103225, 1.74916897, 1.956131817, 2.187582649, 2.446418898, 2.735880826, 3.059592084, 3.421605075, 3.826451687, 4.279200023, 4.785517845, 5.351743533, 5.984965424, 6.693110555, 7.485043894, 8.370679318, 9.36110372, 10.4687158, 11.70738129, 13.09260651, 14.64173252, 16.37415215, 18.31155283, 20.47818807, 22.90118105, 25.61086418, 28.64115884, 32.03, 32.1, 32.13, 32.23, 32.6, 32.61, 32.64, 32.66, 32.7, 32.71, 32.93, 32.97, 33.28, 33.49, 33.5, 44.16, 47.77],
    "short_factor": [1.0, 1.0, 1.0, 1.0, 1.0, 1.0, 1.0, 1.0, 1.0, 1.0, 1.0, 1.0, 1.0, 1.0, 1.0, 1.0, 1.0, 1.0, 1.0, 1.0, 1.0, 1.0, 1.0, 1.0, 1.0, 1.0, 1.0, 1.0, 1.0, 1.0, 1.0, 1.0, 1.0, 1.0, 1.0, 1.0, 1.0, 1.0, 1.0, 1.0, 1.0, 1.0, 1.0, 1.0, 1.0, 1.0, 1.0, 1.0],
    "type": "longrope"
  },
  "rope_theta": 10000.0, "sliding_window": 262144, "tie_word_embeddings": true, "torch_dtype": "bfloat16",
  "transformers_version": "4.45.0", "use_cache": true, "vocab_size": 200064
}`

// phi3Mini4kConfig is microsoft/Phi-3-mini-4k-instruct's: no rope scaling,
// a window of 2047.
const phi3Mini4kConfig = `{
  "architectures": ["Phi3ForCausalLM"], "bos_token_id": 1, "eos_token_id": 32000, "hidden_act": "silu",
  "hidden_size": 3072, "intermediate_size": 8192, "max_position_embeddings": 4096, "model_type": "phi3",
  "num_attention_heads": 32, "num_hidden_layers": 32, "num_key_value_heads": 32,
  "original_max_position_embeddings": 4096, "pad_token_id": 32000, "rms_norm_eps": 1e-05, "rope_scaling": null,
  "rope_theta": 10000.0, "sliding_window": 2047, "tie_word_embeddings": false, "attention_bias": false, "vocab_size": 32064
}`

func TestPhiHFConfigs(t *testing.T) {
	f32 := func(x float64) float64 { return float64(float32(x)) }
	for _, c := range []struct {
		name, json                    string
		hidden, heads, kv, head, rope int
		vocab, window                 int
		tied                          bool
		scaling                       string
		attn                          float64
		short0, long0, longLast       float64
		bos                           int
		eos                           []int
	}{
		{"Phi-3.5-mini-instruct", phi35MiniConfig, 3072, 32, 32, 96, 96, 32064, 262144, false, "longrope",
			f32(math.Sqrt(1 + math.Log(32)/math.Log(4096))), 1.0, f32(1.0800000429153442), f32(64.83999633789062), 1, []int{32000}},
		{"Phi-4-mini-instruct", phi4MiniConfig, 3072, 24, 8, 128, 96, 200064, 262144, true, "longrope",
			f32(math.Sqrt(1 + math.Log(32)/math.Log(4096))), 1.0, 1.0, f32(47.77), 199999, []int{199999}},
		{"Phi-3-mini-4k-instruct", phi3Mini4kConfig, 3072, 32, 32, 96, 96, 32064, 2047, false, "", 0, 0, 0, 0, 1, []int{32000}},
	} {
		t.Run(c.name, func(t *testing.T) {
			cfg, err := ParseHFConfig([]byte(c.json), "config.json")
			require.NoError(t, err)
			require.Equal(t, "phi3", cfg.Arch)
			require.Equal(t, []int{c.hidden, 32, c.heads, c.kv, c.head, c.rope, 8192, c.vocab, c.window},
				[]int{cfg.HiddenSize, cfg.Layers, cfg.Heads, cfg.KVHeads, cfg.HeadDim, cfg.RopeDim, cfg.FFNSize, cfg.VocabSize, cfg.SlidingWindow})
			require.Equal(t, c.tied, cfg.TiedEmbeddings)
			require.False(t, cfg.AttnBias)
			require.Equal(t, 1e-5, cfg.NormEps)
			require.Equal(t, c.bos, cfg.BOS)
			require.Equal(t, c.eos, cfg.EOS)
			rs := cfg.RopeScaling
			require.Equal(t, c.scaling, rs.Type)
			if c.scaling == "" {
				return
			}
			require.Equal(t, 4096, rs.OriginalMaxPositions)
			require.Equal(t, 32.0, rs.Factor)
			require.Equal(t, c.attn, rs.AttnFactor)
			require.Len(t, rs.ShortFactor, c.rope/2)
			require.Len(t, rs.LongFactor, c.rope/2)
			require.Equal(t, c.short0, rs.ShortFactor[0])
			require.Equal(t, c.long0, rs.LongFactor[0])
			require.Equal(t, c.longLast, rs.LongFactor[len(rs.LongFactor)-1])
		})
	}
}

// TestPhiHFConfigErrors checks that rope scalings the engine cannot run as
// the file means are refused, naming the field.
func TestPhiHFConfigErrors(t *testing.T) {
	for _, c := range []struct {
		name, old, new, want string
	}{
		{"short factors too few", `"short_factor": [1.0, `, `"short_factor": [`, "longrope short_factor has 47 values, want 48"},
		{"negative long factor", `"long_factor": [1.0800000429153442`, `"long_factor": [-1`, "longrope long_factor[0] is -1"},
		{"unknown scaling", `"type": "longrope"`, `"type": "dynamic"`, `rope scaling type "dynamic" is not supported`},
		{"factor a string", `"short_factor": [1.0, `, `"short_factor": ["1", `, "rope_scaling"},
	} {
		t.Run(c.name, func(t *testing.T) {
			require.Equal(t, 1, strings.Count(phi35MiniConfig, c.old))
			_, err := ParseHFConfig([]byte(strings.Replace(phi35MiniConfig, c.old, c.new, 1)), "config.json")
			require.ErrorContains(t, err, c.want)
			require.ErrorContains(t, err, "config.json")
		})
	}
}

// phiTiny is a two-layer Phi-3 in GGUF layout: fused attn_qkv and ffn_up.
func phiTiny(window int, rope bool) ([]KV, []*Tensor) {
	const H, heads, kvHeads, D, F, V = 8, 2, 1, 4, 16, 16
	toks := make([]string, V)
	for i := range toks {
		toks[i] = fmt.Sprintf("t%d", i)
	}
	a := "phi3."
	kv := []KV{
		{"general.architecture", "phi3"}, {a + "context_length", uint32(256)}, {a + "embedding_length", uint32(H)},
		{a + "block_count", uint32(2)}, {a + "feed_forward_length", uint32(F)}, {a + "attention.head_count", uint32(heads)},
		{a + "attention.head_count_kv", uint32(kvHeads)}, {a + "rope.dimension_count", uint32(D)},
		{a + "rope.freq_base", float32(10000)}, {a + "attention.layer_norm_rms_epsilon", float32(1e-5)},
		{a + "attention.sliding_window", uint32(window)}, {"tokenizer.ggml.model", "llama"}, {"tokenizer.ggml.tokens", toks},
	}
	specs := []tensorSpec{{"token_embd.weight", []int{V, H}, false}, {"output_norm.weight", []int{H}, true}, {"output.weight", []int{V, H}, false}}
	for l := 0; l < 2; l++ {
		p := fmt.Sprintf("blk.%d.", l)
		specs = append(specs,
			tensorSpec{p + "attn_norm.weight", []int{H}, true},
			tensorSpec{p + "attn_qkv.weight", []int{(heads + 2*kvHeads) * D, H}, false},
			tensorSpec{p + "attn_output.weight", []int{H, heads * D}, false},
			tensorSpec{p + "ffn_norm.weight", []int{H}, true},
			tensorSpec{p + "ffn_up.weight", []int{2 * F, H}, false},
			tensorSpec{p + "ffn_down.weight", []int{H, F}, false})
	}
	if rope {
		kv = append(kv, KV{a + "rope.scaling.original_context_length", uint32(64)}, KV{a + "rope.scaling.attn_factor", float32(1.25)})
		specs = append(specs, tensorSpec{"rope_factors_long.weight", []int{D / 2}, true}, tensorSpec{"rope_factors_short.weight", []int{D / 2}, true})
	}
	var ts []*Tensor
	for k, s := range specs {
		ts = append(ts, &Tensor{Name: s.name, DType: F32, Shape: s.shape, Data: f32Data(k+1, s.shape)})
	}
	return kv, ts
}

// TestPhiSplitIsAView opens a Phi-3 GGUF and checks that q, k, v, gate and
// up are consecutive row ranges of the fused tensors in the file's mapping
// (no copy), with the fused tensors gone and their file names kept for
// errors, and that the LongRoPE tensors became the config's factors.
func TestPhiSplitIsAView(t *testing.T) {
	kv, ts := phiTiny(5, true)
	path := writeFile(t, t.TempDir(), "phi.gguf", ggufBytes(t, kv, ts))
	m, err := Open(path)
	require.NoError(t, err)
	defer m.Close()
	end := func(b []byte) unsafe.Pointer { return unsafe.Add(unsafe.Pointer(unsafe.SliceData(b)), len(b)) }
	start := func(b []byte) unsafe.Pointer { return unsafe.Pointer(unsafe.SliceData(b)) }
	for l := 0; l < 2; l++ {
		p := fmt.Sprintf("blk.%d.", l)
		require.NotContains(t, m.Tensors, p+"attn_qkv.weight")
		q, k, v := m.Tensors[p+"attn_q.weight"], m.Tensors[p+"attn_k.weight"], m.Tensors[p+"attn_v.weight"]
		require.Equal(t, []int{8, 8}, q.Shape)
		require.Equal(t, []int{4, 8}, k.Shape)
		require.Equal(t, []int{4, 8}, v.Shape)
		require.Equal(t, end(q.Data), start(k.Data))
		require.Equal(t, end(k.Data), start(v.Data))
		gate, up := m.Tensors[p+"ffn_gate.weight"], m.Tensors[p+"ffn_up.weight"]
		require.Equal(t, []int{16, 8}, gate.Shape)
		require.Equal(t, []int{16, 8}, up.Shape)
		require.Equal(t, end(gate.Data), start(up.Data))
		require.Equal(t, p+"attn_qkv.weight[8:12]", m.FileNames[p+"attn_k.weight"])
		require.Equal(t, p+"ffn_up.weight[16:32]", m.FileNames[p+"ffn_up.weight"])
		// The fused tensor's first row is q's first row: values k+i/1000 of tensor 4+6l.
		qv, err := q.Float32()
		require.NoError(t, err)
		require.Equal(t, float32(5+6*l), qv[0])
		upv, err := up.Float32()
		require.NoError(t, err)
		require.Equal(t, float32(8+6*l)+float32(16*8)/1000, upv[0])
	}
	rs := m.Config.RopeScaling
	require.Equal(t, "longrope", rs.Type)
	require.Equal(t, 64, rs.OriginalMaxPositions)
	require.Equal(t, 4.0, rs.Factor)
	require.Equal(t, 1.25, rs.AttnFactor)
	require.Equal(t, []float64{17, float64(float32(17.001))}, rs.ShortFactor)
	require.Equal(t, []float64{16, float64(float32(16.001))}, rs.LongFactor)
	require.Equal(t, 5, m.Config.SlidingWindow)
}

// TestPhiBrokenFiles checks the Phi-3 specific errors: each names the key
// or tensor.
func TestPhiBrokenFiles(t *testing.T) {
	kv, ts := phiTiny(5, true)
	drop := func(name string) []*Tensor {
		var out []*Tensor
		for _, x := range ts {
			if x.Name != name {
				out = append(out, x)
			}
		}
		return out
	}
	reshape := func(name string, shape []int) []*Tensor {
		var out []*Tensor
		for _, x := range ts {
			if x.Name == name {
				y := *x
				y.Shape, y.Data = shape, f32Data(1, shape)
				x = &y
			}
			out = append(out, x)
		}
		return out
	}
	for _, c := range []struct {
		name    string
		kv      []KV
		tensors []*Tensor
		want    string
	}{
		{"qkv rows", kv, reshape("blk.1.attn_qkv.weight", []int{15, 8}), `tensor "blk.1.attn_qkv.weight" (the fused q, k and v projection): shape [15 8], want [16 8]`},
		{"gate_up rows", kv, reshape("blk.0.ffn_up.weight", []int{30, 8}), `tensor "blk.0.ffn_up.weight" (the fused gate and up projection): shape [30 8], want [32 8]`},
		{"one rope factor tensor", kv, drop("rope_factors_long.weight"), "only one of rope_factors_short.weight and rope_factors_long.weight"},
		{"rope factors too long", kv, reshape("rope_factors_short.weight", []int{3}), `tensor "rope_factors_short.weight": shape [3], want [2]`},
		{"no sliding window", setKV(kv, "phi3.attention.sliding_window", nil), ts, `metadata key "phi3.attention.sliding_window" missing`},
		{"attn factor a string", setKV(kv, "phi3.rope.scaling.attn_factor", "1.2"), ts, `metadata key "phi3.rope.scaling.attn_factor" is not a number`},
		{"factors with yarn", setKV(kv, "phi3.rope.scaling.type", "yarn"), ts, `contradict "phi3.rope.scaling.type" = "yarn"`},
	} {
		t.Run(c.name, func(t *testing.T) {
			path := writeFile(t, t.TempDir(), "phi.gguf", ggufBytes(t, c.kv, c.tensors))
			_, err := Open(path)
			require.ErrorContains(t, err, c.want)
			require.ErrorContains(t, err, path)
		})
	}
	// A llama file with LongRoPE tensors is refused rather than run without them.
	s := tinyLlama()
	lt := append(s.ggufTensors(), &Tensor{Name: "rope_factors_long.weight", DType: F32, Shape: []int{2}, Data: f32Data(1, []int{2})},
		&Tensor{Name: "rope_factors_short.weight", DType: F32, Shape: []int{2}, Data: f32Data(1, []int{2})})
	_, err := Open(writeFile(t, t.TempDir(), "llama.gguf", ggufBytes(t, s.ggufKV(), lt)))
	require.ErrorContains(t, err, "read for phi3 models only")
}

// TestPhiGGUFWindowDefaults checks llama.cpp's sliding windows for phi3
// files written before the key existed.
func TestPhiGGUFWindowDefaults(t *testing.T) {
	for _, c := range []struct {
		layers, kv, ctx, want int
		err                   bool
	}{
		{32, 32, 4096, 2047, false},     // Phi-3-mini-4k
		{40, 10, 4096, 2047, false},     // Phi-3-medium-4k
		{32, 32, 131072, 262144, false}, // Phi-3-mini-128k
		{40, 10, 131072, 131072, false}, // Phi-3-medium-128k
		{24, 8, 4096, 0, true},
	} {
		g, err := ParseGGUF(ggufBytes(t, []KV{{"general.architecture", "phi3"}}, nil), "x.gguf")
		require.NoError(t, err)
		cfg := Config{Arch: "phi3", Layers: c.layers, KVHeads: c.kv, ContextLength: c.ctx}
		err = phiGGUF(g, &cfg)
		if c.err {
			require.ErrorContains(t, err, "phi3.attention.sliding_window")
			continue
		}
		require.NoError(t, err)
		require.Equal(t, c.want, cfg.SlidingWindow, "%+v", c)
	}
}

// TestPhiHFFusedNames checks the Hugging Face names of the fused tensors
// and that a folder holding both a fused and a split projection is refused.
func TestPhiHFFusedNames(t *testing.T) {
	for hf, want := range map[string]string{
		"model.layers.3.self_attn.qkv_proj.weight": "blk.3.attn_qkv.weight",
		"model.layers.0.mlp.gate_up_proj.weight":   "blk.0.ffn_up.weight",
		"model.layers.1.self_attn.o_proj.weight":   "blk.1.attn_output.weight",
	} {
		got, ok := canonicalFor("phi3", hf)
		require.True(t, ok, hf)
		require.Equal(t, want, got)
	}
	kv, ts := phiTiny(0, false)
	_ = kv
	var st []safetensors.Tensor
	for _, x := range ts {
		name := x.Name
		for g, h := range map[string]string{"token_embd.weight": "model.embed_tokens.weight", "output_norm.weight": "model.norm.weight", "output.weight": "lm_head.weight"} {
			if name == g {
				name = h
			}
		}
		for g, h := range map[string]string{"attn_norm": "input_layernorm", "attn_qkv": "self_attn.qkv_proj", "attn_output": "self_attn.o_proj",
			"ffn_norm": "post_attention_layernorm", "ffn_up": "mlp.gate_up_proj", "ffn_down": "mlp.down_proj"} {
			if strings.HasPrefix(name, "blk.") && strings.Contains(name, "."+g+".") {
				name = "model.layers." + strings.Split(name, ".")[1] + "." + h + ".weight"
			}
		}
		st = append(st, safetensors.Tensor{Name: name, DType: "F32", Shape: x.Shape, Data: x.Data})
	}
	cfg := map[string]any{"model_type": "phi3", "hidden_size": 8, "num_hidden_layers": 2, "num_attention_heads": 2,
		"num_key_value_heads": 1, "intermediate_size": 16, "vocab_size": 16, "max_position_embeddings": 256, "rms_norm_eps": 1e-5}
	m, err := Open(writeHFFolder(t, cfg, st))
	require.NoError(t, err)
	require.Equal(t, "model.layers.1.self_attn.qkv_proj.weight[0:8]", m.FileNames["blk.1.attn_q.weight"])
	m.Close()
	st = append(st, safetensors.Tensor{Name: "model.layers.1.self_attn.q_proj.weight", DType: "F32", Shape: []int{8, 8}, Data: f32Data(1, []int{8, 8})})
	_, err = Open(writeHFFolder(t, cfg, st))
	require.ErrorContains(t, err, `tensor "model.layers.1.self_attn.qkv_proj.weight" (the fused q, k and v projection) and tensor "model.layers.1.self_attn.q_proj.weight" are both in the file`)
}
