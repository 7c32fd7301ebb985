package main

import (
	"bytes"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/stretchr/testify/require"
)

// TestEvaluateShardsMergeCLI runs `valueexp evaluate` as three shards, the
// shard index taken from $JOB_COMPLETION_INDEX as in a Kubernetes Indexed
// Job and from $SLURM_ARRAY_TASK_ID, merges them with `valueexp merge`, and
// compares with one run byte for byte; merging shards of another job is
// refused.
func TestEvaluateShardsMergeCLI(t *testing.T) {
	model, data, _ := studyFixture(t)
	dir := t.TempDir()
	base := []string{"evaluate", "--model", model, "--data", data, "--swap-order", "--threads", "2"}
	single := filepath.Join(dir, "single.json")
	code, _, stderr := runCLI(t, "", append(base, "--out", single)...)
	require.Equal(t, 0, code, stderr)

	runEnv := func(vars map[string]string, args ...string) (int, string) {
		var out, errb bytes.Buffer
		e := &env{stdout: &out, stderr: &errb, stdin: strings.NewReader(""), getenv: func(k string) string { return vars[k] }}
		return run(e, args), errb.String()
	}
	var shards []string
	for i, env := range []map[string]string{
		{"JOB_COMPLETION_INDEX": "0"},
		{"SLURM_ARRAY_TASK_ID": "1"},
		{"JOB_COMPLETION_INDEX": "2"},
	} {
		p := filepath.Join(dir, "shard"+string(rune('0'+i))+".json")
		code, stderr := runEnv(env, append(base, "--shards", "3", "--out", p)...)
		require.Equal(t, 0, code, stderr)
		shards = append(shards, p)
	}
	merged := filepath.Join(dir, "merged.json")
	code, _, stderr = runCLI(t, "", append([]string{"merge", "--out", merged}, shards[2], shards[0], shards[1])...)
	require.Equal(t, 0, code, stderr)
	a, err := os.ReadFile(single)
	require.NoError(t, err)
	b, err := os.ReadFile(merged)
	require.NoError(t, err)
	require.True(t, bytes.Equal(a, b), "merged shards differ from the single run")

	// A shard of a job without --swap-order does not merge with these.
	other := filepath.Join(dir, "other.json")
	code, _, stderr = runCLI(t, "", "evaluate", "--model", model, "--data", data, "--threads", "2", "--shard", "1/3", "--out", other)
	require.Equal(t, 0, code, stderr)
	code, _, stderr = runCLI(t, "", "merge", "--out", filepath.Join(dir, "bad.json"), shards[0], other, shards[2])
	require.Equal(t, 1, code)
	require.Contains(t, stderr, "input 2 is not from the same job as input 1: settings differ")
}
