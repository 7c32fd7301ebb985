package main

import (
	"encoding/json"
	"os"
	"path/filepath"
	"testing"

	"github.com/stretchr/testify/require"
)

// TestReportUsesResultsOwnInputs runs evaluate, then report: the results'
// items carry value and language, so the report has intervals although the
// data the results name cannot be found and no --data is given; and the
// results' job names the sha256 of the neuron file, so a neuron file with
// the same sets but other bytes is refused unless --force.
func TestReportUsesResultsOwnInputs(t *testing.T) {
	model := synthModel(t)
	sets := writeFile(t, "n.json", tinyNeuronSets)
	dir := t.TempDir()
	out := filepath.Join(dir, "results.json")
	code, _, stderr := runCLI(t, "", "evaluate", "--model", model, "--neurons", sets, "--deactivate", "Prosperity",
		"--lang", "en", "--max-items", "2", "--no-random-control", "--out", out)
	require.Equal(t, 0, code, stderr)

	// Point the results at data that is gone: only the items' own fields
	// can place them in their cells.
	b, err := os.ReadFile(out)
	require.NoError(t, err)
	var raw map[string]any
	require.NoError(t, json.Unmarshal(b, &raw))
	raw["data"] = filepath.Join(dir, "gone.jsonl")
	b, err = json.Marshal(raw)
	require.NoError(t, err)
	require.NoError(t, os.WriteFile(out, b, 0o644))

	rep := filepath.Join(dir, "rep")
	code, _, stderr = runCLI(t, "", "report", "--results", out, "--neurons", sets, "--out", rep)
	require.Equal(t, 0, code, stderr)
	md, err := os.ReadFile(filepath.Join(rep, "report.md"))
	require.NoError(t, err)
	require.NotContains(t, string(md), "No confidence intervals")
	require.Contains(t, string(md), "**Uncertainty.**")

	// The same sets, other bytes.
	nb, err := os.ReadFile(sets)
	require.NoError(t, err)
	other := writeFile(t, "other.json", string(nb)+"\n")
	code, _, stderr = runCLI(t, "", "report", "--results", out, "--neurons", other, "--out", filepath.Join(dir, "rep2"))
	require.NotEqual(t, 0, code)
	require.Contains(t, stderr, "were computed from a neuron file with sha256")
	require.Contains(t, stderr, "--force")
	code, _, stderr = runCLI(t, "", "report", "--results", out, "--neurons", other, "--force", "--out", filepath.Join(dir, "rep3"))
	require.Equal(t, 0, code, stderr)
	md, err = os.ReadFile(filepath.Join(dir, "rep3", "report.md"))
	require.NoError(t, err)
	require.Contains(t, string(md), "THIS REPORT WAS FORCED")
}
