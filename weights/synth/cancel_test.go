package synth

import (
	"context"
	"errors"
	"os"
	"path/filepath"
	"sync/atomic"
	"testing"
)

// countdownCtx is a context whose Err turns to Canceled after a number of
// calls, so a test can cancel at a known point in the middle of a write.
// When it trips, it records the files then in dir.
type countdownCtx struct {
	context.Context
	left    atomic.Int64
	dir     string
	atTrip  []os.FileInfo
	tripped atomic.Bool
}

func (c *countdownCtx) Err() error {
	if c.left.Add(-1) >= 0 {
		return nil
	}
	if !c.tripped.Swap(true) {
		ents, _ := os.ReadDir(c.dir)
		for _, e := range ents {
			if fi, err := e.Info(); err == nil {
				c.atTrip = append(c.atTrip, fi)
			}
		}
	}
	return context.Canceled
}

// TestWriteFileCancelledMidWrite cancels the context after a few tensors have
// been written (a SIGTERM in the CLI) and checks that WriteFileContext
// returns the cancellation and leaves neither the model nor its temporary
// file behind; the temporary file existed, with data in it, when the
// cancellation arrived.
func TestWriteFileCancelledMidWrite(t *testing.T) {
	s, _ := LookupShape("small")
	s, _ = s.WithArch("llama")
	for _, after := range []int64{0, 1, 5, 60} {
		dir := t.TempDir()
		ctx := &countdownCtx{Context: context.Background(), dir: dir}
		ctx.left.Store(after)
		path := filepath.Join(dir, "model.gguf")
		_, err := WriteFileContext(ctx, path, Options{Shape: s, Mix: MixF32, Threads: 1})
		if !errors.Is(err, context.Canceled) {
			t.Fatalf("cancel after %d checks: error %v, want context.Canceled", after, err)
		}
		if after > 0 {
			// Past the first check the temporary file has been created.
			if len(ctx.atTrip) != 1 || ctx.atTrip[0].Name() == "model.gguf" {
				t.Fatalf("cancel after %d checks: files at cancellation %v, want one temporary file", after, ctx.atTrip)
			}
			if after == 60 && ctx.atTrip[0].Size() < 4<<20 {
				// Some MiB have gone through the 4 MiB write buffer.
				t.Errorf("cancel after %d checks: temporary file holds %d bytes, want some MiB", after, ctx.atTrip[0].Size())
			}
		}
		if ents, _ := os.ReadDir(dir); len(ents) != 0 {
			t.Errorf("cancel after %d checks: left %d files behind (%s)", after, len(ents), ents[0].Name())
		}
	}
}

// TestWriteFileLeavesNoTempOnRenameError: the last error path, a rename onto
// a directory, removes the temporary file too.
func TestWriteFileLeavesNoTempOnRenameError(t *testing.T) {
	dir := t.TempDir()
	target := filepath.Join(dir, "model.gguf")
	if err := os.MkdirAll(filepath.Join(target, "x"), 0o755); err != nil {
		t.Fatal(err)
	}
	s, _ := LookupShape("tiny")
	s, _ = s.WithArch("llama")
	if _, err := WriteFile(target, Options{Shape: s, Mix: MixF32, Layers: 1}); err == nil {
		t.Fatal("renamed a file onto a non-empty directory")
	}
	ents, _ := os.ReadDir(dir)
	if len(ents) != 1 || ents[0].Name() != "model.gguf" {
		t.Errorf("files left: %v", ents)
	}
}
