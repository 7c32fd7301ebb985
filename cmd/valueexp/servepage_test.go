package main

import (
	"bytes"
	"context"
	"io"
	"net/http"
	"path/filepath"
	"strings"
	"testing"
	"time"
)

// TestServeShowsThePage checks that `valueexp serve` serves the embedded
// value-neuron page at / and its files under /static/, open even when an API
// key guards the API.
func TestServeShowsThePage(t *testing.T) {
	dir := t.TempDir()
	model := filepath.Join(dir, "tiny.gguf")
	if code, _, stderr := runCLI(t, "", "synth", "--shape", "tiny", "--dtype", "f32", "--threads", "1", "--out", model); code != 0 {
		t.Fatalf("synth: exit %d: %s", code, stderr)
	}
	var errb bytes.Buffer
	e := &env{stdout: io.Discard, stderr: &errb, stdin: strings.NewReader(""), getenv: func(string) string { return "" }}
	ctx, cancel := context.WithCancel(context.Background())
	addrc := make(chan string, 1)
	done := make(chan error, 1)
	go func() {
		done <- serveUntil(ctx, e, []string{"--model", model, "--addr", "127.0.0.1:0", "--threads", "1", "--api-key", "k"}, func(a string) { addrc <- a })
	}()
	var addr string
	select {
	case addr = <-addrc:
	case err := <-done:
		t.Fatalf("serve ended before listening: %v\n%s", err, errb.String())
	case <-time.After(60 * time.Second):
		t.Fatal("serve did not listen within 60 s")
	}
	defer func() {
		cancel()
		if err := <-done; err != nil {
			t.Errorf("serve: %v\n%s", err, errb.String())
		}
	}()
	for _, c := range []struct{ path, ctype, want string }{
		{"/", "text/html", "Value neurons"},
		{"/static/app.js", "javascript", "v1/chat/completions"},
		{"/static/style.css", "text/css", "font-family"},
	} {
		res, err := http.Get("http://" + addr + c.path)
		if err != nil {
			t.Fatal(err)
		}
		body, _ := io.ReadAll(res.Body)
		res.Body.Close()
		if res.StatusCode != http.StatusOK {
			t.Errorf("GET %s: %s: %s", c.path, res.Status, body)
			continue
		}
		if ct := res.Header.Get("Content-Type"); !strings.Contains(ct, c.ctype) {
			t.Errorf("GET %s: Content-Type %q, want %s", c.path, ct, c.ctype)
		}
		if !bytes.Contains(body, []byte(c.want)) {
			t.Errorf("GET %s: body lacks %q", c.path, c.want)
		}
	}
}
