// Package tokenizer turns text into token ids and back exactly as the model's
// own tokenizer does (llama.cpp for GGUF files, Hugging Face tokenizers for
// tokenizer.json), and renders chat prompts with the model's chat template.
//
// Three algorithms are implemented: SentencePiece-style BPE driven by token
// scores (GGUF "llama" vocabularies: llama 2, mistral, gemma, phi-3), merge-rank
// BPE (GGUF "gpt2" vocabularies and tokenizer.json "BPE" models, byte-level or
// with SentencePiece byte fallback) with each family's pre-tokenizer split
// rules, and WordPiece (GGUF "bert"). Special and added tokens are matched
// before any of them run and are never split.
package tokenizer

import (
	"sort"
	"strings"
	"sync"
)

// Kind names the tokenization algorithm of a vocabulary.
type Kind int

// The algorithms this package implements.
const (
	// KindSPM is SentencePiece BPE driven by token scores (GGUF model "llama").
	KindSPM Kind = iota + 1
	// KindBPE is BPE driven by merge ranks (GGUF model "gpt2", tokenizer.json BPE).
	KindBPE
	// KindWPM is WordPiece (GGUF model "bert").
	KindWPM
)

// String returns the short name of the algorithm.
func (k Kind) String() string {
	switch k {
	case KindSPM:
		return "spm"
	case KindBPE:
		return "bpe"
	case KindWPM:
		return "wpm"
	}
	return "unknown"
}

// tokenAttr mirrors llama.cpp's token attributes; a token may carry several.
type tokenAttr uint16

const (
	attrUndefined   tokenAttr = 0
	attrUnknown     tokenAttr = 1 << 0
	attrUnused      tokenAttr = 1 << 1
	attrNormal      tokenAttr = 1 << 2
	attrControl     tokenAttr = 1 << 3
	attrUserDefined tokenAttr = 1 << 4
	attrByte        tokenAttr = 1 << 5
	attrLStrip      tokenAttr = 1 << 7
	attrRStrip      tokenAttr = 1 << 8
)

// GGUF token types (tokenizer.ggml.token_type values).
const (
	typeNormal      = 1
	typeUnknown     = 2
	typeControl     = 3
	typeUserDefined = 4
	typeUnused      = 5
	typeByte        = 6
)

func attrFromType(t int32) tokenAttr {
	switch t {
	case typeNormal:
		return attrNormal
	case typeUnknown:
		return attrUnknown
	case typeControl:
		return attrControl
	case typeUserDefined:
		return attrUserDefined
	case typeUnused:
		return attrUnused
	case typeByte:
		return attrByte
	}
	return attrUndefined
}

// EncodeOptions controls what Encode adds and recognises.
type EncodeOptions struct {
	// AddSpecial adds the tokens the model's settings ask for around a text
	// (BOS for llama-family vocabularies, CLS/SEP for BERT, a template's
	// prefix and suffix for tokenizer.json).
	AddSpecial bool
	// ParseSpecial lets control tokens written in the text ("<|im_start|>",
	// "<s>") become their ids. Leave it off for untrusted text: off, such
	// strings are tokenized as ordinary characters. User-defined (added,
	// non-special) tokens are matched either way, as in llama.cpp and
	// Hugging Face tokenizers.
	ParseSpecial bool
}

// Message is one turn of a conversation for RenderChat.
type Message struct {
	Role    string // "system", "user", "assistant", or any role the template knows ("tool")
	Content string
}

// Tokenizer converts between text and token ids. It is safe for concurrent
// use; the only mutable state is an internal cache of tokenized words.
type Tokenizer struct {
	kind   Kind
	tokens []string
	scores []float32
	attrs  []tokenAttr
	ids    map[string]int32

	// merges maps a pair of token ids to its rank (high 32 bits) and the id of
	// the merged token (low 32 bits); KindBPE only.
	merges map[uint64]uint64

	// pre splits normalized text into words before BPE (KindBPE).
	pre []splitFunc
	// byteLevel marks GPT-2 style vocabularies whose tokens spell bytes with
	// printable stand-in characters.
	byteLevel bool
	// byteFallback spells characters missing from the vocabulary as <0xNN> tokens.
	byteFallback bool
	// fuseUnk merges consecutive unknown tokens into one (tokenizer.json).
	fuseUnk bool
	// ignoreMerges looks up a whole pre-tokenized word before merging (llama 3).
	ignoreMerges bool
	// addSpacePrefix puts a space before each text fragment (SentencePiece
	// add_dummy_prefix); spaceMarker replaces spaces with '▁'.
	addSpacePrefix bool
	spaceMarker    bool
	// nfc normalizes each text fragment to Unicode NFC first (tokenizer.json).
	nfc bool
	// lowercase and stripAccents configure the BERT normalizer (KindWPM).
	lowercase    bool
	stripAccents bool
	maxTokenLen  int

	bos, eos, unk, sep, pad int32
	addBOS, addEOS, addSEP  bool
	// prefix and suffix are added around the text when AddSpecial is set.
	prefix, suffix []int32
	eog            []int32
	byteTok        [256]int32 // id of <0xNN> (or -1)
	// specials lists tokens matched before tokenization, longest first.
	specials []int32

	chatTemplate string
	chat         chatState
	// stripLeadingSpace makes Decode drop the space that addSpacePrefix (or a
	// Prepend normalizer) put in front of the text.
	stripLeadingSpace bool

	// newlineBarrier is set when no vocabulary entry longer than one byte
	// contains a newline (see forEachLine).
	newlineBarrier bool
	// pieces holds the decoded bytes of every token (see piece).
	pieces []string

	// pairs holds the byte pairs that occur inside vocabulary entries, and
	// maxChunk the longest piece merged at once (see defaultMaxChunk; 0
	// means the default, tests set it lower).
	pairs    *bytePairs
	maxChunk int

	cacheMu sync.RWMutex
	cache   map[string][]int32
}

const maxCacheEntries = 1 << 16

// Kind reports the tokenization algorithm.
func (t *Tokenizer) Kind() Kind { return t.kind }

// VocabSize returns the number of tokens in the vocabulary.
func (t *Tokenizer) VocabSize() int { return len(t.tokens) }

// BOS returns the beginning-of-sequence id, or -1 when the vocabulary has none.
func (t *Tokenizer) BOS() int32 { return t.bos }

// EOS returns every id that ends generation: the end-of-sequence token first,
// then end-of-turn tokens such as <|im_end|> or <|eot_id|>.
func (t *Tokenizer) EOS() []int32 { return append([]int32(nil), t.eog...) }

// IsEOS reports whether id ends generation.
func (t *Tokenizer) IsEOS(id int32) bool {
	for _, e := range t.eog {
		if e == id {
			return true
		}
	}
	return false
}

// AddsBOS reports whether Encode with AddSpecial puts a BOS token first.
func (t *Tokenizer) AddsBOS() bool { return len(t.prefix) > 0 && t.prefix[0] == t.bos && t.bos >= 0 }

// ChatTemplate returns the model's Jinja chat template, or "" if it has none.
func (t *Tokenizer) ChatTemplate() string { return t.chatTemplate }

// TokenString returns the vocabulary entry of id as stored ("▁the", "Ġthe",
// "<0x0A>", "<|im_end|>"), or "" for an id outside the vocabulary.
func (t *Tokenizer) TokenString(id int32) string {
	if id < 0 || int(id) >= len(t.tokens) {
		return ""
	}
	return t.tokens[id]
}

// TokenID returns the id of a vocabulary entry spelled exactly as stored.
func (t *Tokenizer) TokenID(s string) (int32, bool) {
	id, ok := t.ids[s]
	return id, ok
}

// IsControl reports whether id is a control token (BOS, EOS, chat markers),
// which Decode leaves out.
func (t *Tokenizer) IsControl(id int32) bool {
	return id >= 0 && int(id) < len(t.attrs) && t.attrs[id]&attrControl != 0
}

// finish builds the lookup tables every constructor needs once tokens, attrs
// and ids are filled.
func (t *Tokenizer) finish() {
	for i := range t.byteTok {
		t.byteTok[i] = -1
	}
	t.maxTokenLen = 0
	t.newlineBarrier = true
	for id, s := range t.tokens {
		if len(s) > 1 && strings.IndexByte(s, '\n') >= 0 {
			t.newlineBarrier = false
		}
		if len(s) > t.maxTokenLen {
			t.maxTokenLen = len(s)
		}
		if len(s) == 6 && strings.HasPrefix(s, "<0x") && s[5] == '>' {
			if b, ok := parseHexByte(s[3:5]); ok && t.byteTok[b] < 0 {
				t.byteTok[b] = int32(id)
			}
		}
	}
	t.specials = t.specials[:0]
	for id, a := range t.attrs {
		if a&(attrControl|attrUserDefined|attrUnknown) != 0 && t.tokens[id] != "" {
			t.specials = append(t.specials, int32(id))
		}
	}
	sort.SliceStable(t.specials, func(i, j int) bool {
		return len(t.tokens[t.specials[i]]) > len(t.tokens[t.specials[j]])
	})
	t.cache = make(map[string][]int32)
	t.buildPairs()
	t.pieces = nil
	pieces := make([]string, len(t.tokens))
	for id := range pieces {
		pieces[id] = t.computePiece(int32(id))
	}
	t.pieces = pieces
}

func parseHexByte(s string) (byte, bool) {
	if len(s) != 2 {
		return 0, false
	}
	var v byte
	for i := 0; i < 2; i++ {
		c := s[i]
		switch {
		case c >= '0' && c <= '9':
			v = v<<4 | (c - '0')
		case c >= 'A' && c <= 'F':
			v = v<<4 | (c - 'A' + 10)
		case c >= 'a' && c <= 'f':
			v = v<<4 | (c - 'a' + 10)
		default:
			return 0, false
		}
	}
	return v, true
}

// eogNames are token texts that end a turn in common chat formats; llama.cpp
// recognises end-of-generation tokens by these same texts.
var eogNames = []string{
	"<|eot_id|>", "<|im_end|>", "<|end|>", "<end_of_turn>", "<|endoftext|>",
	"<|eom_id|>", "<EOT>", "_<EOT>", "<|end_of_text|>", "<｜end▁of▁sentence｜>",
}

// setEOG fills the end-of-generation list: EOS first, then tokens recognised
// by name. Like llama.cpp, a recognised token becomes a control token so that
// it is not matched in untrusted text.
func (t *Tokenizer) setEOG(extra ...int32) {
	t.eog = t.eog[:0]
	add := func(id int32) {
		if id < 0 || int(id) >= len(t.tokens) {
			return
		}
		for _, e := range t.eog {
			if e == id {
				return
			}
		}
		t.eog = append(t.eog, id)
	}
	add(t.eos)
	for _, id := range extra {
		add(id)
	}
	for _, name := range eogNames {
		if id, ok := t.ids[name]; ok {
			add(id)
			t.attrs[id] |= attrControl
		}
	}
}
