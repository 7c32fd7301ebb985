package main

import (
	"os"
	"path/filepath"
	"strconv"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/valueexploration/valueexp/internal/outlock"
)

// TestEvaluateRefusesOutHeldByAnotherRun: a second evaluate writing the same
// --out as a live run is refused before it loads anything, names the
// holder, and leaves the other run's lock and files alone; once the first run
// is gone, the same command runs.
func TestEvaluateRefusesOutHeldByAnotherRun(t *testing.T) {
	model := synthModel(t)
	out := filepath.Join(t.TempDir(), "results.json")
	lock, _, err := outlock.Acquire(out)
	require.NoError(t, err)

	args := []string{"evaluate", "--model", model, "--max-items", "1", "--lang", "en", "--out", out}
	code, _, stderr := runCLI(t, "", args...)
	assert.Equal(t, 1, code)
	assert.Contains(t, stderr, "--out "+out)
	assert.Contains(t, stderr, strconv.Itoa(os.Getpid()), "the refusal names the live holder")
	_, err = os.Stat(outlock.Path(out))
	assert.NoError(t, err, "the other run's lock stays")
	_, err = os.Stat(out)
	assert.ErrorIs(t, err, os.ErrNotExist)

	require.NoError(t, lock.Release())
	code, _, stderr = runCLI(t, "", args...)
	require.Equal(t, 0, code, stderr)
	_, err = os.Stat(outlock.Path(out))
	assert.ErrorIs(t, err, os.ErrNotExist, "the lock is released at the end")
}
