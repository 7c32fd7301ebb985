package main

import (
	"context"
	"errors"
	"fmt"
	"github.com/valueexploration/valueexp/engine"
	"net"
	"net/http"
	"os"
	"os/signal"
	"path/filepath"
	"strings"
	"syscall"
	"time"

	"github.com/valueexploration/valueexp/engine/serve"
	"github.com/valueexploration/valueexp/engine/serve/web"
	"github.com/valueexploration/valueexp/hooks"
)

const serveHelp = `Serves the model over HTTP with the OpenAI API (POST /v1/chat/completions and
/v1/completions, streamed or not; GET /v1/models), plus GET /health, GET /metrics
(Prometheus text) and GET /v1/valueexp/sets (the sets of --neurons). Concurrent
requests share forward passes (continuous batching). A request may switch neuron
sets off, scale them and watch them per token with a "valueexp" object:

  "valueexp": {"deactivate": ["诚信/zh"], "scale": {"友善/zh": 2.0},
               "monitor": ["诚信/zh"], "monitor_layers": true}

Set names resolve as for generate --deactivate. The server listens on loopback
unless --addr says otherwise; --api-key (or VALUEEXP_API_KEY) makes every API
route require "Authorization: Bearer KEY". SIGINT or SIGTERM stops it gracefully:
new requests get 503, running ones finish within --grace, then are cancelled.`

func runServe(e *env, args []string) error {
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()
	return serveUntil(ctx, e, args, nil)
}

// serveUntil runs the server until ctx ends, then shuts it down. ready, if
// set, gets the address it listens on (tests listen on port 0).
func serveUntil(ctx context.Context, e *env, args []string, ready func(addr string)) error {
	fs := newFlags(e, "serve", "--model PATH [--neurons FILE] [--addr 127.0.0.1:8080] [--api-key KEY] [--threads N] [--no-mmap] [--model-id NAME] [--max-tokens N] [--batch N] [--queue N] [--timeout D] [--max-body BYTES] [--grace D]\n\n"+serveHelp)
	model := fs.String("model", "", "model `PATH`: a .gguf file, a .safetensors file, a Hugging Face folder or hf:ORG/NAME")
	neurons := fs.String("neurons", "", "neuron-set `FILE` whose sets requests may deactivate, scale and monitor")
	addr := fs.String("addr", "127.0.0.1:8080", "listen `ADDRESS` (host:port)")
	apiKey := fs.String("api-key", "", "bearer `KEY` the API routes require (default $VALUEEXP_API_KEY)")
	threads := fs.Int("threads", 0, "worker threads (0: all cores)")
	noMmap := fs.Bool("no-mmap", false, noMmapUsage)
	modelID := fs.String("model-id", "", "model `NAME` in /v1/models and responses (default: from --model)")
	maxTokens := fs.Int("max-tokens", 4096, "largest max_tokens a request may ask for")
	batch := fs.Int("batch", 16, "most sequences decoded together")
	queue := fs.Int("queue", 64, "most requests waiting for a batch slot (then 429)")
	timeout := fs.Duration("timeout", 5*time.Minute, "per-request time limit")
	maxBody := fs.Int("max-body", 1<<20, "largest request body in bytes (then 413)")
	grace := fs.Duration("grace", 30*time.Second, "on SIGINT/SIGTERM, time running requests get to finish")
	fs.alias("t", "threads")
	fs.alias("n", "max-tokens")
	if err := parseFlags(fs, args, false); err != nil {
		return err
	}
	if *model == "" {
		return usageErr("--model is required")
	}
	switch {
	case *maxTokens <= 0:
		return usageErr("--max-tokens must be positive, got %d", *maxTokens)
	case *batch <= 0:
		return usageErr("--batch must be positive, got %d", *batch)
	case *queue <= 0:
		return usageErr("--queue must be positive, got %d", *queue)
	case *maxBody <= 0:
		return usageErr("--max-body must be positive, got %d", *maxBody)
	case *timeout < 0 || *grace < 0:
		return usageErr("--timeout and --grace must not be negative")
	}
	if *apiKey == "" {
		*apiKey = e.getenv("VALUEEXP_API_KEY")
	}
	var sets *hooks.NeuronSetFile
	if *neurons != "" {
		var err error
		if sets, err = hooks.LoadNeuronSets(*neurons); err != nil {
			return err
		}
	}
	m, tok, err := loadModelAndTokenizerOpts(*model, engine.Options{Threads: *threads, InMemory: *noMmap})
	if err != nil {
		return err
	}
	defer m.Close()
	if *modelID == "" {
		*modelID = modelName(*model)
	}
	srv, err := serve.New(m, tok, serve.Options{
		ModelID: *modelID, NeuronSets: sets, APIKey: *apiKey, MaxBodyBytes: int64(*maxBody),
		MaxTokens: *maxTokens, QueueSize: *queue, BatchSize: *batch, Timeout: *timeout,
		Page: web.FS(),
	})
	if err != nil {
		if *neurons != "" {
			return fmt.Errorf("%s: %w", *neurons, err)
		}
		return err
	}
	ln, err := net.Listen("tcp", *addr)
	if err != nil {
		srv.Close()
		return fmt.Errorf("--addr %s: %w", *addr, err)
	}
	if !isLoopback(ln.Addr()) && *apiKey == "" {
		fmt.Fprintf(e.stderr, "warning: listening on %s, reachable from other machines, without --api-key\n", ln.Addr())
	}
	hs := &http.Server{Handler: srv, ReadHeaderTimeout: 10 * time.Second, IdleTimeout: 2 * time.Minute}
	served := make(chan error, 1)
	go func() { served <- hs.Serve(ln) }()
	fmt.Fprintf(e.stderr, "serving %s on http://%s (OpenAI API under /v1; Ctrl-C stops)\n", *modelID, ln.Addr())
	if ready != nil {
		ready(ln.Addr().String())
	}
	select {
	case err := <-served:
		srv.Close()
		return err
	case <-ctx.Done():
	}
	fmt.Fprintf(e.stderr, "shutting down: waiting up to %v for running requests\n", *grace)
	sctx, cancel := context.WithTimeout(context.Background(), *grace)
	defer cancel()
	if err := srv.Shutdown(sctx); err != nil {
		fmt.Fprintln(e.stderr, "grace period over: running requests were cancelled")
	}
	// The handlers have their answers now; let them write them.
	hctx, hcancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer hcancel()
	if err := hs.Shutdown(hctx); err != nil && !errors.Is(err, context.DeadlineExceeded) {
		return err
	}
	return nil
}

// modelName derives a model id from a path: ORG/NAME for a Hugging Face
// cache snapshot, otherwise the file or folder name without .gguf.
func modelName(path string) string {
	clean := filepath.Clean(path)
	for p := clean; p != filepath.Dir(p); p = filepath.Dir(p) {
		if b := filepath.Base(p); strings.HasPrefix(b, "models--") {
			return strings.ReplaceAll(strings.TrimPrefix(b, "models--"), "--", "/")
		}
	}
	return strings.TrimSuffix(filepath.Base(clean), ".gguf")
}

func isLoopback(a net.Addr) bool {
	ta, ok := a.(*net.TCPAddr)
	return ok && ta.IP.IsLoopback()
}
