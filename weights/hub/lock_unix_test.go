//go:build linux || darwin || freebsd || netbsd || openbsd || dragonfly

package hub_test

import (
	"context"
	"os"
	"path/filepath"
	"testing"
	"time"

	"golang.org/x/sys/unix"

	"github.com/valueexploration/valueexp/weights/hub"
	"github.com/valueexploration/valueexp/weights/hub/hubtest"
)

// While another process (here: the test, with the flock(2) Python's
// filelock takes) holds the blob's lock in .locks/, pull waits; when the
// other one finished the blob, pull links it instead of downloading.
func TestPullWaitsForOtherDownloader(t *testing.T) {
	repo := tinyRepo()
	srv := hubtest.New(repo)
	defer srv.Close()
	c := newClient(t, srv)
	data := fileData(repo, "model.safetensors")
	sha := sha256hex(data)
	lockDir := filepath.Join(c.Cache.Dir, ".locks", "models--org--tiny")
	if err := os.MkdirAll(lockDir, 0o755); err != nil {
		t.Fatal(err)
	}
	lf, err := os.Create(filepath.Join(lockDir, sha+".lock"))
	if err != nil {
		t.Fatal(err)
	}
	defer lf.Close()
	if err := unix.Flock(int(lf.Fd()), unix.LOCK_EX); err != nil {
		t.Fatal(err)
	}
	waiting := make(chan struct{}, 1)
	c.Waiting = func(file string) {
		if file == "model.safetensors" {
			waiting <- struct{}{}
		}
	}
	type result struct {
		res *hub.PullResult
		err error
	}
	done := make(chan result, 1)
	go func() {
		res, err := c.Pull(context.Background(), mustRef(t, "org/tiny"), hub.PullOptions{})
		done <- result{res, err}
	}()
	select {
	case <-waiting:
	case r := <-done:
		t.Fatalf("pull did not wait for the lock: %+v", r)
	case <-time.After(10 * time.Second):
		t.Fatal("pull neither waited nor finished")
	}
	// The "other downloader" finishes the blob, then lets go.
	blobs := filepath.Join(c.Cache.Dir, "models--org--tiny", "blobs")
	if err := os.MkdirAll(blobs, 0o755); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(filepath.Join(blobs, sha), data, 0o644); err != nil {
		t.Fatal(err)
	}
	unix.Flock(int(lf.Fd()), unix.LOCK_UN)
	r := <-done
	if r.err != nil {
		t.Fatal(r.err)
	}
	if len(requestsTo(srv.Log(), "/cdn/")) != 0 || r.res.Downloaded != 2 || r.res.Reused != 1 {
		t.Errorf("downloaded %d reused %d, CDN requests %+v; want the weights taken from the other downloader",
			r.res.Downloaded, r.res.Reused, requestsTo(srv.Log(), "/cdn/"))
	}
	checkSnapshot(t, c.Cache.Dir, repo, r.res.Commit, "config.json", "tokenizer.json", "model.safetensors")
}
