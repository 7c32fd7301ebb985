package serve

import (
	"strings"
	"testing"
)

// FuzzRequest parses arbitrary bodies as both routes' requests: each is
// either accepted, with a prompt that fits and settings within the limits,
// or refused with a 4xx error carrying a message; never a panic.
func FuzzRequest(f *testing.F) {
	for _, s := range []string{
		`{"messages":[{"role":"user","content":"hi"}],"max_tokens":3}`,
		`{"prompt":"x","stream":true,"stop":["a","b"],"logprobs":2}`,
		`{"messages":[{"role":"user","content":[{"type":"text","text":"hi"}]}],"valueexp":{"deactivate":["诚信"],"scale":{"友善/zh":2},"monitor":["富强/zh"],"monitor_layers":true}}`,
		`{"messages":"x"}`, `[`, `null`, `{"prompt":["a"],"seed":-1,"top_p":0.5,"temperature":1.5}`,
		`{"valueexp":{"scale":{"诚信":1e400}}}`, `{"prompt":"a","stream_options":{"include_usage":true}}`,
	} {
		f.Add(s)
	}
	fx := newFixture(f)
	gate := make(chan struct{}) // never opened: nothing is generated
	s, err := newServer(fx.m, fx.tok, Options{ModelID: "tiny", NeuronSets: fx.sets, MaxTokens: 64}, gate)
	if err != nil {
		f.Fatal(err)
	}
	f.Cleanup(func() { s.Close() })
	f.Fuzz(func(t *testing.T, body string) {
		for _, parse := range []func([]byte) (*request, *apiError){s.parseChat, s.parseCompletion} {
			req, e := parse([]byte(body))
			if e != nil {
				if e.Status < 400 || e.Status >= 500 || strings.TrimSpace(e.Message) == "" {
					t.Fatalf("%q: error status %d message %q", body, e.Status, e.Message)
				}
				continue
			}
			if len(req.ids) == 0 || len(req.ids) >= fx.m.Config.ContextLength {
				t.Fatalf("%q: accepted a prompt of %d tokens", body, len(req.ids))
			}
			if req.st.maxTokens < 1 || req.st.maxTokens > 64 || req.st.sampling.Validate() != nil {
				t.Fatalf("%q: accepted settings %+v", body, req.st)
			}
		}
	})
}
