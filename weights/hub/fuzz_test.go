package hub

import (
	"path/filepath"
	"strings"
	"testing"
)

// FuzzParseModelInfo feeds the model-info parser arbitrary bytes. It must
// never panic, and whatever it accepts must be safe to turn into cache paths:
// a commit hash, file names that stay inside the snapshot folder when
// joined, blob names of hex digits, sizes not below the "unknown" -1.
func FuzzParseModelInfo(f *testing.F) {
	f.Add([]byte(realInfo))
	f.Add([]byte(`{"sha":"` + testCommit + `","siblings":[{"rfilename":"a/b.json","size":3}]}`))
	f.Add([]byte(`{"sha":"` + testCommit + `","siblings":[{"rfilename":"../x"}]}`))
	f.Add([]byte(`{"sha":"` + testCommit + `","siblings":[{"rfilename":"x","lfs":{"sha256":"` + testSHA + `"}}]}`))
	f.Fuzz(func(t *testing.T, data []byte) {
		info, err := ParseModelInfo(data)
		if err != nil {
			return
		}
		if !isCommit(info.Commit) {
			t.Fatalf("accepted commit %q", info.Commit)
		}
		if len(info.Files) > MaxFiles {
			t.Fatalf("accepted %d files", len(info.Files))
		}
		root := filepath.Join("/cache", "snapshots", info.Commit)
		for _, fi := range info.Files {
			p := filepath.Join(root, filepath.FromSlash(fi.Name))
			if !strings.HasPrefix(p, root+string(filepath.Separator)) {
				t.Fatalf("file %q leaves the snapshot: %s", fi.Name, p)
			}
			if b := fi.BlobName(); b != "" && !isBlobName(b) {
				t.Fatalf("file %q: blob name %q", fi.Name, b)
			}
			if fi.Size < -1 {
				t.Fatalf("file %q: size %d", fi.Name, fi.Size)
			}
		}
		if _, err := Select(info, nil, ""); err != nil && strings.Contains(err.Error(), "panic") {
			t.Fatal(err)
		}
	})
}

// FuzzParseRef checks that every reference ParseRef accepts round-trips
// through String and maps to cache paths inside the cache folder.
func FuzzParseRef(f *testing.F) {
	for _, s := range []string{"Qwen/Qwen2.5-0.5B", "org/name@refs/pr/1", "gpt2@" + testCommit, "../x", "a/b@..", "a/b@/x"} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		r, err := ParseRef(s)
		if err != nil {
			return
		}
		back, err := ParseRef(r.String())
		if err != nil || back != r {
			t.Fatalf("%q: String %q parses to %+v, %v", s, r.String(), back, err)
		}
		c := Cache{Dir: "/cache"}
		dir := c.RepoDir(r.Repo)
		if filepath.Dir(dir) != "/cache" || !strings.HasPrefix(filepath.Base(dir), "models--") {
			t.Fatalf("%q: repository folder %s", s, dir)
		}
		refs := filepath.Join(dir, "refs")
		if p := filepath.Join(refs, filepath.FromSlash(r.Revision)); !strings.HasPrefix(p, refs+"/") {
			t.Fatalf("%q: ref file %s leaves %s", s, p, refs)
		}
	})
}
