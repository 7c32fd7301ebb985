package engine

import "sync"

// pool is the engine's one set of worker goroutines. Work is handed out as
// contiguous index ranges; because every output element is computed by one
// worker from the same inputs in the same order, results do not depend on the
// number of workers.
type pool struct {
	workers int
	tasks   chan func()
	once    sync.Once
}

func newPool(workers int) *pool {
	if workers < 1 {
		workers = 1
	}
	p := &pool{workers: workers, tasks: make(chan func())}
	for i := 1; i < workers; i++ { // the calling goroutine is a worker too
		go func() {
			for f := range p.tasks {
				f()
			}
		}()
	}
	return p
}

func (p *pool) close() { p.once.Do(func() { close(p.tasks) }) }

// parallel calls fn on disjoint ranges covering [0, n), in chunks of at least
// minChunk, and returns when all are done.
func (p *pool) parallel(n, minChunk int, fn func(lo, hi int)) {
	if minChunk < 1 {
		minChunk = 1
	}
	chunks := p.workers * 4
	if n/minChunk < chunks {
		chunks = n / minChunk
	}
	if p.workers == 1 || chunks <= 1 {
		fn(0, n)
		return
	}
	var wg sync.WaitGroup
	var next int
	var mu sync.Mutex
	step := (n + chunks - 1) / chunks
	// Workers (and the caller) pull chunks until none are left: a worker that
	// is slowed by the other process on a shared machine takes fewer chunks.
	take := func() (int, int, bool) {
		mu.Lock()
		defer mu.Unlock()
		if next >= n {
			return 0, 0, false
		}
		lo := next
		next = min(n, next+step)
		return lo, next, true
	}
	run := func() {
		for {
			lo, hi, ok := take()
			if !ok {
				return
			}
			fn(lo, hi)
		}
	}
	helpers := p.workers - 1
	wg.Add(helpers)
	for i := 0; i < helpers; i++ {
		p.tasks <- func() { run(); wg.Done() }
	}
	run()
	wg.Wait()
}
