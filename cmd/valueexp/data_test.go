package main

import (
	"bytes"
	"encoding/json"
	"os"
	"path/filepath"
	"regexp"
	"slices"
	"strings"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/valueexploration/valueexp/valueexp/cvoice"
	"github.com/valueexploration/valueexp/valueexp/cvoice/sample"
)

// schemaFields returns the JSON field names cvoice writes, taken from
// items that use every field, so the documentation is checked against the
// code's own output.
func schemaFields(t *testing.T) []string {
	t.Helper()
	d, err := sample.Load()
	require.NoError(t, err)
	items := d.FirstN(1).Items()
	it := items[0]
	it.ID, it.Split, it.Rationale, it.NoRationale, it.Source = "x-1", cvoice.Activation, "", true, "a workbook"
	items = append(items, it)
	var buf bytes.Buffer
	require.NoError(t, cvoice.WriteJSONL(&buf, items))
	seen := map[string]bool{}
	for _, line := range strings.Split(strings.TrimSpace(buf.String()), "\n") {
		var m map[string]any
		require.NoError(t, json.Unmarshal([]byte(line), &m))
		for k := range m {
			seen[k] = true
		}
	}
	var out []string
	for k := range seen {
		out = append(out, k)
	}
	slices.Sort(out)
	return out
}

// TestDataSchemaDocumented checks that the README's table and import --help
// list exactly the fields cvoice reads and writes.
func TestDataSchemaDocumented(t *testing.T) {
	want := schemaFields(t)
	require.Len(t, want, 11)
	readme, err := os.ReadFile(filepath.Join("..", "..", "README.md"))
	require.NoError(t, err)
	var inReadme []string
	for _, m := range regexp.MustCompile("(?m)^\\| `([a-z_]+)` \\| ").FindAllStringSubmatch(string(readme), -1) {
		inReadme = append(inReadme, m[1])
	}
	slices.Sort(inReadme)
	assert.Equal(t, want, inReadme, "README's data table")

	code, stdout, stderr := runCLI(t, "", "import", "--help")
	require.Equal(t, 0, code, stderr)
	var inHelp []string
	for _, m := range regexp.MustCompile(`(?m)^  ([a-z_]+) +(yes|no|activation) `).FindAllStringSubmatch(stdout, -1) {
		inHelp = append(inHelp, m[1])
	}
	slices.Sort(inHelp)
	assert.Equal(t, want, inHelp, "import --help's table")
	for _, v := range cvoice.Values() {
		assert.Contains(t, stdout, v.Chinese+" "+v.English)
		assert.Contains(t, string(readme), v.Chinese+" "+v.English)
	}
}

// TestSampleTemplate writes the sample, reads it back as a data set and
// has record accept it; a copy with one value's activation items removed
// is refused by record before the model is loaded, naming the value.
func TestSampleTemplate(t *testing.T) {
	dir := t.TempDir()
	full := filepath.Join(dir, "sample.jsonl")
	code, _, stderr := runCLI(t, "", "sample", "--out", full, "--lang", "en")
	require.Equal(t, 0, code, stderr)
	assert.Contains(t, stderr, "240 items (144 activation, 96 evaluation)")
	d, err := cvoice.LoadJSONL(full)
	require.NoError(t, err)
	assert.Equal(t, 240, d.Len())
	assert.Equal(t, 240, d.OfLanguage(cvoice.LangEnglish).Len())

	// Writing over it needs --force.
	code, _, stderr = runCLI(t, "", "sample", "--out", full)
	assert.Equal(t, 1, code)
	assert.Contains(t, stderr, "exists; use --force")
	both := filepath.Join(dir, "both.jsonl")
	code, _, stderr = runCLI(t, "", "sample", "--out", both)
	require.Equal(t, 0, code, stderr)
	assert.Contains(t, stderr, "480 items")

	// record --data reads the template; the model is written only now, so
	// a refusal below cannot be blamed on it.
	model := synthModel(t)
	counts := filepath.Join(dir, "counts.safetensors")
	code, _, stderr = runCLI(t, "", "record", "--model", model, "--data", full, "--lang", "en", "--out", counts)
	require.Equal(t, 0, code, stderr)
	assert.Contains(t, stderr, "144 items")

	// Without Prosperity's activation items.
	var kept []string
	b, err := os.ReadFile(full)
	require.NoError(t, err)
	for _, line := range strings.Split(strings.TrimSpace(string(b)), "\n") {
		if !strings.Contains(line, `"value":"Prosperity","language":"en","split":"activation"`) {
			kept = append(kept, line)
		}
	}
	require.Len(t, kept, 240-12)
	subset := writeFile(t, "subset.jsonl", strings.Join(kept, "\n")+"\n")
	checkMistakes(t, []mistake{
		{name: "record refuses a subset of values", args: []string{"record", "--model", model, "--data", subset, "--lang", "en", "--out", filepath.Join(dir, "c2.safetensors")}, code: 1,
			stderr: []string{"en: none for 富强 Prosperity", "all 12 values"}},
		{name: "record --lang both on English data", args: []string{"record", "--model", model, "--data", full, "--out", filepath.Join(dir, "c3.safetensors")}, code: 1,
			stderr: []string{"zh: no activation items at all", "--lang en"}},
		{name: "evaluate takes a subset", args: []string{"evaluate", "--model", model, "--data", subset, "--lang", "en", "--max-items", "1", "--out", filepath.Join(dir, "r.json")}, code: 0,
			stderr: []string{"12 cells"}},
	})
	_, err = os.Stat(filepath.Join(dir, "c2.safetensors"))
	assert.True(t, os.IsNotExist(err), "a refused record wrote its output")
}
