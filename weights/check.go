package weights

import (
	"bytes"
	"fmt"
	"regexp"
	"sort"
	"strconv"
	"strings"
)

// The tensors a model file may hold besides the ones its config asks for.
// Anything else is refused by checkUnused: a file whose config declares two
// layers but which holds three, or a llama file that carries attention
// biases, would otherwise run as a different model than the one in the file,
// without a word. llama.cpp is as strict (it refuses a file with tensors it
// did not load).
//
//   - rope_freqs.weight (GGUF): llama.cpp's precomputed llama3 rope factors;
//     the engine reads it when present.
//   - rope_factors_short.weight and rope_factors_long.weight (GGUF phi3):
//     LongRoPE's factors, read into the config (see rope.go).
//   - model.rotary_emb.inv_freq and model.layers.N.self_attn.rotary_emb.inv_freq
//     (Hugging Face, N below the layer count): the rotary inverse frequencies
//     that older transformers versions saved as a buffer; they are recomputed
//     from the config, as transformers does.
//   - lm_head.weight in a Hugging Face folder whose config ties the
//     embeddings, when it holds exactly the bytes of model.embed_tokens.weight
//     (some exports save the tied matrix twice). A different lm_head is
//     refused: transformers would silently replace it by the embedding.
//
// Vision towers, multi-token-prediction layers, mixture-of-experts routers and
// anything else are refused with their names: no supported architecture
// reads them, and a file that has them is not the model the config describes.
var hfInvFreq = regexp.MustCompile(`^model\.layers\.(\d+)\.self_attn\.rotary_emb\.inv_freq$`)

// layerOf returns the layer index in a canonical ("blk.N.") or Hugging Face
// ("model.layers.N.") tensor name, or -1.
func layerOf(name string) int {
	var rest string
	switch {
	case strings.HasPrefix(name, "blk."):
		rest = name[len("blk."):]
	case strings.HasPrefix(name, "model.layers."):
		rest = name[len("model.layers."):]
	default:
		return -1
	}
	i := strings.IndexByte(rest, '.')
	if i <= 0 {
		return -1
	}
	n, err := strconv.Atoi(rest[:i])
	if err != nil || n < 0 {
		return -1
	}
	return n
}

// layerSuffixes returns the per-layer tensor names (after "blk.N.") the
// config asks for, as checkShapes checks them.
func layerSuffixes(c Config) []string {
	s := []string{
		"attn_norm.weight", "attn_q.weight", "attn_k.weight", "attn_v.weight", "attn_output.weight",
	}
	if c.MoE != nil {
		s = append(s, moeSuffixes(c)...)
	} else {
		s = append(s, "ffn_norm.weight", "ffn_gate.weight", "ffn_up.weight", "ffn_down.weight")
	}
	if c.AttnBias {
		s = append(s, "attn_q.bias", "attn_k.bias", "attn_v.bias")
	}
	if c.QKNorm {
		s = append(s, "attn_q_norm.weight", "attn_k_norm.weight")
	}
	if c.PostNorms {
		s = append(s, postNormSuffixes...)
	}
	return s
}

// layersKey names the config field that declares the layer count, for errors.
func (m *Model) layersKey() string {
	if m.Format == "gguf" {
		return fmt.Sprintf("metadata key %q", m.Config.Arch+".block_count")
	}
	return "num_hidden_layers in config.json"
}

// fileName returns the name a tensor has in its file (the Hugging Face name
// for folders), for errors the user can match against the file.
func (m *Model) fileName(canonical string) string {
	if fn, ok := m.FileNames[canonical]; ok {
		return fn
	}
	return canonical
}

// maxNamed is how many tensor names an error lists before "and N more".
const maxNamed = 8

func nameList(names []string) string {
	if len(names) <= maxNamed {
		return strings.Join(names, ", ")
	}
	return fmt.Sprintf("%s and %d more", strings.Join(names[:maxNamed], ", "), len(names)-maxNamed)
}

// checkUnused refuses tensors the config does not account for (see the list
// above). It runs after checkShapes, so every tensor the config asks for is
// present; its cost is one pass over the tensor names.
func checkUnused(m *Model) error {
	c := m.Config
	want := map[string]bool{"token_embd.weight": true, "output_norm.weight": true}
	if !c.TiedEmbeddings {
		want["output.weight"] = true
	}
	suffixes := map[string]bool{}
	for _, s := range layerSuffixes(c) {
		suffixes[s] = true
	}
	var extraLayers, unknown []string
	maxLayer := -1
	for name, t := range m.Tensors {
		if want[name] {
			continue
		}
		fn := m.fileName(name)
		if l := layerOf(name); l >= 0 {
			if l >= c.Layers {
				extraLayers = append(extraLayers, fn)
				maxLayer = max(maxLayer, l)
				continue
			}
			if parts := strings.SplitN(name, ".", 3); parts[0] == "blk" && len(parts) == 3 && suffixes[parts[2]] {
				continue
			}
			if m.Format == "safetensors" && hfInvFreq.MatchString(name) {
				continue
			}
			unknown = append(unknown, fn)
			continue
		}
		switch {
		case ggufRopeTensor(name) && m.Format == "gguf":
			continue
		case name == "model.rotary_emb.inv_freq" && m.Format == "safetensors":
			continue
		case name == "output.weight" && c.TiedEmbeddings && m.Format == "safetensors":
			emb := m.Tensors["token_embd.weight"]
			if emb != nil && emb.DType == t.DType && bytes.Equal(emb.Data, t.Data) && len(emb.Shape) == len(t.Shape) {
				continue
			}
			return fmt.Errorf("tensor %q differs from %q but the config ties the embeddings (tie_word_embeddings: true): the file holds a separate output head the config says is not there",
				fn, m.fileName("token_embd.weight"))
		}
		unknown = append(unknown, fn)
	}
	sort.Slice(extraLayers, func(i, j int) bool { return naturalLess(extraLayers[i], extraLayers[j]) })
	sort.Slice(unknown, func(i, j int) bool { return naturalLess(unknown[i], unknown[j]) })
	if len(extraLayers) > 0 {
		return fmt.Errorf("the file holds tensors of layers up to %d but %s declares %d layers: refusing to run a truncated model (%d tensors beyond the declared layers: %s)",
			maxLayer, m.layersKey(), c.Layers, len(extraLayers), nameList(extraLayers))
	}
	if len(unknown) > 0 {
		return fmt.Errorf("%d tensors that a %s model with this config does not use: %s (the engine would ignore them and run a different model than the file holds)",
			len(unknown), c.Arch, nameList(unknown))
	}
	return nil
}

// missingLayerHint explains a missing tensor of layer l when the file holds
// no tensor of that layer at all: the config declares more layers than the
// file has.
func missingLayerHint(m *Model, l int) string {
	have := -1
	for name := range m.Tensors {
		have = max(have, layerOf(name))
	}
	if have >= l {
		return ""
	}
	return fmt.Sprintf(" (%s declares %d layers, the file holds %d)", m.layersKey(), m.Config.Layers, have+1)
}
