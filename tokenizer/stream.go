package tokenizer

import (
	"unicode/utf8"
)

// StreamDecoder turns ids into text one id at a time, as a model generates
// them. A token may end inside a multi-byte UTF-8 character (byte-level and
// byte-fallback vocabularies split Chinese characters and emoji this way);
// the decoder holds such bytes back until the character is complete, so it
// never prints a broken character. The concatenation of everything Next and
// Flush return equals Decode(ids) byte for byte, for every id sequence,
// including ones whose bytes are not valid UTF-8 (both replace them the same
// way; see appendValidUTF8).
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
		p = d.t.trimFirstPiece(p)
	}
	d.pending = append(d.pending, p...)
	out, n := appendValidUTF8(nil, d.pending, false)
	d.pending = append(d.pending[:0], d.pending[n:]...)
	return string(out)
}

// Flush returns whatever is held back: an incomplete character at the end
// of the stream becomes one U+FFFD, as in Decode.
func (d *StreamDecoder) Flush() string {
	out, _ := appendValidUTF8(nil, d.pending, true)
	d.pending = d.pending[:0]
	return string(out)
}

// trimFirstPiece removes the space a SentencePiece vocabulary (or BERT's
// word marker) puts in front of the first piece of decoded text.
func (t *Tokenizer) trimFirstPiece(p string) string {
	if t.stripLeadingSpace && p != "" && p[0] == ' ' {
		p = p[1:]
	}
	if t.kind == KindWPM && p != "" && p[0] == ' ' {
		p = p[1:]
	}
	return p
}

// appendValidUTF8 appends src to dst with every ill-formed sequence replaced
// by U+FFFD, one per maximal subpart (the longest prefix of a well-formed
// sequence, or a single byte), the practice the Unicode Standard recommends
// and Python's and Rust's lossy decoders follow. Unless final is set, a
// prefix of a well-formed sequence at the very end is left unconsumed, since
// more bytes may complete it; it returns how many bytes of src it consumed.
// Because every decision depends only on bytes up to the end of the current
// sequence, feeding src in pieces (keeping the unconsumed tail) gives the
// same output as feeding it whole.
func appendValidUTF8(dst, src []byte, final bool) ([]byte, int) {
	i := 0
	for i < len(src) {
		c := src[i]
		if c < utf8.RuneSelf {
			dst = append(dst, c)
			i++
			continue
		}
		if r, n := utf8.DecodeRune(src[i:]); r != utf8.RuneError || n > 1 {
			dst = append(dst, src[i:i+n]...)
			i += n
			continue
		}
		k, need := maximalSubpart(src[i:])
		if i+k == len(src) && k < need && !final {
			break // may still complete
		}
		dst = append(dst, "\uFFFD"...)
		i += k
	}
	return dst, i
}

// maximalSubpart returns the length k of the longest prefix of s that can
// begin a well-formed UTF-8 sequence (at least 1), and the length need of
// the sequence its first byte announces (Unicode Table 3-7).
func maximalSubpart(s []byte) (k, need int) {
	lo, hi := byte(0x80), byte(0xBF) // range of the second byte
	c := s[0]
	switch {
	case c >= 0xC2 && c <= 0xDF:
		need = 2
	case c == 0xE0:
		need, lo = 3, 0xA0
	case c == 0xED:
		need, hi = 3, 0x9F
	case c >= 0xE1 && c <= 0xEF:
		need = 3
	case c == 0xF0:
		need, lo = 4, 0x90
	case c == 0xF4:
		need, hi = 4, 0x8F
	case c >= 0xF1 && c <= 0xF3:
		need = 4
	default:
		return 1, 1
	}
	k = 1
	for k < need && k < len(s) && s[k] >= lo && s[k] <= hi {
		k++
		lo, hi = 0x80, 0xBF
	}
	return k, need
}
