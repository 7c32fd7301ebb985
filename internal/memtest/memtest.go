// Package memtest measures the heap a function uses, for tests that hold a
// reader to its stated memory bound on adversarial input.
package memtest

import (
	"runtime"
	"runtime/debug"
	"sync"
	"time"
)

// Usage is what Measure saw.
type Usage struct {
	// Peak is the largest live heap seen while f ran, above the heap
	// before it. The collector runs at GOGC=10 meanwhile, so garbage
	// makes up little of it; it is sampled every 100µs, so a short spike
	// can be missed, but never a retained allocation, whose size shows up
	// in Total as well.
	Peak uint64
	// Total is every byte f allocated, freed or not: an upper bound on
	// the peak that no sampling can miss.
	Total uint64
}

// Measure runs f and reports its heap usage. Run it from one test at a time
// (not in parallel tests): the heap is the process's.
func Measure(f func()) Usage {
	old := debug.SetGCPercent(10)
	defer debug.SetGCPercent(old)
	var before runtime.MemStats
	runtime.GC()
	runtime.ReadMemStats(&before)

	var (
		mu   sync.Mutex
		peak uint64
		stop = make(chan struct{})
		done = make(chan struct{})
	)
	sample := func() {
		var m runtime.MemStats
		runtime.ReadMemStats(&m)
		mu.Lock()
		if m.HeapAlloc > before.HeapAlloc && m.HeapAlloc-before.HeapAlloc > peak {
			peak = m.HeapAlloc - before.HeapAlloc
		}
		mu.Unlock()
	}
	go func() {
		defer close(done)
		t := time.NewTicker(100 * time.Microsecond)
		defer t.Stop()
		for {
			select {
			case <-stop:
				return
			case <-t.C:
				sample()
			}
		}
	}()
	f()
	sample()
	close(stop)
	<-done
	var after runtime.MemStats
	runtime.ReadMemStats(&after)
	mu.Lock()
	defer mu.Unlock()
	return Usage{Peak: peak, Total: after.TotalAlloc - before.TotalAlloc}
}
