package record

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"

	"github.com/valueexploration/valueexp/internal/outlock"
)

// TestConcurrentShardsSameOut is issue 14 case 4: two shards started with
// the same Out both "succeeded" and the file held one of them. Now the
// second is refused while the first is running, naming the holder.
func TestConcurrentShardsSameOut(t *testing.T) {
	m := loadModel(t, writeRandomLlama(t, 6))
	out := filepath.Join(t.TempDir(), "counts.safetensors")
	first := testJob(t, m, out, 7)
	first.Shard = Shard{Index: 0, Count: 2}
	first.BatchTokens = 1
	started, resume := make(chan struct{}), make(chan struct{})
	first.Progress = func(p Progress) {
		if p.Batches == 1 {
			close(started)
			<-resume
		}
	}
	done := make(chan error, 1)
	go func() {
		_, err := first.Run(context.Background())
		done <- err
	}()
	<-started
	second := testJob(t, m, out, 7)
	second.Shard = Shard{Index: 1, Count: 2}
	_, err := second.Run(context.Background())
	close(resume)
	if !errors.Is(err, outlock.ErrLocked) || !strings.Contains(err.Error(), fmt.Sprint(os.Getpid())) {
		t.Errorf("second run on the same output: %v, want a refusal naming process %d", err, os.Getpid())
	}
	if err := <-done; err != nil {
		t.Fatalf("first run: %v", err)
	}
	c := mustLoad(t, out)
	if c.Manifest.Shard != first.Shard {
		t.Errorf("output holds shard %v, want %v", c.Manifest.Shard, first.Shard)
	}
	if _, err := os.Stat(outlock.Path(out)); !errors.Is(err, os.ErrNotExist) {
		t.Errorf("lock left after the run: %v", err)
	}
}

// TestStaleLockTakenOverWithNote checks that a lock left by a killed run on
// this host does not block the next run, and that the run says so.
func TestStaleLockTakenOverWithNote(t *testing.T) {
	m := loadModel(t, writeRandomLlama(t, 6))
	out := filepath.Join(t.TempDir(), "counts.safetensors")
	cmd := exec.Command(os.Args[0], "-test.run=^$")
	if err := cmd.Run(); err != nil {
		t.Skipf("cannot start a child process: %v", err)
	}
	host, _ := os.Hostname()
	b, _ := json.Marshal(outlock.Holder{PID: cmd.Process.Pid, Host: host, Token: "t"})
	if err := os.WriteFile(outlock.Path(out), b, 0o644); err != nil {
		t.Fatal(err)
	}
	j := testJob(t, m, out, 9)
	var notes []string
	j.Note = func(s string) { notes = append(notes, s) }
	runJob(t, j)
	if len(notes) != 1 || !strings.Contains(notes[0], fmt.Sprintf("process %d", cmd.Process.Pid)) {
		t.Errorf("notes %q do not mention taking over process %d's lock", notes, cmd.Process.Pid)
	}
}

// TestFreshKeepsOtherShardsOutput checks that --fresh does not replace
// another shard's finished counts; --overwrite does.
func TestFreshKeepsOtherShardsOutput(t *testing.T) {
	m := loadModel(t, writeRandomLlama(t, 6))
	out := filepath.Join(t.TempDir(), "counts.safetensors")
	a := testJob(t, m, out, 9)
	a.Shard = Shard{Index: 0, Count: 2}
	runJob(t, a)
	before := readFile(t, out)
	for _, fresh := range []bool{false, true} {
		b := testJob(t, m, out, 9)
		b.Shard, b.Fresh = Shard{Index: 1, Count: 2}, fresh
		_, err := b.Run(context.Background())
		if err == nil || !strings.Contains(err.Error(), "shard 0/2") || !strings.Contains(err.Error(), "--overwrite") {
			t.Errorf("fresh=%v: %v, want a refusal naming shard 0/2 and --overwrite", fresh, err)
		}
		if string(readFile(t, out)) != string(before) {
			t.Fatalf("fresh=%v: shard 0/2's output was changed", fresh)
		}
	}
	b := testJob(t, m, out, 9)
	b.Shard, b.Overwrite = Shard{Index: 1, Count: 2}, true
	runJob(t, b)
	if c := mustLoad(t, out); c.Manifest.Shard != b.Shard {
		t.Errorf("--overwrite: output holds shard %v", c.Manifest.Shard)
	}
}
