package serve

import (
	"context"
	"errors"
	"math"
	"sort"
	"sync"

	"github.com/valueexploration/valueexp/engine"
	"github.com/valueexploration/valueexp/hooks"
	"github.com/valueexploration/valueexp/tokenizer"
)

// job is one request's generation, owned by the scheduler goroutine once
// queued; the handler reads its events.
type job struct {
	ctx       context.Context
	prompt    []int32
	sampling  engine.Sampling
	maxTokens int
	stops     []string
	topLog    int  // top_logprobs asked for
	logprobs  bool // per-token logprobs asked for
	iv        *intervention
	events    chan event // buffered to maxTokens+1: the scheduler never blocks on a client

	// scheduler state
	seq     *engine.Sequence
	sampler *engine.Sampler
	history []int32
	tokens  []int32
	text    string
	fed     bool // the prompt has been run
	last    int32
	phase   hooks.Phase // of this job's rows in the current pass
}

// event is what the scheduler tells a handler: a generated token, or the end.
type event struct {
	tok    *tokenEvent
	done   bool
	finish engine.FinishReason
	text   string // the completion's text (cut at a stop string), with done
	err    *apiError
}

// tokenEvent is one generated token.
type tokenEvent struct {
	id      int32
	logprob float64
	top     []topLogprob
	sets    map[string]setFigure
}

type topLogprob struct {
	id      int32
	logprob float64
}

// scheduler runs continuous batching: every step it admits queued jobs (their
// prompts packed with the others' decode rows) up to the batch size, runs
// one forward pass, and samples one token for each job.
type scheduler struct {
	m        *engine.Model
	tok      *tokenizer.Tokenizer
	stop     map[int32]bool
	maxCtx   int
	batch    int
	queue    chan *job
	quit     chan struct{} // closed: stop after cancelling every job
	done     chan struct{} // closed when the loop has returned
	met      *metrics
	disp     *dispatcher
	hooks    *hooks.Hooks // the dispatcher, registered at the sets' sites
	active   []*job
	logits   []float32 // scratch copy for logprobs
	mu       sync.Mutex
	stopping bool
}

func newScheduler(m *engine.Model, tok *tokenizer.Tokenizer, cat *catalogue, o Options, met *metrics, gate chan struct{}) (*scheduler, error) {
	s := &scheduler{m: m, tok: tok, stop: map[int32]bool{}, maxCtx: m.Config.ContextLength, batch: o.BatchSize,
		queue: make(chan *job, o.QueueSize), quit: make(chan struct{}), done: make(chan struct{}), met: met}
	for _, t := range tok.EOS() {
		s.stop[t] = true
	}
	// One dispatcher registered once, at every site a set lives at, hands
	// each request's rows to that request's own hooks.
	s.disp = &dispatcher{}
	var sites []hooks.Site
	for _, site := range cat.sites {
		if !containsSite(sites, site) {
			sites = append(sites, site)
		}
	}
	sort.Slice(sites, func(i, j int) bool { return sites[i] < sites[j] })
	if len(sites) > 0 {
		s.hooks = hooks.New(m.Config.Layers)
		for _, site := range sites {
			if err := s.hooks.Edit("blocks.*."+site.String(), s.disp); err != nil {
				return nil, err
			}
		}
	}
	go s.loop(gate)
	return s, nil
}

// errQueueFull and errStopping are the two reasons submit refuses a job.
var (
	errQueueFull = errors.New("queue full")
	errStopping  = errors.New("shutting down")
)

// submit queues j without blocking.
func (s *scheduler) submit(j *job) error {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.stopping {
		return errStopping
	}
	select {
	case s.queue <- j:
		s.met.queued.Add(1)
		return nil
	default:
		return errQueueFull
	}
}

// closeQueue refuses further jobs; jobs already queued still run.
func (s *scheduler) closeQueue() {
	s.mu.Lock()
	s.stopping = true
	s.mu.Unlock()
}

func (s *scheduler) loop(gate chan struct{}) {
	defer close(s.done)
	if gate != nil {
		select {
		case <-gate:
		case <-s.quit:
			s.cancelAll()
			return
		}
	}
	for {
		if len(s.active) == 0 {
			select {
			case j := <-s.queue:
				s.admit(j)
			case <-s.quit:
				s.cancelAll()
				return
			}
		}
	fill:
		for len(s.active) < s.batch {
			select {
			case j := <-s.queue:
				s.admit(j)
			default:
				break fill
			}
		}
		select {
		case <-s.quit:
			s.cancelAll()
			return
		default:
		}
		s.step()
	}
}

// admit makes j active, unless its client has already gone.
func (s *scheduler) admit(j *job) {
	// Leave the queue only once counted as active, so that Shutdown, which
	// waits for both to be zero, never sees the job in neither.
	defer s.met.queued.Add(-1)
	if err := j.ctx.Err(); err != nil {
		s.end(j, "", ctxError(err, j))
		return
	}
	// A fresh sequence each time: its cache grows with the request and is
	// garbage once it ends, so an idle server holds no cache memory.
	j.seq = s.m.NewSequence()
	j.sampler = engine.NewSampler(j.sampling)
	j.history = append(make([]int32, 0, len(j.prompt)+j.maxTokens), j.prompt...)
	s.active = append(s.active, j)
	s.met.active.Add(1)
}

// end finishes j and frees its sequence.
func (s *scheduler) end(j *job, finish engine.FinishReason, err *apiError) {
	j.events <- event{done: true, finish: finish, text: j.text, err: err}
	if j.seq != nil {
		j.seq = nil
		s.met.active.Add(-1)
	}
}

func (s *scheduler) cancelAll() {
	for _, j := range s.active {
		s.end(j, "", statusError(503, "server_error", "the server is shutting down; the request was cancelled"))
	}
	s.active = nil
	for {
		select {
		case j := <-s.queue:
			s.met.queued.Add(-1)
			j.events <- event{done: true, err: statusError(503, "server_error", "the server is shutting down; the request was cancelled")}
		default:
			return
		}
	}
}

// ctxError says why a job's context ended.
func ctxError(err error, j *job) *apiError {
	if errors.Is(err, context.DeadlineExceeded) {
		return statusError(504, "timeout", "the request timed out after %d generated tokens", len(j.tokens))
	}
	return statusError(499, "cancelled", "the request was cancelled by the client")
}

// step runs one forward pass over every active job and samples a token each.
func (s *scheduler) step() {
	live := s.active[:0]
	for _, j := range s.active {
		if err := j.ctx.Err(); err != nil {
			s.end(j, "", ctxError(err, j))
			continue
		}
		live = append(live, j)
	}
	clear(s.active[len(live):])
	s.active = live
	if len(live) == 0 {
		return
	}
	in := make([]engine.Input, len(live))
	anyHooks, anyPrefill := false, false
	s.disp.jobs = s.disp.jobs[:0]
	for i, j := range live {
		if j.fed {
			in[i] = engine.Input{Seq: j.seq, Tokens: []int32{j.last}, Tag: -1, Logits: engine.LastLogits}
			j.phase = hooks.Decode
		} else {
			in[i] = engine.Input{Seq: j.seq, Tokens: j.prompt, Tag: -1, Logits: engine.LastLogits}
			j.phase, anyPrefill = hooks.Prefill, true
		}
		anyHooks = anyHooks || (j.iv != nil && j.iv.h != nil)
		s.disp.jobs = append(s.disp.jobs, j)
	}
	opt := engine.RunOptions{Phase: hooks.Decode}
	if anyPrefill {
		opt.Phase = hooks.Prefill
	}
	if anyHooks {
		opt.Hooks = s.hooks
	}
	logits, err := s.m.Forward(context.Background(), in, opt)
	clear(s.disp.jobs) // keep no finished job alive until the next pass
	if err != nil {
		// A failed pass leaves the caches unknown: end every job in it.
		for _, j := range live {
			j.seq = nil // not reused
			s.met.active.Add(-1)
			j.events <- event{done: true, err: statusError(500, "server_error", "the forward pass failed")}
		}
		s.active = s.active[:0]
		s.met.failedPasses.Add(1)
		return
	}
	keep := s.active[:0]
	before := s.met.tokens.Load()
	for i, j := range live {
		j.fed = true
		if s.sample(j, logits[i]) {
			keep = append(keep, j)
		}
	}
	clear(s.active[len(keep):])
	s.active = keep
	s.met.observeStep(len(live), int(s.met.tokens.Load()-before))
}

// sample picks j's next token exactly as engine.Generate does for one
// prompt, and reports whether j goes on.
func (s *scheduler) sample(j *job, logits []float32) bool {
	var ev tokenEvent
	if j.logprobs {
		s.logits = append(s.logits[:0], logits...)
	}
	t := j.sampler.Sample(logits, j.history)
	if j.iv != nil && j.iv.mon != nil {
		ev.sets = j.iv.mon.take()
	}
	if s.stop[t] {
		s.end(j, engine.FinishStop, nil)
		return false
	}
	if j.logprobs {
		ev.logprob, ev.top = logprobs(s.logits, t, j.topLog)
	}
	ev.id = t
	j.tokens = append(j.tokens, t)
	j.history = append(j.history, t)
	j.last = t
	j.events <- event{tok: &ev}
	s.met.tokens.Add(1)
	j.text = s.tok.Decode(j.tokens)
	if cut, ok := engine.CutAtStop(j.text, j.stops); ok {
		j.text = cut
		s.end(j, engine.FinishStop, nil)
		return false
	}
	switch {
	case len(j.tokens) >= j.maxTokens:
		s.end(j, engine.FinishLength, nil)
		return false
	case s.maxCtx > 0 && j.seq.Len()+1 >= s.maxCtx:
		s.end(j, engine.FinishContext, nil)
		return false
	}
	return true
}

// logprobs returns the log-probability of t under the model's distribution
// (softmax of the raw logits, before temperature and penalties, as the
// OpenAI API reports it) and the k most likely tokens.
func logprobs(logits []float32, t int32, k int) (float64, []topLogprob) {
	mx := math.Inf(-1)
	for _, v := range logits {
		mx = max(mx, float64(v))
	}
	var sum float64
	for _, v := range logits {
		sum += math.Exp(float64(v) - mx)
	}
	lse := mx + math.Log(sum)
	var top []topLogprob
	if k > 0 {
		top = make([]topLogprob, 0, k+1)
		for i, v := range logits {
			if len(top) == k && float64(v) <= top[k-1].logprob {
				continue
			}
			e := topLogprob{int32(i), float64(v)}
			p := sort.Search(len(top), func(a int) bool { return top[a].logprob < e.logprob })
			top = append(top, topLogprob{})
			copy(top[p+1:], top[p:])
			top[p] = e
			if len(top) > k {
				top = top[:k]
			}
		}
		for i := range top {
			top[i].logprob -= lse
		}
	}
	return float64(logits[t]) - lse, top
}

// dispatcher is the one editor the server registers; it hands the rows of
// each request in the packed batch to that request's own hooks, so requests
// with different interventions share a forward pass.
type dispatcher struct {
	jobs []*job // by input slot, set before each pass
	rows hooks.Rows
}

// Edit runs each request's hooks on its rows.
func (d *dispatcher) Edit(p hooks.Point, t hooks.Tensor, rows *hooks.Rows) {
	for r := 0; r < t.Rows; {
		slot := rows.Seq[r]
		hi := r + 1
		for hi < t.Rows && rows.Seq[hi] == slot {
			hi++
		}
		if j := d.jobs[slot]; j.iv != nil && j.iv.h.Wants(p) {
			sub := hooks.Tensor{Data: t.Data[r*t.Cols : hi*t.Cols], Rows: hi - r, Cols: t.Cols, Heads: t.Heads}
			d.rows = hooks.Rows{Seq: rows.Seq[r:hi], Pos: rows.Pos[r:hi], Tag: rows.Tag[r:hi], Phase: j.phase, Step: rows.Step}
			j.iv.h.Dispatch(p, sub, &d.rows)
		}
		r = hi
	}
}
