package hub

import (
	"context"
	"crypto/sha1"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"fmt"
	"hash"
	"io"
	"net/http"
	"net/url"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"time"
)

// PullOptions chooses the files Pull downloads (see Select).
type PullOptions struct {
	Include []string // path.Match patterns over the repository's file names
	GGUF    string   // one GGUF file to download instead
}

// PullResult says what Pull did.
type PullResult struct {
	Ref         Ref
	Commit      string     // the commit the revision resolved to
	Dir         string     // the snapshot folder: a model folder or the GGUF file's folder
	Files       []FileInfo // the files selected, all now in Dir
	Downloaded  int        // files fetched
	Reused      int        // files the cache already had
	Transferred int64      // bytes received over the network
}

// VerifyError says a downloaded file does not match the repository's
// metadata. The download was deleted; it is not under its final name.
type VerifyError struct {
	Repo, File string
	What       string // "sha256", "git blob id" or "size"
	Got, Want  string
}

func (e *VerifyError) Error() string {
	return fmt.Sprintf("hub: %s: %s: %s mismatch: got %s, want %s (the download was deleted; pull again, and if it recurs the server's copy or metadata is wrong)",
		e.Repo, e.File, e.What, e.Got, e.Want)
}

// Pull downloads a repository's selected files at a revision into the
// cache, reusing whatever the cache already holds (from an earlier pull or
// from huggingface_hub), and then records the revision in refs/. A failed
// pull keeps the partial file (blobs/<etag>.incomplete); the next one
// resumes it.
func (c *Client) Pull(ctx context.Context, ref Ref, opt PullOptions) (*PullResult, error) {
	info, err := c.ModelInfo(ctx, ref)
	if err != nil {
		return nil, err
	}
	files, err := Select(info, opt.Include, opt.GGUF)
	if err != nil {
		return nil, err
	}
	res := &PullResult{Ref: ref, Commit: info.Commit, Dir: c.Cache.SnapshotDir(ref.Repo, info.Commit), Files: files}
	var todo []FileInfo
	var total int64
	for _, f := range files {
		if f.Size < 0 {
			return nil, fmt.Errorf("hub: %s: the server did not report the size of %s, so it cannot be verified", ref.Repo, f.Name)
		}
		ok, err := c.reuse(ref.Repo, info.Commit, f)
		if err != nil {
			return nil, fmt.Errorf("hub: %s: %s: %w", ref.Repo, f.Name, err)
		}
		if ok {
			res.Reused++
			continue
		}
		todo = append(todo, f)
		total += f.Size
	}
	tr := &tracker{fn: c.Progress, p: Progress{Total: total, FilesTotal: len(todo)}}
	for _, f := range todo {
		tr.start(f)
		fetched, err := c.fetchLocked(ctx, ref.Repo, info.Commit, f, tr)
		res.Transferred = tr.p.Transferred
		if err != nil {
			return res, err
		}
		tr.done(f)
		if fetched {
			res.Downloaded++
		} else {
			res.Reused++
		}
	}
	rev := ref.Revision
	if rev == "" {
		rev = DefaultRevision
	}
	if err := c.Cache.writeRef(ref.Repo, rev, info.Commit); err != nil {
		return res, fmt.Errorf("hub: %s: recording revision %s: %w", ref.Repo, rev, err)
	}
	return res, nil
}

// fetchLocked downloads a file, with retries, holding the lock on its blob
// that huggingface_hub also takes (.locks/models--ORG--NAME/<etag>.lock),
// so two downloaders of one blob take turns. It reports false when the
// blob turned out to be there once the lock was held (the other one
// finished it).
func (c *Client) fetchLocked(ctx context.Context, repo, commit string, f FileInfo, tr *tracker) (bool, error) {
	if blob := f.BlobName(); blob != "" {
		dir := filepath.Join(c.Cache.Dir, ".locks", filepath.Base(c.Cache.RepoDir(repo)))
		if err := os.MkdirAll(dir, 0o755); err != nil {
			return false, fmt.Errorf("hub: %s: %w", repo, err)
		}
		waiting := func() {
			if c.Waiting != nil {
				c.Waiting(f.Name)
			}
		}
		unlock, err := lockFile(ctx, filepath.Join(dir, blob+".lock"), waiting)
		if err != nil {
			return false, fmt.Errorf("hub: %s: %s: locking: %w", repo, f.Name, err)
		}
		defer unlock()
		ok, err := c.reuse(repo, commit, f)
		if err != nil || ok {
			return false, err
		}
	}
	before := tr.p.Transferred
	progressed := func() bool {
		moved := tr.p.Transferred > before
		before = tr.p.Transferred
		return moved
	}
	return true, c.withRetry(ctx, func() error { return c.fetch(ctx, repo, commit, f, tr) }, progressed)
}

// reuse reports whether the snapshot already has the file, linking it to
// an existing blob when only the blob is there (a file unchanged between
// two commits is stored once).
func (c *Client) reuse(repo, commit string, f FileInfo) (bool, error) {
	pointer := filepath.Join(c.Cache.SnapshotDir(repo, commit), filepath.FromSlash(f.Name))
	if cachedSize(pointer) == f.Size {
		return true, nil
	}
	blob := f.BlobName()
	if blob == "" || cachedSize(c.Cache.blobPath(repo, blob)) != f.Size {
		return false, nil
	}
	return true, c.Cache.link(repo, commit, f.Name, blob)
}

// tracker adds up progress over the files of one pull.
type tracker struct {
	fn       func(Progress)
	p        Progress
	finished int64 // bytes of the files done
}

func (t *tracker) start(f FileInfo) {
	t.p.File, t.p.FileSize, t.p.FileDone = f.Name, f.Size, 0
	t.report()
}

// resumeAt says the file's download (re)starts with n bytes on disk.
func (t *tracker) resumeAt(n int64) {
	t.p.FileDone = n
	t.p.Done = t.finished + n
	t.report()
}

func (t *tracker) Write(b []byte) (int, error) {
	n := int64(len(b))
	t.p.FileDone += n
	t.p.Done += n
	t.p.Transferred += n
	t.report()
	return len(b), nil
}

func (t *tracker) done(f FileInfo) {
	t.finished += f.Size
	t.p.Done = t.finished
	t.p.Files++
	t.report()
}

func (t *tracker) report() {
	if t.fn != nil {
		t.fn(t.p)
	}
}

// errRestart marks a resume the server would not continue; the partial file
// was dropped and the next attempt starts from zero.
var errRestart = errors.New("the server did not continue the partial download; starting it again")

// maxRedirects bounds the redirects one download follows.
const maxRedirects = 5

// fetch makes one attempt at downloading a file into its blob, resuming a
// partial one, and links it into the snapshot once verified.
func (c *Client) fetch(ctx context.Context, repo, commit string, f FileInfo, tr *tracker) error {
	// A connection that stops sending without closing would hang the
	// pull: a watchdog cancels the attempt after IdleTimeout without data.
	idle := c.IdleTimeout
	if idle <= 0 {
		idle = 2 * time.Minute
	}
	parent := ctx
	ctx, cancel := context.WithCancelCause(ctx)
	defer cancel(nil)
	watchdog := time.AfterFunc(idle, func() { cancel(errStalled) })
	defer watchdog.Stop()
	err := c.fetchOnce(ctx, repo, commit, f, &idleTracker{tracker: tr, watchdog: watchdog, idle: idle})
	if err != nil && parent.Err() == nil && errors.Is(context.Cause(ctx), errStalled) {
		return fmt.Errorf("hub: %s: %s: %w (nothing received for %v)", repo, f.Name, errStalled, idle)
	}
	return err
}

// errStalled marks a download that received nothing for Client.IdleTimeout.
var errStalled = errors.New("download stalled")

// idleTracker counts progress and pushes the watchdog back on every write.
type idleTracker struct {
	*tracker
	watchdog *time.Timer
	idle     time.Duration
}

func (t *idleTracker) Write(b []byte) (int, error) {
	t.watchdog.Reset(t.idle)
	return t.tracker.Write(b)
}

// fetchOnce is one attempt of fetch.
func (c *Client) fetchOnce(ctx context.Context, repo, commit string, f FileInfo, tr *idleTracker) error {
	blob := f.BlobName()
	var inc string
	var offset int64
	locate := func() {
		inc = c.Cache.blobPath(repo, blob) + ".incomplete"
		offset = max(cachedSize(inc), 0)
		if offset > f.Size { // not ours to continue
			os.Remove(inc)
			offset = 0
		}
	}
	if blob != "" {
		locate()
		if offset == f.Size && f.Size > 0 {
			// A previous attempt got every byte but was stopped before
			// the rename: check it and finish without the network.
			tr.resumeAt(offset)
			return c.finish(repo, commit, f, blob, inc)
		}
	}
	u := c.Endpoint + "/" + repo + "/resolve/" + commit + "/" + escapePath(f.Name)
	what := "file " + f.Name
	hdr := http.Header{}
	if offset > 0 {
		hdr.Set("Range", fmt.Sprintf("bytes=%d-", offset))
	}
	resp, err := c.get(ctx, u, hdr)
	if err != nil {
		return fmt.Errorf("hub: %s: %s: %w", repo, f.Name, err)
	}
	defer func() { resp.Body.Close() }()
	if resp.StatusCode >= 400 && resp.StatusCode != http.StatusRequestedRangeNotSatisfiable {
		return c.statusError(resp, repo, what)
	}
	// The Hub's answer (a redirect for LFS files, the content for others)
	// says which commit and blob it serves: check them against the plan.
	if rc := resp.Header.Get("X-Repo-Commit"); rc != "" && rc != commit {
		return fmt.Errorf("hub: %s: %s: the server served commit %.60q, not the %s asked for", repo, f.Name, rc, commit)
	}
	etag := resp.Header.Get("X-Linked-Etag")
	if etag == "" {
		etag = resp.Header.Get("ETag")
	}
	etag = strings.Trim(strings.TrimPrefix(strings.TrimSpace(etag), "W/"), `"`)
	switch {
	case blob == "" && isBlobName(etag):
		blob = etag
		locate()
	case blob == "":
		return fmt.Errorf("hub: %s: %s: the server gave no usable ETag (%.80q) and the model info no hash, so the file cannot be stored", repo, f.Name, etag)
	case isBlobName(etag) && etag != blob:
		return fmt.Errorf("hub: %s: %s: the server's ETag %s differs from the model info's %s", repo, f.Name, etag, blob)
	}
	if s := resp.Header.Get("X-Linked-Size"); s != "" {
		if n, err := strconv.ParseInt(s, 10, 64); err == nil && n != f.Size {
			return fmt.Errorf("hub: %s: %s: the server says %d bytes, the model info %d", repo, f.Name, n, f.Size)
		}
	}
	for hop := 0; resp.StatusCode >= 300 && resp.StatusCode < 400; hop++ {
		if hop == maxRedirects {
			return fmt.Errorf("hub: %s: %s: more than %d redirects", repo, f.Name, maxRedirects)
		}
		loc, err := resp.Request.URL.Parse(resp.Header.Get("Location"))
		if err != nil || resp.Header.Get("Location") == "" || (loc.Scheme != "http" && loc.Scheme != "https") {
			return fmt.Errorf("hub: %s: %s: redirect without a usable Location (%.100q)", repo, f.Name, resp.Header.Get("Location"))
		}
		resp.Body.Close() // the deferred Close then closes it again, harmlessly
		hdr = http.Header{}
		if offset > 0 {
			hdr.Set("Range", fmt.Sprintf("bytes=%d-", offset))
		}
		next, err := c.get(ctx, loc.String(), hdr)
		if err != nil {
			return fmt.Errorf("hub: %s: %s: %w", repo, f.Name, err)
		}
		resp = next
	}
	switch resp.StatusCode {
	case http.StatusOK:
		offset = 0
	case http.StatusPartialContent:
		start, ok := contentRangeStart(resp.Header.Get("Content-Range"))
		if !ok || start != offset {
			os.Remove(inc)
			return fmt.Errorf("hub: %s: %s: %w", repo, f.Name, errRestart)
		}
	case http.StatusRequestedRangeNotSatisfiable:
		os.Remove(inc)
		return fmt.Errorf("hub: %s: %s: %w", repo, f.Name, errRestart)
	default:
		return c.statusError(resp, repo, what)
	}
	if err := os.MkdirAll(filepath.Dir(inc), 0o755); err != nil {
		return fmt.Errorf("hub: %s: %w", repo, err)
	}
	flags := os.O_WRONLY | os.O_CREATE | os.O_APPEND
	if offset == 0 {
		flags |= os.O_TRUNC
	}
	out, err := os.OpenFile(inc, flags, 0o644)
	if err != nil {
		return fmt.Errorf("hub: %s: %w", repo, err)
	}
	tr.resumeAt(offset)
	want := f.Size - offset
	// One byte more than announced is read so an overlong body is noticed.
	n, cerr := io.Copy(io.MultiWriter(out, tr), io.LimitReader(resp.Body, want+1))
	serr := out.Sync()
	if err := errors.Join(out.Close(), serr); err != nil && cerr == nil {
		return fmt.Errorf("hub: %s: writing %s: %w", repo, inc, err)
	}
	switch {
	case n > want:
		os.Remove(inc)
		return fmt.Errorf("hub: %s: %s: the server sent more than the %d bytes the model info announced; download deleted", repo, f.Name, f.Size)
	case cerr != nil:
		return fmt.Errorf("hub: %s: %s: download cut after %d of %d bytes: %w", repo, f.Name, offset+n, f.Size, cerr)
	case n < want:
		return fmt.Errorf("hub: %s: %s: download cut after %d of %d bytes: %w", repo, f.Name, offset+n, f.Size, errCut)
	}
	return c.finish(repo, commit, f, blob, inc)
}

// finish verifies a complete .incomplete file against the metadata, moves
// it to its blob name and links it into the snapshot.
func (c *Client) finish(repo, commit string, f FileInfo, blob, inc string) error {
	if err := verify(repo, f, inc); err != nil {
		os.Remove(inc)
		return err
	}
	if err := os.Rename(inc, c.Cache.blobPath(repo, blob)); err != nil {
		return fmt.Errorf("hub: %s: %w", repo, err)
	}
	if err := c.Cache.link(repo, commit, f.Name, blob); err != nil {
		return fmt.Errorf("hub: %s: %s: %w", repo, f.Name, err)
	}
	return nil
}

// verify checks a downloaded file's size, and its sha256 (LFS files) or
// git blob id (files kept in git) when the metadata gave one.
func verify(repo string, f FileInfo, p string) error {
	st, err := os.Stat(p)
	if err != nil {
		return fmt.Errorf("hub: %s: %w", repo, err)
	}
	if st.Size() != f.Size {
		return &VerifyError{Repo: repo, File: f.Name, What: "size", Got: fmt.Sprint(st.Size()), Want: fmt.Sprint(f.Size)}
	}
	var h hash.Hash
	var want, what string
	switch {
	case f.LFS():
		h, want, what = sha256.New(), f.SHA256, "sha256"
	case f.BlobID != "":
		// A git blob id is the sha1 of "blob <size>\x00" and the content.
		h, want, what = sha1.New(), f.BlobID, "git blob id"
		fmt.Fprintf(h, "blob %d\x00", f.Size)
	default:
		return nil
	}
	in, err := os.Open(p)
	if err != nil {
		return fmt.Errorf("hub: %s: %w", repo, err)
	}
	defer in.Close()
	if _, err := io.Copy(h, in); err != nil {
		return fmt.Errorf("hub: %s: reading %s: %w", repo, p, err)
	}
	if got := hex.EncodeToString(h.Sum(nil)); got != want {
		return &VerifyError{Repo: repo, File: f.Name, What: what, Got: got, Want: want}
	}
	return nil
}

// contentRangeStart reads the first byte position of "bytes START-END/SIZE".
func contentRangeStart(s string) (int64, bool) {
	rest, ok := strings.CutPrefix(strings.TrimSpace(s), "bytes ")
	if !ok {
		return 0, false
	}
	a, _, ok := strings.Cut(rest, "-")
	if !ok {
		return 0, false
	}
	n, err := strconv.ParseInt(a, 10, 64)
	return n, err == nil && n >= 0
}

// escapePath escapes each element of a '/'-separated file name for a URL.
func escapePath(name string) string {
	parts := strings.Split(name, "/")
	for i, p := range parts {
		parts[i] = url.PathEscape(p)
	}
	return strings.Join(parts, "/")
}
