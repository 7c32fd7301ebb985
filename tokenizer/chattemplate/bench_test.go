package chattemplate

import (
	"encoding/json"
	"os"
	"path/filepath"
	"testing"
)

// BenchmarkRender renders Qwen3's template (the longest real template
// in everyday use here) on the corpus's parallel-tool-call conversation.
func BenchmarkRender(b *testing.B) {
	_, convs, tools, _ := loadCorpus(b)
	src, err := os.ReadFile(filepath.Join("testdata", "templates", "npm-qwen3.jinja"))
	if err != nil {
		b.Fatal(err)
	}
	tmpl, err := Parse(string(src))
	if err != nil {
		b.Fatal(err)
	}
	var conv Conversation
	for _, c := range convs {
		if c.Name == "parallel-tool-calls" {
			conv = Conversation{Messages: c.Messages, Tools: json.RawMessage(tools[c.Tools]), AddGenerationPrompt: true}
		}
	}
	b.ReportAllocs()
	for b.Loop() {
		if _, err := tmpl.RenderChat(conv, Options{}); err != nil {
			b.Fatal(err)
		}
	}
}

// BenchmarkParse parses the same template.
func BenchmarkParse(b *testing.B) {
	src, err := os.ReadFile(filepath.Join("testdata", "templates", "npm-qwen3.jinja"))
	if err != nil {
		b.Fatal(err)
	}
	b.ReportAllocs()
	for b.Loop() {
		if _, err := Parse(string(src)); err != nil {
			b.Fatal(err)
		}
	}
}
