package main

import (
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/valueexploration/valueexp/valueexp/cvoice"
)

// TestTokenizeJSONLLineLimit: tokenize --jsonl takes lines up to the limit
// that import, record and evaluate use (cvoice.MaxLineBytes) and refuses a
// longer one naming its line, instead of the 256 MiB it used to accept.
func TestTokenizeJSONLLineLimit(t *testing.T) {
	model := synthModel(t)
	dir := t.TempDir()
	line := func(n int) string { return `{"text": "` + strings.Repeat("a", n) + `"}` + "\n" }
	under := line(cvoice.MaxLineBytes - 64)
	over := line(cvoice.MaxLineBytes + 1)

	ok := filepath.Join(dir, "ok.jsonl")
	require.NoError(t, os.WriteFile(ok, []byte(`{"text": "hi"}`+"\n"+under), 0o644))
	code, _, stderr := runCLI(t, "", "tokenize", "--model", model, "--jsonl", ok)
	require.Equal(t, 0, code, stderr)

	bad := filepath.Join(dir, "bad.jsonl")
	require.NoError(t, os.WriteFile(bad, []byte(`{"text": "hi"}`+"\n"+over), 0o644))
	code, _, stderr = runCLI(t, "", "tokenize", "--model", model, "--jsonl", bad)
	assert.Equal(t, 1, code)
	assert.Contains(t, stderr, bad+":2: line longer than")
}
