//go:build unix

package main

import (
	"os"
	"path/filepath"
	"strings"
	"syscall"
	"testing"
	"time"
)

// TestSynthSIGTERMRemovesTemp sends SIGTERM to the process while `synth` is
// writing and checks that the command fails and leaves no file behind.
func TestSynthSIGTERMRemovesTemp(t *testing.T) {
	if testing.Short() {
		t.Skip("writes some hundred MB")
	}
	dir := t.TempDir()
	out := filepath.Join(dir, "m.gguf")
	done := make(chan struct{})
	var code int
	var stderr string
	go func() {
		defer close(done)
		code, _, stderr = runCLI(t, "", "synth", "--shape", "qwen2.5-0.5b", "--dtype", "q8_0", "--layers", "2", "--threads", "1", "--out", out)
	}()
	// The temporary file appears after the signal handler is installed, so
	// the signal cannot kill the test binary.
	deadline := time.Now().Add(30 * time.Second)
	for {
		ents, _ := os.ReadDir(dir)
		if len(ents) > 0 {
			break
		}
		select {
		case <-done:
			t.Fatalf("synth ended before writing: code %d, %s", code, stderr)
		default:
		}
		if time.Now().After(deadline) {
			t.Fatal("no temporary file after 30 s")
		}
		time.Sleep(time.Millisecond)
	}
	if err := syscall.Kill(os.Getpid(), syscall.SIGTERM); err != nil {
		t.Fatal(err)
	}
	<-done
	if code == 0 {
		t.Fatalf("synth exited 0 after SIGTERM; stderr %q", stderr)
	}
	if !strings.Contains(stderr, "context canceled") {
		t.Errorf("stderr %q does not say the run was cancelled", stderr)
	}
	if ents, _ := os.ReadDir(dir); len(ents) != 0 {
		t.Errorf("left %s behind", ents[0].Name())
	}
}
