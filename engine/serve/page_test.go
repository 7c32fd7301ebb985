package serve

import (
	"io"
	"net/http"
	"strings"
	"testing"
	"testing/fstest"
)

// TestPage: "/" serves index.html of Options.Page and /static/... the FS's
// static files, open even with an API key; anything else is a JSON 404.
func TestPage(t *testing.T) {
	f := newFixture(t)
	page := fstest.MapFS{
		"index.html":    {Data: []byte("<!doctype html><title>诚信</title>")},
		"static/app.js": {Data: []byte("console.log(1)")},
		"secret.txt":    {Data: []byte("not under static")},
	}
	_, hs := f.server(t, Options{Page: page, APIKey: "k"}, nil)
	for _, tc := range []struct {
		path, want string
		code       int
		ctype      string
	}{
		{"/", "<!doctype html><title>诚信</title>", 200, "text/html; charset=utf-8"},
		{"/static/app.js", "console.log(1)", 200, "text/javascript; charset=utf-8"},
		{"/static/missing.js", `"no file /static/missing.js"`, 404, "application/json"},
		{"/static/", `"no file /static/"`, 404, "application/json"},
		// Other paths are not open: without the key, a 401 before a 404.
		{"/secret.txt", `missing API key`, 401, "application/json"},
		{"/index.html", `missing API key`, 401, "application/json"},
	} {
		resp, err := http.Get(hs.URL + tc.path)
		if err != nil {
			t.Fatal(err)
		}
		b, _ := io.ReadAll(resp.Body)
		resp.Body.Close()
		if resp.StatusCode != tc.code || !strings.Contains(string(b), tc.want) || resp.Header.Get("Content-Type") != tc.ctype {
			t.Errorf("GET %s: %d %q %s; want %d %q %s", tc.path, resp.StatusCode, resp.Header.Get("Content-Type"), b, tc.code, tc.ctype, tc.want)
		}
	}
}
