package chattemplate

import (
	"encoding/json"
	"errors"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"
)

// corpusNow is the clock render.py gives strftime_now.
var corpusNow = time.Date(2025, 7, 10, 12, 0, 0, 0, time.UTC)

type corpusEntry struct {
	File   string            `json:"file"`
	Source string            `json:"source"`
	Tokens map[string]string `json:"-"`
}

type corpusConv struct {
	Name     string          `json:"name"`
	AddGen   bool            `json:"add_generation_prompt"`
	Tools    string          `json:"tools"`
	Messages json.RawMessage `json:"messages"`
	Extra    map[string]any  `json:"extra"`
}

type corpusResult struct {
	Out   *string `json:"out"`
	Error string  `json:"error"`
}

func loadCorpus(t testing.TB) ([]map[string]any, []corpusConv, map[string]json.RawMessage, map[string]map[string]corpusResult) {
	t.Helper()
	read := func(name string, v any) {
		b, err := os.ReadFile(filepath.Join("testdata", name))
		if err != nil {
			t.Fatal(err)
		}
		if err := json.Unmarshal(b, v); err != nil {
			t.Fatalf("%s: %v", name, err)
		}
	}
	var manifest []map[string]any
	var convs []corpusConv
	var tools map[string]json.RawMessage
	var expected map[string]map[string]corpusResult
	read("manifest.json", &manifest)
	read("conversations.json", &convs)
	read("tools.json", &tools)
	read("expected.json", &expected)
	return manifest, convs, tools, expected
}

func corpusConversation(entry map[string]any, c corpusConv, tools map[string]json.RawMessage) Conversation {
	conv := Conversation{Messages: c.Messages, AddGenerationPrompt: c.AddGen, Special: map[string]string{}, Extra: c.Extra}
	if c.Tools != "" {
		conv.Tools = tools[c.Tools]
	}
	for k, v := range entry {
		if s, ok := v.(string); ok && strings.HasSuffix(k, "_token") {
			conv.Special[k] = s
		}
	}
	return conv
}

// TestCorpusMatchesJinja2 renders every template of the corpus with every
// conversation and compares the text byte for byte with what Python's
// jinja2 rendered (testdata/render.py), or, where jinja2 raised, checks that
// the render fails too.
func TestCorpusMatchesJinja2(t *testing.T) {
	manifest, convs, tools, expected := loadCorpus(t)
	if len(manifest) < 40 || len(convs) < 9 {
		t.Fatalf("corpus has %d templates × %d conversations, want at least 40 × 9", len(manifest), len(convs))
	}
	renders, fails, msgDiffer := 0, 0, 0
	seen := map[string]bool{}
	for _, entry := range manifest {
		file := entry["file"].(string)
		if seen[file] {
			t.Fatalf("manifest.json lists %s twice", file)
		}
		seen[file] = true
		t.Run(file, func(t *testing.T) {
			src, err := os.ReadFile(filepath.Join("testdata", "templates", file))
			if err != nil {
				t.Fatal(err)
			}
			want := expected[file]
			tmpl, perr := Parse(string(src))
			for _, c := range convs {
				renders++
				w, ok := want[c.Name]
				if !ok {
					t.Fatalf("expected.json has no %s/%s", file, c.Name)
				}
				var got string
				err := perr
				if err == nil {
					got, err = tmpl.RenderChat(corpusConversation(entry, c, tools), Options{Now: corpusNow})
				}
				switch {
				case w.Out == nil && err == nil:
					fails++
					t.Errorf("%s: jinja2 raised %q, Go rendered %q", c.Name, w.Error, got)
				case w.Out == nil:
					// The failure must be the same Python exception, and a
					// template's own raise_exception the same message.
					kind, msg, _ := strings.Cut(w.Error, ": ")
					var e *Error
					if !errors.As(err, &e) {
						t.Errorf("%s: error %v is not a *Error", c.Name, err)
					} else if e.Kind != kind || (kind == "TemplateError" && e.Msg != msg) {
						fails++
						t.Errorf("%s: Go failed with %s: %s, jinja2 with %s", c.Name, e.Kind, e.Msg, w.Error)
					} else if e.Msg != msg {
						msgDiffer++
						t.Logf("%s: message differs: Go %q, jinja2 %q", c.Name, e.Msg, msg)
					}
				case err != nil:
					fails++
					t.Errorf("%s: Go failed: %v\n(jinja2 rendered %q)", c.Name, err, *w.Out)
				case got != *w.Out:
					fails++
					t.Errorf("%s:\n got %q\nwant %q", c.Name, got, *w.Out)
				}
			}
		})
	}
	t.Logf("%d templates × %d conversations = %d renders, %d differ; %d errors of the same kind with other wording", len(manifest), len(convs), renders, fails, msgDiffer)
}
