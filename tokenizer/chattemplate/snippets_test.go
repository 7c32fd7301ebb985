package chattemplate

import (
	"encoding/json"
	"errors"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

// TestSnippetsMatchJinja2 renders the small single-construct templates of
// testdata/snippets.py and compares them with jinja2's output (or its
// exception kind and message) recorded by render.py.
func TestSnippetsMatchJinja2(t *testing.T) {
	b, err := os.ReadFile(filepath.Join("testdata", "snippets.json"))
	if err != nil {
		t.Fatal(err)
	}
	var snips []struct {
		Name     string                     `json:"name"`
		Template string                     `json:"template"`
		Vars     map[string]json.RawMessage `json:"vars"`
		Out      *string                    `json:"out"`
		Error    string                     `json:"error"`
	}
	if err := json.Unmarshal(b, &snips); err != nil {
		t.Fatal(err)
	}
	// Where this renderer knowingly differs, it must fail with an error
	// rather than print something else.
	knownDiff := map[string]string{
		"big-int":       "Python's integers are unbounded; here they are 64-bit and overflow is an OverflowError",
		"items-of-list": "jinja2 prints an unconsumed generator with its memory address; printing a generator is an error here",
	}
	for _, s := range snips {
		t.Run(s.Name, func(t *testing.T) {
			if why, ok := knownDiff[s.Name]; ok {
				tmpl, err := Parse(s.Template)
				if err == nil {
					_, err = tmpl.Render(nil, Options{})
				}
				var e *Error
				if !errors.As(err, &e) {
					t.Errorf("known difference (%s): want an *Error, got %v", why, err)
				}
				return
			}
			vars := map[string]any{}
			for k, v := range s.Vars {
				vars[k] = v
			}
			tmpl, err := Parse(s.Template)
			got := ""
			if err == nil {
				got, err = tmpl.Render(vars, Options{Now: corpusNow})
			}
			if s.Out != nil {
				if err != nil || got != *s.Out {
					t.Errorf("template %q:\n got %q, %v\nwant %q", s.Template, got, err, *s.Out)
				}
				return
			}
			kind, msg, _ := strings.Cut(s.Error, ": ")
			var e *Error
			if !errors.As(err, &e) {
				t.Fatalf("template %q: got %q, %v; want %s", s.Template, got, err, s.Error)
			}
			if e.Kind != kind {
				t.Errorf("template %q: %s: %s; want %s", s.Template, e.Kind, e.Msg, s.Error)
			} else if e.Msg != msg {
				t.Logf("template %q: message %q, jinja2's %q", s.Template, e.Msg, msg)
			}
		})
	}
}
