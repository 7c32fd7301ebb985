package main

import (
	"encoding/json"
	"os"
	"path/filepath"
	"slices"
	"testing"

	"github.com/stretchr/testify/require"
	"github.com/valueexploration/valueexp/valueexp/evaluate"
)

// TestStudyDryRunCountsRandomDraws runs a study with random controls:
// identify writes 3 draws per set by default, evaluate runs each as its own
// condition, and the dry run must count those conditions and the tokens and
// passes the run then reports.
func TestStudyDryRunCountsRandomDraws(t *testing.T) {
	_, _, flags := studyFixture(t)
	flags = slices.DeleteFunc(flags, func(s string) bool { return s == "--no-random-control" })
	out := filepath.Join(t.TempDir(), "study")
	args := append([]string{"study", "--out", out, "--max-items", "1"}, flags...)
	code, stdout, stderr := runCLI(t, "", append(args, "--dry-run")...)
	require.Equal(t, 0, code, stderr)
	dry := map[string][]string{}
	for _, m := range reDryRow.FindAllStringSubmatch(stdout, -1) {
		dry[m[1]] = m[2:]
	}
	require.Equal(t, "49", dry["evaluate"][2], "conditions: plain, 12 sets and 3 draws of each set's control\n%s", stdout)

	code, _, stderr = runCLI(t, "", args...)
	require.Equal(t, 0, code, stderr)
	ev := reEvalTokens.FindStringSubmatch(stderr)
	require.NotNil(t, ev, stderr)
	require.Equal(t, dry["evaluate"][1], ev[1], "evaluate tokens")
	require.Equal(t, dry["evaluate"][3], ev[2], "evaluate passes")

	b, err := os.ReadFile(filepath.Join(out, "results.json"))
	require.NoError(t, err)
	var res evaluate.Results
	require.NoError(t, json.Unmarshal(b, &res))
	require.Len(t, res.Conditions, 49)
	controls := map[string][]string{}
	for _, c := range res.Conditions {
		if c.Kind == "random" {
			controls[c.ControlOf] = append(controls[c.ControlOf], c.Name)
		}
	}
	require.Len(t, controls, 12)
	for set, cs := range controls {
		require.Equal(t, []string{"random:" + set, "random:" + set + "#2", "random:" + set + "#3"}, cs)
	}
}
