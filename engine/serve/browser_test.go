package serve_test

import (
	"context"
	"errors"
	"net"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/valueexploration/valueexp/engine"
	"github.com/valueexploration/valueexp/engine/serve"
	"github.com/valueexploration/valueexp/engine/serve/web"
	"github.com/valueexploration/valueexp/hooks"
	"github.com/valueexploration/valueexp/tokenizer"
	"github.com/valueexploration/valueexp/weights/synth"
)

// browserChromium is where Debian's chromium package puts the browser.
const browserChromium = "/usr/bin/chromium"

// TestBrowserPage runs the page's end-to-end test (web/e2e/e2e.mjs) in
// headless Chromium against the real server on a synthetic model. With three
// value sets: the page loads, a Chinese and English prompt streams into both
// answers at once, the tokens are coloured and the colours change with the
// colouring set and when a set is switched off or scaled, a token's tooltip
// lists every set and clicking it draws the layer chart, a server error is
// shown, and Stop ends a long answer. Without a neuron file: the page says so
// and still chats. e2e.mjs lists every check.
//
// It needs /usr/bin/chromium, node and web/e2e/node_modules (.ci/browser
// installs them); without them it skips, unless VALUEEXP_BROWSER_REQUIRED=1,
// as in CI, where it fails. VALUEEXP_SCREENSHOTS=DIR keeps the screenshots.
func TestBrowserPage(t *testing.T) {
	e2e, err := filepath.Abs(filepath.Join("web", "e2e"))
	if err != nil {
		t.Fatal(err)
	}
	node := browserPrereqs(t, e2e)

	dir := t.TempDir()
	modelPath := filepath.Join(dir, "tiny.gguf")
	shape, err := synth.LookupShape("tiny")
	if err == nil {
		shape, err = shape.WithArch("qwen2")
	}
	if err != nil {
		t.Fatal(err)
	}
	if _, err := synth.WriteFile(modelPath, synth.Options{Shape: shape, Mix: synth.MixF32, Seed: 3, Threads: 1}); err != nil {
		t.Fatal(err)
	}
	m, err := engine.Load(modelPath, engine.Options{Threads: 2})
	if err != nil {
		t.Fatal(err)
	}
	// Closed after the servers stop (cleanups run last-in first-out).
	t.Cleanup(func() { m.Close() })
	tok, err := tokenizer.Load(modelPath)
	if err != nil {
		t.Fatal(err)
	}
	if tok.ChatTemplate() == "" {
		t.Fatal("the synthetic model has no chat template, so the chat route the page uses would refuse it")
	}
	// A neuron-set file written and read back the way `valueexp serve
	// --neurons` reads one.
	setsPath := filepath.Join(dir, "sets.json")
	if err := browserSets(m.Shape()).Save(setsPath); err != nil {
		t.Fatal(err)
	}
	sets, err := hooks.LoadNeuronSets(setsPath)
	if err != nil {
		t.Fatal(err)
	}
	shots := os.Getenv("VALUEEXP_SCREENSHOTS")
	if shots == "" {
		shots = t.TempDir()
	} else if shots, err = filepath.Abs(shots); err != nil {
		t.Fatal(err)
	}

	withSets := startBrowserServer(t, m, tok, sets)
	withoutSets := startBrowserServer(t, m, tok, nil)
	ctx, cancel := context.WithTimeout(context.Background(), 8*time.Minute)
	defer cancel()
	cmd := exec.CommandContext(ctx, node, "e2e.mjs", withSets, shots, withoutSets)
	cmd.Dir = e2e
	cmd.Env = append(os.Environ(), "CHROMIUM="+browserChromium)
	cmd.WaitDelay = 10 * time.Second
	out, err := cmd.CombinedOutput()
	t.Logf("e2e.mjs output:\n%s", out)
	if err != nil {
		t.Fatalf("e2e.mjs: %v (screenshots in %s)", err, shots)
	}
	if !strings.Contains(string(out), "all checks passed") {
		t.Fatal("e2e.mjs exited 0 without saying all checks passed")
	}
	t.Logf("screenshots in %s", shots)
}

// startBrowserServer serves the model and the page on a loopback port until
// the test ends, and returns the page's URL.
func startBrowserServer(t *testing.T, m *engine.Model, tok *tokenizer.Tokenizer, sets *hooks.NeuronSetFile) string {
	t.Helper()
	srv, err := serve.New(m, tok, serve.Options{ModelID: "synth-tiny", NeuronSets: sets, Page: web.FS(), Timeout: 2 * time.Minute})
	if err != nil {
		t.Fatal(err)
	}
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		srv.Close()
		t.Fatal(err)
	}
	hs := &http.Server{Handler: srv, ReadHeaderTimeout: 10 * time.Second}
	served := make(chan error, 1)
	go func() { served <- hs.Serve(ln) }()
	t.Cleanup(func() {
		ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
		defer cancel()
		if err := hs.Shutdown(ctx); err != nil {
			t.Errorf("http shutdown: %v", err)
		}
		if err := srv.Shutdown(ctx); err != nil {
			t.Errorf("server shutdown: %v", err)
		}
		if err := <-served; !errors.Is(err, http.ErrServerClosed) {
			t.Errorf("serve: %v", err)
		}
	})
	return "http://" + ln.Addr().String() + "/"
}

// browserPrereqs returns node's path, or skips (fails when
// VALUEEXP_BROWSER_REQUIRED=1) when something the browser test needs is
// missing.
func browserPrereqs(t *testing.T, e2e string) string {
	t.Helper()
	required := os.Getenv("VALUEEXP_BROWSER_REQUIRED") == "1"
	missing := func(what string) {
		msg := what + "; `bash .ci/browser` installs what the browser test needs"
		if required {
			t.Fatal(msg + " (VALUEEXP_BROWSER_REQUIRED=1)")
		}
		t.Skip(msg)
	}
	if testing.Short() && !required {
		t.Skip("the browser test runs a headless Chromium for a minute; skipped with -short")
	}
	if _, err := os.Stat(browserChromium); err != nil {
		missing(browserChromium + " is absent")
	}
	node, err := exec.LookPath("node")
	if err != nil {
		missing("node is not on PATH")
	}
	if _, err := os.Stat(filepath.Join(e2e, "node_modules", "playwright-core", "package.json")); err != nil {
		missing("playwright-core is not installed in " + e2e + " (npm ci there)")
	}
	return node
}

// browserSets makes three value sets on the model's FFN activations, spread
// over its layers so the chart has bars, with names the server describes as
// values (诚信 integrity, 友善 friendliness) in two languages.
func browserSets(shape hooks.ModelShape) *hooks.NeuronSetFile {
	pick := func(layers []int, n, stride, offset int) []hooks.LayerIndices {
		var out []hooks.LayerIndices
		for _, l := range layers {
			var idx []int32
			for i := 0; i < n; i++ {
				idx = append(idx, int32((offset+l*7+i*stride)%shape.DMLP))
			}
			slices.Sort(idx)
			out = append(out, hooks.LayerIndices{Layer: l, Indices: slices.Compact(idx)})
		}
		return out
	}
	all := make([]int, shape.Layers)
	for i := range all {
		all[i] = i
	}
	return &hooks.NeuronSetFile{
		Format: hooks.NeuronSetsFormat, Version: hooks.NeuronSetsVersion, Model: &shape,
		NeuronSets: []hooks.NeuronSet{
			{Name: "诚信/zh", Site: "mlp.hook_act", Layers: pick(all, 48, 5, 1)},
			{Name: "友善/zh", Site: "mlp.hook_act", Layers: pick([]int{1, 2}, 32, 11, 2)},
			{Name: "诚信/en", Site: "mlp.hook_act", Layers: pick([]int{0, shape.Layers - 1}, 24, 3, 5)},
		},
	}
}
