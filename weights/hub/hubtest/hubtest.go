// Package hubtest runs a fake Hugging Face Hub for tests: the model-info
// API, the resolve endpoint with its headers, redirects of LFS files to a
// CDN path on the same server, byte ranges, and faults on demand (status
// codes, a connection cut mid-file, corrupted content).
//
// The shapes follow what the real Hub answers:
//
//	GET /api/models/{repo}/revision/{rev}?blobs=true
//	    {"id", "sha", "siblings": [{"rfilename", "size", "blobId", "lfs": {"sha256", "size", "pointerSize"}}]}
//	    without blobs=true, siblings carry only "rfilename"
//	GET /{repo}/resolve/{rev}/{file}
//	    files kept in git: 200 with the content, ETag "<git blob id>", X-Repo-Commit
//	    LFS files: 302 to /cdn/{sha256}, with X-Linked-Etag "<sha256>",
//	    X-Linked-Size, X-Repo-Commit and the pointer file's ETag
//	errors carry X-Error-Code: RepoNotFound, RevisionNotFound, EntryNotFound, GatedRepo
package hubtest

import (
	"crypto/sha1"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"net/http"
	"net/http/httptest"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"time"
)

// File is a file of a fake repository.
type File struct {
	Name string
	Data []byte
	LFS  bool // served through the CDN redirect, hashed with sha256
}

// Repo is a fake repository at one commit.
type Repo struct {
	ID     string // "org/name"
	Commit string // 40 hex digits; Add derives one from the content when empty
	Files  []File
	// Token, when set, makes the repository gated: downloads without it are
	// 401, with another token 403 (X-Error-Code GatedRepo).
	Token string
	// Branches maps branch names to this commit; "main" always does.
	Branches []string
}

// Request is one request the server answered, for tests to inspect.
type Request struct {
	Path  string
	Range string // the Range header sent
	Auth  string // the Authorization header sent
	Sent  int64  // body bytes written
}

// Server is a fake Hub. Its fault fields may be changed between requests.
type Server struct {
	*httptest.Server

	mu    sync.Mutex
	repos map[string]*Repo
	log   []Request
	// inFlight counts handlers still running: a client can finish reading
	// a body before its handler has logged it, so Log waits for them.
	inFlight atomic.Int32

	// InfoOverride, when set, replaces the model-info JSON of every repo.
	InfoOverride []byte
	// FailNext answers the next requests whose path contains the key with
	// the status, as many times as the count says.
	FailNext map[string]FailRule
	// CutAfter cuts the connection of the next CDN download of a file
	// (by name) after that many body bytes, once.
	CutAfter map[string]int64
	// CutEvery cuts every download of a file after that many body bytes
	// (a resumed one too, counting from where it resumed).
	CutEvery map[string]int64
	// StallAfter sends that many body bytes of the next download of a file,
	// then nothing, holding the connection open until the client leaves.
	StallAfter map[string]int64
	// Corrupt serves the named files with one byte changed (same length).
	Corrupt map[string]bool
	// NoRanges makes the CDN ignore Range headers (200 and the whole file).
	NoRanges bool
	// CDNBase, when set, makes LFS redirects absolute URLs on this base
	// (another host name for the same server), like a real CDN's.
	CDNBase string
}

// FailRule is a scripted error answer.
type FailRule struct {
	Status int
	Code   string // X-Error-Code
	Times  int
}

// New starts a fake Hub serving the repositories. Close it when done.
func New(repos ...Repo) *Server {
	s := &Server{repos: map[string]*Repo{}, FailNext: map[string]FailRule{}, CutAfter: map[string]int64{},
		CutEvery: map[string]int64{}, StallAfter: map[string]int64{}, Corrupt: map[string]bool{}}
	for _, r := range repos {
		s.Add(r)
	}
	s.Server = httptest.NewServer(http.HandlerFunc(s.serve))
	return s
}

// Add adds or replaces a repository.
func (s *Server) Add(r Repo) {
	if r.Commit == "" {
		h := sha1.New()
		h.Write([]byte(r.ID))
		for _, f := range r.Files {
			h.Write([]byte(f.Name))
			h.Write(f.Data)
		}
		r.Commit = hex.EncodeToString(h.Sum(nil))
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	s.repos[r.ID] = &r
}

// Log returns the requests answered so far. It first waits (up to two
// seconds, for a handler that a test stalls on purpose) until no handler is
// still running, so a request whose body the client has read is logged.
func (s *Server) Log() []Request {
	for deadline := time.Now().Add(2 * time.Second); s.inFlight.Load() > 0 && time.Now().Before(deadline); {
		time.Sleep(time.Millisecond)
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	return append([]Request(nil), s.log...)
}

// ResetLog forgets the requests answered so far.
func (s *Server) ResetLog() {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.log = nil
}

// GitBlobID is the git object id of content: sha1("blob <len>\0" + data).
func GitBlobID(data []byte) string {
	h := sha1.New()
	fmt.Fprintf(h, "blob %d\x00", len(data))
	h.Write(data)
	return hex.EncodeToString(h.Sum(nil))
}

// SHA256 is the hex sha256 of data.
func SHA256(data []byte) string {
	s := sha256.Sum256(data)
	return hex.EncodeToString(s[:])
}

// pointer is the Git LFS pointer file that stands for an LFS file in git.
func pointer(f File) []byte {
	return fmt.Appendf(nil, "version https://git-lfs.github.com/spec/v1\noid sha256:%s\nsize %d\n", SHA256(f.Data), len(f.Data))
}

func (s *Server) record(r *http.Request, sent int64) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.log = append(s.log, Request{Path: r.URL.Path, Range: r.Header.Get("Range"), Auth: r.Header.Get("Authorization"), Sent: sent})
}

func (s *Server) serve(w http.ResponseWriter, r *http.Request) {
	s.inFlight.Add(1)
	defer s.inFlight.Add(-1)
	s.mu.Lock()
	for key, rule := range s.FailNext {
		if strings.Contains(r.URL.Path, key) && rule.Times > 0 {
			rule.Times--
			s.FailNext[key] = rule
			s.mu.Unlock()
			s.record(r, 0)
			if rule.Code != "" {
				w.Header().Set("X-Error-Code", rule.Code)
			}
			http.Error(w, http.StatusText(rule.Status), rule.Status)
			return
		}
	}
	s.mu.Unlock()
	p := r.URL.Path
	switch {
	case strings.HasPrefix(p, "/api/models/"):
		s.serveInfo(w, r, strings.TrimPrefix(p, "/api/models/"))
	case strings.HasPrefix(p, "/cdn/"):
		s.serveCDN(w, r, strings.TrimPrefix(p, "/cdn/"))
	case strings.Contains(p, "/resolve/"):
		s.serveResolve(w, r)
	default:
		s.record(r, 0)
		http.NotFound(w, r)
	}
}

func notFound(w http.ResponseWriter, code, msg string) {
	w.Header().Set("X-Error-Code", code)
	w.Header().Set("X-Error-Message", msg)
	http.Error(w, msg, http.StatusNotFound)
}

// lookup finds a repository and revision in "org/name/…/{rev}" forms.
func (s *Server) lookup(repoID, rev string) (*Repo, string) {
	s.mu.Lock()
	defer s.mu.Unlock()
	repo := s.repos[repoID]
	if repo == nil {
		return nil, "RepoNotFound"
	}
	if rev == repo.Commit || rev == "main" {
		return repo, ""
	}
	for _, b := range repo.Branches {
		if b == rev {
			return repo, ""
		}
	}
	return repo, "RevisionNotFound"
}

func (s *Server) serveInfo(w http.ResponseWriter, r *http.Request, rest string) {
	s.record(r, 0)
	repoID, rev, ok := strings.Cut(rest, "/revision/")
	if !ok {
		rev = "main"
		repoID = rest
	}
	repo, code := s.lookup(repoID, rev)
	if code != "" {
		notFound(w, code, code+": "+repoID+"@"+rev)
		return
	}
	s.mu.Lock()
	override := s.InfoOverride
	s.mu.Unlock()
	if override != nil {
		w.Header().Set("Content-Type", "application/json")
		w.Write(override)
		return
	}
	type lfs struct {
		SHA256      string `json:"sha256"`
		Size        int    `json:"size"`
		PointerSize int    `json:"pointerSize"`
	}
	type sibling struct {
		RFilename string `json:"rfilename"`
		Size      *int   `json:"size,omitempty"`
		BlobID    string `json:"blobId,omitempty"`
		LFS       *lfs   `json:"lfs,omitempty"`
	}
	blobs := r.URL.Query().Get("blobs") == "true"
	var sib []sibling
	for _, f := range repo.Files {
		sb := sibling{RFilename: f.Name}
		if blobs {
			n := len(f.Data)
			sb.Size = &n
			if f.LFS {
				p := pointer(f)
				sb.BlobID = GitBlobID(p)
				sb.LFS = &lfs{SHA256: SHA256(f.Data), Size: n, PointerSize: len(p)}
			} else {
				sb.BlobID = GitBlobID(f.Data)
			}
		}
		sib = append(sib, sb)
	}
	w.Header().Set("Content-Type", "application/json")
	json.NewEncoder(w).Encode(map[string]any{
		"_id": "fake" + repo.Commit[:8], "id": repo.ID, "modelId": repo.ID, "sha": repo.Commit,
		"private": false, "gated": repo.Token != "", "siblings": sib,
	})
}

func (s *Server) serveResolve(w http.ResponseWriter, r *http.Request) {
	repoID, rest, _ := strings.Cut(strings.TrimPrefix(r.URL.Path, "/"), "/resolve/")
	rev, name, _ := strings.Cut(rest, "/")
	repo, code := s.lookup(repoID, rev)
	if code != "" {
		s.record(r, 0)
		notFound(w, code, code+": "+repoID+"@"+rev)
		return
	}
	if repo.Token != "" && r.Header.Get("Authorization") != "Bearer "+repo.Token {
		s.record(r, 0)
		status := http.StatusUnauthorized
		if r.Header.Get("Authorization") != "" {
			status = http.StatusForbidden
			w.Header().Set("X-Error-Code", "GatedRepo")
		}
		http.Error(w, "Access to model "+repoID+" is restricted.", status)
		return
	}
	var file *File
	for i := range repo.Files {
		if repo.Files[i].Name == name {
			file = &repo.Files[i]
		}
	}
	if file == nil {
		s.record(r, 0)
		w.Header().Set("X-Repo-Commit", repo.Commit)
		notFound(w, "EntryNotFound", "EntryNotFound: "+name)
		return
	}
	w.Header().Set("X-Repo-Commit", repo.Commit)
	if file.LFS {
		p := pointer(*file)
		w.Header().Set("ETag", `"`+GitBlobID(p)+`"`)
		w.Header().Set("X-Linked-Etag", `"`+SHA256(file.Data)+`"`)
		w.Header().Set("X-Linked-Size", strconv.Itoa(len(file.Data)))
		s.mu.Lock()
		base := s.CDNBase
		s.mu.Unlock()
		w.Header().Set("Location", base+"/cdn/"+SHA256(file.Data)+"?name="+name)
		w.WriteHeader(http.StatusFound)
		s.record(r, 0)
		return
	}
	w.Header().Set("ETag", `"`+GitBlobID(file.Data)+`"`)
	s.serveBytes(w, r, name, file.Data)
}

func (s *Server) serveCDN(w http.ResponseWriter, r *http.Request, sha string) {
	s.mu.Lock()
	var file *File
	for _, repo := range s.repos {
		for i := range repo.Files {
			if repo.Files[i].LFS && SHA256(repo.Files[i].Data) == sha {
				file = &repo.Files[i]
			}
		}
	}
	s.mu.Unlock()
	if file == nil {
		s.record(r, 0)
		http.NotFound(w, r)
		return
	}
	s.serveBytes(w, r, file.Name, file.Data)
}

// serveBytes answers with data or the range asked for ("bytes=N-" only, as
// the downloaders send), applying the corruption and cut faults.
func (s *Server) serveBytes(w http.ResponseWriter, r *http.Request, name string, data []byte) {
	s.mu.Lock()
	if s.Corrupt[name] && len(data) > 0 {
		data = append([]byte(nil), data...)
		data[len(data)/2] ^= 0xff
	}
	cut, doCut := s.CutAfter[name]
	if doCut {
		delete(s.CutAfter, name)
	}
	if n, ok := s.CutEvery[name]; ok {
		cut, doCut = n, true
	}
	stall, doStall := s.StallAfter[name]
	if doStall {
		delete(s.StallAfter, name)
	}
	noRanges := s.NoRanges
	s.mu.Unlock()

	start := 0
	status := http.StatusOK
	if rg := r.Header.Get("Range"); rg != "" && !noRanges {
		a, ok := strings.CutPrefix(rg, "bytes=")
		a, _, ok2 := strings.Cut(a, "-")
		n, err := strconv.Atoi(a)
		if !ok || !ok2 || err != nil || n < 0 {
			s.record(r, 0)
			http.Error(w, "bad range", http.StatusBadRequest)
			return
		}
		if n >= len(data) {
			s.record(r, 0)
			w.Header().Set("Content-Range", fmt.Sprintf("bytes */%d", len(data)))
			http.Error(w, "range not satisfiable", http.StatusRequestedRangeNotSatisfiable)
			return
		}
		start, status = n, http.StatusPartialContent
		w.Header().Set("Content-Range", fmt.Sprintf("bytes %d-%d/%d", n, len(data)-1, len(data)))
	}
	body := data[start:]
	if doCut && cut < int64(len(body)) {
		// Announce the whole body, send part of it, and drop the
		// connection: what a reset network looks like to the client.
		hj, ok := w.(http.Hijacker)
		if !ok {
			http.Error(w, "hubtest: connection cannot be hijacked", http.StatusInternalServerError)
			return
		}
		conn, buf, err := hj.Hijack()
		if err != nil {
			http.Error(w, "hubtest: "+err.Error(), http.StatusInternalServerError)
			return
		}
		defer conn.Close()
		fmt.Fprintf(buf, "HTTP/1.1 %d %s\r\n", status, http.StatusText(status))
		for k, v := range w.Header() {
			for _, x := range v {
				fmt.Fprintf(buf, "%s: %s\r\n", k, x)
			}
		}
		fmt.Fprintf(buf, "Content-Length: %d\r\n\r\n", len(body))
		buf.Write(body[:cut])
		buf.Flush()
		s.record(r, cut)
		return
	}
	w.Header().Set("Content-Length", strconv.Itoa(len(body)))
	w.WriteHeader(status)
	if doStall && stall < int64(len(body)) {
		w.Write(body[:stall])
		if fl, ok := w.(http.Flusher); ok {
			fl.Flush()
		}
		<-r.Context().Done()
		s.record(r, stall)
		return
	}
	n, _ := w.Write(body)
	s.record(r, int64(n))
}
