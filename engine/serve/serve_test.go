package serve

import (
	"context"
	"math"
	"slices"
	"strings"
	"sync"
	"testing"

	"github.com/valueexploration/valueexp/engine"
	"github.com/valueexploration/valueexp/hooks"
)

// TestShapes drives both routes, streamed and not, with the request and
// response shapes of the OpenAI API reference, and checks the tokens against
// engine.Generate with the same seed, temperature and top_p.
func TestShapes(t *testing.T) {
	f := newFixture(t)
	_, hs := f.server(t, Options{}, nil)
	sp := engine.Sampling{Temperature: 0.8, TopP: 0.9, Seed: 5}
	const n = 12
	for _, tc := range []struct {
		name   string
		route  string
		stream bool
	}{
		{"chat", "/v1/chat/completions", false},
		{"chat stream", "/v1/chat/completions", true},
		{"completion", "/v1/completions", false},
		{"completion stream", "/v1/completions", true},
	} {
		t.Run(tc.name, func(t *testing.T) {
			chat := strings.Contains(tc.route, "chat")
			req := map[string]any{"model": "tiny", "max_tokens": n, "temperature": 0.8, "top_p": 0.9, "seed": 5,
				"stream": tc.stream, "valueexp": map[string]any{"monitor": []string{"友善/zh"}}}
			var prompt []int32
			if chat {
				req["messages"] = []map[string]any{{"role": "user", "content": "Is honesty a value?"}}
				prompt = f.chatPrompt(t, "Is honesty a value?")
			} else {
				req["prompt"] = "Once upon a time"
				prompt = f.tok.Encode("Once upon a time", tokenizerRaw)
			}
			want := f.reference(t, prompt, sp, n, nil, nil, nil)
			if !tc.stream {
				code, out := post(t, hs.URL+tc.route, jsonBody(req))
				if code != 200 {
					t.Fatalf("status %d: %v", code, out)
				}
				wantObject := map[bool]string{true: "chat.completion", false: "text_completion"}[chat]
				if out["object"] != wantObject || out["model"] != "tiny" {
					t.Errorf("object %v model %v", out["object"], out["model"])
				}
				if id, _ := out["id"].(string); id == "" {
					t.Error("no id")
				}
				if _, ok := out["created"].(float64); !ok {
					t.Error("no created")
				}
				choice := out["choices"].([]any)[0].(map[string]any)
				var text string
				if chat {
					msg := choice["message"].(map[string]any)
					if msg["role"] != "assistant" {
						t.Errorf("role %v", msg["role"])
					}
					text = msg["content"].(string)
				} else {
					text = choice["text"].(string)
				}
				if text != want.Text {
					t.Errorf("text %q, engine.Generate gives %q", text, want.Text)
				}
				if choice["finish_reason"] != finishName(want.Finish) || choice["index"] != 0.0 {
					t.Errorf("finish_reason %v index %v, want %v 0", choice["finish_reason"], choice["index"], want.Finish)
				}
				if ids := tokenIDs(t, choice); !slices.Equal(ids, want.Tokens) {
					t.Errorf("tokens %v, engine.Generate gives %v", ids, want.Tokens)
				}
				u := out["usage"].(map[string]any)
				if u["prompt_tokens"] != float64(len(prompt)) || u["completion_tokens"] != float64(len(want.Tokens)) ||
					u["total_tokens"] != float64(len(prompt)+len(want.Tokens)) {
					t.Errorf("usage %v, want %d prompt and %d completion tokens", u, len(prompt), len(want.Tokens))
				}
				return
			}
			code, chunks, done := postStream(t, hs.URL+tc.route, jsonBody(req))
			if code != 200 || !done {
				t.Fatalf("status %d, [DONE] %v", code, done)
			}
			var text strings.Builder
			var ids []int32
			finish := ""
			for i, c := range chunks {
				wantObject := map[bool]string{true: "chat.completion.chunk", false: "text_completion"}[chat]
				if c["object"] != wantObject || c["id"] != chunks[0]["id"] {
					t.Fatalf("chunk %d: object %v id %v", i, c["object"], c["id"])
				}
				choice := c["choices"].([]any)[0].(map[string]any)
				if fr, ok := choice["finish_reason"].(string); ok {
					if i != len(chunks)-1 {
						t.Errorf("finish_reason in chunk %d of %d", i, len(chunks))
					}
					finish = fr
				}
				if chat {
					d := choice["delta"].(map[string]any)
					if i == 0 && d["role"] != "assistant" {
						t.Errorf("first delta %v has no assistant role", d)
					}
					if s, ok := d["content"].(string); ok {
						text.WriteString(s)
					}
				} else {
					text.WriteString(choice["text"].(string))
				}
				if _, ok := choice["valueexp"]; ok {
					ids = append(ids, tokenIDs(t, choice)...)
				}
			}
			if text.String() != want.Text {
				t.Errorf("streamed text %q, engine.Generate gives %q", text.String(), want.Text)
			}
			if !slices.Equal(ids, want.Tokens) {
				t.Errorf("streamed tokens %v, engine.Generate gives %v", ids, want.Tokens)
			}
			if finish != finishName(want.Finish) {
				t.Errorf("finish %q, want %q", finish, want.Finish)
			}
		})
	}
}

// TestInterventionEqualsGenerate: a request that deactivates and scales sets
// returns the tokens of engine.Generate with the hooks `valueexp generate
// --deactivate --scale` builds; the deactivated set then reads as silent.
func TestInterventionEqualsGenerate(t *testing.T) {
	f := newFixture(t)
	_, hs := f.server(t, Options{}, nil)
	prompt := f.chatPrompt(t, "Should I return the wallet?")
	sp := engine.Sampling{Temperature: 0.7, Seed: 11}
	plain := f.reference(t, prompt, sp, 16, nil, nil, nil)
	want := f.reference(t, prompt, sp, 16, nil, []string{"诚信/zh", "诚信/en"}, map[string]float32{"友善/zh": 3})
	if slices.Equal(plain.Tokens, want.Tokens) {
		t.Fatalf("the intervention changes nothing on this prompt (%v); the test cannot tell", plain.Tokens)
	}
	code, out := post(t, hs.URL+"/v1/chat/completions", jsonBody(map[string]any{
		"messages":   []map[string]any{{"role": "user", "content": "Should I return the wallet?"}},
		"max_tokens": 16, "temperature": 0.7, "seed": 11,
		"valueexp": map[string]any{"deactivate": []string{"Integrity"}, "scale": map[string]float64{"友善/zh": 3},
			"monitor": []string{"诚信/zh", "friendliness/zh"}, "monitor_layers": true},
	}))
	if code != 200 {
		t.Fatalf("status %d: %v", code, out)
	}
	choice := out["choices"].([]any)[0].(map[string]any)
	if ids := tokenIDs(t, choice); !slices.Equal(ids, want.Tokens) {
		t.Fatalf("tokens %v, engine.Generate with the same hooks gives %v", ids, want.Tokens)
	}
	for i, e := range choice["valueexp"].(map[string]any)["tokens"].([]any) {
		sets := e.(map[string]any)["sets"].(map[string]any)
		z := sets["诚信/zh"].(map[string]any)
		if z["active"] != 0.0 || z["mean"] != 0.0 {
			t.Errorf("token %d: deactivated set reads active %v mean %v", i, z["active"], z["mean"])
		}
		if len(z["layers"].([]any)) != f.m.Config.Layers {
			t.Errorf("token %d: %d layer entries", i, len(z["layers"].([]any)))
		}
		if _, ok := sets["友善/zh"]; !ok {
			t.Errorf("token %d: friendliness/zh not reported under its canonical name: %v", i, sets)
		}
	}
}

// TestMonitorFigures compares the first token's figures with a count made
// by a plain observer on a separate forward pass over the prompt.
func TestMonitorFigures(t *testing.T) {
	f := newFixture(t)
	_, hs := f.server(t, Options{}, nil)
	prompt := f.tok.Encode("the friend", tokenizerRaw)
	set, _ := f.sets.Find("富强/zh")
	type fig struct{ active, sum float64 }
	perLayer := map[int]fig{}
	h := hooks.New(f.m.Config.Layers)
	h.Observe("blocks.*.mlp.hook_act", hooks.ObserverFunc(func(p hooks.Point, x hooks.Tensor, _ *hooks.Rows) {
		row := x.Row(x.Rows - 1)
		for _, l := range set.Layers {
			if l.Layer == p.Layer {
				var g fig
				for _, j := range l.Indices {
					if row[j] > 0 {
						g.active++
					}
					g.sum += float64(row[j])
				}
				perLayer[p.Layer] = g
			}
		}
	}))
	if _, err := f.m.Forward(context.Background(), []engine.Input{{Seq: f.m.NewSequence(), Tokens: prompt, Tag: -1}}, engine.RunOptions{Hooks: h}); err != nil {
		t.Fatal(err)
	}
	code, out := post(t, hs.URL+"/v1/completions", jsonBody(map[string]any{"prompt": "the friend", "max_tokens": 1, "temperature": 0,
		"valueexp": map[string]any{"monitor": []string{"富强/zh"}, "monitor_layers": true}}))
	if code != 200 {
		t.Fatalf("status %d: %v", code, out)
	}
	choice := out["choices"].([]any)[0].(map[string]any)
	entries := choice["valueexp"].(map[string]any)["tokens"].([]any)
	if len(entries) != 1 {
		t.Fatalf("%d entries for one token", len(entries))
	}
	got := entries[0].(map[string]any)["sets"].(map[string]any)["富强/zh"].(map[string]any)
	var total fig
	layers := got["layers"].([]any)
	if len(layers) != len(set.Layers) {
		t.Fatalf("%d layer entries, the set has %d layers", len(layers), len(set.Layers))
	}
	for i, l := range set.Layers {
		g := perLayer[l.Layer]
		total.active += g.active
		total.sum += g.sum
		e := layers[i].(map[string]any)
		n := float64(len(l.Indices))
		if e["layer"] != float64(l.Layer) || e["active"] != g.active/n || math.Abs(e["mean"].(float64)-g.sum/n) > 1e-12 {
			t.Errorf("layer entry %v, want layer %d active %v mean %v", e, l.Layer, g.active/n, g.sum/n)
		}
	}
	n := float64(set.Size())
	if got["active"] != total.active/n || math.Abs(got["mean"].(float64)-total.sum/n) > 1e-12 {
		t.Errorf("set figures %v, want active %v mean %v", got, total.active/n, total.sum/n)
	}
}

// TestSameBatch holds the scheduler until a plain and an intervened request
// are both queued, so that they share every forward pass, and checks each
// against its solo run.
func TestSameBatch(t *testing.T) {
	f := newFixture(t)
	gate := make(chan struct{})
	s, hs := f.server(t, Options{}, gate)
	prompt := f.chatPrompt(t, "Tell me a story.")
	sp := engine.Sampling{Temperature: 0.9, Seed: 21}
	reqs := []struct {
		ext  map[string]any
		want engine.Completion
	}{
		{map[string]any{"monitor": []string{"诚信/zh"}}, f.reference(t, prompt, sp, 20, nil, nil, nil)},
		{map[string]any{"deactivate": []string{"诚信"}, "monitor": []string{"诚信/zh"}}, f.reference(t, prompt, sp, 20, nil, []string{"诚信/zh", "诚信/en"}, nil)},
	}
	if slices.Equal(reqs[0].want.Tokens, reqs[1].want.Tokens) {
		t.Fatal("plain and intervened solo runs agree; the test cannot tell them apart")
	}
	got := make([][]int32, len(reqs))
	var wg sync.WaitGroup
	for i, r := range reqs {
		wg.Add(1)
		go func() {
			defer wg.Done()
			code, out := post(t, hs.URL+"/v1/chat/completions", jsonBody(map[string]any{
				"messages":   []map[string]any{{"role": "user", "content": "Tell me a story."}},
				"max_tokens": 20, "temperature": 0.9, "seed": 21, "valueexp": r.ext}))
			if code != 200 {
				t.Errorf("request %d: status %d: %v", i, code, out)
				return
			}
			got[i] = tokenIDs(t, out["choices"].([]any)[0].(map[string]any))
		}()
	}
	waitFor(t, "both requests queued", func() bool { return s.met.queued.Load() == 2 })
	close(gate)
	wg.Wait()
	for i, r := range reqs {
		if !slices.Equal(got[i], r.want.Tokens) {
			t.Errorf("request %d in a shared batch: %v, solo: %v", i, got[i], r.want.Tokens)
		}
	}
	if passes, rows := s.met.steps.Load(), s.met.stepRows.Load(); rows < 2*min(int64(len(reqs[0].want.Tokens)), int64(len(reqs[1].want.Tokens))) {
		t.Errorf("%d rows in %d passes: the requests did not share passes", rows, passes)
	}
}

// TestStopStrings: the text ends before the stop string, like engine.Generate,
// streamed or not, and the stream never sends the stop string.
func TestStopStrings(t *testing.T) {
	f := newFixture(t)
	_, hs := f.server(t, Options{}, nil)
	prompt := f.tok.Encode("Once upon a time", tokenizerRaw)
	sp := engine.Sampling{Temperature: 0.9, Seed: 2}
	free := f.reference(t, prompt, sp, 24, nil, nil, nil)
	if len(free.Text) < 12 {
		t.Fatalf("text %q too short to pick a stop string from", free.Text)
	}
	stop := free.Text[len(free.Text)/2 : len(free.Text)/2+3]
	want := f.reference(t, prompt, sp, 24, []string{stop}, nil, nil)
	if want.Finish != engine.FinishStop || strings.Contains(want.Text, stop) {
		t.Fatalf("reference did not stop at %q: %+v", stop, want)
	}
	body := map[string]any{"prompt": "Once upon a time", "max_tokens": 24, "temperature": 0.9, "seed": 2, "stop": stop}
	code, out := post(t, hs.URL+"/v1/completions", jsonBody(body))
	choice := out["choices"].([]any)[0].(map[string]any)
	if code != 200 || choice["text"] != want.Text || choice["finish_reason"] != "stop" {
		t.Errorf("status %d, text %q finish %v; want %q stop", code, choice["text"], choice["finish_reason"], want.Text)
	}
	body["stream"] = true
	body["stop"] = []string{"never-generated", stop}
	_, chunks, _ := postStream(t, hs.URL+"/v1/completions", jsonBody(body))
	var text strings.Builder
	for _, c := range chunks {
		text.WriteString(c["choices"].([]any)[0].(map[string]any)["text"].(string))
	}
	if text.String() != want.Text {
		t.Errorf("streamed %q, want %q", text.String(), want.Text)
	}
}
