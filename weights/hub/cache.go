package hub

import (
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"strings"
)

// CacheDir returns the hub cache folder as huggingface_hub chooses it:
// $HF_HUB_CACHE, else $HUGGINGFACE_HUB_CACHE (its older name), else
// $HF_HOME/hub, else $XDG_CACHE_HOME/huggingface/hub, else
// ~/.cache/huggingface/hub. getenv is os.Getenv outside tests.
func CacheDir(getenv func(string) string) (string, error) {
	if d := getenv("HF_HUB_CACHE"); d != "" {
		return expandHome(d, getenv)
	}
	if d := getenv("HUGGINGFACE_HUB_CACHE"); d != "" {
		return expandHome(d, getenv)
	}
	home, err := HFHome(getenv)
	if err != nil {
		return "", err
	}
	return filepath.Join(home, "hub"), nil
}

// HFHome returns $HF_HOME, else $XDG_CACHE_HOME/huggingface, else
// ~/.cache/huggingface.
func HFHome(getenv func(string) string) (string, error) {
	if d := getenv("HF_HOME"); d != "" {
		return expandHome(d, getenv)
	}
	if d := getenv("XDG_CACHE_HOME"); d != "" {
		return expandHome(filepath.Join(d, "huggingface"), getenv)
	}
	h := getenv("HOME")
	if h == "" {
		return "", errors.New("hub: cannot find the Hugging Face cache: HF_HOME, HF_HUB_CACHE and HOME are all unset")
	}
	return filepath.Join(h, ".cache", "huggingface"), nil
}

func expandHome(p string, getenv func(string) string) (string, error) {
	if p != "~" && !strings.HasPrefix(p, "~/") {
		return p, nil
	}
	h := getenv("HOME")
	if h == "" {
		return "", fmt.Errorf("hub: cannot expand %q: HOME is unset", p)
	}
	return filepath.Join(h, p[1:]), nil
}

// Cache is a hub cache folder (what CacheDir returns).
type Cache struct {
	Dir string
}

// RepoDir returns the folder of a model repository: models--ORG--NAME.
func (c Cache) RepoDir(repo string) string {
	return filepath.Join(c.Dir, "models--"+strings.ReplaceAll(repo, "/", "--"))
}

// SnapshotDir returns the folder of a repository at a commit.
func (c Cache) SnapshotDir(repo, commit string) string {
	return filepath.Join(c.RepoDir(repo), "snapshots", commit)
}

func (c Cache) blobPath(repo, blob string) string {
	return filepath.Join(c.RepoDir(repo), "blobs", blob)
}

// ErrNotCached is returned (wrapped) by Resolve when the cache does not hold
// the repository or revision.
var ErrNotCached = errors.New("not in the Hugging Face cache")

// Resolve finds a repository's snapshot folder in the cache without the
// network: a commit hash names its snapshot directly, a branch or tag is
// looked up in refs/. The error wraps ErrNotCached when nothing is there.
func (c Cache) Resolve(ref Ref) (string, error) {
	if err := checkRepoID(ref.Repo); err != nil {
		return "", fmt.Errorf("hub: %w", err)
	}
	rev := ref.Revision
	if rev == "" {
		rev = DefaultRevision
	}
	if err := checkRevision(rev); err != nil {
		return "", fmt.Errorf("hub: %s: %w", ref.Repo, err)
	}
	repoDir := c.RepoDir(ref.Repo)
	if _, err := os.Stat(repoDir); errors.Is(err, fs.ErrNotExist) {
		return "", fmt.Errorf("hub: %s: %w (no %s)", ref, ErrNotCached, repoDir)
	}
	commit := rev
	if !isCommit(rev) {
		b, err := os.ReadFile(filepath.Join(repoDir, "refs", filepath.FromSlash(rev)))
		if errors.Is(err, fs.ErrNotExist) {
			return "", fmt.Errorf("hub: %s: revision %q %w (no refs/%s in %s)", ref.Repo, rev, ErrNotCached, rev, repoDir)
		}
		if err != nil {
			return "", fmt.Errorf("hub: %s: %w", ref, err)
		}
		commit = strings.TrimSpace(string(b))
		if !isCommit(commit) {
			return "", fmt.Errorf("hub: %s: refs/%s in %s holds %.60q, not a commit hash", ref.Repo, rev, repoDir, commit)
		}
	}
	dir := c.SnapshotDir(ref.Repo, commit)
	st, err := os.Stat(dir)
	if errors.Is(err, fs.ErrNotExist) {
		return "", fmt.Errorf("hub: %s: commit %s %w (no %s)", ref, commit, ErrNotCached, dir)
	}
	if err != nil {
		return "", fmt.Errorf("hub: %s: %w", ref, err)
	}
	if !st.IsDir() {
		return "", fmt.Errorf("hub: %s: %s is not a folder", ref, dir)
	}
	return dir, nil
}

// cachedSize returns the size of the file a path leads to (following
// symlinks), or -1 when there is none.
func cachedSize(p string) int64 {
	st, err := os.Stat(p)
	if err != nil || !st.Mode().IsRegular() {
		return -1
	}
	return st.Size()
}

// link makes snapshots/<commit>/<name> a relative symlink to the blob, as
// huggingface_hub does, replacing whatever was there in one rename.
func (c Cache) link(repo, commit, name, blob string) error {
	dst := filepath.Join(c.SnapshotDir(repo, commit), filepath.FromSlash(name))
	if err := os.MkdirAll(filepath.Dir(dst), 0o755); err != nil {
		return err
	}
	target, err := filepath.Rel(filepath.Dir(dst), c.blobPath(repo, blob))
	if err != nil {
		return err
	}
	if cur, err := os.Readlink(dst); err == nil && cur == target {
		return nil
	}
	tmp := dst + ".link-tmp"
	os.Remove(tmp)
	if err := os.Symlink(target, tmp); err != nil {
		return fmt.Errorf("cannot create the snapshot link (the cache needs symlinks): %w", err)
	}
	if err := os.Rename(tmp, dst); err != nil {
		os.Remove(tmp)
		return err
	}
	return nil
}

// writeRef records that a branch or tag points at a commit (refs/<rev>,
// the bare hash without a newline, as huggingface_hub writes it). A commit
// hash needs no ref.
func (c Cache) writeRef(repo, rev, commit string) error {
	if rev == commit {
		return nil
	}
	p := filepath.Join(c.RepoDir(repo), "refs", filepath.FromSlash(rev))
	if b, err := os.ReadFile(p); err == nil && strings.TrimSpace(string(b)) == commit {
		return nil
	}
	if err := os.MkdirAll(filepath.Dir(p), 0o755); err != nil {
		return err
	}
	return writeFileAtomic(p, []byte(commit))
}

// writeFileAtomic writes a small file under a temporary name and renames it
// into place, so readers see the old content or the new, never a part.
func writeFileAtomic(p string, data []byte) error {
	f, err := os.CreateTemp(filepath.Dir(p), ".tmp-"+filepath.Base(p)+"-*")
	if err != nil {
		return err
	}
	_, werr := f.Write(data)
	cerr := f.Close()
	if err := errors.Join(werr, cerr); err != nil {
		os.Remove(f.Name())
		return err
	}
	if err := os.Chmod(f.Name(), 0o644); err != nil {
		os.Remove(f.Name())
		return err
	}
	if err := os.Rename(f.Name(), p); err != nil {
		os.Remove(f.Name())
		return err
	}
	return nil
}
