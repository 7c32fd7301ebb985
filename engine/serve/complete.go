package serve

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"net/http"
	"time"

	"github.com/valueexploration/valueexp/engine"
	"github.com/valueexploration/valueexp/tokenizer"
)

// kind tells the two completion routes apart where their shapes differ.
type kind int

const (
	kindChat kind = iota
	kindText
)

// request is a validated completion request, ready to queue.
type request struct {
	kind        kind
	promptParam string // the field holding the prompt, for errors
	ids         []int32
	st          *settings
	logprobs    bool
	top         int
	iv          *intervention
}

func (s *Server) handleChat(w http.ResponseWriter, r *http.Request) {
	s.handle(w, r, s.parseChat)
}

func (s *Server) handleCompletion(w http.ResponseWriter, r *http.Request) {
	s.handle(w, r, s.parseCompletion)
}

// handle reads the body, parses it and runs the request.
func (s *Server) handle(w http.ResponseWriter, r *http.Request, parse func([]byte) (*request, *apiError)) {
	body, e := readBody(w, r, s.opts.MaxBodyBytes)
	if e != nil {
		writeError(w, e)
		return
	}
	req, e := parse(body)
	if e != nil {
		writeError(w, e)
		return
	}
	s.run(w, r, req)
}

// parseChat validates a chat completion body and renders its prompt.
func (s *Server) parseChat(body []byte) (*request, *apiError) {
	var req chatRequest
	if e := decodeJSON(body, &req, ""); e != nil {
		return nil, e
	}
	st, e := req.validate(s)
	if e != nil {
		return nil, e
	}
	top := 0
	if req.TopLogprobs != nil {
		top = *req.TopLogprobs
		switch {
		case top < 0 || top > maxTopLogprob:
			return nil, badRequest("top_logprobs", "top_logprobs %d: must be between 0 and %d", top, maxTopLogprob)
		case top > 0 && !req.Logprobs:
			return nil, badRequest("top_logprobs", "top_logprobs needs logprobs: true")
		}
	}
	msgs, e := req.messages()
	if e != nil {
		return nil, e
	}
	if s.tok.ChatTemplate() == "" {
		return nil, badRequest("messages", "the model has no chat template; use /v1/completions with a prompt")
	}
	text, err := s.tok.RenderChat(msgs, true)
	if err != nil {
		return nil, badRequest("messages", "messages: %v", err)
	}
	// A rendered template carries its own special tokens, as in
	// `valueexp generate --chat`.
	ids := s.tok.Encode(text, tokenizer.EncodeOptions{ParseSpecial: true})
	return s.finishRequest(&request{kind: kindChat, promptParam: "messages", ids: ids, st: st, logprobs: req.Logprobs, top: top})
}

// parseCompletion validates a completion body and encodes its prompt.
func (s *Server) parseCompletion(body []byte) (*request, *apiError) {
	var req completionRequest
	if e := decodeJSON(body, &req, ""); e != nil {
		return nil, e
	}
	st, e := req.validate(s)
	if e != nil {
		return nil, e
	}
	switch {
	case req.Echo:
		return nil, badRequest("echo", "echo is not supported")
	case req.Suffix != nil && *req.Suffix != "":
		return nil, badRequest("suffix", "suffix is not supported")
	}
	top, logprobs := 0, false
	if req.Logprobs != nil {
		top, logprobs = *req.Logprobs, true
		if top < 0 || top > maxTopLogprob {
			return nil, badRequest("logprobs", "logprobs %d: must be between 0 and %d", top, maxTopLogprob)
		}
	}
	text, e := req.promptText()
	if e != nil {
		return nil, e
	}
	// A raw prompt gets the model's BOS rule, as in `valueexp generate`.
	ids := s.tok.Encode(text, tokenizer.EncodeOptions{AddSpecial: true})
	return s.finishRequest(&request{kind: kindText, promptParam: "prompt", ids: ids, st: st, logprobs: logprobs, top: top})
}

// finishRequest builds the interventions and checks the prompt's length.
func (s *Server) finishRequest(req *request) (*request, *apiError) {
	iv, e := s.cat.build(req.st.ext, s.m)
	if e != nil {
		return nil, e
	}
	req.iv = iv
	p := req.promptParam
	if len(req.ids) == 0 {
		return nil, badRequest(p, "%s: the prompt is empty (no tokens)", p)
	}
	if c := s.m.Config.ContextLength; c > 0 && len(req.ids) >= c {
		return nil, badRequest(p, "%s: the prompt has %d tokens, which leaves no room in the context length of %d", p, len(req.ids), c)
	}
	return req, nil
}

// run queues the request and answers with its result or its stream.
func (s *Server) run(w http.ResponseWriter, r *http.Request, req *request) {
	ctx, cancel := r.Context(), context.CancelFunc(func() {})
	if s.opts.Timeout > 0 {
		ctx, cancel = context.WithTimeout(ctx, s.opts.Timeout)
	}
	defer cancel()
	st := req.st
	j := &job{ctx: ctx, prompt: req.ids, sampling: st.sampling, maxTokens: st.maxTokens, stops: st.stops,
		logprobs: req.logprobs, topLog: req.top, iv: req.iv, events: make(chan event, st.maxTokens+1)}
	switch err := s.sched.submit(j); err {
	case errQueueFull:
		writeError(w, statusError(http.StatusTooManyRequests, "rate_limit_error", "the request queue is full (%d waiting); retry later", s.opts.QueueSize))
		return
	case errStopping:
		writeError(w, statusError(http.StatusServiceUnavailable, "server_error", "the server is shutting down"))
		return
	}
	s.met.promptTokens.Add(int64(len(req.ids)))
	a := &answer{s: s, kind: req.kind, id: newID(req.kind), created: time.Now().Unix(), st: st, job: j,
		dec: s.tok.NewStreamDecoder(), monitor: req.iv != nil && req.iv.mon != nil}
	if st.stream {
		a.stream(w)
	} else {
		a.respond(w)
	}
}

func newID(k kind) string {
	var b [12]byte
	_, _ = rand.Read(b[:])
	if k == kindChat {
		return "chatcmpl-" + hex.EncodeToString(b[:])
	}
	return "cmpl-" + hex.EncodeToString(b[:])
}

// answer turns a job's events into a response.
type answer struct {
	s       *Server
	kind    kind
	id      string
	created int64
	st      *settings
	job     *job
	dec     *tokenizer.StreamDecoder
	monitor bool
	n       int // generated tokens so far
}

// piece is one generated token with its text.
type piece struct {
	ev   *tokenEvent
	text string
}

// next waits for the job's next event, decoding a token's text.
func (a *answer) next() (event, piece) {
	ev := <-a.job.events
	if ev.tok == nil {
		return ev, piece{}
	}
	a.n++
	return ev, piece{ev.tok, a.dec.Next(ev.tok.id)}
}

// respond waits for the whole completion and writes it.
func (a *answer) respond(w http.ResponseWriter) {
	var pieces []piece
	for {
		ev, p := a.next()
		if ev.tok != nil {
			pieces = append(pieces, p)
			continue
		}
		if ev.err != nil {
			writeError(w, ev.err)
			return
		}
		choice := map[string]any{"index": 0, "finish_reason": finishName(ev.finish), "logprobs": a.logprobs(pieces, 0)}
		if a.kind == kindChat {
			choice["message"] = map[string]any{"role": "assistant", "content": ev.text}
		} else {
			choice["text"] = ev.text
		}
		if a.monitor {
			choice["valueexp"] = map[string]any{"tokens": a.entries(pieces)}
		}
		writeJSON(w, map[string]any{
			"id": a.id, "object": a.object(false), "created": a.created, "model": a.s.opts.ModelID,
			"choices": []any{choice}, "usage": a.usage(),
		})
		return
	}
}

func (a *answer) object(chunk bool) string {
	switch {
	case a.kind == kindText:
		return "text_completion"
	case chunk:
		return "chat.completion.chunk"
	}
	return "chat.completion"
}

func (a *answer) usage() map[string]int {
	p := len(a.job.prompt)
	return map[string]int{"prompt_tokens": p, "completion_tokens": a.n, "total_tokens": p + a.n}
}

// finishName maps the engine's reasons to OpenAI's.
func finishName(f engine.FinishReason) string {
	if f == engine.FinishContext {
		return string(engine.FinishLength)
	}
	return string(f)
}

// tokenEntry is one token's figures in the "valueexp" object of a choice.
type tokenEntry struct {
	ID   int32                `json:"id"`
	Text string               `json:"text"`
	Sets map[string]setFigure `json:"sets"`
}

func (a *answer) entries(pieces []piece) []tokenEntry {
	out := make([]tokenEntry, len(pieces))
	for i, p := range pieces {
		out[i] = tokenEntry{ID: p.ev.id, Text: p.text, Sets: p.ev.sets}
	}
	return out
}

// logprobs renders the pieces' log-probabilities in the route's shape, or
// nil when they were not asked for. offset is the text offset of the first
// piece (completions report it).
func (a *answer) logprobs(pieces []piece, offset int) any {
	if !a.job.logprobs {
		return nil
	}
	if a.kind == kindChat {
		content := make([]map[string]any, len(pieces))
		for i, p := range pieces {
			top := make([]map[string]any, len(p.ev.top))
			for k, t := range p.ev.top {
				s := a.s.tok.Decode([]int32{t.id})
				top[k] = map[string]any{"token": s, "logprob": t.logprob, "bytes": byteList(s)}
			}
			content[i] = map[string]any{"token": p.text, "logprob": p.ev.logprob, "bytes": byteList(p.text), "top_logprobs": top}
		}
		return map[string]any{"content": content}
	}
	tokens := make([]string, len(pieces))
	lps := make([]float64, len(pieces))
	tops := make([]map[string]float64, len(pieces))
	offs := make([]int, len(pieces))
	for i, p := range pieces {
		tokens[i], lps[i], offs[i] = p.text, p.ev.logprob, offset
		offset += len(p.text)
		tops[i] = map[string]float64{}
		for _, t := range p.ev.top {
			tops[i][a.s.tok.Decode([]int32{t.id})] = t.logprob
		}
	}
	return map[string]any{"tokens": tokens, "token_logprobs": lps, "top_logprobs": tops, "text_offset": offs}
}

func byteList(s string) []int {
	b := make([]int, len(s))
	for i := range len(s) {
		b[i] = int(s[i])
	}
	return b
}
