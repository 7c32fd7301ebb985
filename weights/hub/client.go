package hub

import (
	"context"
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"net/url"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"time"
)

// DefaultEndpoint is the public Hub.
const DefaultEndpoint = "https://huggingface.co"

// Client talks to a Hub and writes into a cache. The zero value is not
// usable: make one with NewClient or fill in Endpoint and Cache.
type Client struct {
	// Endpoint is the Hub's base URL, without a trailing slash.
	Endpoint string
	// Token is sent as "Authorization: Bearer" to the Hub (not to the CDN
	// a download redirects to); "" sends none.
	Token string
	// Cache is where files go.
	Cache Cache
	// HTTP makes the requests; nil uses a client with connection and
	// header timeouts but no overall one (a weight file may take hours).
	HTTP *http.Client
	// Retries is how many times a request that failed in a way that may
	// pass (a 5xx or 429, a refused or cut connection) is tried again; a
	// cut download resumes where it stopped.
	Retries int
	// Backoff is the wait before the first retry; it doubles each time,
	// up to MaxBackoff.
	Backoff, MaxBackoff time.Duration
	// Progress, when set, is called as bytes arrive.
	Progress func(Progress)
	// Waiting, when set, is called when the download of a file waits for
	// another process downloading the same blob to finish.
	Waiting func(file string)
	// IdleTimeout ends a download that received nothing for this long (it
	// is then retried, resuming); 0 means two minutes.
	IdleTimeout time.Duration

	defaultHTTP     *http.Client
	defaultHTTPOnce sync.Once
}

// Progress is a snapshot of a pull under way.
type Progress struct {
	File              string // the file being downloaded
	FileDone          int64  // bytes of it on disk
	FileSize          int64
	Done, Total       int64 // bytes on disk and to fetch, over the files this pull downloads
	Transferred       int64 // bytes received over the network by this pull so far
	Files, FilesTotal int   // files finished and to download
}

// NewClient returns a client configured from the environment the way
// huggingface_hub reads it: HF_ENDPOINT (default https://huggingface.co),
// HF_TOKEN (else the token file $HF_TOKEN_PATH or $HF_HOME/token that
// "huggingface-cli login" writes), and the cache folder of CacheDir.
func NewClient(getenv func(string) string) (*Client, error) {
	dir, err := CacheDir(getenv)
	if err != nil {
		return nil, err
	}
	endpoint := strings.TrimRight(getenv("HF_ENDPOINT"), "/")
	if endpoint == "" {
		endpoint = DefaultEndpoint
	}
	u, err := url.Parse(endpoint)
	if err != nil || (u.Scheme != "http" && u.Scheme != "https") || u.Host == "" {
		return nil, fmt.Errorf("hub: HF_ENDPOINT %q is not an http(s) URL", endpoint)
	}
	token := strings.TrimSpace(getenv("HF_TOKEN"))
	if token == "" {
		token = strings.TrimSpace(getenv("HUGGING_FACE_HUB_TOKEN"))
	}
	if token == "" {
		p := getenv("HF_TOKEN_PATH")
		if p == "" {
			if home, err := HFHome(getenv); err == nil {
				p = filepath.Join(home, "token")
			}
		}
		if p != "" {
			if b, err := os.ReadFile(p); err == nil && len(b) < 4096 {
				token = strings.TrimSpace(string(b))
			}
		}
	}
	return &Client{
		Endpoint:   endpoint,
		Token:      token,
		Cache:      Cache{Dir: dir},
		Retries:    5,
		Backoff:    time.Second,
		MaxBackoff: 30 * time.Second,
	}, nil
}

func (c *Client) httpClient() *http.Client {
	if c.HTTP != nil {
		return c.HTTP
	}
	c.defaultHTTPOnce.Do(func() { c.defaultHTTP = newHTTPClient() })
	return c.defaultHTTP
}

// newHTTPClient has timeouts on connecting and on the response headers, none
// on the body: Client.IdleTimeout watches that.
func newHTTPClient() *http.Client {
	return &http.Client{Transport: &http.Transport{
		Proxy:                 http.ProxyFromEnvironment,
		DialContext:           (&net.Dialer{Timeout: 30 * time.Second, KeepAlive: 30 * time.Second}).DialContext,
		TLSHandshakeTimeout:   30 * time.Second,
		ResponseHeaderTimeout: 60 * time.Second,
		IdleConnTimeout:       90 * time.Second,
		MaxIdleConnsPerHost:   4,
	}}
}

// StatusError is an HTTP error answer from the Hub or its CDN, with the
// Hub's own error code when it gave one.
type StatusError struct {
	Repo   string // repository asked for
	What   string // "revision main", "file config.json", ...
	URL    string
	Status int
	Code   string // X-Error-Code: RepoNotFound, RevisionNotFound, EntryNotFound, GatedRepo
	Detail string // X-Error-Message, or the start of the body
	Page   string // the repository's page on the Hub
	hasTok bool
}

func (e *StatusError) Error() string {
	var msg string
	switch {
	case e.Code == "GatedRepo" || (e.Status == http.StatusForbidden && e.Code == ""):
		if e.hasTok {
			msg = fmt.Sprintf("%s is a gated model and the token in HF_TOKEN has no access to it (HTTP %d): accept its conditions on its page (%s) with the account the token belongs to", e.Repo, e.Status, e.Page)
		} else {
			msg = fmt.Sprintf("%s is a gated model (HTTP %d): accept its conditions on its page (%s), then set HF_TOKEN to an access token of that account", e.Repo, e.Status, e.Page)
		}
	case e.Code == "RepoNotFound":
		if e.hasTok {
			msg = fmt.Sprintf("repository %s not found, or the token in HF_TOKEN cannot read it (HTTP %d)", e.Repo, e.Status)
		} else {
			msg = fmt.Sprintf("repository %s not found (HTTP %d); if it is private or gated, set HF_TOKEN to an access token that can read it", e.Repo, e.Status)
		}
	case e.Status == http.StatusUnauthorized:
		if e.hasTok {
			msg = fmt.Sprintf("the token in HF_TOKEN was refused for %s (HTTP 401): it is invalid or expired, or the repository is private, gated or absent", e.Repo)
		} else {
			msg = fmt.Sprintf("%s needs an access token (HTTP 401): it is a gated or private model (or does not exist); set HF_TOKEN to a token of an account that may read it", e.Repo)
		}
	case e.Code == "RevisionNotFound", e.Code == "EntryNotFound", e.Status == http.StatusNotFound:
		msg = fmt.Sprintf("%s: %s not found (HTTP %d)", e.Repo, e.What, e.Status)
	case e.Status >= 500:
		msg = fmt.Sprintf("%s: %s: the server failed with HTTP %d %s", e.Repo, e.What, e.Status, http.StatusText(e.Status))
	default:
		msg = fmt.Sprintf("%s: %s: HTTP %d %s", e.Repo, e.What, e.Status, http.StatusText(e.Status))
	}
	if e.Detail != "" && e.Detail != http.StatusText(e.Status) {
		msg += " (server says: " + e.Detail + ")"
	}
	return "hub: " + msg
}

// retryable reports whether trying again may help: server errors, rate
// limits, and network failures (refused, reset or cut connections).
func retryable(err error) bool {
	if err == nil || errors.Is(err, context.Canceled) || errors.Is(err, context.DeadlineExceeded) {
		return false
	}
	var se *StatusError
	if errors.As(err, &se) {
		return se.Status >= 500 || se.Status == http.StatusTooManyRequests || se.Status == http.StatusRequestTimeout
	}
	var ne net.Error
	if errors.As(err, &ne) || errors.Is(err, io.ErrUnexpectedEOF) || errors.Is(err, errCut) || errors.Is(err, errRestart) || errors.Is(err, errStalled) {
		return true
	}
	var ue *url.Error
	return errors.As(err, &ue)
}

// errCut marks a body that ended before its announced length.
var errCut = errors.New("connection closed before the end of the file")

// withRetry runs f, and again after a growing wait while it fails in a
// retryable way, at most c.Retries more times. An attempt after which
// progressed reports true (a download that got further before it was cut)
// starts the count and the wait afresh, so a long download on a flaky
// network keeps going as long as it advances.
func (c *Client) withRetry(ctx context.Context, f func() error, progressed func() bool) error {
	wait := c.Backoff
	for attempt := 0; ; attempt++ {
		err := f()
		if err == nil || !retryable(err) {
			return err
		}
		if progressed != nil && progressed() {
			attempt, wait = 0, c.Backoff
		}
		if attempt >= c.Retries {
			if attempt > 0 {
				return fmt.Errorf("%w (gave up after %d attempts)", err, attempt+1)
			}
			return err
		}
		t := time.NewTimer(wait)
		select {
		case <-ctx.Done():
			t.Stop()
			return fmt.Errorf("%w (while waiting to retry after: %v)", ctx.Err(), err)
		case <-t.C:
		}
		wait *= 2
		if c.MaxBackoff > 0 && wait > c.MaxBackoff {
			wait = c.MaxBackoff
		}
	}
}

// get sends a GET, with the token only when the URL is on the Hub's host.
// Redirects are not followed: the caller reads the Hub's headers first.
func (c *Client) get(ctx context.Context, u string, header http.Header) (*http.Response, error) {
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, u, nil)
	if err != nil {
		return nil, err
	}
	for k, v := range header {
		req.Header[k] = v
	}
	req.Header.Set("User-Agent", "valueexp (Go; huggingface_hub-compatible cache)")
	if c.Token != "" && sameHost(u, c.Endpoint) {
		req.Header.Set("Authorization", "Bearer "+c.Token)
	}
	hc := *c.httpClient()
	hc.CheckRedirect = func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }
	return hc.Do(req)
}

func sameHost(a, b string) bool {
	ua, err1 := url.Parse(a)
	ub, err2 := url.Parse(b)
	return err1 == nil && err2 == nil && ua.Scheme == ub.Scheme && ua.Host == ub.Host
}

// statusError builds the error for a non-success response, reading at most
// a little of its body for the detail.
func (c *Client) statusError(resp *http.Response, repo, what string) *StatusError {
	e := &StatusError{Repo: repo, What: what, URL: resp.Request.URL.String(), Status: resp.StatusCode,
		Code: resp.Header.Get("X-Error-Code"), Detail: resp.Header.Get("X-Error-Message"),
		Page: c.Endpoint + "/" + repo, hasTok: c.Token != ""}
	if e.Detail == "" {
		b, _ := io.ReadAll(io.LimitReader(resp.Body, 512))
		e.Detail = oneLine(string(b), 200)
	}
	return e
}

// oneLine shortens s to one printable line of at most n bytes.
func oneLine(s string, n int) string {
	s = strings.Join(strings.Fields(s), " ")
	s = strings.Map(func(r rune) rune {
		if r < 0x20 || r == 0x7f {
			return -1
		}
		return r
	}, s)
	if len(s) > n {
		s = s[:n] + "..."
	}
	return s
}

// ModelInfo asks the Hub which commit a revision is and which files the
// repository holds there, with their sizes and hashes.
func (c *Client) ModelInfo(ctx context.Context, ref Ref) (*ModelInfo, error) {
	if err := checkRepoID(ref.Repo); err != nil {
		return nil, fmt.Errorf("hub: %w", err)
	}
	rev := ref.Revision
	if rev == "" {
		rev = DefaultRevision
	}
	if err := checkRevision(rev); err != nil {
		return nil, fmt.Errorf("hub: %s: %w", ref.Repo, err)
	}
	u := c.Endpoint + "/api/models/" + ref.Repo + "/revision/" + url.PathEscape(rev) + "?blobs=true"
	var info *ModelInfo
	err := c.withRetry(ctx, func() error {
		resp, err := c.get(ctx, u, nil)
		if err != nil {
			return fmt.Errorf("hub: %s: %w", ref.Repo, err)
		}
		defer resp.Body.Close()
		if resp.StatusCode != http.StatusOK {
			return c.statusError(resp, ref.Repo, "revision "+rev)
		}
		data, err := io.ReadAll(io.LimitReader(resp.Body, MaxInfoBytes+1))
		if err != nil {
			return fmt.Errorf("hub: %s: reading model info: %w", ref.Repo, err)
		}
		if len(data) > MaxInfoBytes {
			return fmt.Errorf("hub: %s: model info is more than %d bytes; refusing it", ref.Repo, MaxInfoBytes)
		}
		info, err = ParseModelInfo(data)
		if err != nil {
			return fmt.Errorf("%w (from %s)", err, u)
		}
		return nil
	}, nil)
	if err != nil {
		return nil, err
	}
	info.ID = ref.Repo // messages name the repository as the user did
	return info, nil
}
