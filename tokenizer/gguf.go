package tokenizer

import (
	"fmt"
	"strings"

	"github.com/valueexploration/valueexp/weights"
)

// FromGGUF builds the tokenizer described by a GGUF file's tokenizer.ggml.*
// metadata, with llama.cpp's defaults for keys the file leaves out.
//
// Memory is bounded by the metadata, which the GGUF reader has already
// bounded by the file: the tables are sized by the token and merge arrays
// (at most 1<<24 tokens), about 200 bytes per token and 60 per merge
// (TestFromGGUFAdversarial); ids read from keys are checked against the
// token count and used only when inside it.
func FromGGUF(g *weights.GGUF) (*Tokenizer, error) {
	if g == nil {
		return nil, fmt.Errorf("tokenizer: FromGGUF: nil *weights.GGUF")
	}
	tk, err := fromGGUF(g)
	if err != nil {
		return nil, fmt.Errorf("tokenizer: gguf %s: %w", g.Path, err)
	}
	return tk, nil
}

func fromGGUF(g *weights.GGUF) (*Tokenizer, error) {
	model, ok := g.String("tokenizer.ggml.model")
	if !ok {
		return nil, fmt.Errorf("missing key tokenizer.ggml.model")
	}
	tokens, ok := g.Strings("tokenizer.ggml.tokens")
	if !ok || len(tokens) == 0 {
		return nil, fmt.Errorf("missing or empty key tokenizer.ggml.tokens")
	}
	if len(tokens) > maxVocab {
		return nil, fmt.Errorf("key tokenizer.ggml.tokens: %d tokens, more than the %d any vocabulary needs", len(tokens), maxVocab)
	}
	// Empty entries are renamed below: work on a copy, not on the
	// caller's metadata.
	tokens = append([]string(nil), tokens...)
	t := &Tokenizer{
		tokens: tokens,
		scores: make([]float32, len(tokens)),
		attrs:  make([]tokenAttr, len(tokens)),
		ids:    make(map[string]int32, len(tokens)),
		bos:    -1, eos: -1, unk: -1, sep: -1, pad: -1,
	}
	if v, _ := g.Get("tokenizer.ggml.scores"); v != nil {
		switch s := v.(type) {
		case []float32:
			if len(s) < len(tokens) {
				return nil, fmt.Errorf("key tokenizer.ggml.scores: %d scores for %d tokens", len(s), len(tokens))
			}
			copy(t.scores, s)
		case []int32:
			if len(s) < len(tokens) {
				return nil, fmt.Errorf("key tokenizer.ggml.scores: %d scores for %d tokens", len(s), len(tokens))
			}
			for i := range t.scores {
				t.scores[i] = float32(s[i])
			}
		default:
			return nil, fmt.Errorf("key tokenizer.ggml.scores: unexpected type %T", v)
		}
	}
	types, hasTypes := g.Int32s("tokenizer.ggml.token_type")
	if hasTypes && len(types) < len(tokens) {
		return nil, fmt.Errorf("key tokenizer.ggml.token_type: %d types for %d tokens", len(types), len(tokens))
	}
	for i, s := range tokens {
		if s == "" {
			s = fmt.Sprintf("[EMPTY_%d]", i)
			tokens[i] = s
		}
		if _, dup := t.ids[s]; dup {
			return nil, fmt.Errorf("duplicate token %q at ids %d and %d", s, t.ids[s], i)
		}
		t.ids[s] = int32(i)
		t.attrs[i] = attrNormal
		if hasTypes {
			t.attrs[i] = attrFromType(types[i])
		}
	}

	pre, _ := g.String("tokenizer.ggml.pre")
	switch model {
	case "llama":
		t.kind = KindSPM
		t.bos, t.eos, t.unk = 1, 2, 0
		t.addSpacePrefix, t.spaceMarker, t.addBOS = true, true, true
		t.stripLeadingSpace = true
	case "gpt2":
		t.kind = KindBPE
		t.byteLevel = true
		t.bos, t.eos = 11, 11
		merges, ok := g.Strings("tokenizer.ggml.merges")
		if !ok {
			return nil, fmt.Errorf("missing key tokenizer.ggml.merges")
		}
		if err := t.setMerges(merges); err != nil {
			return nil, err
		}
		rules, ignore, err := preTokenizer(pre)
		if err != nil {
			return nil, fmt.Errorf("key tokenizer.ggml.pre: %w", err)
		}
		t.pre, t.ignoreMerges = rules, ignore
		if pre == "chatglm-bpe" {
			// llama.cpp clears GLM-4's BOS (gpt2's default 11 is some
			// ordinary token there); only a bos_token_id key sets one.
			t.bos = -1
		}
		switch pre {
		case "llama3", "llama-v3", "llama-bpe", "falcon3", "pixtral":
			t.addBOS = true
		case "jina-v1-en", "jina-v2-code", "roberta-bpe":
			t.addSEP = true
		}
	case "bert":
		t.kind = KindWPM
		t.bos, t.unk, t.sep, t.pad = 101, 100, 102, 0
		t.addBOS, t.addSEP = true, true
		t.lowercase, t.stripAccents = true, true
	default:
		return nil, fmt.Errorf("key tokenizer.ggml.model: unsupported tokenizer %q", model)
	}
	if v, ok := g.Bool("tokenizer.ggml.add_space_prefix"); ok && t.kind == KindSPM {
		t.addSpacePrefix = v
		t.stripLeadingSpace = v
	}

	n := int64(len(tokens))
	for _, k := range []struct {
		key string
		dst *int32
	}{
		{"tokenizer.ggml.bos_token_id", &t.bos},
		{"tokenizer.ggml.eos_token_id", &t.eos},
		{"tokenizer.ggml.unknown_token_id", &t.unk},
		{"tokenizer.ggml.seperator_token_id", &t.sep},
		{"tokenizer.ggml.padding_token_id", &t.pad},
	} {
		if *k.dst >= int32(n) {
			*k.dst = -1
		}
		if v, ok := g.Int(k.key); ok && v >= 0 && v < n {
			*k.dst = int32(v)
		}
	}
	if t.kind == KindWPM {
		if v, ok := g.Int("tokenizer.ggml.cls_token_id"); ok && v >= 0 && v < n {
			t.bos = int32(v)
		}
	}
	if v, ok := g.Bool("tokenizer.ggml.add_bos_token"); ok {
		t.addBOS = v
	}
	if v, ok := g.Bool("tokenizer.ggml.add_eos_token"); ok {
		t.addEOS = v
	}
	if v, ok := g.Bool("tokenizer.ggml.add_sep_token"); ok {
		t.addSEP = v
	}
	if t.kind == KindWPM {
		if v, ok := g.Bool("tokenizer.ggml.normalizer.lowercase"); ok {
			t.lowercase, t.stripAccents = v, v
		}
	}

	var extra []int32
	for _, key := range []string{"tokenizer.ggml.eot_token_id", "tokenizer.ggml.eom_token_id"} {
		if v, ok := g.Int(key); ok && v >= 0 && v < n {
			extra = append(extra, int32(v))
			t.attrs[v] |= attrControl
		}
	}
	t.setEOG(extra...)

	// llama.cpp sets strip attributes by model name; only Phi-3's matter here.
	name, _ := g.String("general.name")
	name = strings.ToLower(name)
	t.finish()
	if strings.Contains(name, "phi-3") || strings.Contains(name, "phi3") {
		for _, id := range t.specials {
			t.attrs[id] |= attrRStrip
		}
		if id, ok := t.ids["</s>"]; ok {
			t.attrs[id] |= attrRStrip
		}
		for _, s := range []string{"<unk>", "<s>", "<|endoftext|>"} {
			if id, ok := t.ids[s]; ok {
				t.attrs[id] &^= attrRStrip
			}
		}
	}

	if t.addBOS {
		if t.bos < 0 {
			return nil, fmt.Errorf("add_bos_token is set but the vocabulary has no BOS token")
		}
		t.prefix = []int32{t.bos}
	}
	if t.addEOS && t.eos >= 0 {
		t.suffix = append(t.suffix, t.eos)
	}
	if t.addSEP && t.sep >= 0 {
		t.suffix = append(t.suffix, t.sep)
	}
	t.ggufChatTemplates(g)
	return t, nil
}

// setMerges reads "left right" merge rules in rank order.
func (t *Tokenizer) setMerges(merges []string) error {
	t.merges = make(map[uint64]uint64, len(merges))
	for rank, m := range merges {
		// The separator is the first space after the first byte, so that a
		// left part that is itself a space still parses.
		k := strings.IndexByte(m[min(1, len(m)):], ' ')
		if k < 0 {
			return fmt.Errorf("merge %d %q: no space separator", rank, m)
		}
		k += min(1, len(m))
		t.addMerge(rank, m[:k], m[k+1:])
	}
	return nil
}

func (t *Tokenizer) addMerge(rank int, left, right string) {
	a, ok1 := t.ids[left]
	b, ok2 := t.ids[right]
	c, ok3 := t.ids[left+right]
	if !ok1 || !ok2 || !ok3 {
		return
	}
	key := mergeKey(a, b)
	if _, dup := t.merges[key]; dup {
		return // the first (lowest) rank wins
	}
	t.merges[key] = uint64(rank)<<32 | uint64(uint32(c))
}
