// Package shareddata locates the project's shared reference data (the folder
// "shared" beside the module root, or $VALUEEXP_SHARED) for tests, and skips
// a test with a clear message when it is absent, as on a user's fresh clone.
package shareddata

import (
	"os"
	"path/filepath"
	"testing"
)

// Root returns the shared folder, or "" when it cannot be found.
func Root() string {
	if d := os.Getenv("VALUEEXP_SHARED"); d != "" {
		return d
	}
	dir, err := os.Getwd()
	if err != nil {
		return ""
	}
	for {
		if _, err := os.Stat(filepath.Join(dir, "go.mod")); err == nil {
			cand := filepath.Join(filepath.Dir(dir), "shared")
			if st, err := os.Stat(cand); err == nil && st.IsDir() {
				return cand
			}
			return ""
		}
		parent := filepath.Dir(dir)
		if parent == dir {
			return ""
		}
		dir = parent
	}
}

// Path returns the path of a file or folder inside the shared folder, joined
// from parts (for example Path(t, "refdata", "models", "llama-tiny")). It
// skips the test when the shared folder or that entry is missing.
func Path(tb testing.TB, parts ...string) string {
	tb.Helper()
	root := Root()
	if root == "" {
		tb.Skip("shared reference data not found (expected ../shared beside the module root, or $VALUEEXP_SHARED); skipping")
	}
	p := filepath.Join(append([]string{root}, parts...)...)
	if _, err := os.Stat(p); err != nil {
		tb.Skipf("shared reference file %s not present; skipping", p)
	}
	return p
}
