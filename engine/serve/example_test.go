package serve_test

import (
	"context"
	"fmt"
	"io"
	"log"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"strings"
	"time"

	"github.com/valueexploration/valueexp/engine"
	"github.com/valueexploration/valueexp/engine/serve"
	"github.com/valueexploration/valueexp/tokenizer"
	"github.com/valueexploration/valueexp/weights/synth"
)

// Mounting the server in an application's own mux, under /llm/: the
// application keeps its routes, and the OpenAI API answers at
// /llm/v1/chat/completions.
func Example_mount() {
	dir, err := os.MkdirTemp("", "serve-example")
	if err != nil {
		log.Fatal(err)
	}
	defer os.RemoveAll(dir)
	shape, _ := synth.LookupShape("tiny")
	shape, _ = shape.WithArch("qwen2")
	path := filepath.Join(dir, "tiny.gguf")
	if _, err := synth.WriteFile(path, synth.Options{Shape: shape, Mix: synth.MixF16, Seed: 1}); err != nil {
		log.Fatal(err)
	}
	m, err := engine.Load(path, engine.Options{Threads: 2})
	if err != nil {
		log.Fatal(err)
	}
	defer m.Close()
	tok, err := tokenizer.Load(path)
	if err != nil {
		log.Fatal(err)
	}

	llm, err := serve.New(m, tok, serve.Options{ModelID: "tiny", MaxTokens: 256, Timeout: time.Minute})
	if err != nil {
		log.Fatal(err)
	}
	mux := http.NewServeMux()
	mux.HandleFunc("/hello", func(w http.ResponseWriter, _ *http.Request) { fmt.Fprintln(w, "the application's own route") })
	mux.Handle("/llm/", http.StripPrefix("/llm", llm))
	app := httptest.NewServer(mux) // an application would use http.ListenAndServe
	defer app.Close()
	defer llm.Shutdown(context.Background()) // let running requests finish

	resp, err := http.Post(app.URL+"/llm/v1/chat/completions", "application/json", strings.NewReader(
		`{"model": "tiny", "messages": [{"role": "user", "content": "Hello"}], "max_tokens": 4, "temperature": 0}`))
	if err != nil {
		log.Fatal(err)
	}
	body, _ := io.ReadAll(resp.Body)
	resp.Body.Close()
	fmt.Println(resp.Status, strings.Contains(string(body), `"object":"chat.completion"`))
	resp, err = http.Get(app.URL + "/hello")
	if err != nil {
		log.Fatal(err)
	}
	body, _ = io.ReadAll(resp.Body)
	resp.Body.Close()
	fmt.Print(string(body))
	// Output:
	// 200 OK true
	// the application's own route
}
