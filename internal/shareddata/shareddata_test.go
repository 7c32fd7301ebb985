package shareddata

import (
	"os"
	"path/filepath"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

func TestRootHonoursEnv(t *testing.T) {
	dir := t.TempDir()
	t.Setenv(envVar, dir)
	assert.Equal(t, dir, Root())
	t.Setenv(envVar, filepath.Join(dir, "nonexistent"))
	assert.Equal(t, "", Root(), "a set but missing path counts as absent")
	file := filepath.Join(dir, "file")
	require.NoError(t, os.WriteFile(file, nil, 0o644))
	t.Setenv(envVar, file)
	assert.Equal(t, "", Root(), "a file is not the shared folder")
}

// TestSummaryCountsSkips skips two subtests through Path, one because the
// folder is absent and one because an entry is missing, and checks Main's
// line. It resets the counters it used.
func TestSummaryCountsSkips(t *testing.T) {
	t.Cleanup(func() {
		skips.absent.Store(0)
		skips.missing.Store(0)
		skips.first = ""
	})
	assert.Equal(t, "", summary("pkg"), "nothing skipped, nothing printed")
	dir := t.TempDir()
	t.Setenv(envVar, filepath.Join(dir, "nonexistent"))
	t.Run("absent", func(t *testing.T) { Path(t, "refdata"); t.Error("not skipped") })
	assert.Equal(t, "pkg: 1 test skipped: ../shared reference data not found (set VALUEEXP_SHARED to use a copy elsewhere)\n", summary("pkg"))
	t.Setenv(envVar, dir)
	t.Run("missing", func(t *testing.T) { Path(t, "refdata", "x"); t.Error("not skipped") })
	t.Run("absent again", func(t *testing.T) {
		t.Setenv(envVar, filepath.Join(dir, "nonexistent"))
		Path(t)
		t.Error("not skipped")
	})
	assert.Equal(t, "pkg: 2 tests skipped: ../shared reference data not found (set VALUEEXP_SHARED to use a copy elsewhere)\n"+
		"pkg: 1 test skipped: files missing from the shared reference data (first: "+filepath.Join(dir, "refdata", "x")+")\n", summary("pkg"))
}

func TestPackageName(t *testing.T) {
	assert.Equal(t, "internal/shareddata", packageName())
}
