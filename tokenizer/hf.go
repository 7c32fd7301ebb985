package tokenizer

import (
	"encoding/json"
	"fmt"
	"os"
	"path/filepath"
	"strings"

	"github.com/valueexploration/valueexp/weights"
)

// Load opens a tokenizer from a .gguf file, a tokenizer.json file, a
// Hugging Face model folder holding tokenizer.json, or a folder holding
// neither tokenizer.json nor config.json but exactly one .gguf file (the
// model paths weights.Open accepts).
func Load(path string) (*Tokenizer, error) {
	st, err := os.Stat(path)
	if err != nil {
		return nil, fmt.Errorf("tokenizer: %w", err)
	}
	if st.IsDir() && !exists(filepath.Join(path, "tokenizer.json")) && !exists(filepath.Join(path, "config.json")) {
		g, err := weights.GGUFInFolder(path)
		if err != nil {
			return nil, fmt.Errorf("tokenizer: %w", err)
		}
		if g != "" {
			path, st = g, nil
		}
	}
	if (st != nil && st.IsDir()) || strings.HasSuffix(strings.ToLower(path), ".json") {
		return FromHF(path)
	}
	if strings.HasSuffix(strings.ToLower(path), ".gguf") {
		g, err := weights.OpenGGUF(path)
		if err != nil {
			return nil, fmt.Errorf("tokenizer: %w", err)
		}
		defer g.Close()
		return FromGGUF(g)
	}
	return nil, fmt.Errorf("tokenizer: %s: not a .gguf file, a .json file or a folder", path)
}

func exists(path string) bool {
	_, err := os.Stat(path)
	return err == nil
}

// Hugging Face tokenizer.json, only the parts this package uses.
type hfFile struct {
	AddedTokens []hfAddedToken  `json:"added_tokens"`
	Normalizer  json.RawMessage `json:"normalizer"`
	PreTok      json.RawMessage `json:"pre_tokenizer"`
	PostProc    json.RawMessage `json:"post_processor"`
	Decoder     json.RawMessage `json:"decoder"`
	Model       struct {
		Type         string           `json:"type"`
		Vocab        map[string]int32 `json:"vocab"`
		Merges       json.RawMessage  `json:"merges"`
		UnkToken     *string          `json:"unk_token"`
		ByteFallback bool             `json:"byte_fallback"`
		FuseUnk      bool             `json:"fuse_unk"`
		IgnoreMerges bool             `json:"ignore_merges"`
		ContSubword  *string          `json:"continuing_subword_prefix"`
		EndOfWord    *string          `json:"end_of_word_suffix"`
	} `json:"model"`
}

type hfAddedToken struct {
	ID      int32  `json:"id"`
	Content string `json:"content"`
	Special bool   `json:"special"`
	LStrip  bool   `json:"lstrip"`
	RStrip  bool   `json:"rstrip"`
}

// hfComponent is any normalizer, pre-tokenizer, post-processor or decoder.
type hfComponent struct {
	Type          string            `json:"type"`
	Normalizers   []json.RawMessage `json:"normalizers"`
	Pretokenizers []json.RawMessage `json:"pretokenizers"`
	Processors    []json.RawMessage `json:"processors"`
	Prepend       string            `json:"prepend"`
	Pattern       struct {
		String *string `json:"String"`
		Regex  *string `json:"Regex"`
	} `json:"pattern"`
	Content       string `json:"content"`
	Behavior      string `json:"behavior"`
	Invert        bool   `json:"invert"`
	UseRegex      *bool  `json:"use_regex"`
	AddPrefix     bool   `json:"add_prefix_space"`
	Replacement   string `json:"replacement"`
	PrependScheme string `json:"prepend_scheme"`
	Split         *bool  `json:"split"`
	Single        []struct {
		SpecialToken *struct {
			ID string `json:"id"`
		} `json:"SpecialToken"`
		Sequence *struct {
			ID string `json:"id"`
		} `json:"Sequence"`
	} `json:"single"`
	SpecialTokens map[string]struct {
		IDs []int32 `json:"ids"`
	} `json:"special_tokens"`
}

// Split patterns of the pre-tokenizers this package codes by hand.
const (
	patternQwen2  = `(?i:'s|'t|'re|'ve|'m|'ll|'d)|[^\r\n\p{L}\p{N}]?\p{L}+|\p{N}| ?[^\s\p{L}\p{N}]+[\r\n]*|\s*[\r\n]+|\s+(?!\S)|\s+`
	patternLlama3 = `(?i:'s|'t|'re|'ve|'m|'ll|'d)|[^\r\n\p{L}\p{N}]?\p{L}+|\p{N}{1,3}| ?[^\s\p{L}\p{N}]+[\r\n]*|\s*[\r\n]+|\s+(?!\S)|\s+`
	patternGPT2   = `'s|'t|'re|'ve|'m|'ll|'d| ?\p{L}+| ?\p{N}+| ?[^\s\p{L}\p{N}]+|\s+(?!\S)|\s+`
)

// FromHF builds a tokenizer from a Hugging Face tokenizer.json (a path to the
// file or to its folder). A tokenizer_config.json beside it supplies the chat
// template (plain or named), the BOS/EOS tokens and the add_bos/add_eos
// settings; a chat_template.jinja beside it replaces the chat template.
func FromHF(path string) (*Tokenizer, error) {
	file := path
	if st, err := os.Stat(path); err == nil && st.IsDir() {
		file = filepath.Join(path, "tokenizer.json")
	}
	b, err := os.ReadFile(file)
	if err != nil {
		return nil, fmt.Errorf("tokenizer: %w", err)
	}
	var cfg []byte
	if c, err := os.ReadFile(filepath.Join(filepath.Dir(file), "tokenizer_config.json")); err == nil {
		cfg = c
	}
	t, err := ParseHF(b, cfg)
	if err != nil {
		return nil, fmt.Errorf("tokenizer: %s: %w", file, err)
	}
	// Newer models keep the template in chat_template.jinja, which
	// transformers prefers to the one in tokenizer_config.json.
	if j, err := os.ReadFile(filepath.Join(filepath.Dir(file), "chat_template.jinja")); err == nil {
		t.chatTemplate = string(j)
	} else if !os.IsNotExist(err) {
		return nil, fmt.Errorf("tokenizer: %w", err)
	}
	return t, nil
}

// maxVocab bounds token ids in both readers; no real vocabulary comes near.
const maxVocab = 1 << 24

// maxComponentDepth bounds the nesting of Sequence normalizers and
// pre-tokenizers: each level is decoded again from its raw JSON, so deep
// nesting would cost time quadratic in the file.
const maxComponentDepth = 8

// maxPreRules bounds the split rules a pre-tokenizer Sequence may list
// (Encode's time is proportional to their number).
const maxPreRules = 16

// ParseHF builds a tokenizer from the bytes of tokenizer.json and, optionally
// (nil), tokenizer_config.json.
//
// Memory is bounded by the input: every table is sized by the number of
// entries the file declares (ids may leave gaps of at most that many plus
// 1024), so one call allocates at most about 64 bytes per byte of
// tokenizerJSON plus 16 MiB (TestParseHFAdversarial). Nesting of Sequence
// components is limited to 8 levels and JSON nesting to encoding/json's
// 10000.
func ParseHF(tokenizerJSON, configJSON []byte) (*Tokenizer, error) {
	var f hfFile
	if err := json.Unmarshal(tokenizerJSON, &f); err != nil {
		return nil, fmt.Errorf("tokenizer.json: %w", err)
	}
	if f.Model.Type != "BPE" {
		return nil, fmt.Errorf("tokenizer.json: model type %q is not supported (only BPE)", f.Model.Type)
	}
	if (f.Model.ContSubword != nil && *f.Model.ContSubword != "") || (f.Model.EndOfWord != nil && *f.Model.EndOfWord != "") {
		return nil, fmt.Errorf("tokenizer.json: BPE subword prefixes/suffixes are not supported")
	}
	// Ids are checked before anything is sized by them: the largest id
	// sizes every table, so it must be justified by the entries declared
	// (gaps of at most as many ids as there are entries, plus 1024).
	n := int64(0)
	for s, id := range f.Model.Vocab {
		if id < 0 || id >= maxVocab {
			return nil, fmt.Errorf("tokenizer.json: model.vocab %q: id %d outside [0, %d)", s, id, maxVocab)
		}
		n = max(n, int64(id)+1)
	}
	for _, a := range f.AddedTokens {
		if a.ID < 0 || a.ID >= maxVocab {
			return nil, fmt.Errorf("tokenizer.json: added token %q: id %d outside [0, %d)", a.Content, a.ID, maxVocab)
		}
		n = max(n, int64(a.ID)+1)
	}
	if entries := int64(len(f.Model.Vocab) + len(f.AddedTokens)); n > 2*entries+1024 {
		return nil, fmt.Errorf("tokenizer.json: largest token id %d but only %d vocabulary entries: ids this sparse are not a vocabulary", n-1, entries)
	}
	t := &Tokenizer{
		kind:   KindBPE,
		tokens: make([]string, n),
		scores: make([]float32, n),
		attrs:  make([]tokenAttr, n),
		ids:    make(map[string]int32, n),
		bos:    -1, eos: -1, unk: -1, sep: -1, pad: -1,
		byteFallback: f.Model.ByteFallback,
		fuseUnk:      f.Model.FuseUnk,
		ignoreMerges: f.Model.IgnoreMerges,
	}
	for s, id := range f.Model.Vocab {
		if t.tokens[id] != "" {
			return nil, fmt.Errorf("tokenizer.json: id %d used by %q and %q", id, t.tokens[id], s)
		}
		t.tokens[id] = s
		t.ids[s] = id
		t.attrs[id] = attrNormal
		if f.Model.ByteFallback && len(s) == 6 && strings.HasPrefix(s, "<0x") && s[5] == '>' {
			t.attrs[id] = attrByte
		}
	}
	for _, a := range f.AddedTokens {
		if old := t.tokens[a.ID]; old != "" && old != a.Content {
			return nil, fmt.Errorf("tokenizer.json: added token %q: id %d already holds %q", a.Content, a.ID, old)
		}
		t.tokens[a.ID] = a.Content
		t.ids[a.Content] = a.ID
		t.attrs[a.ID] = attrUserDefined
		if a.Special {
			t.attrs[a.ID] = attrControl
		}
		if a.LStrip {
			t.attrs[a.ID] |= attrLStrip
		}
		if a.RStrip {
			t.attrs[a.ID] |= attrRStrip
		}
	}
	for i, s := range t.tokens {
		if s == "" {
			t.tokens[i] = fmt.Sprintf("[EMPTY_%d]", i)
			t.attrs[i] = attrUnused
		}
	}
	if f.Model.UnkToken != nil {
		if id, ok := t.ids[*f.Model.UnkToken]; ok {
			t.unk = id
		}
	}
	merges, err := parseHFMerges(f.Model.Merges)
	if err != nil {
		return nil, err
	}
	t.merges = make(map[uint64]uint64, len(merges))
	for rank, m := range merges {
		t.addMerge(rank, m[0], m[1])
	}

	if err := t.hfNormalizer(f.Normalizer, 0); err != nil {
		return nil, err
	}
	if err := t.hfPreTokenizer(f.PreTok, 0); err != nil {
		return nil, err
	}
	if err := t.hfPostProcessor(f.PostProc); err != nil {
		return nil, err
	}
	if err := t.hfDecoder(f.Decoder); err != nil {
		return nil, err
	}
	if err := t.hfConfig(configJSON); err != nil {
		return nil, err
	}
	t.setEOG()
	t.finish()
	return t, nil
}

// parseHFMerges accepts both merge encodings: "a b" strings and [a, b] pairs.
func parseHFMerges(raw json.RawMessage) ([][2]string, error) {
	if len(raw) == 0 || string(raw) == "null" {
		return nil, nil
	}
	var pairs [][2]string
	if err := json.Unmarshal(raw, &pairs); err == nil {
		return pairs, nil
	}
	var strs []string
	if err := json.Unmarshal(raw, &strs); err != nil {
		return nil, fmt.Errorf("tokenizer.json: model.merges: %w", err)
	}
	pairs = make([][2]string, 0, len(strs))
	for i, s := range strs {
		k := strings.IndexByte(s[min(1, len(s)):], ' ')
		if k < 0 {
			return nil, fmt.Errorf("tokenizer.json: merge %d %q: no space separator", i, s)
		}
		k += min(1, len(s))
		pairs = append(pairs, [2]string{s[:k], s[k+1:]})
	}
	return pairs, nil
}

func parseComponent(raw json.RawMessage) (*hfComponent, error) {
	if len(raw) == 0 || string(raw) == "null" {
		return nil, nil
	}
	var c hfComponent
	if err := json.Unmarshal(raw, &c); err != nil {
		return nil, err
	}
	return &c, nil
}

func (t *Tokenizer) hfNormalizer(raw json.RawMessage, depth int) error {
	if depth > maxComponentDepth {
		return fmt.Errorf("tokenizer.json: normalizer Sequence nested deeper than %d", maxComponentDepth)
	}
	c, err := parseComponent(raw)
	if err != nil || c == nil {
		return wrapErr("normalizer", err)
	}
	switch c.Type {
	case "NFC":
		t.nfc = true
	case "Sequence":
		for _, sub := range c.Normalizers {
			if err := t.hfNormalizer(sub, depth+1); err != nil {
				return err
			}
		}
	case "Prepend":
		if c.Prepend != "▁" {
			return fmt.Errorf("tokenizer.json: normalizer Prepend %q is not supported", c.Prepend)
		}
		t.addSpacePrefix = true
		t.stripLeadingSpace = true
	case "Replace":
		if c.Pattern.String == nil || *c.Pattern.String != " " || c.Content != "▁" {
			return fmt.Errorf("tokenizer.json: normalizer Replace other than ' ' -> '▁' is not supported")
		}
		t.spaceMarker = true
	default:
		return fmt.Errorf("tokenizer.json: normalizer %q is not supported", c.Type)
	}
	return nil
}

func (t *Tokenizer) hfPreTokenizer(raw json.RawMessage, depth int) error {
	if depth > maxComponentDepth {
		return fmt.Errorf("tokenizer.json: pre_tokenizer Sequence nested deeper than %d", maxComponentDepth)
	}
	if len(t.pre) > maxPreRules {
		return fmt.Errorf("tokenizer.json: more than %d pre-tokenizer split rules", maxPreRules)
	}
	c, err := parseComponent(raw)
	if err != nil || c == nil {
		return wrapErr("pre_tokenizer", err)
	}
	switch c.Type {
	case "Sequence":
		for _, sub := range c.Pretokenizers {
			if err := t.hfPreTokenizer(sub, depth+1); err != nil {
				return err
			}
		}
	case "Split":
		if s := c.Pattern.String; s != nil && *s == " " && !c.Invert && t.spaceMarker {
			// Gemma 3: its normalizer has already replaced every space
			// by '▁', so a split at spaces finds none and the text stays
			// one word, whatever the behavior.
			return nil
		}
		if c.Pattern.Regex == nil || c.Behavior != "Isolated" || c.Invert {
			return fmt.Errorf("tokenizer.json: Split pre-tokenizer must be an isolated regex")
		}
		switch *c.Pattern.Regex {
		case patternQwen2:
			t.pre = append(t.pre, isolate(modernMatch(1)))
		case patternLlama3:
			t.pre = append(t.pre, isolate(modernMatch(3)))
		case patternGPT2:
			t.pre = append(t.pre, isolate(gpt2Match))
		default:
			return fmt.Errorf("tokenizer.json: Split pattern %q is not supported", *c.Pattern.Regex)
		}
	case "ByteLevel":
		if c.AddPrefix {
			return fmt.Errorf("tokenizer.json: ByteLevel add_prefix_space is not supported")
		}
		t.byteLevel = true
		if c.UseRegex == nil || *c.UseRegex {
			t.pre = append(t.pre, isolate(gpt2Match))
		}
	case "Metaspace":
		if c.Replacement != "▁" || (c.Split != nil && *c.Split) {
			return fmt.Errorf("tokenizer.json: Metaspace with replacement %q/split is not supported", c.Replacement)
		}
		t.spaceMarker = true
		t.addSpacePrefix = c.PrependScheme != "never"
		t.stripLeadingSpace = t.addSpacePrefix
	default:
		return fmt.Errorf("tokenizer.json: pre_tokenizer %q is not supported", c.Type)
	}
	return nil
}

func (t *Tokenizer) hfPostProcessor(raw json.RawMessage) error {
	c, err := parseComponent(raw)
	if err != nil || c == nil {
		return wrapErr("post_processor", err)
	}
	switch c.Type {
	case "ByteLevel":
	case "Sequence":
		for _, sub := range c.Processors {
			if err := t.hfPostProcessor(sub); err != nil {
				return err
			}
		}
	case "TemplateProcessing":
		seenSeq := false
		for _, it := range c.Single {
			switch {
			case it.Sequence != nil:
				seenSeq = true
			case it.SpecialToken != nil:
				st, ok := c.SpecialTokens[it.SpecialToken.ID]
				if !ok {
					return fmt.Errorf("tokenizer.json: post_processor: unknown special token %q", it.SpecialToken.ID)
				}
				if seenSeq {
					t.suffix = append(t.suffix, st.IDs...)
				} else {
					t.prefix = append(t.prefix, st.IDs...)
				}
			}
		}
	default:
		return fmt.Errorf("tokenizer.json: post_processor %q is not supported", c.Type)
	}
	return nil
}

func (t *Tokenizer) hfDecoder(raw json.RawMessage) error {
	// Decoding follows from the model's encoding settings (byte-level or
	// '▁' with byte fallback); the decoder is only checked for consistency.
	c, err := parseComponent(raw)
	if err != nil || c == nil {
		return wrapErr("decoder", err)
	}
	switch c.Type {
	case "ByteLevel", "Sequence", "Metaspace", "Replace", "ByteFallback", "Fuse", "Strip":
		return nil
	}
	return fmt.Errorf("tokenizer.json: decoder %q is not supported", c.Type)
}

func wrapErr(what string, err error) error {
	if err != nil {
		return fmt.Errorf("tokenizer.json: %s: %w", what, err)
	}
	return nil
}

// hfConfig applies tokenizer_config.json: special tokens, add_bos/add_eos and
// the chat template.
func (t *Tokenizer) hfConfig(raw []byte) error {
	if len(raw) == 0 {
		return nil
	}
	var c map[string]json.RawMessage
	if err := json.Unmarshal(raw, &c); err != nil {
		return fmt.Errorf("tokenizer_config.json: %w", err)
	}
	tokenOf := func(key string) int32 {
		v, ok := c[key]
		if !ok {
			return -1
		}
		var s string
		if json.Unmarshal(v, &s) != nil {
			var obj struct {
				Content string `json:"content"`
			}
			if json.Unmarshal(v, &obj) != nil {
				return -1
			}
			s = obj.Content
		}
		if id, ok := t.ids[s]; ok {
			return id
		}
		return -1
	}
	t.bos = tokenOf("bos_token")
	t.eos = tokenOf("eos_token")
	if id := tokenOf("unk_token"); id >= 0 {
		t.unk = id
	}
	t.pad = tokenOf("pad_token")
	boolOf := func(key string) (bool, bool) {
		var b bool
		v, ok := c[key]
		if !ok || json.Unmarshal(v, &b) != nil {
			return false, false
		}
		return b, true
	}
	// The post-processor already says what to add; add_bos_token/add_eos_token
	// only fill in when it does not mention the token.
	if v, ok := boolOf("add_bos_token"); ok && v && t.bos >= 0 && !containsID(t.prefix, t.bos) {
		t.prefix = append([]int32{t.bos}, t.prefix...)
	}
	if v, ok := boolOf("add_eos_token"); ok && v && t.eos >= 0 && !containsID(t.suffix, t.eos) {
		t.suffix = append(t.suffix, t.eos)
	}
	// The special tokens' text as the template sees it, even where the
	// text is not a vocabulary entry of its own.
	t.chat.special = map[string]string{}
	for _, key := range []string{"bos_token", "eos_token", "unk_token", "pad_token"} {
		var s string
		if v, ok := c[key]; ok && json.Unmarshal(v, &s) != nil {
			var obj struct {
				Content string `json:"content"`
			}
			if json.Unmarshal(v, &obj) == nil {
				s = obj.Content
			}
		}
		if s != "" {
			t.chat.special[key] = s
		}
	}
	if v, ok := c["chat_template"]; ok {
		var s string
		if json.Unmarshal(v, &s) == nil {
			t.chatTemplate = s
		} else {
			// transformers' list of named templates: "default" is the
			// template, the others ("tool_use", "rag") are chosen by name.
			var named []struct {
				Name     string `json:"name"`
				Template string `json:"template"`
			}
			if err := json.Unmarshal(v, &named); err != nil {
				return fmt.Errorf("tokenizer_config.json: chat_template is neither a string nor a list of {name, template}: %w", err)
			}
			t.chat.named = map[string]string{}
			for _, n := range named {
				t.chat.named[n.Name] = n.Template
				if n.Name == "default" {
					t.chatTemplate = n.Template
				}
			}
		}
	}
	return nil
}

func containsID(s []int32, id int32) bool {
	for _, x := range s {
		if x == id {
			return true
		}
	}
	return false
}
