package tokenizer

import (
	"os"
	"strings"
	"testing"
	"unicode/utf8"

	"github.com/valueexploration/valueexp/internal/shareddata"
	"github.com/valueexploration/valueexp/weights"
)

// FuzzRoundTrip checks Decode(Encode(s)) == s, and that streaming decode
// agrees, on arbitrary valid UTF-8 for one vocabulary of every kind.
// SentencePiece-style vocabularies cannot round-trip a literal '▁' (it is
// their spelling of a space), and Qwen normalizes to NFC, as the reference
// tokenizers do.
func FuzzRoundTrip(f *testing.F) {
	raw, err := os.ReadFile(shareddata.Path(f, "refdata", "tokenizers", "bilingual.txt"))
	if err != nil {
		f.Fatal(err)
	}
	for _, line := range strings.Split(string(raw), "\n") {
		f.Add(line)
	}
	for _, s := range []string{"", " ", "\n\n", "<s></s><|im_end|>", "e\u0301", "\u00a0x\u3000y", "'s 'LL", "123456789", "🇨🇳👍🏽", "\x00\t\r\n"} {
		f.Add(s)
	}
	toks := []*Tokenizer{
		loadRef(f, "refdata", "models", "stories260K", "stories260K.gguf"),
		loadRef(f, "refdata", "tokenizers", "ggml-vocab-gpt-2.gguf"),
		loadRef(f, "refdata", "tokenizers", "ggml-vocab-deepseek-llm.gguf"),
		loadRef(f, "refdata", "tokenizers", "ggml-vocab-llama-spm.gguf"),
		loadRef(f, "refdata", "tokenizers", "hf-qwen3"),
		loadRef(f, "refdata", "tokenizers", "hf-lenml-llama2"),
	}
	f.Fuzz(func(t *testing.T, s string) {
		if !utf8.ValidString(s) {
			return
		}
		for _, tk := range toks {
			if tk.spaceMarker && strings.Contains(s, "▁") {
				continue
			}
			want := s
			if tk.nfc {
				want = nfc(s)
			}
			ids := tk.Encode(s, EncodeOptions{AddSpecial: true})
			if got := tk.Decode(ids); got != want {
				t.Fatalf("%v: Decode(Encode(%q)) = %q (ids %v)", tk.kind, s, got, ids)
			}
			d := tk.NewStreamDecoder()
			var b strings.Builder
			for _, id := range ids {
				b.WriteString(d.Next(id))
			}
			b.WriteString(d.Flush())
			if b.String() != want {
				t.Fatalf("%v: streamed %q, want %q", tk.kind, b.String(), want)
			}
		}
	})
}

// FuzzParseHF feeds arbitrary tokenizer.json documents to ParseHF; any
// tokenizer it accepts must encode and decode without panicking.
func FuzzParseHF(f *testing.F) {
	f.Add(toyTokenizerJSON, "hi hi")
	f.Add(`{"model":{"type":"BPE","vocab":{"a":0,"b":1,"ab":2},"merges":[["a","b"]]},"pre_tokenizer":{"type":"ByteLevel","use_regex":true},"added_tokens":[{"id":3,"content":"<x>","special":true}]}`, "abab <x>")
	f.Add(`{"model":{"type":"BPE","vocab":{"":0," ":1},"merges":[" "]}}`, "  ")
	f.Fuzz(func(t *testing.T, js, text string) {
		tk, err := ParseHF([]byte(js), nil)
		if err != nil {
			return
		}
		for _, opts := range []EncodeOptions{{}, {AddSpecial: true, ParseSpecial: true}} {
			ids := tk.Encode(text, opts)
			_ = tk.Decode(ids)
			d := tk.NewStreamDecoder()
			for _, id := range ids {
				d.Next(id)
			}
			d.Flush()
		}
		_ = tk.Decode([]int32{-1, 0, 1 << 30})
	})
}

// FuzzFromGGUF builds GGUF vocabularies from fuzzed token and merge lists.
func FuzzFromGGUF(f *testing.F) {
	f.Add("gpt2", "gpt-2", "a\x00b\x00ab\x00 \x00Ġ", "a b", "ab ab")
	f.Add("llama", "", "<unk>\x00<s>\x00</s>\x00▁\x00a\x00▁a", "", " a a")
	f.Add("bert", "", "[UNK]\x00▁a\x00b", "", "A b")
	f.Fuzz(func(t *testing.T, model, pre, tokens, merges, text string) {
		kv := map[string]any{"tokenizer.ggml.model": model, "tokenizer.ggml.tokens": strings.Split(tokens, "\x00")}
		if pre != "" {
			kv["tokenizer.ggml.pre"] = pre
		}
		if merges != "" {
			kv["tokenizer.ggml.merges"] = strings.Split(merges, "\x00")
		}
		g, err := weights.ParseGGUF(minimalGGUF(t, kv), "fuzz")
		if err != nil {
			return
		}
		tk, err := FromGGUF(g)
		if err != nil {
			return
		}
		ids := tk.Encode(text, EncodeOptions{AddSpecial: true, ParseSpecial: true})
		_ = tk.Decode(ids)
	})
}
