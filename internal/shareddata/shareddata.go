// Package shareddata locates the project's shared reference data (the folder
// "shared" beside the module root, or $VALUEEXP_SHARED) for tests, and skips
// a test with a clear message when it is absent, as on a user's fresh clone.
// Main, called from a package's TestMain, then says in one line how many of
// the package's tests were skipped for that reason.
package shareddata

import (
	"fmt"
	"io"
	"os"
	"path/filepath"
	"sync"
	"sync/atomic"
	"testing"
)

// envVar names the environment variable that points at the shared folder.
const envVar = "VALUEEXP_SHARED"

// Root returns the shared folder, or "" when it cannot be found. A
// $VALUEEXP_SHARED that is set but names no folder counts as absent, so
// that VALUEEXP_SHARED=/nonexistent shows what a fresh clone sees.
func Root() string {
	if d := os.Getenv(envVar); d != "" {
		if st, err := os.Stat(d); err == nil && st.IsDir() {
			return d
		}
		return ""
	}
	mod := moduleRoot()
	if mod == "" {
		return ""
	}
	cand := filepath.Join(filepath.Dir(mod), "shared")
	if st, err := os.Stat(cand); err == nil && st.IsDir() {
		return cand
	}
	return ""
}

// moduleRoot returns the folder holding go.mod above the working directory
// (go test runs each package's tests in its own folder), or "".
func moduleRoot() string {
	dir, err := os.Getwd()
	if err != nil {
		return ""
	}
	for {
		if _, err := os.Stat(filepath.Join(dir, "go.mod")); err == nil {
			return dir
		}
		parent := filepath.Dir(dir)
		if parent == dir {
			return ""
		}
		dir = parent
	}
}

// skips counts, for Main, the tests this test binary skipped in Path. It is
// the one piece of package state: a test binary is one package's tests, and
// Main reads it once they have all finished.
var skips struct {
	absent  atomic.Int64 // the shared folder is not there at all
	missing atomic.Int64 // the folder is there, the entry is not
	mu      sync.Mutex
	first   string // the first missing entry, for the summary
}

// Path returns the path of a file or folder inside the shared folder, joined
// from parts (for example Path(t, "refdata", "models", "llama-tiny")). It
// skips the test when the shared folder or that entry is missing.
func Path(tb testing.TB, parts ...string) string {
	tb.Helper()
	root := Root()
	if root == "" {
		skips.absent.Add(1)
		if d := os.Getenv(envVar); d != "" {
			tb.Skipf("shared reference data not found: %s=%s is not a folder; skipping", envVar, d)
		}
		tb.Skip("shared reference data not found (expected ../shared beside the module root, or $" + envVar + "); skipping")
	}
	p := filepath.Join(append([]string{root}, parts...)...)
	if _, err := os.Stat(p); err != nil {
		skips.missing.Add(1)
		skips.mu.Lock()
		if skips.first == "" {
			skips.first = p
		}
		skips.mu.Unlock()
		tb.Skipf("shared reference file %s not present; skipping", p)
	}
	return p
}

// Main runs a package's tests and exits with their status. Before exiting
// it prints one line when Path skipped tests, such as
//
//	engine: 37 tests skipped: ../shared reference data not found
//
// and nothing otherwise. Use it as the package's TestMain:
//
//	func TestMain(m *testing.M) { shareddata.Main(m) }
//
// go test shows a passing package's output only with -v, so without -v the
// line goes to the terminal (/dev/tty) when there is one; otherwise, and
// when the output is shown anyway, it goes to standard output.
func Main(m *testing.M) {
	code := m.Run()
	if line := summary(packageName()); line != "" {
		report(line)
	}
	os.Exit(code)
}

// summary returns the line Main prints for package pkg, or "".
func summary(pkg string) string {
	var s string
	if n := skips.absent.Load(); n > 0 {
		s += fmt.Sprintf("%s: %d %s skipped: ../shared reference data not found (set %s to use a copy elsewhere)\n", pkg, n, tests(n), envVar)
	}
	if n := skips.missing.Load(); n > 0 {
		skips.mu.Lock()
		first := skips.first
		skips.mu.Unlock()
		s += fmt.Sprintf("%s: %d %s skipped: files missing from the shared reference data (first: %s)\n", pkg, n, tests(n), first)
	}
	return s
}

func tests(n int64) string {
	if n == 1 {
		return "test"
	}
	return "tests"
}

// packageName returns the package's folder relative to the module root
// ("engine", "weights/safetensors"), the way go test names it.
func packageName() string {
	wd, err := os.Getwd()
	if err != nil {
		return "?"
	}
	if mod := moduleRoot(); mod != "" {
		if rel, err := filepath.Rel(mod, wd); err == nil {
			return filepath.ToSlash(rel)
		}
	}
	return filepath.Base(wd)
}

// report writes line where the person running go test will see it: standard
// output when go test shows it (-v, -json, or go test run in the package's
// folder without arguments, when the output goes straight to the terminal);
// otherwise the terminal itself, as go test drops a passing package's output.
func report(line string) {
	var out io.Writer = os.Stdout
	if !testing.Verbose() && !isTerminal(os.Stdout) {
		if tty, err := os.OpenFile("/dev/tty", os.O_WRONLY, 0); err == nil {
			defer tty.Close()
			out = tty
		}
	}
	fmt.Fprint(out, line)
}

// isTerminal reports whether f is a character device (a terminal).
func isTerminal(f *os.File) bool {
	st, err := f.Stat()
	return err == nil && st.Mode()&os.ModeCharDevice != 0
}
