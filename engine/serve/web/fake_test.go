package web_test

import (
	"encoding/json"
	"fmt"
	"hash/fnv"
	"io/fs"
	"math"
	"net"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/valueexploration/valueexp/engine/serve/web"
)

// fakeSet is a value set of the fake server.
type fakeSet struct {
	Name    string `json:"name"`
	Value   string `json:"value"`
	English string `json:"english"`
	Lang    string `json:"lang"`
	Neurons int    `json:"neurons"`
	Layers  []int  `json:"layers"`
}

var fakeSets = []fakeSet{
	{"诚信/zh", "诚信", "integrity", "zh", 192, []int{1, 3, 4, 6}},
	{"诚信/en", "诚信", "integrity", "en", 160, []int{0, 2, 5}},
	{"友善/zh", "友善", "friendliness", "zh", 128, []int{2, 3, 7}},
	{"友善/en", "友善", "friendliness", "en", 96, []int{0, 1, 2, 3, 4, 5, 6, 7}},
}

var fakeWords = []string{"有", "人", "捡到", "钱包", "，", "应该", "交给", "警察", "。", " Honesty", " matters", ",", " and", " kindness", " too", ".", "\n"}

// fakeHandler serves the HTTP contract of engine/serve (the routes the page
// uses) from made-up figures, so the page can be tried without a model.
// Deactivated sets read 0 active; scaled ones are multiplied.
func fakeHandler(t testing.TB) http.Handler {
	mux := http.NewServeMux()
	writeErr := func(w http.ResponseWriter, code int, param, msg string) {
		w.Header().Set("Content-Type", "application/json")
		w.WriteHeader(code)
		json.NewEncoder(w).Encode(map[string]any{"error": map[string]any{"message": msg, "type": "invalid_request_error", "param": param, "code": nil}})
	}
	mux.HandleFunc("GET /{$}", func(w http.ResponseWriter, r *http.Request) {
		http.ServeFileFS(w, r, web.FS(), "index.html")
	})
	static, _ := fs.Sub(web.FS(), "static")
	mux.Handle("GET /static/", http.StripPrefix("/static/", http.FileServerFS(static)))
	mux.HandleFunc("GET /v1/valueexp/sets", func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Content-Type", "application/json")
		json.NewEncoder(w).Encode(map[string]any{"model": "fake-synth", "layers": 8, "sets": fakeSets})
	})
	mux.HandleFunc("POST /v1/chat/completions", func(w http.ResponseWriter, r *http.Request) {
		var req struct {
			Messages  []map[string]string `json:"messages"`
			MaxTokens int                 `json:"max_tokens"`
			Seed      int                 `json:"seed"`
			Stream    bool                `json:"stream"`
			Valueexp  struct {
				Deactivate    []string           `json:"deactivate"`
				Scale         map[string]float64 `json:"scale"`
				Monitor       []string           `json:"monitor"`
				MonitorLayers bool               `json:"monitor_layers"`
			} `json:"valueexp"`
		}
		if err := json.NewDecoder(r.Body).Decode(&req); err != nil {
			writeErr(w, 400, "", "request body is not valid JSON: "+err.Error())
			return
		}
		if !req.Stream {
			writeErr(w, 400, "stream", "the fake server only streams")
			return
		}
		factor := map[string]float64{}
		for _, n := range req.Valueexp.Deactivate {
			factor[n] = 0
		}
		for n, f := range req.Valueexp.Scale {
			factor[n] = f
		}
		for n := range factor {
			if !knownSet(n) {
				writeErr(w, 400, "valueexp", fmt.Sprintf("unknown value set %q", n))
				return
			}
		}
		w.Header().Set("Content-Type", "text/event-stream")
		fl, _ := w.(http.Flusher)
		n := min(max(req.MaxTokens, 1), 200)
		edited := len(factor) > 0
		for i := 0; i < n; i++ {
			word := fakeWords[(i+req.Seed)%len(fakeWords)]
			if edited && i%5 == 4 {
				word = " (edited)"
			}
			entry := map[string]any{"id": 100 + i, "text": word}
			sets := map[string]any{}
			for _, name := range req.Valueexp.Monitor {
				var s fakeSet
				for _, c := range fakeSets {
					if c.Name == name {
						s = c
					}
				}
				f, ok := factor[name]
				if !ok {
					f = 1
				}
				act := func(layer int) float64 {
					h := fnv.New32a()
					fmt.Fprintf(h, "%s/%d/%d/%d", name, i, layer, req.Seed)
					v := float64(h.Sum32()%1000) / 1000
					if f == 0 {
						return 0
					}
					return math.Min(1, v*math.Max(f, 0))
				}
				var tot float64
				var layers []map[string]any
				for _, l := range s.Layers {
					a := act(l)
					tot += a
					layers = append(layers, map[string]any{"layer": l, "active": a, "mean": a * 0.05 * f})
				}
				fig := map[string]any{"active": tot / float64(len(s.Layers)), "mean": tot / float64(len(s.Layers)) * 0.05 * f}
				if req.Valueexp.MonitorLayers {
					fig["layers"] = layers
				}
				sets[name] = fig
			}
			if len(sets) > 0 {
				entry["sets"] = sets
			}
			chunk := map[string]any{"id": "chatcmpl-fake", "object": "chat.completion.chunk", "created": 0, "model": "fake-synth",
				"choices": []any{map[string]any{"index": 0, "delta": map[string]any{"content": word}, "finish_reason": nil,
					"valueexp": map[string]any{"tokens": []any{entry}}}}}
			b, _ := json.Marshal(chunk)
			if _, err := fmt.Fprintf(w, "data: %s\n\n", b); err != nil {
				return
			}
			if fl != nil {
				fl.Flush()
			}
			select {
			case <-r.Context().Done():
				return
			case <-time.After(25 * time.Millisecond):
			}
		}
		fmt.Fprintf(w, "data: {\"id\":\"chatcmpl-fake\",\"object\":\"chat.completion.chunk\",\"choices\":[{\"index\":0,\"delta\":{},\"finish_reason\":\"length\"}]}\n\ndata: [DONE]\n\n")
	})
	return mux
}

func knownSet(name string) bool {
	for _, s := range fakeSets {
		if s.Name == name {
			return true
		}
	}
	return false
}

// TestPageAgainstFakeServer is a tool for working on the page, not part of
// the suite: with VALUEEXP_WEB_FAKE=1 it serves the page from a fake server
// and runs the browser test against it (VALUEEXP_SCREENSHOTS=DIR keeps the
// screenshots); with VALUEEXP_WEB_FAKE=serve:ADDR it serves until killed, for
// a look in a browser. engine/serve's browser test runs the page against the
// real server.
func TestPageAgainstFakeServer(t *testing.T) {
	mode := os.Getenv("VALUEEXP_WEB_FAKE")
	if mode == "" {
		t.Skip("set VALUEEXP_WEB_FAKE=1 to run the page against a fake server in Chromium")
	}
	if addr, ok := strings.CutPrefix(mode, "serve:"); ok {
		t.Logf("serving the page on http://%s/", addr)
		t.Fatal(http.ListenAndServe(addr, fakeHandler(t)))
	}
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	srv := &http.Server{Handler: fakeHandler(t)}
	go srv.Serve(ln)
	defer srv.Close()
	shots := os.Getenv("VALUEEXP_SCREENSHOTS")
	if shots == "" {
		shots = t.TempDir()
	}
	cmd := exec.Command("node", filepath.Join("e2e", "e2e.mjs"), "http://"+ln.Addr().String()+"/", shots)
	out, err := cmd.CombinedOutput()
	t.Logf("%s", out)
	if err != nil {
		t.Fatalf("e2e.mjs: %v", err)
	}
}
