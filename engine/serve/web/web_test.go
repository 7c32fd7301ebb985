package web_test

import (
	"bytes"
	"io/fs"
	"os"
	"os/exec"
	"path"
	"path/filepath"
	"regexp"
	"strings"
	"testing"
	"unicode/utf8"

	"github.com/valueexploration/valueexp/engine/serve/web"
)

// pageFiles returns every file of the embedded page with its contents.
func pageFiles(t *testing.T) map[string][]byte {
	t.Helper()
	files := map[string][]byte{}
	err := fs.WalkDir(web.FS(), ".", func(p string, d fs.DirEntry, err error) error {
		if err != nil || d.IsDir() {
			return err
		}
		b, err := fs.ReadFile(web.FS(), p)
		files[p] = b
		return err
	})
	if err != nil {
		t.Fatal(err)
	}
	return files
}

func TestIndexIsThere(t *testing.T) {
	files := pageFiles(t)
	index, ok := files["index.html"]
	if !ok {
		t.Fatalf("no index.html at the root of web.FS(); files: %v", keys(files))
	}
	for _, want := range []string{
		`<!doctype html>`,
		`<meta charset="utf-8">`, // CJK text must not depend on the browser's guess
		`<html lang="en">`,
		`<title>`,
		`id="prompt"`, `id="sets"`, `id="colour-set"`, `id="side-plain"`, `id="side-edited"`, `id="chart"`,
	} {
		if !bytes.Contains(index, []byte(want)) {
			t.Errorf("index.html lacks %s", want)
		}
	}
	// The one sentence for a reader who has not read the paper.
	if !regexp.MustCompile(`(?s)<p class="lede"[^>]*>[^<]*[Vv]alue neurons[^<]*switched off`).Match(index) {
		t.Error("index.html lacks the lede sentence saying what value neurons are and what switching them off shows")
	}
}

// refPattern finds the URLs the page loads: attributes in HTML, url() and
// @import in CSS, and quoted static/ paths and fetch targets in scripts.
var refPatterns = []*regexp.Regexp{
	regexp.MustCompile(`(?:src|href|action)\s*=\s*["']([^"']*)["']`),
	regexp.MustCompile(`url\(\s*["']?([^"')]*)`),
	regexp.MustCompile(`@import\s+["']([^"']*)`),
	regexp.MustCompile(`["'](static/[^"']*)["']`),
}

func TestReferencedFilesExist(t *testing.T) {
	files := pageFiles(t)
	var refs int
	for name, b := range files {
		for _, re := range refPatterns {
			for _, m := range re.FindAllSubmatch(b, -1) {
				ref := string(m[1])
				if ref == "" || strings.HasPrefix(ref, "#") || strings.HasPrefix(ref, "data:") {
					continue
				}
				refs++
				if strings.Contains(ref, "://") || strings.HasPrefix(ref, "//") {
					t.Errorf("%s refers to an external URL %q: the page must work offline", name, ref)
					continue
				}
				if strings.HasPrefix(ref, "/") {
					t.Errorf("%s refers to %q with an absolute path: it breaks when the handler is mounted under a prefix", name, ref)
					continue
				}
				// Every reference is relative to the page at the root, even
				// from static/style.css, which refers to nothing today.
				p := path.Clean(strings.SplitN(ref, "?", 2)[0])
				if _, ok := files[p]; !ok {
					t.Errorf("%s refers to %q, which is not in web.FS() (files: %v)", name, ref, keys(files))
				}
			}
		}
	}
	if refs < 3 {
		t.Errorf("found only %d references; the patterns no longer see the page's script, style and icon", refs)
	}
}

// svgNS is the one URL-shaped string allowed: XML namespace names are
// identifiers, never fetched.
const svgNS = "http://www.w3.org/2000/svg"

func TestNoExternalURLs(t *testing.T) {
	url := regexp.MustCompile(`(?i)(?:https?:)?//[a-z0-9.-]+\.[a-z]{2,}`)
	for name, b := range pageFiles(t) {
		text := strings.ReplaceAll(string(b), svgNS, "")
		for _, m := range url.FindAllString(text, -1) {
			t.Errorf("%s contains the external URL %q: the page must not reach beyond its server", name, m)
		}
	}
}

func TestFetchesAreRelative(t *testing.T) {
	js := pageFiles(t)["static/app.js"]
	calls := regexp.MustCompile(`fetch\(\s*["'\x60]([^"'\x60]*)`).FindAllSubmatch(js, -1)
	if len(calls) < 2 {
		t.Fatalf("app.js has %d fetch calls with a literal URL; want the sets and the chat completions", len(calls))
	}
	seen := map[string]bool{}
	for _, c := range calls {
		u := string(c[1])
		seen[u] = true
		if strings.HasPrefix(u, "/") || strings.Contains(u, "://") {
			t.Errorf("app.js fetches %q: must be relative to the page", u)
		}
	}
	for _, want := range []string{"v1/valueexp/sets", "v1/chat/completions"} {
		if !seen[want] {
			t.Errorf("app.js never fetches %q (fetches %v)", want, keys(seen))
		}
	}
}

func TestFilesAreUTF8(t *testing.T) {
	for name, b := range pageFiles(t) {
		if !utf8.Valid(b) {
			t.Errorf("%s is not valid UTF-8", name)
		}
	}
}

// TestScriptParses runs node's syntax check on the script, so a typo fails
// here rather than as a blank page.
func TestScriptParses(t *testing.T) {
	node, err := exec.LookPath("node")
	if err != nil {
		t.Skip("node is not installed; the script's syntax is not checked")
	}
	dir := t.TempDir()
	for name, b := range pageFiles(t) {
		if !strings.HasSuffix(name, ".js") {
			continue
		}
		p := filepath.Join(dir, filepath.Base(name))
		if err := os.WriteFile(p, b, 0o600); err != nil {
			t.Fatal(err)
		}
		if out, err := exec.Command(node, "--check", p).CombinedOutput(); err != nil {
			t.Errorf("node --check %s: %v\n%s", name, err, out)
		}
	}
}

func keys[V any](m map[string]V) []string {
	var ks []string
	for k := range m {
		ks = append(ks, k)
	}
	return ks
}
