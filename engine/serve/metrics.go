package serve

import (
	"fmt"
	"io"
	"sort"
	"sync"
	"sync/atomic"
	"time"
)

// metrics are the server's counters and gauges, written in the Prometheus
// text format at /metrics.
type metrics struct {
	queued       atomic.Int64
	active       atomic.Int64
	tokens       atomic.Int64 // generated tokens
	promptTokens atomic.Int64
	steps        atomic.Int64
	stepRows     atomic.Int64
	failedPasses atomic.Int64

	mu       sync.Mutex
	requests map[requestKey]int64
	// rate holds the generated tokens of each of the last seconds, for
	// valueexp_tokens_per_second.
	rate [rateWindow + 1]struct {
		sec int64
		n   int64
	}
	now func() time.Time
}

const rateWindow = 10 // seconds averaged by valueexp_tokens_per_second

type requestKey struct {
	route string
	code  int
}

func newMetrics() *metrics {
	return &metrics{requests: map[requestKey]int64{}, now: time.Now}
}

// request counts a finished request.
func (m *metrics) request(route string, code int) {
	m.mu.Lock()
	m.requests[requestKey{route, code}]++
	m.mu.Unlock()
}

// observeStep records one forward pass over rows sequences that generated
// tokens tokens (a sequence that ended generated none).
func (m *metrics) observeStep(rows, tokens int) {
	m.steps.Add(1)
	m.stepRows.Add(int64(rows))
	sec := m.now().Unix()
	m.mu.Lock()
	b := &m.rate[sec%int64(len(m.rate))]
	if b.sec != sec {
		b.sec, b.n = sec, 0
	}
	b.n += int64(tokens)
	m.mu.Unlock()
}

// tokensPerSecond averages the tokens of the last rateWindow whole seconds.
func (m *metrics) tokensPerSecond() float64 {
	sec := m.now().Unix()
	var n int64
	for _, b := range m.rate {
		if b.sec < sec && b.sec >= sec-rateWindow {
			n += b.n
		}
	}
	return float64(n) / rateWindow
}

// write renders the metrics.
func (m *metrics) write(w io.Writer) {
	m.mu.Lock()
	keys := make([]requestKey, 0, len(m.requests))
	for k := range m.requests {
		keys = append(keys, k)
	}
	sort.Slice(keys, func(i, j int) bool {
		if keys[i].route != keys[j].route {
			return keys[i].route < keys[j].route
		}
		return keys[i].code < keys[j].code
	})
	counts := make([]int64, len(keys))
	for i, k := range keys {
		counts[i] = m.requests[k]
	}
	tps := m.tokensPerSecond()
	m.mu.Unlock()

	fmt.Fprintln(w, "# HELP valueexp_requests_total Requests answered, by route and HTTP status.")
	fmt.Fprintln(w, "# TYPE valueexp_requests_total counter")
	for i, k := range keys {
		fmt.Fprintf(w, "valueexp_requests_total{route=%q,code=\"%d\"} %d\n", k.route, k.code, counts[i])
	}
	gauge := func(name, help, typ string, v any) {
		fmt.Fprintf(w, "# HELP %s %s\n# TYPE %s %s\n%s %v\n", name, help, name, typ, name, v)
	}
	gauge("valueexp_generated_tokens_total", "Tokens generated.", "counter", m.tokens.Load())
	gauge("valueexp_prompt_tokens_total", "Prompt tokens processed.", "counter", m.promptTokens.Load())
	gauge("valueexp_tokens_per_second", fmt.Sprintf("Tokens generated per second over the last %d s.", rateWindow), "gauge", tps)
	gauge("valueexp_forward_passes_total", "Batched forward passes run.", "counter", m.steps.Load())
	gauge("valueexp_forward_pass_rows_total", "Sequences in all forward passes (divide by the passes for the mean batch).", "counter", m.stepRows.Load())
	gauge("valueexp_forward_pass_failures_total", "Forward passes that failed.", "counter", m.failedPasses.Load())
	gauge("valueexp_queue_length", "Requests waiting for a batch slot.", "gauge", m.queued.Load())
	gauge("valueexp_active_sequences", "Sequences being generated.", "gauge", m.active.Load())
}
