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
