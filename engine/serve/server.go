// Package serve is an OpenAI-compatible HTTP server for an engine.Model with
// per-request neuron interventions: the chat and completion routes of the
// OpenAI API (streamed as server-sent events or not), continuous batching of
// concurrent requests into shared forward passes, and a "valueexp" request
// extension that deactivates, scales and monitors named neuron sets, each
// request's hooks acting only on its own rows of the packed batch.
//
// A Server is an http.Handler, so an application can mount it in its own
// mux; `valueexp serve` wraps it in a command.
package serve

import (
	"context"
	"crypto/subtle"
	"errors"
	"fmt"
	"io/fs"
	"net/http"
	"strings"
	"sync"
	"time"

	"github.com/valueexploration/valueexp/engine"
	"github.com/valueexploration/valueexp/tokenizer"
)

// Server serves one model. Create it with New; it runs a scheduler goroutine
// until Shutdown or Close.
type Server struct {
	m     *engine.Model
	tok   *tokenizer.Tokenizer
	opts  Options
	cat   *catalogue
	sched *scheduler
	met   *metrics
	mux   *http.ServeMux
	once  sync.Once
}

// New returns a server for model m and its tokenizer. The neuron sets, if
// any, are validated against the model. The caller keeps ownership of m and
// tok and must not close m before the server.
func New(m *engine.Model, tok *tokenizer.Tokenizer, opts Options) (*Server, error) {
	return newServer(m, tok, opts, nil)
}

// newServer is New with a gate: the scheduler takes no job before the gate
// is closed, so that tests can queue requests into one batch.
func newServer(m *engine.Model, tok *tokenizer.Tokenizer, opts Options, gate chan struct{}) (*Server, error) {
	if m == nil || tok == nil {
		return nil, errors.New("serve: New needs a model and its tokenizer")
	}
	if err := m.CheckVocab(tok.VocabSize(), opts.ModelID); err != nil {
		return nil, fmt.Errorf("serve: %w", err)
	}
	opts = opts.withDefaults()
	cat, err := newCatalogue(opts.NeuronSets, m)
	if err != nil {
		return nil, err
	}
	s := &Server{m: m, tok: tok, opts: opts, cat: cat, met: newMetrics(), mux: http.NewServeMux()}
	if s.sched, err = newScheduler(m, tok, cat, opts, s.met, gate); err != nil {
		return nil, fmt.Errorf("serve: %w", err)
	}
	s.routes()
	return s, nil
}

// routes registers every route. Methods are checked by the handlers, so
// that a wrong method is a JSON 405 like every other error.
func (s *Server) routes() {
	s.mux.HandleFunc("/", s.handleRoot)
	s.mux.HandleFunc("/static/", s.method("GET", s.handleStatic))
	s.mux.HandleFunc("/health", s.method("GET", s.handleHealth))
	s.mux.HandleFunc("/metrics", s.method("GET", s.handleMetrics))
	s.mux.HandleFunc("/v1/models", s.method("GET", s.handleModels))
	s.mux.HandleFunc("/v1/valueexp/sets", s.method("GET", s.handleSets))
	s.mux.HandleFunc("/v1/chat/completions", s.method("POST", s.handleChat))
	s.mux.HandleFunc("/v1/completions", s.method("POST", s.handleCompletion))
}

// method refuses other methods than want (GET also allows HEAD).
func (s *Server) method(want string, h http.HandlerFunc) http.HandlerFunc {
	return func(w http.ResponseWriter, r *http.Request) {
		if r.Method != want && !(want == "GET" && r.Method == "HEAD") {
			w.Header().Set("Allow", want)
			writeError(w, statusError(http.StatusMethodNotAllowed, "invalid_request_error", "method %s not allowed on %s; use %s", r.Method, r.URL.Path, want))
			return
		}
		h(w, r)
	}
}

// open reports whether path is served without the API key: the page, its
// files and the health check.
func open(path string) bool {
	return path == "/" || path == "/health" || strings.HasPrefix(path, "/static/")
}

// ServeHTTP checks the API key and routes the request.
func (s *Server) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	rec := &statusRecorder{ResponseWriter: w, code: http.StatusOK}
	_, route := s.mux.Handler(r)
	if route == "" || route == "/" && r.URL.Path != "/" {
		route = "other"
	}
	defer func() { s.met.request(route, rec.code) }()
	if s.opts.APIKey != "" && !open(r.URL.Path) {
		auth := r.Header.Get("Authorization")
		token, ok := strings.CutPrefix(auth, "Bearer ")
		switch {
		case auth == "":
			writeError(rec, statusError(http.StatusUnauthorized, "invalid_request_error", "missing API key: send the header \"Authorization: Bearer KEY\""))
			return
		case !ok || subtle.ConstantTimeCompare([]byte(strings.TrimSpace(token)), []byte(s.opts.APIKey)) != 1:
			writeError(rec, statusError(http.StatusUnauthorized, "invalid_request_error", "wrong API key in the Authorization header"))
			return
		}
	}
	s.mux.ServeHTTP(rec, r)
}

// Shutdown stops taking requests (new ones get a 503), waits for the queued
// and running ones to finish, and cancels those still running when ctx
// ends. It then stops the scheduler; the model stays open.
func (s *Server) Shutdown(ctx context.Context) error {
	s.sched.closeQueue()
	tick := time.NewTicker(10 * time.Millisecond)
	defer tick.Stop()
	var err error
wait:
	for s.met.active.Load()+s.met.queued.Load() > 0 {
		select {
		case <-ctx.Done():
			err = ctx.Err()
			break wait
		case <-tick.C:
		}
	}
	s.once.Do(func() { close(s.sched.quit) })
	<-s.sched.done
	return err
}

// Close cancels every request at once and stops the scheduler.
func (s *Server) Close() error {
	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	if err := s.Shutdown(ctx); err != nil && !errors.Is(err, context.Canceled) {
		return err
	}
	return nil
}

func (s *Server) handleRoot(w http.ResponseWriter, r *http.Request) {
	if r.URL.Path != "/" {
		writeError(w, statusError(http.StatusNotFound, "invalid_request_error", "no route %s %s; the API is under /v1 (chat/completions, completions, models, valueexp/sets), with /health and /metrics", r.Method, r.URL.Path))
		return
	}
	if r.Method != "GET" && r.Method != "HEAD" {
		w.Header().Set("Allow", "GET")
		writeError(w, statusError(http.StatusMethodNotAllowed, "invalid_request_error", "method %s not allowed on /; use GET", r.Method))
		return
	}
	s.servePage(w, r, "index.html")
}

func (s *Server) handleStatic(w http.ResponseWriter, r *http.Request) {
	s.servePage(w, r, strings.TrimPrefix(r.URL.Path, "/"))
}

// servePage serves one file of the page's FS.
func (s *Server) servePage(w http.ResponseWriter, r *http.Request, name string) {
	if s.opts.Page == nil {
		writeError(w, statusError(http.StatusNotFound, "invalid_request_error", "this server has no web page; the API is under /v1"))
		return
	}
	if !fs.ValidPath(name) {
		writeError(w, statusError(http.StatusNotFound, "invalid_request_error", "no file %s", r.URL.Path))
		return
	}
	if st, err := fs.Stat(s.opts.Page, name); err != nil || st.IsDir() {
		writeError(w, statusError(http.StatusNotFound, "invalid_request_error", "no file %s", r.URL.Path))
		return
	}
	http.ServeFileFS(w, r, s.opts.Page, name)
}

func (s *Server) handleHealth(w http.ResponseWriter, _ *http.Request) {
	writeJSON(w, map[string]string{"status": "ok"})
}

func (s *Server) handleMetrics(w http.ResponseWriter, _ *http.Request) {
	w.Header().Set("Content-Type", "text/plain; version=0.0.4; charset=utf-8")
	s.met.write(w)
}

func (s *Server) handleModels(w http.ResponseWriter, _ *http.Request) {
	type model struct {
		ID      string `json:"id"`
		Object  string `json:"object"`
		Created int64  `json:"created"`
		OwnedBy string `json:"owned_by"`
	}
	writeJSON(w, struct {
		Object string  `json:"object"`
		Data   []model `json:"data"`
	}{"list", []model{{s.opts.ModelID, "model", 0, "valueexp"}}})
}

func (s *Server) handleSets(w http.ResponseWriter, _ *http.Request) {
	writeJSON(w, setsResponse{Model: s.opts.ModelID, Layers: s.m.Config.Layers, Sets: s.cat.info})
}

// statusRecorder remembers the status for the metrics and passes Flush on.
type statusRecorder struct {
	http.ResponseWriter
	code    int
	written bool
}

func (r *statusRecorder) WriteHeader(code int) {
	if !r.written {
		r.code, r.written = code, true
	}
	r.ResponseWriter.WriteHeader(code)
}

func (r *statusRecorder) Write(b []byte) (int, error) {
	r.written = true
	return r.ResponseWriter.Write(b)
}

// Flush lets server-sent events through.
func (r *statusRecorder) Flush() {
	if f, ok := r.ResponseWriter.(http.Flusher); ok {
		f.Flush()
	}
}

// Unwrap gives http.ResponseController the underlying writer.
func (r *statusRecorder) Unwrap() http.ResponseWriter { return r.ResponseWriter }
