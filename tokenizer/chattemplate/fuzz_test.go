package chattemplate

import (
	"encoding/json"
	"os"
	"path/filepath"
	"testing"
)

// FuzzRender parses and renders arbitrary template text with arbitrary
// messages: it must return (a text or an *Error) within the limits, never
// panic.
func FuzzRender(f *testing.F) {
	for _, name := range []string{"npm-qwen3.jinja", "llamacpp-meta-llama-Llama-3.1-8B-Instruct.jinja", "model-mistral-v0.3.jinja", "hfjs-CohereForAI-c4ai-command-r-v01.jinja"} {
		src, err := os.ReadFile(filepath.Join("testdata", "templates", name))
		if err != nil {
			f.Fatal(err)
		}
		f.Add(string(src), `[{"role": "system", "content": "s"}, {"role": "user", "content": "u"}, {"role": "assistant", "content": null, "tool_calls": [{"function": {"name": "f", "arguments": {"a": 1}}}]}]`)
	}
	f.Add("{% for m in messages %}{{ m | tojson(indent=2) }}{{ m.content[::-1] | trim }}{% endfor %}", `[{"content": " x "}]`)
	f.Add("{%- macro f(n) -%}{{ f(n) }}{%- endmacro %}{{ f(1) }}", `[]`)
	f.Add("{% raw %}{{{% endraw %}{# c #}{{ '\\u00e9' ~ 1.5e3 ~ (1,) }}", `[1, 2.5, "x", null, true, {"a": []}]`)
	lim := Limits{MaxDepth: 50, MaxSteps: 200_000, MaxOutput: 1 << 20}
	f.Fuzz(func(t *testing.T, src, messages string) {
		tmpl, err := Parse(src)
		if err != nil {
			if _, ok := err.(*Error); !ok {
				t.Fatalf("Parse error %T %v is not an *Error", err, err)
			}
			return
		}
		c := Conversation{AddGenerationPrompt: true, Special: map[string]string{"bos_token": "<s>"}}
		if json.Valid([]byte(messages)) {
			c.Messages = json.RawMessage(messages)
		}
		out, err := tmpl.RenderChat(c, Options{Limits: lim})
		if err == nil && len(out) > lim.MaxOutput {
			t.Fatalf("output of %d bytes beyond the limit", len(out))
		}
	})
}
