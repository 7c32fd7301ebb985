package serve

import (
	"bufio"
	"context"
	"encoding/json"
	"io"
	"math/rand/v2"
	"net/http"
	"net/http/httptest"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/valueexploration/valueexp/engine"
	"github.com/valueexploration/valueexp/hooks"
	"github.com/valueexploration/valueexp/tokenizer"
	"github.com/valueexploration/valueexp/weights/synth"
)

// fixture is a synthetic tiny model (4 layers, FFN 384, ChatML template)
// with four neuron sets, loaded for serving.
type fixture struct {
	m    *engine.Model
	tok  *tokenizer.Tokenizer
	sets *hooks.NeuronSetFile
}

func newFixture(t testing.TB) *fixture {
	t.Helper()
	shape, err := synth.LookupShape("tiny")
	if err != nil {
		t.Fatal(err)
	}
	if shape, err = shape.WithArch("qwen2"); err != nil {
		t.Fatal(err)
	}
	path := filepath.Join(t.TempDir(), "tiny.gguf")
	if _, err := synth.WriteFile(path, synth.Options{Shape: shape, Mix: synth.MixF16, Seed: 3}); err != nil {
		t.Fatal(err)
	}
	m, err := engine.Load(path, engine.Options{Threads: 2})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { m.Close() })
	tok, err := tokenizer.Load(path)
	if err != nil {
		t.Fatal(err)
	}
	return &fixture{m: m, tok: tok, sets: testSets(m.Config.Layers, m.Config.FFNSize)}
}

// testSets draws four sets of 40 neurons per layer (layer 1 left out of
// 富强/zh, so that a set's layer list can differ from the model's).
func testSets(layers, ffn int) *hooks.NeuronSetFile {
	r := rand.New(rand.NewPCG(7, 7))
	f := &hooks.NeuronSetFile{Format: "neuron-sets", Version: 1}
	for _, name := range []string{"诚信/zh", "诚信/en", "友善/zh", "富强/zh"} {
		s := hooks.NeuronSet{Name: name, Site: "mlp.hook_act"}
		for l := 0; l < layers; l++ {
			if name == "富强/zh" && l == 1 {
				continue
			}
			idx := r.Perm(ffn)[:40]
			sorted := make([]int32, 0, 40)
			for j := 0; j < ffn; j++ {
				for _, k := range idx {
					if k == j {
						sorted = append(sorted, int32(j))
					}
				}
			}
			s.Layers = append(s.Layers, hooks.LayerIndices{Layer: l, Indices: sorted})
		}
		f.NeuronSets = append(f.NeuronSets, s)
	}
	return f
}

// server starts a Server on an httptest server; gate, if not nil, holds the
// scheduler until closed.
func (f *fixture) server(t testing.TB, o Options, gate chan struct{}) (*Server, *httptest.Server) {
	t.Helper()
	if o.NeuronSets == nil {
		o.NeuronSets = f.sets
	}
	if o.ModelID == "" {
		o.ModelID = "tiny"
	}
	s, err := newServer(f.m, f.tok, o, gate)
	if err != nil {
		t.Fatal(err)
	}
	hs := httptest.NewServer(s)
	t.Cleanup(func() {
		hs.Close()
		s.Close()
	})
	return s, hs
}

// post sends body as JSON and returns the status and the decoded response.
func post(t testing.TB, url, body string) (int, map[string]any) {
	t.Helper()
	resp, err := http.Post(url, "application/json", strings.NewReader(body))
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	var out map[string]any
	b, _ := io.ReadAll(resp.Body)
	if err := json.Unmarshal(b, &out); err != nil {
		t.Fatalf("POST %s: status %d, body not JSON: %v\n%s", url, resp.StatusCode, err, b)
	}
	return resp.StatusCode, out
}

// sse reads a server-sent event stream: the JSON of every data line up to
// [DONE], and whether [DONE] came.
func sse(t testing.TB, r io.Reader) (chunks []map[string]any, done bool) {
	t.Helper()
	sc := bufio.NewScanner(r)
	sc.Buffer(make([]byte, 1<<20), 1<<20)
	for sc.Scan() {
		line := sc.Text()
		if line == "" {
			continue
		}
		data, ok := strings.CutPrefix(line, "data: ")
		if !ok {
			t.Fatalf("SSE line without data: %q", line)
		}
		if data == "[DONE]" {
			done = true
			continue
		}
		if done {
			t.Fatalf("data after [DONE]: %q", data)
		}
		var c map[string]any
		if err := json.Unmarshal([]byte(data), &c); err != nil {
			t.Fatalf("SSE data not JSON: %v: %q", err, data)
		}
		chunks = append(chunks, c)
	}
	return chunks, done
}

// postStream sends a streaming request and reads its events.
func postStream(t testing.TB, url, body string) (int, []map[string]any, bool) {
	t.Helper()
	resp, err := http.Post(url, "application/json", strings.NewReader(body))
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	if resp.StatusCode != 200 {
		return resp.StatusCode, nil, false
	}
	if ct := resp.Header.Get("Content-Type"); ct != "text/event-stream" {
		t.Fatalf("stream Content-Type %q", ct)
	}
	chunks, done := sse(t, resp.Body)
	return resp.StatusCode, chunks, done
}

// reference runs engine.Generate, the engine's own generation loop, with the
// hooks ZeroSets and ScaleSets build: the independent answer a request must
// equal.
func (f *fixture) reference(t testing.TB, prompt []int32, sp engine.Sampling, maxTokens int, stops []string, deactivate []string, scale map[string]float32) engine.Completion {
	t.Helper()
	var h *hooks.Hooks
	if len(deactivate) > 0 || len(scale) > 0 {
		h = hooks.New(f.m.Config.Layers)
		if len(deactivate) > 0 {
			if err := hooks.ZeroSets(h, f.sets, deactivate, hooks.When{}); err != nil {
				t.Fatal(err)
			}
		}
		for name, k := range scale {
			if err := hooks.ScaleSets(h, f.sets, []string{name}, k, hooks.When{}); err != nil {
				t.Fatal(err)
			}
		}
	}
	out, err := f.m.Generate(context.Background(), []engine.Prompt{{Tokens: prompt, Tag: -1}}, engine.GenerateOptions{
		MaxTokens: maxTokens, Sampling: sp, StopTokens: f.tok.EOS(), StopStrings: stops, Decoder: f.tok, Hooks: h})
	if err != nil {
		t.Fatal(err)
	}
	return out[0]
}

// chatPrompt renders one user message as the chat route does.
func (f *fixture) chatPrompt(t testing.TB, user string) []int32 {
	t.Helper()
	text, err := f.tok.RenderChat([]tokenizer.Message{{Role: "user", Content: user}}, true)
	if err != nil {
		t.Fatal(err)
	}
	return f.tok.Encode(text, tokenizer.EncodeOptions{ParseSpecial: true})
}

// chatPromptMsgs renders a conversation of (role, content) turns.
func (f *fixture) chatPromptMsgs(t testing.TB, turns [][2]string) []int32 {
	t.Helper()
	var msgs []tokenizer.Message
	for _, m := range turns {
		msgs = append(msgs, tokenizer.Message{Role: m[0], Content: m[1]})
	}
	text, err := f.tok.RenderChat(msgs, true)
	if err != nil {
		t.Fatal(err)
	}
	return f.tok.Encode(text, tokenizer.EncodeOptions{ParseSpecial: true})
}

// tokenIDs reads choices[0].valueexp.tokens[*].id.
func tokenIDs(t testing.TB, choice map[string]any) []int32 {
	t.Helper()
	ve, ok := choice["valueexp"].(map[string]any)
	if !ok {
		t.Fatalf("choice has no valueexp object: %v", choice)
	}
	var ids []int32
	for _, e := range ve["tokens"].([]any) {
		ids = append(ids, int32(e.(map[string]any)["id"].(float64)))
	}
	return ids
}

func jsonBody(v any) string {
	b, err := json.Marshal(v)
	if err != nil {
		panic(err)
	}
	return string(b)
}

// waitFor polls cond for up to 5 s.
func waitFor(t testing.TB, what string, cond func() bool) {
	t.Helper()
	deadline := time.Now().Add(5 * time.Second)
	for !cond() {
		if time.Now().After(deadline) {
			t.Fatalf("timed out waiting for %s", what)
		}
		time.Sleep(5 * time.Millisecond)
	}
}

// tokenizerRaw encodes a raw prompt as the completion route does.
var tokenizerRaw = tokenizer.EncodeOptions{AddSpecial: true}
