package hub_test

import (
	"bytes"
	"context"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"io/fs"
	"math/rand/v2"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/valueexploration/valueexp/weights/hub"
	"github.com/valueexploration/valueexp/weights/hub/hubtest"
)

const weightsSize = 300_000

func randomBytes(n int, seed uint64) []byte {
	r := rand.New(rand.NewPCG(seed, 1))
	b := make([]byte, n)
	for i := range b {
		b[i] = byte(r.Uint32())
	}
	return b
}

func sha256hex(b []byte) string {
	s := sha256.Sum256(b)
	return hex.EncodeToString(s[:])
}

// tinyRepo is a repository like a real model's: config and tokenizer in
// git, weights in LFS, plus files the default selection must leave alone.
func tinyRepo() hubtest.Repo {
	return hubtest.Repo{
		ID: "org/tiny",
		Files: []hubtest.File{
			{Name: ".gitattributes", Data: []byte("*.safetensors filter=lfs diff=lfs merge=lfs -text\n")},
			{Name: "README.md", Data: []byte("# tiny\n")},
			{Name: "config.json", Data: []byte(`{"architectures":["LlamaForCausalLM"],"hidden_size":8}`)},
			{Name: "tokenizer.json", Data: []byte(`{"model":{"type":"BPE"}}`)},
			{Name: "model.safetensors", Data: randomBytes(weightsSize, 1), LFS: true},
			{Name: "pytorch_model.bin", Data: randomBytes(1000, 2), LFS: true},
			{Name: "onnx/model.safetensors", Data: randomBytes(500, 3), LFS: true},
		},
	}
}

func fileData(r hubtest.Repo, name string) []byte {
	for _, f := range r.Files {
		if f.Name == name {
			return f.Data
		}
	}
	panic("no file " + name)
}

// newClient returns a client for the fake hub with a fresh cache and no
// waiting between retries.
func newClient(t *testing.T, srv *hubtest.Server) *hub.Client {
	t.Helper()
	return &hub.Client{Endpoint: srv.URL, Cache: hub.Cache{Dir: filepath.Join(t.TempDir(), "hub")},
		Retries: 3, Backoff: time.Millisecond, MaxBackoff: 5 * time.Millisecond}
}

func mustRef(t *testing.T, s string) hub.Ref {
	t.Helper()
	r, err := hub.ParseRef(s)
	if err != nil {
		t.Fatal(err)
	}
	return r
}

// requestsTo counts logged requests whose path starts with prefix.
func requestsTo(log []hubtest.Request, prefix string) []hubtest.Request {
	var out []hubtest.Request
	for _, r := range log {
		if strings.HasPrefix(r.Path, prefix) {
			out = append(out, r)
		}
	}
	return out
}

// checkSnapshot checks the layout huggingface_hub reads: each selected file
// is a relative symlink ../../blobs/<etag> whose content is the file's, and
// no partial download is left behind.
func checkSnapshot(t *testing.T, cacheDir string, repo hubtest.Repo, commit string, names ...string) {
	t.Helper()
	repoDir := filepath.Join(cacheDir, "models--"+strings.ReplaceAll(repo.ID, "/", "--"))
	for _, name := range names {
		var lfs bool
		for _, f := range repo.Files {
			if f.Name == name {
				lfs = f.LFS
			}
		}
		data := fileData(repo, name)
		etag := hubtest.GitBlobID(data)
		if lfs {
			etag = sha256hex(data)
		}
		p := filepath.Join(repoDir, "snapshots", commit, name)
		target, err := os.Readlink(p)
		if err != nil {
			t.Fatalf("%s: %v", name, err)
		}
		want := strings.Repeat("../", 2+strings.Count(name, "/")) + "blobs/" + etag
		if target != want {
			t.Errorf("%s links to %q, want %q", name, target, want)
		}
		got, err := os.ReadFile(p)
		if err != nil {
			t.Fatal(err)
		}
		if !bytes.Equal(got, data) {
			t.Errorf("%s: content differs from the served file", name)
		}
	}
	filepath.WalkDir(repoDir, func(p string, d fs.DirEntry, err error) error {
		if strings.HasSuffix(p, ".incomplete") || strings.Contains(p, ".tmp") {
			t.Errorf("leftover %s", p)
		}
		return nil
	})
}

func TestPullFresh(t *testing.T) {
	repo := tinyRepo()
	srv := hubtest.New(repo)
	defer srv.Close()
	c := newClient(t, srv)
	var last hub.Progress
	calls := 0
	c.Progress = func(p hub.Progress) { last = p; calls++ }
	res, err := c.Pull(context.Background(), mustRef(t, "org/tiny"), hub.PullOptions{})
	if err != nil {
		t.Fatal(err)
	}
	commit := srv.Log()[0] // the info request comes first
	if commit.Path != "/api/models/org/tiny/revision/main" {
		t.Errorf("first request %q", commit.Path)
	}
	if res.Downloaded != 3 || res.Reused != 0 {
		t.Errorf("downloaded %d reused %d, want 3 and 0", res.Downloaded, res.Reused)
	}
	checkSnapshot(t, c.Cache.Dir, repo, res.Commit, "config.json", "tokenizer.json", "model.safetensors")
	if res.Dir != filepath.Join(c.Cache.Dir, "models--org--tiny", "snapshots", res.Commit) {
		t.Errorf("Dir %s", res.Dir)
	}
	ref, err := os.ReadFile(filepath.Join(c.Cache.Dir, "models--org--tiny", "refs", "main"))
	if err != nil || string(ref) != res.Commit {
		t.Errorf("refs/main = %q, %v; want %s", ref, err, res.Commit)
	}
	for _, skipped := range []string{"README.md", "pytorch_model.bin", "onnx/model.safetensors", ".gitattributes"} {
		if _, err := os.Lstat(filepath.Join(res.Dir, skipped)); err == nil {
			t.Errorf("%s was downloaded", skipped)
		}
	}
	// The weights came through the CDN redirect, in one piece.
	cdn := requestsTo(srv.Log(), "/cdn/")
	if len(cdn) != 1 || cdn[0].Sent != weightsSize || cdn[0].Range != "" {
		t.Errorf("CDN requests %+v", cdn)
	}
	wantTotal := int64(weightsSize + len(fileData(repo, "config.json")) + len(fileData(repo, "tokenizer.json")))
	if calls == 0 || last.Done != wantTotal || last.Total != wantTotal || last.Transferred != wantTotal || last.Files != 3 {
		t.Errorf("last progress %+v after %d calls, want %d bytes done", last, calls, wantTotal)
	}
	if res.Transferred != wantTotal {
		t.Errorf("Transferred %d, want %d", res.Transferred, wantTotal)
	}
	// A second pull finds everything and downloads nothing.
	srv.ResetLog()
	res, err = c.Pull(context.Background(), mustRef(t, "org/tiny"), hub.PullOptions{})
	if err != nil {
		t.Fatal(err)
	}
	if res.Downloaded != 0 || res.Reused != 3 || len(srv.Log()) != 1 {
		t.Errorf("second pull: downloaded %d reused %d, %d requests", res.Downloaded, res.Reused, len(srv.Log()))
	}
}

func TestPullResumesAfterCut(t *testing.T) {
	repo := tinyRepo()
	srv := hubtest.New(repo)
	defer srv.Close()
	c := newClient(t, srv)
	c.Retries = 0
	const cut = 123_456
	srv.CutAfter["model.safetensors"] = cut
	_, err := c.Pull(context.Background(), mustRef(t, "org/tiny"), hub.PullOptions{})
	if err == nil || !strings.Contains(err.Error(), "model.safetensors") {
		t.Fatalf("cut download: err = %v, want one naming model.safetensors", err)
	}
	blobs := filepath.Join(c.Cache.Dir, "models--org--tiny", "blobs")
	blob := filepath.Join(blobs, sha256hex(fileData(repo, "model.safetensors")))
	st, err := os.Stat(blob + ".incomplete")
	if err != nil || st.Size() != cut {
		t.Fatalf("partial file: %v, size %v, want %d", err, st, cut)
	}
	if _, err := os.Stat(blob); err == nil {
		t.Fatal("the partial blob is under its final name")
	}
	if _, err := os.Stat(filepath.Join(c.Cache.Dir, "models--org--tiny", "refs", "main")); err == nil {
		t.Error("refs/main written for an unfinished pull")
	}

	srv.ResetLog()
	res, err := c.Pull(context.Background(), mustRef(t, "org/tiny"), hub.PullOptions{})
	if err != nil {
		t.Fatal(err)
	}
	cdn := requestsTo(srv.Log(), "/cdn/")
	if len(cdn) != 1 {
		t.Fatalf("CDN requests %+v", cdn)
	}
	if cdn[0].Range != "bytes=123456-" || cdn[0].Sent != weightsSize-cut || cdn[0].Sent >= weightsSize {
		t.Errorf("resumed request %+v: want Range bytes=%d- and %d bytes", cdn[0], cut, weightsSize-cut)
	}
	checkSnapshot(t, c.Cache.Dir, repo, res.Commit, "config.json", "tokenizer.json", "model.safetensors")
}

// A cut inside one pull is retried at once, from where it stopped.
func TestPullRetriesCutWithinOnePull(t *testing.T) {
	repo := tinyRepo()
	srv := hubtest.New(repo)
	defer srv.Close()
	c := newClient(t, srv)
	srv.CutAfter["model.safetensors"] = 1000
	res, err := c.Pull(context.Background(), mustRef(t, "org/tiny"), hub.PullOptions{})
	if err != nil {
		t.Fatal(err)
	}
	cdn := requestsTo(srv.Log(), "/cdn/")
	if len(cdn) != 2 || cdn[0].Sent != 1000 || cdn[1].Range != "bytes=1000-" || cdn[1].Sent != weightsSize-1000 {
		t.Errorf("CDN requests %+v", cdn)
	}
	if res.Transferred != weightsSize+int64(len(fileData(repo, "config.json"))+len(fileData(repo, "tokenizer.json"))) {
		t.Errorf("Transferred %d counts bytes twice or misses some", res.Transferred)
	}
	checkSnapshot(t, c.Cache.Dir, repo, res.Commit, "model.safetensors")
}

// A server that ignores ranges sends the whole file again: the partial
// file is started over, not appended to.
func TestPullServerWithoutRanges(t *testing.T) {
	repo := tinyRepo()
	srv := hubtest.New(repo)
	defer srv.Close()
	srv.NoRanges = true
	c := newClient(t, srv)
	srv.CutAfter["model.safetensors"] = 5000
	res, err := c.Pull(context.Background(), mustRef(t, "org/tiny"), hub.PullOptions{})
	if err != nil {
		t.Fatal(err)
	}
	checkSnapshot(t, c.Cache.Dir, repo, res.Commit, "model.safetensors")
}

func TestPullDetectsCorruption(t *testing.T) {
	for _, tc := range []struct{ file, what string }{
		{"model.safetensors", "sha256"},
		{"config.json", "git blob id"},
	} {
		t.Run(tc.file, func(t *testing.T) {
			repo := tinyRepo()
			srv := hubtest.New(repo)
			defer srv.Close()
			srv.Corrupt[tc.file] = true
			c := newClient(t, srv)
			_, err := c.Pull(context.Background(), mustRef(t, "org/tiny"), hub.PullOptions{})
			var ve *hub.VerifyError
			if !errors.As(err, &ve) || ve.File != tc.file || ve.What != tc.what {
				t.Fatalf("err = %v, want a %s mismatch on %s", err, tc.what, tc.file)
			}
			if !strings.Contains(err.Error(), tc.file) || !strings.Contains(err.Error(), "org/tiny") {
				t.Errorf("error %q does not name the file and repository", err)
			}
			data := fileData(repo, tc.file)
			etag := hubtest.GitBlobID(data)
			if tc.what == "sha256" {
				etag = sha256hex(data)
				if ve.Want != etag {
					t.Errorf("want %s in the error, got %s", etag, ve.Want)
				}
			}
			repoDir := filepath.Join(c.Cache.Dir, "models--org--tiny")
			for _, p := range []string{"blobs/" + etag, "blobs/" + etag + ".incomplete"} {
				if _, err := os.Stat(filepath.Join(repoDir, p)); err == nil {
					t.Errorf("%s exists after a failed verification", p)
				}
			}
			matches, _ := filepath.Glob(filepath.Join(repoDir, "snapshots", "*", tc.file))
			if len(matches) != 0 {
				t.Errorf("the corrupt file appears in a snapshot: %v", matches)
			}
		})
	}
}

// layoutLikeHuggingFaceHub writes a cache entry the way huggingface_hub's
// hf_hub_download leaves it: blobs named by sha256 (LFS) or git blob id,
// snapshot entries as relative symlinks, refs/main holding the commit.
func layoutLikeHuggingFaceHub(t *testing.T, cacheDir string, repo hubtest.Repo, commit string, names ...string) {
	t.Helper()
	repoDir := filepath.Join(cacheDir, "models--"+strings.ReplaceAll(repo.ID, "/", "--"))
	for _, d := range []string{"blobs", "refs", "snapshots/" + commit} {
		if err := os.MkdirAll(filepath.Join(repoDir, d), 0o755); err != nil {
			t.Fatal(err)
		}
	}
	for _, f := range repo.Files {
		for _, n := range names {
			if f.Name != n {
				continue
			}
			etag := hubtest.GitBlobID(f.Data)
			if f.LFS {
				etag = sha256hex(f.Data)
			}
			if err := os.WriteFile(filepath.Join(repoDir, "blobs", etag), f.Data, 0o644); err != nil {
				t.Fatal(err)
			}
			if err := os.Symlink("../../blobs/"+etag, filepath.Join(repoDir, "snapshots", commit, f.Name)); err != nil {
				t.Fatal(err)
			}
		}
	}
	if err := os.WriteFile(filepath.Join(repoDir, "refs", "main"), []byte(commit), 0o644); err != nil {
		t.Fatal(err)
	}
}

func TestPullSharesHuggingFaceCache(t *testing.T) {
	repo := tinyRepo()
	repo.Commit = "0123456789abcdef0123456789abcdef01234567"
	srv := hubtest.New(repo)
	defer srv.Close()
	c := newClient(t, srv)
	layoutLikeHuggingFaceHub(t, c.Cache.Dir, repo, repo.Commit, "config.json", "tokenizer.json", "model.safetensors")

	// hf: references resolve from it without the network.
	dir, err := c.Cache.Resolve(mustRef(t, "org/tiny"))
	want := filepath.Join(c.Cache.Dir, "models--org--tiny", "snapshots", repo.Commit)
	if err != nil || dir != want {
		t.Fatalf("Resolve = %q, %v; want %q", dir, err, want)
	}
	if d, err := c.Cache.Resolve(mustRef(t, "org/tiny@"+repo.Commit)); err != nil || d != want {
		t.Errorf("Resolve by commit = %q, %v", d, err)
	}

	res, err := c.Pull(context.Background(), mustRef(t, "org/tiny"), hub.PullOptions{})
	if err != nil {
		t.Fatal(err)
	}
	if res.Reused != 3 || res.Downloaded != 0 {
		t.Errorf("reused %d downloaded %d, want 3 and 0", res.Reused, res.Downloaded)
	}
	if log := srv.Log(); len(log) != 1 || !strings.HasPrefix(log[0].Path, "/api/") {
		t.Errorf("requests %+v, want only the model info", log)
	}

	// A new commit that changes only the config: the weights' blob is
	// linked into the new snapshot, only the config is fetched.
	repo2 := repo
	repo2.Commit = "89abcdef0123456789abcdef0123456789abcdef"
	repo2.Files = append([]hubtest.File(nil), repo.Files...)
	for i := range repo2.Files {
		if repo2.Files[i].Name == "config.json" {
			repo2.Files[i].Data = []byte(`{"architectures":["LlamaForCausalLM"],"hidden_size":16}`)
		}
	}
	srv.Add(repo2)
	srv.ResetLog()
	res, err = c.Pull(context.Background(), mustRef(t, "org/tiny"), hub.PullOptions{})
	if err != nil {
		t.Fatal(err)
	}
	if res.Downloaded != 1 || res.Reused != 2 || len(requestsTo(srv.Log(), "/cdn/")) != 0 {
		t.Errorf("new commit: downloaded %d reused %d, log %+v", res.Downloaded, res.Reused, srv.Log())
	}
	checkSnapshot(t, c.Cache.Dir, repo2, repo2.Commit, "config.json", "tokenizer.json", "model.safetensors")
	if dir, _ := c.Cache.Resolve(mustRef(t, "org/tiny")); dir != filepath.Join(c.Cache.Dir, "models--org--tiny", "snapshots", repo2.Commit) {
		t.Errorf("refs/main not moved to the new commit: %s", dir)
	}
}

// TestGitBlobIDMatchesGit checks the fake's blob ids against git itself.
func TestGitBlobIDMatchesGit(t *testing.T) {
	gitPath, err := exec.LookPath("git")
	if err != nil {
		t.Skip("git not installed")
	}
	for _, data := range [][]byte{nil, []byte("hello\n"), randomBytes(5000, 9)} {
		cmd := exec.Command(gitPath, "hash-object", "--stdin")
		cmd.Stdin = bytes.NewReader(data)
		out, err := cmd.Output()
		if err != nil {
			t.Fatal(err)
		}
		if got, want := hubtest.GitBlobID(data), strings.TrimSpace(string(out)); got != want {
			t.Errorf("GitBlobID = %s, git hash-object = %s", got, want)
		}
	}
}

func TestPullRefusesHostileNames(t *testing.T) {
	for _, name := range []string{"../../../evil.json", "/etc/evil.json", "a/../../evil.json", `..\evil.json`, "a//b", "./config.json", "C:evil", "a\x00b"} {
		t.Run(name, func(t *testing.T) {
			srv := hubtest.New(tinyRepo())
			defer srv.Close()
			info := `{"id":"org/tiny","sha":"0123456789abcdef0123456789abcdef01234567","siblings":[` +
				`{"rfilename":"config.json","size":2,"blobId":"0123456789abcdef0123456789abcdef01234567"},` +
				`{"rfilename":` + jsonString(name) + `,"size":2,"blobId":"0123456789abcdef0123456789abcdef01234567"}]}`
			srv.InfoOverride = []byte(info)
			root := t.TempDir()
			c := newClient(t, srv)
			c.Cache.Dir = filepath.Join(root, "cache", "hub")
			_, err := c.Pull(context.Background(), mustRef(t, "org/tiny"), hub.PullOptions{Include: []string{"*"}})
			if err == nil || !strings.Contains(err.Error(), "refused") {
				t.Fatalf("err = %v, want the name refused", err)
			}
			filepath.WalkDir(root, func(p string, d fs.DirEntry, err error) error {
				if !d.IsDir() {
					t.Errorf("file written: %s", p)
				}
				return nil
			})
		})
	}
}

func jsonString(s string) string {
	var b strings.Builder
	b.WriteByte('"')
	for _, r := range s {
		switch {
		case r == '"' || r == '\\':
			b.WriteByte('\\')
			b.WriteRune(r)
		case r < 0x20:
			b.WriteString(`\u00`)
			b.WriteString(hex.EncodeToString([]byte{byte(r)}))
		default:
			b.WriteRune(r)
		}
	}
	b.WriteByte('"')
	return b.String()
}

func TestPullErrors(t *testing.T) {
	gated := tinyRepo()
	gated.ID = "org/gated"
	gated.Token = "hf_right"
	for _, tc := range []struct {
		name  string
		ref   string
		token string
		opt   hub.PullOptions
		setup func(*hubtest.Server)
		want  []string // substrings of the error
	}{
		{name: "gated without token", ref: "org/gated", want: []string{"org/gated needs an access token", "gated", "HF_TOKEN", "401"}},
		{name: "gated with a wrong token", ref: "org/gated", token: "hf_wrong", want: []string{"org/gated is a gated model", "HF_TOKEN", "403", "/org/gated)"}},
		{name: "unknown repository", ref: "org/missing", want: []string{"repository org/missing not found", "404"}},
		{name: "unknown revision", ref: "org/tiny@v9", want: []string{"org/tiny", "revision v9 not found"}},
		{name: "file missing on the server", ref: "org/tiny",
			setup: func(s *hubtest.Server) {
				s.FailNext["/resolve/"] = hubtest.FailRule{Status: 404, Code: "EntryNotFound", Times: 1}
			},
			want: []string{"org/tiny", "file config.json not found"}},
		{name: "server keeps failing", ref: "org/tiny",
			setup: func(s *hubtest.Server) { s.FailNext["/api/"] = hubtest.FailRule{Status: 503, Times: 100} },
			want:  []string{"org/tiny", "server failed with HTTP 503", "gave up after 4 attempts"}},
		{name: "CDN unreachable", ref: "org/tiny",
			setup: func(s *hubtest.Server) { s.CDNBase = "http://127.0.0.1:1" },
			want:  []string{"org/tiny: model.safetensors", "refused", "gave up after 4 attempts"}},
		{name: "redirect to another scheme", ref: "org/tiny",
			setup: func(s *hubtest.Server) { s.CDNBase = "file:///etc" },
			want:  []string{"model.safetensors", "redirect without a usable Location"}},
		{name: "gguf not in repository", ref: "org/tiny", opt: hub.PullOptions{GGUF: "tiny-Q8_0.gguf"}, want: []string{"org/tiny", `"tiny-Q8_0.gguf"`}},
		{name: "pattern matching nothing", ref: "org/tiny", opt: hub.PullOptions{Include: []string{"*.gguf"}}, want: []string{`"*.gguf" matches no file`}},
		{name: "bad pattern", ref: "org/tiny", opt: hub.PullOptions{Include: []string{"[x"}}, want: []string{`"[x"`}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			srv := hubtest.New(tinyRepo(), gated)
			defer srv.Close()
			if tc.setup != nil {
				tc.setup(srv)
			}
			c := newClient(t, srv)
			c.Token = tc.token
			_, err := c.Pull(context.Background(), mustRef(t, tc.ref), tc.opt)
			if err == nil {
				t.Fatal("no error")
			}
			t.Log(err)
			for _, w := range tc.want {
				if !strings.Contains(err.Error(), w) {
					t.Errorf("error %q lacks %q", err, w)
				}
			}
		})
	}
}

func TestPullTransientErrorsRetried(t *testing.T) {
	repo := tinyRepo()
	srv := hubtest.New(repo)
	defer srv.Close()
	srv.FailNext["/api/"] = hubtest.FailRule{Status: 502, Times: 2}
	srv.FailNext["/cdn/"] = hubtest.FailRule{Status: 503, Times: 1}
	c := newClient(t, srv)
	res, err := c.Pull(context.Background(), mustRef(t, "org/tiny"), hub.PullOptions{})
	if err != nil {
		t.Fatal(err)
	}
	checkSnapshot(t, c.Cache.Dir, repo, res.Commit, "config.json", "tokenizer.json", "model.safetensors")
}

func TestPullTokenGoesToHubOnly(t *testing.T) {
	repo := tinyRepo()
	repo.ID = "org/gated"
	repo.Token = "hf_right"
	srv := hubtest.New(repo)
	defer srv.Close()
	c := newClient(t, srv)
	c.Token = "hf_right"
	// The Hub is addressed as localhost and the CDN as 127.0.0.1: two
	// hosts, one server.
	c.Endpoint = strings.Replace(srv.URL, "127.0.0.1", "localhost", 1)
	srv.CDNBase = srv.URL
	if _, err := c.Pull(context.Background(), mustRef(t, "org/gated"), hub.PullOptions{}); err != nil {
		t.Fatal(err)
	}
	cdn := 0
	for _, r := range srv.Log() {
		want := "Bearer hf_right"
		if strings.HasPrefix(r.Path, "/cdn/") {
			want = ""
			cdn++
		}
		if r.Auth != want {
			t.Errorf("%s sent Authorization %q, want %q", r.Path, r.Auth, want)
		}
	}
	if cdn != 1 {
		t.Errorf("%d CDN requests, want 1", cdn)
	}
}

func TestPullGGUF(t *testing.T) {
	repo := hubtest.Repo{ID: "org/tiny-GGUF", Files: []hubtest.File{
		{Name: "README.md", Data: []byte("x")},
		{Name: "tiny-Q8_0.gguf", Data: randomBytes(4000, 4), LFS: true},
		{Name: "tiny-F16.gguf", Data: randomBytes(8000, 5), LFS: true},
	}}
	srv := hubtest.New(repo)
	defer srv.Close()
	c := newClient(t, srv)
	_, err := c.Pull(context.Background(), mustRef(t, "org/tiny-GGUF"), hub.PullOptions{})
	var nw *hub.NoWeightsError
	if !errors.As(err, &nw) || len(nw.GGUF) != 2 || !strings.Contains(err.Error(), "tiny-Q8_0.gguf") {
		t.Fatalf("default pull of a GGUF repository: %v, want the GGUF files listed", err)
	}
	res, err := c.Pull(context.Background(), mustRef(t, "org/tiny-GGUF"), hub.PullOptions{GGUF: "tiny-Q8_0.gguf"})
	if err != nil {
		t.Fatal(err)
	}
	if len(res.Files) != 1 || len(requestsTo(srv.Log(), "/cdn/")) != 1 {
		t.Errorf("files %v, log %+v", res.Files, srv.Log())
	}
	checkSnapshot(t, c.Cache.Dir, repo, res.Commit, "tiny-Q8_0.gguf")
}

func TestPullCanceled(t *testing.T) {
	srv := hubtest.New(tinyRepo())
	defer srv.Close()
	c := newClient(t, srv)
	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	if _, err := c.Pull(ctx, mustRef(t, "org/tiny"), hub.PullOptions{}); !errors.Is(err, context.Canceled) {
		t.Errorf("err = %v, want context.Canceled", err)
	}
}

// A download cut again and again still completes while each attempt gets
// further: the retry budget counts attempts without progress.
func TestPullKeepsGoingWhileProgressing(t *testing.T) {
	repo := tinyRepo()
	srv := hubtest.New(repo)
	defer srv.Close()
	c := newClient(t, srv)
	c.Retries = 1
	srv.CutEvery["model.safetensors"] = 50_000
	res, err := c.Pull(context.Background(), mustRef(t, "org/tiny"), hub.PullOptions{})
	if err != nil {
		t.Fatal(err)
	}
	checkSnapshot(t, c.Cache.Dir, repo, res.Commit, "model.safetensors")
	if n := len(requestsTo(srv.Log(), "/cdn/")); n != weightsSize/50_000 {
		t.Errorf("%d CDN requests, want %d", n, weightsSize/50_000)
	}
}

// A connection that goes silent is dropped after IdleTimeout and resumed.
func TestPullStalledDownloadResumes(t *testing.T) {
	repo := tinyRepo()
	srv := hubtest.New(repo)
	defer srv.Close()
	c := newClient(t, srv)
	c.IdleTimeout = 500 * time.Millisecond
	srv.StallAfter["model.safetensors"] = 70_000
	res, err := c.Pull(context.Background(), mustRef(t, "org/tiny"), hub.PullOptions{})
	if err != nil {
		t.Fatal(err)
	}
	cdn := requestsTo(srv.Log(), "/cdn/")
	if len(cdn) != 2 || cdn[1].Range != "bytes=70000-" {
		t.Errorf("CDN requests %+v, want a stalled one then one resuming at 70000", cdn)
	}
	checkSnapshot(t, c.Cache.Dir, repo, res.Commit, "model.safetensors")

	// Without retries the error says what happened.
	srv.StallAfter["tokenizer.json"] = 5
	c2 := newClient(t, srv)
	c2.IdleTimeout, c2.Retries = 300*time.Millisecond, 0
	_, err = c2.Pull(context.Background(), mustRef(t, "org/tiny"), hub.PullOptions{})
	if err == nil || !strings.Contains(err.Error(), "tokenizer.json") || !strings.Contains(err.Error(), "stalled") {
		t.Errorf("err = %v, want a stall on tokenizer.json", err)
	}
}

// A server whose model info has sizes but no hashes: blobs are named by the
// resolve answer's ETag, and sizes still checked.
func TestPullWithoutHashesInInfo(t *testing.T) {
	repo := tinyRepo()
	repo.Commit = "0123456789abcdef0123456789abcdef01234567"
	srv := hubtest.New(repo)
	defer srv.Close()
	srv.InfoOverride = []byte(`{"id":"org/tiny","sha":"` + repo.Commit + `","siblings":[` +
		`{"rfilename":"config.json","size":` + itoa(len(fileData(repo, "config.json"))) + `},` +
		`{"rfilename":"model.safetensors","size":` + itoa(weightsSize) + `}]}`)
	c := newClient(t, srv)
	res, err := c.Pull(context.Background(), mustRef(t, "org/tiny"), hub.PullOptions{})
	if err != nil {
		t.Fatal(err)
	}
	checkSnapshot(t, c.Cache.Dir, repo, res.Commit, "config.json", "model.safetensors")
}

func itoa(n int) string { return strconv.Itoa(n) }
