package serve

import (
	"fmt"
	"math/rand/v2"
	"net/http"
	"os"
	"runtime"
	"slices"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"
)

// TestLoad runs 32 concurrent streaming clients against a synthetic model on
// loopback for VALUEEXP_LOAD_SECONDS (default 3): every request must end
// with [DONE], and after the run the goroutines and the heap (after GC)
// must be back where they were. It logs requests, tokens, tokens/s, latency
// percentiles and the heap before and after.
func TestLoad(t *testing.T) {
	if testing.Short() {
		t.Skip("load test skipped in -short mode")
	}
	secs := 3.0
	if v := os.Getenv("VALUEEXP_LOAD_SECONDS"); v != "" {
		var err error
		if secs, err = strconv.ParseFloat(v, 64); err != nil || secs <= 0 {
			t.Fatalf("VALUEEXP_LOAD_SECONDS=%q: want a positive number of seconds", v)
		}
	}
	const clients = 32
	f := newFixture(t)
	s, hs := f.server(t, Options{}, nil)
	tr := &http.Transport{MaxIdleConnsPerHost: clients}
	client := &http.Client{Transport: tr}

	var errs atomic.Int64
	var firstErr atomic.Value
	fail := func(format string, args ...any) {
		if errs.Add(1) == 1 {
			firstErr.Store(fmt.Sprintf(format, args...))
		}
	}
	// one sends one streaming request and returns its completion tokens.
	one := func(r *rand.Rand) int {
		ext := `{"monitor":["诚信/zh","友善/zh"],"monitor_layers":true}`
		if r.IntN(2) == 0 {
			ext = `{"deactivate":["诚信"],"scale":{"友善/zh":1.5},"monitor":["诚信/zh"]}`
		}
		body := fmt.Sprintf(`{"messages":[{"role":"user","content":"Story %d: should Lily tell the truth?"}],"max_tokens":%d,"temperature":0.8,"seed":%d,"stream":true,"stream_options":{"include_usage":true},"valueexp":%s}`,
			r.IntN(1000), 8+r.IntN(40), r.Uint64()>>1, ext)
		resp, err := client.Post(hs.URL+"/v1/chat/completions", "application/json", strings.NewReader(body))
		if err != nil {
			fail("POST: %v", err)
			return 0
		}
		defer resp.Body.Close()
		if resp.StatusCode != 200 {
			fail("status %d", resp.StatusCode)
			return 0
		}
		chunks, done := sse(t, resp.Body)
		if !done || len(chunks) == 0 {
			fail("stream ended without [DONE] after %d chunks", len(chunks))
			return 0
		}
		u, _ := chunks[len(chunks)-1]["usage"].(map[string]any)
		n, _ := u["completion_tokens"].(float64)
		return int(n)
	}
	run := func(d time.Duration) (requests, tokens int, lat []time.Duration) {
		var mu sync.Mutex
		var wg sync.WaitGroup
		end := time.Now().Add(d)
		for c := range clients {
			wg.Add(1)
			go func() {
				defer wg.Done()
				r := rand.New(rand.NewPCG(uint64(c), 99))
				for time.Now().Before(end) {
					start := time.Now()
					n := one(r)
					el := time.Since(start)
					mu.Lock()
					requests, tokens, lat = requests+1, tokens+n, append(lat, el)
					mu.Unlock()
				}
			}()
		}
		wg.Wait()
		return
	}
	settle := func() (goroutines int, heap uint64) {
		tr.CloseIdleConnections()
		var ms runtime.MemStats
		for range 50 {
			time.Sleep(20 * time.Millisecond)
			if s.met.active.Load() == 0 && s.met.queued.Load() == 0 {
				break
			}
		}
		// Pools (the engine's workspaces) empty over two collections.
		for range 3 {
			runtime.GC()
		}
		runtime.ReadMemStats(&ms)
		return runtime.NumGoroutine(), ms.HeapAlloc
	}

	run(300 * time.Millisecond) // warm up: connections, sequences, workspaces
	g0, h0 := settle()
	start := time.Now()
	requests, tokens, lat := run(time.Duration(secs * float64(time.Second)))
	el := time.Since(start)
	var g1 int
	var h1 uint64
	for range 20 { // goroutines of closed connections take a moment to end
		if g1, h1 = settle(); g1 <= g0 {
			break
		}
	}
	slices.Sort(lat)
	pct := func(p float64) time.Duration {
		if len(lat) == 0 {
			return 0
		}
		return lat[min(len(lat)-1, int(p*float64(len(lat))))]
	}
	t.Logf("%d clients, %.1f s: %d requests, %d tokens, %.0f tokens/s, latency p50 %v p99 %v, errors %d; goroutines %d -> %d, heap %.2f -> %.2f MiB; mean batch %.1f",
		clients, el.Seconds(), requests, tokens, float64(tokens)/el.Seconds(), pct(0.5).Round(time.Millisecond), pct(0.99).Round(time.Millisecond),
		errs.Load(), g0, g1, float64(h0)/(1<<20), float64(h1)/(1<<20), float64(s.met.stepRows.Load())/float64(max(1, s.met.steps.Load())))
	if errs.Load() > 0 {
		t.Errorf("%d failed requests; first: %v", errs.Load(), firstErr.Load())
	}
	if requests == 0 {
		t.Fatal("no request finished")
	}
	if g1 > g0 {
		t.Errorf("goroutines grew from %d to %d", g0, g1)
	}
	// Allow for the allocator's noise, not for what requests leave behind.
	if slack := max(h0/10, 2<<20); h1 > h0+slack {
		t.Errorf("heap after GC grew from %d to %d bytes", h0, h1)
	}
}
