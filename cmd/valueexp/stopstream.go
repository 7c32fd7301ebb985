package main

import (
	"fmt"
	"io"
	"strings"
	"unicode/utf8"

	"github.com/valueexploration/valueexp/engine"
	"github.com/valueexploration/valueexp/tokenizer"
)

// stopStreamer prints generated text as it comes, holding back the tail that
// could still become a stop string so that the stop string itself is never
// printed. Everything it counts and cuts is in the one representation that
// StreamDecoder and Decode share (ill-formed bytes already replaced by
// U+FFFD), so what it printed is always a prefix of Completion.Text.
type stopStreamer struct {
	w       io.Writer
	tok     *tokenizer.Tokenizer
	dec     *tokenizer.StreamDecoder
	stops   []string
	hold    int
	pending strings.Builder
	printed int
	stopped bool
}

func newStopStreamer(w io.Writer, tok *tokenizer.Tokenizer, stops []string) *stopStreamer {
	s := &stopStreamer{w: w, tok: tok, dec: tok.NewStreamDecoder(), stops: stops}
	for _, st := range stops {
		s.hold = max(s.hold, len(st)-1)
	}
	return s
}

// token takes one generated id (the engine's OnToken).
func (s *stopStreamer) token(t int32) {
	if s.stopped || s.tok.IsEOS(t) {
		return
	}
	s.pending.WriteString(s.dec.Next(t))
	p := s.pending.String()
	if cut, ok := engine.CutAtStop(p, s.stops); ok {
		fmt.Fprint(s.w, cut)
		s.printed += len(cut)
		s.stopped = true
		return
	}
	n := len(p) - s.hold
	for n > 0 && n < len(p) && !utf8.RuneStart(p[n]) {
		n--
	}
	if n > 0 {
		fmt.Fprint(s.w, p[:n])
		s.printed += n
		s.pending.Reset()
		s.pending.WriteString(p[n:])
	}
}

// finish prints what is not printed yet of the completion's text (already
// cut at a stop string by the engine): the held-back tail, or a character
// left incomplete at the end.
func (s *stopStreamer) finish(text string) {
	if len(text) > s.printed {
		fmt.Fprint(s.w, text[s.printed:])
	}
}
