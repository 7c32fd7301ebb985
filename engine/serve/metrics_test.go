package serve

import (
	"io"
	"net/http"
	"regexp"
	"strconv"
	"testing"
	"time"
)

// TestMetrics reads /metrics after two requests: the counters equal what the
// responses reported, and the tokens/s gauge averages the tokens of the last
// whole seconds.
func TestMetrics(t *testing.T) {
	f := newFixture(t)
	s, hs := f.server(t, Options{}, nil)
	clock := time.Unix(1000, 0)
	s.met.now = func() time.Time { return clock }
	total := 0
	for range 2 {
		code, out := post(t, hs.URL+"/v1/completions", `{"prompt":"the","max_tokens":7,"temperature":0}`)
		if code != 200 {
			t.Fatalf("status %d: %v", code, out)
		}
		total += int(out["usage"].(map[string]any)["completion_tokens"].(float64))
	}
	post(t, hs.URL+"/v1/completions", `{"prompt":5}`)
	clock = clock.Add(time.Second)
	resp, err := http.Get(hs.URL + "/metrics")
	if err != nil {
		t.Fatal(err)
	}
	b, _ := io.ReadAll(resp.Body)
	resp.Body.Close()
	text := string(b)
	metric := func(re string) float64 {
		m := regexp.MustCompile(`(?m)^` + re + ` (\S+)$`).FindStringSubmatch(text)
		if m == nil {
			t.Fatalf("no %s in\n%s", re, text)
		}
		v, _ := strconv.ParseFloat(m[1], 64)
		return v
	}
	for _, c := range []struct {
		re   string
		want float64
	}{
		{`valueexp_requests_total\{route="/v1/completions",code="200"\}`, 2},
		{`valueexp_requests_total\{route="/v1/completions",code="400"\}`, 1},
		{`valueexp_generated_tokens_total`, float64(total)},
		{`valueexp_tokens_per_second`, float64(total) / rateWindow},
		{`valueexp_queue_length`, 0},
		{`valueexp_active_sequences`, 0},
	} {
		if got := metric(c.re); got != c.want {
			t.Errorf("%s = %v, want %v", c.re, got, c.want)
		}
	}
	if ct := resp.Header.Get("Content-Type"); ct != "text/plain; version=0.0.4; charset=utf-8" {
		t.Errorf("Content-Type %q", ct)
	}
}
