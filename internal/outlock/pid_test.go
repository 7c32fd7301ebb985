package outlock

import (
	"encoding/json"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"
)

// TestLockWithImpossiblePID: a lock naming a process id no kernel hands out
// (above 2^31-1; a corrupt or forged file) must not be taken for a live run.
// kill(2) takes a 32-bit pid, so 2^32 reached the kernel as 0 (this
// process group: "alive") and 2^32-1 as -1 (every process: "alive"), and
// the output was refused for good.
func TestLockWithImpossiblePID(t *testing.T) {
	host, err := os.Hostname()
	if err != nil {
		t.Skip(err)
	}
	for _, pid := range []int{1 << 32, 1<<32 - 1} {
		out := filepath.Join(t.TempDir(), "out")
		b, _ := json.Marshal(Holder{PID: pid, Host: host, Started: time.Now().UTC(), Token: "x"})
		if err := os.WriteFile(Path(out), b, 0o644); err != nil {
			t.Fatal(err)
		}
		l, _, err := Acquire(out)
		if err != nil {
			if strings.Contains(err.Error(), "being written by process") {
				t.Errorf("pid %d: taken for a live run: %v", pid, err)
			}
			continue
		}
		l.Release()
	}
}

// FuzzLockFile: whatever a lock file holds, Acquire answers with a lock or
// an error, never a panic; a lock it grants is released cleanly.
func FuzzLockFile(f *testing.F) {
	host, _ := os.Hostname()
	good, _ := json.Marshal(Holder{PID: 1 << 30, Host: host, Token: "t"})
	f.Add(good)
	f.Add([]byte(`{"pid":1,"host":"elsewhere","started":"2026-01-01T00:00:00Z","token":"x"}`))
	f.Add([]byte(`{"pid":-1,"host":""}`))
	f.Add([]byte(`not json`))
	f.Add([]byte{})
	f.Fuzz(func(t *testing.T, b []byte) {
		out := filepath.Join(t.TempDir(), "out")
		if err := os.WriteFile(Path(out), b, 0o644); err != nil {
			t.Skip(err)
		}
		l, _, err := Acquire(out)
		if err != nil {
			return
		}
		if err := l.Release(); err != nil {
			t.Fatalf("release of a granted lock: %v", err)
		}
	})
}
