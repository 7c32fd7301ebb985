package main

import (
	"bytes"
	"context"
	"encoding/json"
	"io"
	"net/http"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// lockedBuffer is a bytes.Buffer safe for the server goroutine and the test.
type lockedBuffer struct {
	mu sync.Mutex
	b  bytes.Buffer
}

func (l *lockedBuffer) Write(p []byte) (int, error) {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.b.Write(p)
}

func (l *lockedBuffer) String() string {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.b.String()
}

// startServe runs `valueexp serve` in-process on a free loopback port and
// returns its base URL and a function that stops it (as SIGTERM does) and
// returns its error and stderr.
func startServe(t *testing.T, getenv func(string) string, args ...string) (url string, stop func() (error, string)) {
	t.Helper()
	var stderr lockedBuffer
	e := &env{stdout: io.Discard, stderr: &stderr, stdin: strings.NewReader(""), getenv: getenv}
	ctx, cancel := context.WithCancel(context.Background())
	ready := make(chan string, 1)
	done := make(chan error, 1)
	go func() {
		done <- withModelRefs(e, func(e *env, args []string) error {
			return serveUntil(ctx, e, args, func(addr string) { ready <- addr })
		}, append(args, "--addr", "127.0.0.1:0"))
	}()
	select {
	case addr := <-ready:
		url = "http://" + addr
	case err := <-done:
		cancel()
		t.Fatalf("serve ended before listening: %v\n%s", err, stderr.String())
	}
	var once sync.Once
	var err error
	stop = func() (error, string) {
		once.Do(func() { cancel(); err = <-done })
		return err, stderr.String()
	}
	t.Cleanup(func() { stop() })
	return url, stop
}

func postJSON(t *testing.T, url string, body any) (int, map[string]any) {
	t.Helper()
	b, err := json.Marshal(body)
	require.NoError(t, err)
	resp, err := http.Post(url, "application/json", bytes.NewReader(b))
	require.NoError(t, err)
	defer resp.Body.Close()
	var out map[string]any
	require.NoError(t, json.NewDecoder(resp.Body).Decode(&out))
	return resp.StatusCode, out
}

// TestServeMatchesGenerate: a request that deactivates or scales a set
// returns exactly the text `valueexp generate --neurons F --deactivate S`
// (or --scale) prints with the same settings, for a chat (the synth model's
// ChatML template) and for a raw prompt.
func TestServeMatchesGenerate(t *testing.T) {
	model := synthModel(t)
	sets := writeFile(t, "n.json", tinyNeuronSets)
	url, stop := startServe(t, func(string) string { return "" }, "--model", model, "--neurons", sets)

	code, stdout, stderr := runCLI(t, "", "generate", "--model", model, "--neurons", sets, "--deactivate", "Prosperity",
		"--chat", "--prompt", "Should Lily return the wallet?", "--temp", "0.8", "--top-p", "0.95", "--seed", "3", "-n", "12")
	require.Equal(t, 0, code, stderr)
	status, out := postJSON(t, url+"/v1/chat/completions", map[string]any{
		"messages":   []map[string]string{{"role": "user", "content": "Should Lily return the wallet?"}},
		"max_tokens": 12, "temperature": 0.8, "top_p": 0.95, "seed": 3,
		"valueexp": map[string]any{"deactivate": []string{"Prosperity"}}})
	require.Equal(t, 200, status, out)
	msg := out["choices"].([]any)[0].(map[string]any)["message"].(map[string]any)
	assert.Equal(t, strings.TrimSuffix(stdout, "\n"), msg["content"], "chat with Prosperity deactivated")

	code, stdout, stderr = runCLI(t, "", "generate", "--model", model, "--neurons", sets, "--scale", "诚信/en=4",
		"--prompt", "Once upon a time", "--temp", "0.5", "--seed", "8", "-n", "10")
	require.Equal(t, 0, code, stderr)
	status, out = postJSON(t, url+"/v1/completions", map[string]any{"prompt": "Once upon a time", "max_tokens": 10,
		"temperature": 0.5, "seed": 8, "valueexp": map[string]any{"scale": map[string]float64{"Integrity/en": 4}}})
	require.Equal(t, 200, status, out)
	assert.Equal(t, strings.TrimSuffix(stdout, "\n"), out["choices"].([]any)[0].(map[string]any)["text"], "completion with Integrity/en scaled")

	err, log := stop()
	assert.NoError(t, err)
	assert.Contains(t, log, "serving tiny on http://127.0.0.1:")
	assert.Contains(t, log, "shutting down")
}

// TestServeHFModelRef: serve takes hf:ORG/NAME from the Hugging Face cache
// and names the model ORG/NAME; the API key comes from VALUEEXP_API_KEY.
func TestServeHFModelRef(t *testing.T) {
	model := synthModel(t)
	home := t.TempDir()
	snap := filepath.Join(home, "hub", "models--org--tiny-GGUF", "snapshots", "0123456789abcdef0123456789abcdef01234567")
	require.NoError(t, os.MkdirAll(snap, 0o755))
	b, err := os.ReadFile(model)
	require.NoError(t, err)
	require.NoError(t, os.WriteFile(filepath.Join(snap, "tiny.gguf"), b, 0o644))
	require.NoError(t, os.MkdirAll(filepath.Join(home, "hub", "models--org--tiny-GGUF", "refs"), 0o755))
	require.NoError(t, os.WriteFile(filepath.Join(home, "hub", "models--org--tiny-GGUF", "refs", "main"), []byte(filepath.Base(snap)), 0o644))
	vars := map[string]string{"HF_HOME": home, "VALUEEXP_API_KEY": "k1"}
	url, _ := startServe(t, func(k string) string { return vars[k] }, "--model", "hf:org/tiny-GGUF")

	req, _ := http.NewRequest("GET", url+"/v1/models", nil)
	resp, err := http.DefaultClient.Do(req)
	require.NoError(t, err)
	resp.Body.Close()
	assert.Equal(t, 401, resp.StatusCode, "no key")
	req.Header.Set("Authorization", "Bearer k1")
	resp, err = http.DefaultClient.Do(req)
	require.NoError(t, err)
	var list struct {
		Data []struct{ ID string }
	}
	require.NoError(t, json.NewDecoder(resp.Body).Decode(&list))
	resp.Body.Close()
	require.Len(t, list.Data, 1)
	assert.Equal(t, "org/tiny-GGUF", list.Data[0].ID)
}

// TestServeFlagErrors: bad flags are usage errors naming the flag.
func TestServeFlagErrors(t *testing.T) {
	for _, tc := range []struct {
		args []string
		want string
	}{
		{[]string{"serve"}, "--model is required"},
		{[]string{"serve", "--model", "m.gguf", "--batch", "0"}, "--batch"},
		{[]string{"serve", "--model", "m.gguf", "--max-tokens", "-1"}, "--max-tokens"},
		{[]string{"serve", "--model", "m.gguf", "--queue", "0"}, "--queue"},
	} {
		code, _, stderr := runCLI(t, "", tc.args...)
		assert.Equal(t, 2, code, tc.args)
		assert.Contains(t, stderr, tc.want, tc.args)
	}
}
