package main

import (
	"encoding/json"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/valueexploration/valueexp/internal/shareddata"
)

// The chat-template command is checked against the renders Python's jinja2
// made for the chattemplate corpus (tokenizer/chattemplate/testdata).
var corpusDir = filepath.Join("..", "..", "tokenizer", "chattemplate", "testdata")

type corpusWant struct {
	Out   *string `json:"out"`
	Error string  `json:"error"`
}

// corpusCase writes the messages file of one corpus conversation and returns
// its path and jinja2's render of it with the given template.
func corpusCase(t *testing.T, template, conversation string) (string, corpusWant) {
	t.Helper()
	var convs []struct {
		Name     string          `json:"name"`
		Tools    string          `json:"tools"`
		Messages json.RawMessage `json:"messages"`
	}
	var tools map[string]json.RawMessage
	var expected map[string]map[string]corpusWant
	for name, v := range map[string]any{"conversations.json": &convs, "tools.json": &tools, "expected.json": &expected} {
		b, err := os.ReadFile(filepath.Join(corpusDir, name))
		if err != nil {
			t.Fatal(err)
		}
		if err := json.Unmarshal(b, v); err != nil {
			t.Fatal(err)
		}
	}
	for _, c := range convs {
		if c.Name != conversation {
			continue
		}
		file := map[string]json.RawMessage{"messages": c.Messages}
		if c.Tools != "" {
			file["tools"] = tools[c.Tools]
		}
		b, _ := json.Marshal(file)
		path := filepath.Join(t.TempDir(), "conv.json")
		if err := os.WriteFile(path, b, 0o644); err != nil {
			t.Fatal(err)
		}
		return path, expected[template][conversation]
	}
	t.Fatalf("no conversation %q", conversation)
	return "", corpusWant{}
}

func TestChatTemplateCommand(t *testing.T) {
	llama := filepath.Join(corpusDir, "templates", "llamacpp-meta-llama-Llama-3.1-8B-Instruct.jinja")
	msgs, want := corpusCase(t, "llamacpp-meta-llama-Llama-3.1-8B-Instruct.jinja", "tool-call-openai")
	if want.Out == nil {
		t.Fatal("corpus: jinja2 failed on this case")
	}
	code, out, errs := runCLI(t, "", "chat-template", "--template", llama, "--messages", msgs,
		"--add-generation-prompt", "--bos", "<|begin_of_text|>", "--eos", "<|eot_id|>")
	if code != 0 || out != *want.Out {
		t.Errorf("exit %d, stderr %q\n got %q\nwant %q", code, errs, out, *want.Out)
	}

	// Messages from stdin; without --add-generation-prompt the output changes.
	b, _ := os.ReadFile(msgs)
	code, out2, _ := runCLI(t, string(b), "chat-template", "--template", llama, "--messages", "-", "--bos", "<|begin_of_text|>", "--eos", "<|eot_id|>")
	if code != 0 || out2 == out || !strings.HasPrefix(out, out2) {
		t.Errorf("stdin, no generation prompt: exit %d, %q", code, out2)
	}
}

func TestChatTemplateCommandRaises(t *testing.T) {
	gemma := filepath.Join(corpusDir, "templates", "model-gemma2.jinja")
	msgs, want := corpusCase(t, "model-gemma2.jinja", "system-user")
	if want.Out != nil || !strings.Contains(want.Error, "System role not supported") {
		t.Fatalf("corpus: jinja2 should raise here, got %+v", want)
	}
	code, out, errs := runCLI(t, "", "chat-template", "--template", gemma, "--messages", msgs)
	if code != 1 || out != "" || !strings.Contains(errs, "System role not supported") {
		t.Errorf("exit %d, stdout %q, stderr %q", code, out, errs)
	}
}

func TestChatTemplateCommandModel(t *testing.T) {
	model := shareddata.Path(t, "refdata", "tokenizers", "hf-qwen3")
	// The model's template is the corpus's npm-qwen3.jinja (the same npm
	// package), with the model's own special tokens.
	msgs, want := corpusCase(t, "npm-qwen3.jinja", "unicode")
	code, out, errs := runCLI(t, "", "chat-template", "--model", model, "--messages", msgs, "--add-generation-prompt")
	if code != 0 || want.Out == nil || out != *want.Out {
		t.Errorf("exit %d, stderr %q\n got %q\nwant %+v", code, errs, out, want)
	}
}

func TestChatTemplateCommandUsage(t *testing.T) {
	dir := t.TempDir()
	tmpl := filepath.Join(dir, "t.jinja")
	bad := filepath.Join(dir, "bad.json")
	os.WriteFile(tmpl, []byte("{{ messages[0].content }}"), 0o644)
	os.WriteFile(bad, []byte(`{"messages": {"role": "user"}}`), 0o644)
	for _, c := range []struct {
		args []string
		code int
		want string
	}{
		{[]string{"--template", tmpl}, 2, "--messages is required"},
		{[]string{"--messages", bad}, 2, "exactly one of --model and --template"},
		{[]string{"--template", tmpl, "--model", "m.gguf", "--messages", bad}, 2, "exactly one of"},
		{[]string{"--template", tmpl, "--messages", bad}, 1, `"messages" must be a list`},
		{[]string{"--template", filepath.Join(dir, "missing.jinja"), "--messages", "-"}, 1, "missing.jinja"},
	} {
		code, _, errs := runCLI(t, `{"messages": []}`, append([]string{"chat-template"}, c.args...)...)
		if code != c.code || !strings.Contains(errs, c.want) {
			t.Errorf("%v: exit %d, stderr %q; want %d and %q", c.args, code, errs, c.code, c.want)
		}
	}
	// A template that cannot be parsed names the construct.
	os.WriteFile(tmpl, []byte("{% extends 'base.html' %}"), 0o644)
	code, _, errs := runCLI(t, `{"messages": []}`, "chat-template", "--template", tmpl, "--messages", "-")
	if code != 1 || !strings.Contains(errs, "extends") || !strings.Contains(errs, "t.jinja") {
		t.Errorf("extends: exit %d, stderr %q", code, errs)
	}
}

// A GGUF's tokenizer.chat_template with the GGUF's own BOS text: the corpus
// keeps this template as model-phi3.jinja, rendered by jinja2 with <s>.
func TestChatTemplateCommandGGUF(t *testing.T) {
	model := shareddata.Path(t, "refdata", "tokenizers", "ggml-vocab-phi-3.gguf")
	msgs, want := corpusCase(t, "model-phi3.jinja", "multi-turn-system")
	code, out, errs := runCLI(t, "", "chat-template", "--model", model, "--messages", msgs, "--add-generation-prompt")
	if code != 0 || want.Out == nil || out != *want.Out {
		t.Errorf("exit %d, stderr %q\n got %q\nwant %+v", code, errs, out, want)
	}
}
