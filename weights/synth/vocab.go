package synth

import (
	"fmt"
	"strings"
)

// SentencePiece token types as llama.cpp numbers them (tokenizer.ggml.token_type).
const (
	tokenNormal  int32 = 1
	tokenUnknown int32 = 2
	tokenControl int32 = 3
	tokenUnused  int32 = 5
	tokenByte    int32 = 6
)

// The special ids of the synthetic vocabulary.
const (
	UnknownID = 0
	BOSID     = 1
	EOSID     = 2
)

// spaceMarker is SentencePiece's visible space (U+2581).
const spaceMarker = "\u2581"

// commonWords are frequent English words. Each becomes a "▁word" piece, and
// every prefix of it a piece too, so that SentencePiece's pairwise merges can
// always reach the whole word.
var commonWords = strings.Fields(`
the of and to in is was that for it with as on be at by this had not are but from or
have an they which one you were her all she there would their we him been has when who will
more no if out so said what up its about into than them can only other new some could time
these two may then do first any my now such like our over man me even most made after also
did many before must through back years where much your way well down should because each
just those people how too little state good very make world still own see men work long get
here between both life being under never day same another know while last might us great old
year off come since against go came right used take three states himself few house use during
without again place around however home small found thought went say part once general high
upon school every don does got united left number course war until always away something fact
though water less public put think almost hand enough far took head yet government system
better set told nothing night end why called didn find look going asked later knew point
next program city business give group toward young days let room president side social given
present several order national possible rather second face per among form often important
things looked early white case john become large big need four within felt along children saw
best church ever least power development thing light seemed family interest want members
others mind country area done country value values honest honesty trust friend friendly
friendship harmony law freedom equality justice patriot patriotism dedication civility
democracy prosperity story stories once upon lily loved play outside girl boy named happy
mother father friends tree sun sky cat dog ball red blue green big small help helped
`)

// valueWords are the twelve Core Socialist Values, so that C-voice text
// gets a few multi-character pieces; every other character falls back to
// its UTF-8 bytes.
var valueWords = strings.Fields("富强 民主 文明 和谐 自由 平等 公正 法治 爱国 敬业 诚信 友善")

// Vocab is a SentencePiece ("llama") vocabulary for tokenizer.ggml.* keys.
type Vocab struct {
	Tokens []string
	Scores []float32
	Types  []int32
}

// Len returns the number of tokens.
func (v *Vocab) Len() int { return len(v.Tokens) }

// BaseVocab returns the synthetic vocabulary without padding: <unk>, <s>,
// </s>, the 256 byte tokens <0x00>..<0xFF>, the printable ASCII characters
// and "▁", then common English words with all their prefixes, the twelve
// Core Socialist Values, and the ChatML turn markers ImStart and ImEnd. Any text encodes: what no piece covers falls back to
// byte tokens.
func BaseVocab() *Vocab { return baseVocab(true) }

// baseVocab is BaseVocab, with the ChatML turn markers only when chat is set.
func baseVocab(chat bool) *Vocab {
	v := &Vocab{}
	seen := map[string]bool{}
	add := func(s string, typ int32) {
		if seen[s] {
			return
		}
		seen[s] = true
		v.Tokens = append(v.Tokens, s)
		v.Types = append(v.Types, typ)
		// Later pieces score lower, as in a SentencePiece model sorted by
		// frequency; the specials and bytes score 0 like llama.cpp's converter gives them.
		score := float32(0)
		if typ == tokenNormal {
			score = -float32(len(v.Tokens))
		}
		v.Scores = append(v.Scores, score)
	}
	add("<unk>", tokenUnknown)
	add("<s>", tokenControl)
	add("</s>", tokenControl)
	for b := 0; b < 256; b++ {
		add(fmt.Sprintf("<0x%02X>", b), tokenByte)
	}
	add(spaceMarker, tokenNormal)
	for c := byte('!'); c <= '~'; c++ {
		add(string(c), tokenNormal)
	}
	addWithPrefixes := func(piece string) {
		r := []rune(piece)
		for k := 2; k <= len(r); k++ {
			add(string(r[:k]), tokenNormal)
		}
	}
	for _, w := range commonWords {
		addWithPrefixes(spaceMarker + w)
		addWithPrefixes(spaceMarker + strings.ToUpper(w[:1]) + w[1:])
	}
	for _, w := range valueWords {
		for _, r := range w {
			add(string(r), tokenNormal)
		}
		addWithPrefixes(w)
		addWithPrefixes(spaceMarker + w)
	}
	// The ChatML turn markers of ChatTemplate, last so that no other id moves.
	if chat {
		add(ImStart, tokenControl)
		add(ImEnd, tokenControl)
	}
	return v
}

// The ChatML turn markers; the tokenizer, like llama.cpp, ends generation
// at ImEnd.
const (
	ImStart = "<|im_start|>"
	ImEnd   = "<|im_end|>"
)

// ChatTemplate is the tokenizer.chat_template of synthetic models: ChatML
// turns with Qwen2.5's default system message, so that every chat path
// (tokenizer.RenderChat, generate --chat, the server) runs on them as on
// Qwen2.5 models.
const ChatTemplate = `{%- if messages[0]['role'] == 'system' -%}
{{- '<|im_start|>system\n' + messages[0]['content'] + '<|im_end|>\n' -}}
{%- else -%}
{{- '<|im_start|>system\nYou are Qwen, created by Alibaba Cloud. You are a helpful assistant.<|im_end|>\n' -}}
{%- endif -%}
{%- for message in messages -%}
{%- if not (loop.first and message['role'] == 'system') -%}
{{- '<|im_start|>' + message['role'] + '\n' + message['content'] + '<|im_end|>\n' -}}
{%- endif -%}
{%- endfor -%}
{%- if add_generation_prompt -%}
{{- '<|im_start|>assistant\n' -}}
{%- endif -%}
`

// padTo appends unused tokens "<unused_N>" (type 5, score -1e9, never
// produced by encoding) until the vocabulary has n tokens.
func (v *Vocab) padTo(n int) {
	for i := 0; len(v.Tokens) < n; i++ {
		v.Tokens = append(v.Tokens, fmt.Sprintf("<unused_%d>", i))
		v.Scores = append(v.Scores, -1e9)
		v.Types = append(v.Types, tokenUnused)
	}
}
