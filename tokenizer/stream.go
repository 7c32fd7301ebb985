package tokenizer

import (
	"unicode/utf8"
)

// StreamDecoder turns ids into text one id at a time, as a model generates
// them. A token may end inside a multi-byte UTF-8 character (byte-level and
// byte-fallback vocabularies split Chinese characters and emoji this way);
// the decoder holds such bytes back until the character is complete, so it
// never prints a broken character. The concatenated output equals
// Decode(ids) whenever that is valid UTF-8.
type StreamDecoder struct {
	t       *Tokenizer
	pending []byte
	started bool
}

// NewStreamDecoder returns a decoder for one generated sequence.
func (t *Tokenizer) NewStreamDecoder() *StreamDecoder { return &StreamDecoder{t: t} }

// Next adds one id and returns the text that is now complete (possibly "").
func (d *StreamDecoder) Next(id int32) string {
	p := d.t.piece(id)
	if p == "" {
		return ""
	}
	if !d.started {
		d.started = true
		if d.t.stripLeadingSpace && p[0] == ' ' {
			p = p[1:]
		}
		if d.t.kind == KindWPM && p != "" && p[0] == ' ' {
			p = p[1:]
		}
	}
	d.pending = append(d.pending, p...)
	return d.emit(false)
}

// Flush returns whatever is held back; an incomplete character at the end
// of the stream becomes U+FFFD.
func (d *StreamDecoder) Flush() string { return d.emit(true) }

// emit returns the longest prefix of pending made of whole characters.
// Bytes that can never start a valid character are replaced by U+FFFD.
func (d *StreamDecoder) emit(final bool) string {
	var out []byte
	i := 0
	for i < len(d.pending) {
		r, n := utf8.DecodeRune(d.pending[i:])
		if r == utf8.RuneError && n <= 1 {
			if !utf8.FullRune(d.pending[i:]) {
				if !final {
					break // the rest may still become a valid character
				}
				out = append(out, "\uFFFD"...)
				i = len(d.pending)
				continue
			}
			out = append(out, "\uFFFD"...)
			i++
			continue
		}
		out = append(out, d.pending[i:i+n]...)
		i += n
	}
	d.pending = append(d.pending[:0], d.pending[i:]...)
	return string(out)
}
