package serve

import (
	"encoding/json"
	"net/http"
	"strings"
	"unicode/utf8"

	"github.com/valueexploration/valueexp/engine"
)

// stream writes the job's tokens as server-sent events in OpenAI's chunk
// shape. Text that could still turn into a stop string is held back and
// sent, with its tokens' figures, once it cannot, so that a stop string is
// never sent; what is sent is always a prefix of the final text.
func (a *answer) stream(w http.ResponseWriter) {
	h := w.Header()
	h.Set("Content-Type", "text/event-stream")
	h.Set("Cache-Control", "no-cache")
	h.Set("X-Accel-Buffering", "no")
	rc := http.NewResponseController(w)
	hold := 0
	for _, s := range a.st.stops {
		hold = max(hold, len(s)-1)
	}
	var (
		pending strings.Builder
		held    []piece
		ends    []int // end of each held piece's text in pending
		sent    int   // bytes of text sent
		started bool
	)
	send := func(v any) {
		b, _ := json.Marshal(v)
		_, _ = w.Write([]byte("data: "))
		_, _ = w.Write(b)
		_, _ = w.Write([]byte("\n\n"))
		_ = rc.Flush()
	}
	start := func() {
		if !started && a.kind == kindChat {
			send(a.chunk(map[string]any{"delta": map[string]any{"role": "assistant", "content": ""}, "finish_reason": nil, "logprobs": nil}))
		}
		started = true
	}
	emit := func(text string, pieces []piece) {
		c := map[string]any{"finish_reason": nil, "logprobs": a.logprobs(pieces, sent)}
		if a.kind == kindChat {
			c["delta"] = map[string]any{"content": text}
		} else {
			c["text"] = text
		}
		if a.monitor {
			c["valueexp"] = map[string]any{"tokens": a.entries(pieces)}
		}
		send(a.chunk(c))
		sent += len(text)
	}
	for {
		ev, p := a.next()
		if ev.tok != nil {
			start()
			pending.WriteString(p.text)
			held = append(held, p)
			ends = append(ends, pending.Len())
			s := pending.String()
			if _, stop := engine.CutAtStop(s, a.st.stops); stop {
				continue // the end event brings the cut text
			}
			n := len(s) - hold
			for n > 0 && n < len(s) && !utf8.RuneStart(s[n]) {
				n--
			}
			if n <= 0 {
				continue
			}
			k := 0
			for k < len(held) && ends[k] <= n {
				k++
			}
			emit(s[:n], held[:k])
			held, ends = append(held[:0], held[k:]...), ends[k:]
			for i := range ends {
				ends[i] -= n
			}
			rest := s[n:]
			pending.Reset()
			pending.WriteString(rest)
			continue
		}
		if ev.err != nil {
			if !started {
				writeError(w, ev.err)
				return
			}
			send(map[string]any{"error": ev.err})
			return
		}
		start()
		if len(ev.text) > sent || len(held) > 0 {
			rest := ""
			if len(ev.text) > sent {
				rest = ev.text[sent:]
			}
			emit(rest, held)
		}
		c := map[string]any{"finish_reason": finishName(ev.finish), "logprobs": nil}
		if a.kind == kindChat {
			c["delta"] = map[string]any{}
		} else {
			c["text"] = ""
		}
		send(a.chunk(c))
		if a.st.includeUsage {
			u := a.chunkWith(nil)
			u["usage"] = a.usage()
			send(u)
		}
		_, _ = w.Write([]byte("data: [DONE]\n\n"))
		_ = rc.Flush()
		return
	}
}

// chunk wraps one choice in a chunk object.
func (a *answer) chunk(choice map[string]any) map[string]any {
	choice["index"] = 0
	return a.chunkWith([]any{choice})
}

func (a *answer) chunkWith(choices []any) map[string]any {
	if choices == nil {
		choices = []any{}
	}
	c := map[string]any{"id": a.id, "object": a.object(true), "created": a.created, "model": a.s.opts.ModelID, "choices": choices}
	if a.st.includeUsage {
		c["usage"] = nil
	}
	return c
}
