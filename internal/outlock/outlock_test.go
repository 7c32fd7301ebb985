package outlock

import (
	"encoding/json"
	"errors"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"
)

func writeLock(t *testing.T, out string, h Holder) {
	t.Helper()
	b, err := json.Marshal(h)
	if err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(Path(out), b, 0o644); err != nil {
		t.Fatal(err)
	}
}

// deadPID returns the id of a process that has exited.
func deadPID(t *testing.T) int {
	t.Helper()
	cmd := exec.Command(os.Args[0], "-test.run=^$")
	if err := cmd.Run(); err != nil {
		t.Skipf("cannot start a child process: %v", err)
	}
	return cmd.Process.Pid
}

func TestSecondRunRefused(t *testing.T) {
	out := filepath.Join(t.TempDir(), "counts.safetensors")
	l, note, err := Acquire(out)
	if err != nil || note != "" {
		t.Fatalf("first acquire: %v, note %q", err, note)
	}
	host, _ := os.Hostname()
	_, _, err = Acquire(out)
	if !errors.Is(err, ErrLocked) || !strings.Contains(err.Error(), fmt.Sprint(os.Getpid())) || !strings.Contains(err.Error(), host) {
		t.Fatalf("second acquire: %v, want ErrLocked naming pid %d and host %s", err, os.Getpid(), host)
	}
	if err := l.Release(); err != nil {
		t.Fatal(err)
	}
	if _, err := os.Stat(Path(out)); !errors.Is(err, os.ErrNotExist) {
		t.Fatalf("lock file left after release: %v", err)
	}
	l2, _, err := Acquire(out)
	if err != nil {
		t.Fatalf("acquire after release: %v", err)
	}
	l2.Release()
}

func TestStaleLockTakenOver(t *testing.T) {
	out := filepath.Join(t.TempDir(), "out")
	host, _ := os.Hostname()
	pid := deadPID(t)
	writeLock(t, out, Holder{PID: pid, Host: host, Started: time.Now(), Token: "x"})
	l, note, err := Acquire(out)
	if err != nil {
		t.Fatal(err)
	}
	defer l.Release()
	if !strings.Contains(note, fmt.Sprintf("process %d", pid)) || !strings.Contains(note, "no longer running") {
		t.Errorf("note %q does not say the dead process's lock was taken over", note)
	}
	h, _, err := read(Path(out))
	if err != nil || h.PID != os.Getpid() {
		t.Errorf("lock now holds %+v (%v), want this process", h, err)
	}
	if m, _ := filepath.Glob(Path(out) + ".*"); len(m) > 0 {
		t.Errorf("files left behind: %v", m)
	}
}

func TestRefusals(t *testing.T) {
	host, _ := os.Hostname()
	for _, tc := range []struct {
		name string
		body string
		want string
	}{
		{"other host", mustJSON(Holder{PID: 1, Host: "node-17.cluster", Token: "a"}), "node-17.cluster"},
		{"live process", mustJSON(Holder{PID: os.Getpid(), Host: host, Token: "old"}), "being written by process"},
		{"garbage", "not a lock", "cannot be read"},
		{"empty", "", "cannot be read"},
		{"huge", strings.Repeat(" ", 1<<20), "cannot be read"},
		{"no pid", mustJSON(Holder{Host: host}), "cannot be read"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			out := filepath.Join(t.TempDir(), "out")
			if err := os.WriteFile(Path(out), []byte(tc.body), 0o644); err != nil {
				t.Fatal(err)
			}
			_, _, err := Acquire(out)
			if !errors.Is(err, ErrLocked) || !strings.Contains(err.Error(), tc.want) || !strings.Contains(err.Error(), Path(out)) {
				t.Errorf("got %v, want ErrLocked mentioning %q and the lock file", err, tc.want)
			}
			if b, _ := os.ReadFile(Path(out)); string(b) != tc.body {
				t.Error("the refused lock file was changed")
			}
		})
	}
}

func TestReleaseLeavesAnotherRunsLock(t *testing.T) {
	out := filepath.Join(t.TempDir(), "out")
	l, _, err := Acquire(out)
	if err != nil {
		t.Fatal(err)
	}
	other := mustJSON(Holder{PID: 1, Host: "elsewhere", Token: "b"})
	if err := os.WriteFile(Path(out), []byte(other), 0o644); err != nil {
		t.Fatal(err)
	}
	if err := l.Release(); err == nil {
		t.Error("released another run's lock without a word")
	}
	if b, _ := os.ReadFile(Path(out)); string(b) != other {
		t.Error("another run's lock was removed")
	}
}

func mustJSON(h Holder) string {
	b, err := json.Marshal(h)
	if err != nil {
		panic(err)
	}
	return string(b)
}
