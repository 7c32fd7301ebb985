package serve

import (
	"bufio"
	"context"
	"fmt"
	"net/http"
	"strings"
	"sync"
	"testing"
	"time"
)

// chatN is a greedy chat request for n tokens.
func chatN(n int) string {
	return fmt.Sprintf(`{"messages":[{"role":"user","content":"hi"}],"max_tokens":%d,"temperature":0}`, n)
}

// TestTimeout: a request still waiting when its time is up gets a 504 that
// says so, and its slot is freed.
func TestTimeout(t *testing.T) {
	f := newFixture(t)
	gate := make(chan struct{})
	s, hs := f.server(t, Options{Timeout: 30 * time.Millisecond}, gate)
	done := make(chan struct{})
	var code int
	var out map[string]any
	go func() {
		defer close(done)
		code, out = post(t, hs.URL+"/v1/chat/completions", chatN(50))
	}()
	waitFor(t, "the request to queue", func() bool { return s.met.queued.Load() == 1 })
	time.Sleep(60 * time.Millisecond)
	close(gate)
	<-done
	msg, _ := out["error"].(map[string]any)["message"].(string)
	if code != 504 || !strings.Contains(msg, "timed out") {
		t.Errorf("status %d, %v; want 504 timed out", code, out)
	}
	waitFor(t, "no active sequence", func() bool { return s.met.active.Load() == 0 })
}

// TestQueueFull: with the scheduler held, the queue takes QueueSize requests
// and refuses the next with a 429.
func TestQueueFull(t *testing.T) {
	f := newFixture(t)
	gate := make(chan struct{})
	s, hs := f.server(t, Options{QueueSize: 2}, gate)
	var wg sync.WaitGroup
	codes := make([]int, 2)
	for i := range codes {
		wg.Add(1)
		go func() {
			defer wg.Done()
			codes[i], _ = post(t, hs.URL+"/v1/chat/completions", chatN(3))
		}()
	}
	waitFor(t, "two queued requests", func() bool { return s.met.queued.Load() == 2 })
	code, out := post(t, hs.URL+"/v1/chat/completions", chatN(3))
	msg, _ := out["error"].(map[string]any)["message"].(string)
	if code != 429 || !strings.Contains(msg, "queue is full") {
		t.Errorf("third request: %d %v; want 429 queue is full", code, out)
	}
	close(gate)
	wg.Wait()
	if codes[0] != 200 || codes[1] != 200 {
		t.Errorf("queued requests: %v", codes)
	}
}

// TestShutdown: a graceful shutdown lets queued and running requests finish
// and refuses new ones with a 503; one whose grace is over cancels them.
func TestShutdown(t *testing.T) {
	f := newFixture(t)
	t.Run("graceful", func(t *testing.T) {
		gate := make(chan struct{})
		s, hs := f.server(t, Options{}, gate)
		done := make(chan int)
		go func() { c, _ := post(t, hs.URL+"/v1/chat/completions", chatN(8)); done <- c }()
		waitFor(t, "the request to queue", func() bool { return s.met.queued.Load() == 1 })
		shut := make(chan error)
		go func() { shut <- s.Shutdown(context.Background()) }()
		waitFor(t, "the queue to close", func() bool {
			code, _ := post(t, hs.URL+"/v1/chat/completions", chatN(1))
			return code == 503
		})
		close(gate)
		if c := <-done; c != 200 {
			t.Errorf("the queued request got %d, want 200", c)
		}
		if err := <-shut; err != nil {
			t.Errorf("Shutdown: %v", err)
		}
	})
	t.Run("grace over", func(t *testing.T) {
		gate := make(chan struct{})
		s, hs := f.server(t, Options{}, gate)
		done := make(chan map[string]any)
		go func() { _, out := post(t, hs.URL+"/v1/chat/completions", chatN(8)); done <- out }()
		waitFor(t, "the request to queue", func() bool { return s.met.queued.Load() == 1 })
		ctx, cancel := context.WithTimeout(context.Background(), 20*time.Millisecond)
		defer cancel()
		if err := s.Shutdown(ctx); err == nil {
			t.Error("Shutdown with a held request returned no error")
		}
		out := <-done
		if msg, _ := out["error"].(map[string]any)["message"].(string); !strings.Contains(msg, "shutting down") {
			t.Errorf("cancelled request: %v", out)
		}
	})
}

// TestDisconnectFreesSequence: a client that goes away mid-stream has its
// sequence freed (the active sequences gauge drops to zero) long before its
// max_tokens would have ended it. Greedy decoding: with sampling, the
// random model could draw its end token early and end the stream before
// the test looks (seen once in CI on a loaded machine); greedily it runs
// to the end of its context without one.
func TestDisconnectFreesSequence(t *testing.T) {
	f := newFixture(t)
	s, hs := f.server(t, Options{}, nil)
	ctx, cancel := context.WithCancel(context.Background())
	req, _ := http.NewRequestWithContext(ctx, "POST", hs.URL+"/v1/chat/completions",
		strings.NewReader(`{"messages":[{"role":"user","content":"hi"}],"max_tokens":4000,"temperature":0,"stream":true}`))
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	r := bufio.NewReader(resp.Body)
	if _, err := r.ReadString('\n'); err != nil {
		t.Fatal(err)
	}
	if s.met.active.Load() != 1 {
		t.Fatalf("%d active sequences while streaming, want 1", s.met.active.Load())
	}
	cancel()
	resp.Body.Close()
	waitFor(t, "the sequence to be freed", func() bool { return s.met.active.Load() == 0 })
	if n := s.met.tokens.Load(); n >= 2000 {
		t.Errorf("%d tokens generated: the sequence ran to its end instead of being freed", n)
	}
}
