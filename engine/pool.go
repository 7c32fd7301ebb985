package engine

import (
	"runtime"
	"sync"
	"sync/atomic"
)

// pool is the engine's one set of worker goroutines. Work is handed out as
// contiguous index ranges; because every output element is computed by one
// worker from the same inputs in the same order, results do not depend on the
// number of workers or on who ran which range.
//
// A decode step makes a few hundred small parallel calls, so handing work
// over must cost microseconds, not a channel round trip per chunk: the
// caller publishes a job and workers that spin briefly between jobs pick it
// up at once; workers that have been idle longer park and are woken.
type pool struct {
	workers int
	mu      sync.Mutex // one job at a time; a concurrent caller runs its job alone
	gen     atomic.Uint64
	job     atomic.Pointer[poolJob]
	parked  atomic.Int32
	wake    chan struct{}
	quit    atomic.Bool
	once    sync.Once
}

// poolJob is one parallel call: chunks [next, next+step) are claimed with
// an atomic add until next passes n.
type poolJob struct {
	fn      func(lo, hi int)
	n, step int64
	next    atomic.Int64
	busy    atomic.Int32 // workers inside run
}

// spinRounds is how many times an idle worker polls for a new job before
// parking (tens of microseconds: longer than the gap between two matrix
// products of a decode step, far shorter than a scheduler quantum).
const spinRounds = 1 << 14

func newPool(workers int) *pool {
	if workers < 1 {
		workers = 1
	}
	p := &pool{workers: workers, wake: make(chan struct{}, workers)}
	for i := 1; i < workers; i++ { // the calling goroutine is a worker too
		go p.worker()
	}
	return p
}

func (p *pool) close() {
	p.once.Do(func() {
		p.quit.Store(true)
		p.gen.Add(1)
		for i := 1; i < p.workers; i++ {
			select { // a full buffer means no worker is waiting on it
			case p.wake <- struct{}{}:
			default:
			}
		}
	})
}

func (p *pool) worker() {
	var seen uint64
	for {
		g := p.gen.Load()
		for i := 0; g == seen && i < spinRounds; i++ {
			if i&255 == 255 {
				runtime.Gosched()
			}
			g = p.gen.Load()
		}
		if g == seen {
			p.parked.Add(1)
			if p.gen.Load() == seen {
				<-p.wake
			}
			p.parked.Add(-1)
			continue
		}
		seen = g
		if p.quit.Load() {
			return
		}
		if j := p.job.Load(); j != nil {
			j.busy.Add(1)
			j.run()
			j.busy.Add(-1)
		}
	}
}

func (j *poolJob) run() {
	for {
		lo := j.next.Add(j.step) - j.step
		if lo >= j.n {
			return
		}
		j.fn(int(lo), int(min(lo+j.step, j.n)))
	}
}

// parallel calls fn on disjoint ranges covering [0, n), each starting at a
// multiple of align (except that the last may be short) and at least
// minChunk long, and returns when all are done.
func (p *pool) parallel(n, minChunk, align int, fn func(lo, hi int)) {
	minChunk, align = max(minChunk, 1), max(align, 1)
	chunks := min(p.workers*4, n/minChunk)
	if p.workers == 1 || chunks <= 1 || !p.mu.TryLock() {
		fn(0, n)
		return
	}
	defer p.mu.Unlock()
	step := (n + chunks - 1) / chunks
	step = (step + align - 1) / align * align
	j := &poolJob{fn: fn, n: int64(n), step: int64(step)}
	p.job.Store(j)
	p.gen.Add(1)
	for i := p.parked.Load(); i > 0; i-- {
		select {
		case p.wake <- struct{}{}:
		default:
		}
	}
	// Workers that are slow to arrive find nothing left, so the caller
	// only waits for those already inside the job.
	j.busy.Add(1)
	j.run()
	j.busy.Add(-1)
	for i := 0; j.busy.Load() != 0; i++ {
		if i&63 == 63 {
			runtime.Gosched()
		}
	}
	p.job.CompareAndSwap(j, nil)
}
