package serve

import (
	"encoding/json"
	"io"
	"net/http"
	"strings"
	"testing"
)

// TestBadInput: every kind of bad request is a 4xx JSON error whose message
// names the problem (and whose param names the field, where there is one).
func TestBadInput(t *testing.T) {
	f := newFixture(t)
	_, hs := f.server(t, Options{APIKey: "sekret", MaxBodyBytes: 4096, MaxTokens: 100}, nil)
	const chat = "/v1/chat/completions"
	msgs := `"messages":[{"role":"user","content":"hi"}]`
	for _, tc := range []struct {
		name, method, path, body string
		auth                     string // "" sends the right key
		code                     int
		param                    string
		words                    []string // the message must contain each
	}{
		{"malformed JSON", "POST", chat, `{"messages": [`, "", 400, "", []string{"malformed JSON"}},
		{"not an object", "POST", chat, `[1,2]`, "", 400, "", []string{"JSON object"}},
		{"empty body", "POST", chat, ``, "", 400, "", []string{"empty"}},
		{"trailing data", "POST", chat, `{` + msgs + `} {}`, "", 400, "", []string{"after the JSON value"}},
		{"messages a string", "POST", chat, `{"messages":"hi"}`, "", 400, "messages", []string{`"messages"`, "array"}},
		{"max_tokens a string", "POST", chat, `{` + msgs + `,"max_tokens":"5"}`, "", 400, "max_tokens", []string{`"max_tokens"`, "integer"}},
		{"temperature a bool", "POST", chat, `{` + msgs + `,"temperature":true}`, "", 400, "temperature", []string{`"temperature"`, "number"}},
		{"deactivate a string", "POST", chat, `{` + msgs + `,"valueexp":{"deactivate":"诚信"}}`, "", 400, "valueexp.deactivate", []string{"valueexp.deactivate", "array"}},
		{"scale factor a string", "POST", chat, `{` + msgs + `,"valueexp":{"scale":{"诚信":"x"}}}`, "", 400, "valueexp.scale", []string{"valueexp.scale", "number"}},
		{"unknown extension field", "POST", chat, `{` + msgs + `,"valueexp":{"deactivte":["诚信"]}}`, "", 400, "valueexp.deactivte", []string{"unknown field", "deactivte"}},
		{"unknown set", "POST", chat, `{` + msgs + `,"valueexp":{"deactivate":["诚信/zh","honesty"]}}`, "", 400, "valueexp.deactivate[1]", []string{"honesty", "available", "诚信/zh", "诚信/en", "友善/zh", "富强/zh"}},
		{"unknown monitored set", "POST", chat, `{` + msgs + `,"valueexp":{"monitor":["Democracy"]}}`, "", 400, "valueexp.monitor[0]", []string{"Democracy", "available: 诚信/zh"}},
		{"unknown scaled set", "POST", chat, `{` + msgs + `,"valueexp":{"scale":{"nope":2}}}`, "", 400, `valueexp.scale["nope"]`, []string{"nope", "available"}},
		{"huge max_tokens", "POST", chat, `{` + msgs + `,"max_tokens":1000000}`, "", 400, "max_tokens", []string{"max_tokens", "1000000", "limit of 100"}},
		{"zero max_tokens", "POST", chat, `{` + msgs + `,"max_tokens":0}`, "", 400, "max_tokens", []string{"max_tokens"}},
		{"huge max_completion_tokens", "POST", chat, `{` + msgs + `,"max_completion_tokens":101}`, "", 400, "max_completion_tokens", []string{"max_completion_tokens"}},
		{"temperature out of range", "POST", chat, `{` + msgs + `,"temperature":7}`, "", 400, "temperature", []string{"temperature"}},
		{"top_p out of range", "POST", chat, `{` + msgs + `,"top_p":1.5}`, "", 400, "top_p", []string{"top_p"}},
		{"n above one", "POST", chat, `{` + msgs + `,"n":2}`, "", 400, "n", []string{"n 2"}},
		{"stop a number", "POST", chat, `{` + msgs + `,"stop":5}`, "", 400, "stop", []string{"stop"}},
		{"bad role", "POST", chat, `{"messages":[{"role":"robot","content":"hi"}]}`, "", 400, "messages[0].role", []string{"robot"}},
		{"no messages", "POST", chat, `{"messages":[]}`, "", 400, "messages", []string{"messages"}},
		{"image content", "POST", chat, `{"messages":[{"role":"user","content":[{"type":"image_url"}]}]}`, "", 400, "messages[0].content", []string{"image_url"}},
		{"top_logprobs without logprobs", "POST", chat, `{` + msgs + `,"top_logprobs":3}`, "", 400, "top_logprobs", []string{"logprobs"}},
		{"unknown model", "POST", chat, `{"model":"gpt-4o",` + msgs + `}`, "", 404, "model", []string{"gpt-4o", "tiny"}},
		{"no prompt", "POST", "/v1/completions", `{"max_tokens":3}`, "", 400, "prompt", []string{"prompt"}},
		{"prompt a number", "POST", "/v1/completions", `{"prompt":5}`, "", 400, "prompt", []string{"prompt"}},
		{"two prompts", "POST", "/v1/completions", `{"prompt":["a","b"]}`, "", 400, "prompt", []string{"one string"}},
		{"oversized body", "POST", chat, `{"messages":[{"role":"user","content":"` + strings.Repeat("x", 5000) + `"}]}`, "", 413, "", []string{"4096 bytes"}},
		{"missing API key", "POST", chat, `{` + msgs + `}`, "none", 401, "", []string{"missing API key", "Authorization"}},
		{"wrong API key", "POST", chat, `{` + msgs + `}`, "Bearer guess", 401, "", []string{"wrong API key"}},
		{"not a bearer token", "GET", "/v1/models", ``, "Basic c2VrcmV0", 401, "", []string{"wrong API key"}},
		{"unknown route", "GET", "/v1/embeddings", ``, "", 404, "", []string{"no route", "/v1/embeddings"}},
		{"wrong method", "GET", chat, ``, "", 405, "", []string{"GET", "POST"}},
		{"wrong method on sets", "DELETE", "/v1/valueexp/sets", ``, "", 405, "", []string{"DELETE"}},
		{"no page", "GET", "/", ``, "", 404, "", []string{"no web page"}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			req, _ := http.NewRequest(tc.method, hs.URL+tc.path, strings.NewReader(tc.body))
			switch tc.auth {
			case "":
				req.Header.Set("Authorization", "Bearer sekret")
			case "none":
			default:
				req.Header.Set("Authorization", tc.auth)
			}
			resp, err := http.DefaultClient.Do(req)
			if err != nil {
				t.Fatal(err)
			}
			defer resp.Body.Close()
			b, _ := io.ReadAll(resp.Body)
			var e struct {
				Error struct {
					Message string  `json:"message"`
					Type    string  `json:"type"`
					Param   *string `json:"param"`
				} `json:"error"`
			}
			if err := json.Unmarshal(b, &e); err != nil {
				t.Fatalf("status %d, body not a JSON error: %s", resp.StatusCode, b)
			}
			if resp.StatusCode != tc.code {
				t.Errorf("status %d, want %d (%s)", resp.StatusCode, tc.code, e.Error.Message)
			}
			for _, w := range tc.words {
				if !strings.Contains(e.Error.Message, w) {
					t.Errorf("message %q does not contain %q", e.Error.Message, w)
				}
			}
			if tc.param != "" && (e.Error.Param == nil || *e.Error.Param != tc.param) {
				t.Errorf("param %v, want %q", e.Error.Param, tc.param)
			}
			if e.Error.Type == "" {
				t.Error("no error type")
			}
		})
	}
}

// TestOpenRoutes: with an API key, the health check stays open and the API
// answers the right key.
func TestOpenRoutes(t *testing.T) {
	f := newFixture(t)
	_, hs := f.server(t, Options{APIKey: "sekret"}, nil)
	resp, err := http.Get(hs.URL + "/health")
	if err != nil {
		t.Fatal(err)
	}
	b, _ := io.ReadAll(resp.Body)
	resp.Body.Close()
	if resp.StatusCode != 200 || strings.TrimSpace(string(b)) != `{"status":"ok"}` {
		t.Errorf("/health: %d %s", resp.StatusCode, b)
	}
	req, _ := http.NewRequest("GET", hs.URL+"/v1/models", nil)
	req.Header.Set("Authorization", "Bearer sekret")
	resp, err = http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	b, _ = io.ReadAll(resp.Body)
	resp.Body.Close()
	want := `{"object":"list","data":[{"id":"tiny","object":"model","created":0,"owned_by":"valueexp"}]}`
	if resp.StatusCode != 200 || strings.TrimSpace(string(b)) != want {
		t.Errorf("/v1/models: %d %s", resp.StatusCode, b)
	}
}
