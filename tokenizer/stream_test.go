package tokenizer

import (
	"strings"
	"testing"
	"unicode/utf8"

	"github.com/valueexploration/valueexp/internal/shareddata"
)

// TestStreamDecoderNeverBreaksCharacters streams every reference case one id
// at a time: each chunk must be valid UTF-8 and the chunks must add up to the
// original text.
func TestStreamDecoderNeverBreaksCharacters(t *testing.T) {
	for _, v := range refVocabs {
		if v.name == "bert-bge" {
			continue
		}
		t.Run(v.name, func(t *testing.T) {
			tk := loadRef(t, v.src...)
			split := 0
			for _, c := range readCases(t, shareddata.Path(t, "refdata", "tokenizers", v.jsonl+".bilingual.jsonl")) {
				d := tk.NewStreamDecoder()
				var b strings.Builder
				for _, id := range c.IDsAddSpecial {
					chunk := d.Next(id)
					if !utf8.ValidString(chunk) {
						t.Fatalf("%s: chunk %q is not valid UTF-8", c.Case, chunk)
					}
					if p := tk.piece(id); p != "" && !utf8.ValidString(p) {
						split++
					}
					b.WriteString(chunk)
				}
				b.WriteString(d.Flush())
				if b.String() != c.Text {
					t.Errorf("%s: streamed %q, want %q", c.Case, b.String(), c.Text)
				}
			}
			t.Logf("%d tokens ended inside a character", split)
		})
	}
}

func TestStreamDecoderFlushesBrokenTail(t *testing.T) {
	tk := loadRef(t, "refdata", "models", "stories260K", "stories260K.gguf")
	ids := tk.Encode("你", EncodeOptions{}) // ▁ then three byte tokens
	d := tk.NewStreamDecoder()
	var got string
	for _, id := range ids[:len(ids)-1] {
		got += d.Next(id)
	}
	if got != "" {
		t.Errorf("incomplete character printed as %q", got)
	}
	if f := d.Flush(); f != "\uFFFD" {
		t.Errorf("Flush = %q, want U+FFFD", f)
	}
}

// TestAppendValidUTF8 checks the replacement of ill-formed bytes against the
// Unicode Standard's worked example (chapter 3, "U+FFFD Substitution of
// Maximal Subparts", table 3-8) and hand-worked cases.
func TestAppendValidUTF8(t *testing.T) {
	for _, c := range []struct{ in, want string }{
		{"\x61\xF1\x80\x80\xE1\x80\xC2\x62\x80\x63\x80\xBF\x64", "a\uFFFD\uFFFD\uFFFDb\uFFFDc\uFFFD\uFFFDd"},
		{"\xE4\xBD", "\uFFFD"},                           // truncated 你: one subpart
		{"\xE4\xBDa", "\uFFFDa"},                         // broken by an ASCII byte
		{"\xE4\xBD\xA0", "你"},                            // complete
		{"\xED\xA0\x80", "\uFFFD\uFFFD\uFFFD"},           // surrogate: ED A0 is not a prefix
		{"\xE0\x80\x80", "\uFFFD\uFFFD\uFFFD"},           // overlong
		{"\xF4\x90\x80\x80", "\uFFFD\uFFFD\uFFFD\uFFFD"}, // above U+10FFFF
		{"\xF0\x9F\x98", "\uFFFD"},                       // truncated emoji
		{"\xC0\xAF", "\uFFFD\uFFFD"},
		{"\xFF", "\uFFFD"},
		{"\uFFFD", "\uFFFD"}, // a real U+FFFD stays one
	} {
		got, n := appendValidUTF8(nil, []byte(c.in), true)
		if string(got) != c.want || n != len(c.in) {
			t.Errorf("%q: got %q (consumed %d), want %q", c.in, got, n, c.want)
		}
	}
	// Not final: a truncated sequence at the end waits.
	got, n := appendValidUTF8(nil, []byte("a\xF0\x9F\x98"), false)
	if string(got) != "a" || n != 1 {
		t.Errorf("not final: got %q, consumed %d", got, n)
	}
}

// byteIDs maps fuzz bytes to ids of a vocabulary's single-byte tokens
// (<0xNN> or byte-level stand-ins); a byte with the high bit of the next
// byte set picks the next normal token instead, mixing whole tokens in.
func byteIDs(tk *Tokenizer, data []byte) []int32 {
	var ids []int32
	for i := 0; i < len(data); i++ {
		b := data[i]
		if i+1 < len(data) && data[i+1] == 0xFF {
			ids = append(ids, int32(int(b)*97%tk.VocabSize()))
			i++
			continue
		}
		if id := tk.byteTok[b]; id >= 0 {
			ids = append(ids, id)
		} else if id, ok := tk.ids[string(byteToRune[b])]; ok && tk.byteLevel {
			ids = append(ids, id)
		}
	}
	return ids
}

// FuzzStreamMatchesDecode is the regression test for issue 14 item 6: for
// any id sequence of byte tokens (and some whole tokens), the concatenated
// stream chunks equal Decode byte for byte, and every chunk is valid UTF-8.
func FuzzStreamMatchesDecode(f *testing.F) {
	for _, s := range []string{"", "\xE4\xBD", "\xE4\xBD\xA0", "a\xF1\x80\x80\xE1\x80\xC2b\x80c\x80\xBFd", "\xF0\x9F\x98\x80\xF0\x9F", "\xED\xA0\x80", "x\xFFy\xFF"} {
		f.Add([]byte(s))
	}
	toks := []*Tokenizer{
		loadRef(f, "refdata", "models", "stories260K", "stories260K.gguf"),
		loadRef(f, "refdata", "tokenizers", "ggml-vocab-gpt-2.gguf"),
		loadRef(f, "refdata", "tokenizers", "hf-lenml-llama2"),
	}
	f.Fuzz(func(t *testing.T, data []byte) {
		for _, tk := range toks {
			ids := byteIDs(tk, data)
			d := tk.NewStreamDecoder()
			var b strings.Builder
			for _, id := range ids {
				chunk := d.Next(id)
				if !utf8.ValidString(chunk) {
					t.Fatalf("chunk %q is not valid UTF-8", chunk)
				}
				b.WriteString(chunk)
			}
			tail := d.Flush()
			if !utf8.ValidString(tail) {
				t.Fatalf("flush %q is not valid UTF-8", tail)
			}
			b.WriteString(tail)
			if dec := tk.Decode(ids); b.String() != dec {
				t.Fatalf("ids %v: streamed %q, Decode %q", ids, b.String(), dec)
			}
		}
	})
}
