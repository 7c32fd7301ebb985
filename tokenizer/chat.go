package tokenizer

import (
	"encoding/json"
	"errors"
	"fmt"
	"slices"
	"strings"
	"sync"
	"time"

	"github.com/valueexploration/valueexp/tokenizer/chattemplate"
	"github.com/valueexploration/valueexp/weights"
)

// Chat templates are Jinja programs shipped with each model. They are
// rendered by package chattemplate, which reproduces Hugging Face's
// apply_chat_template byte for byte (tested on a corpus of real templates
// against Python's jinja2). Only a model without any template falls back to
// plain ChatML, and only when ChatOptions.Fallback asks for it.

// ErrNoTemplate is returned when the model ships no chat template.
var ErrNoTemplate = errors.New("tokenizer: model has no chat template")

// ChatOptions controls RenderChatOptions.
type ChatOptions struct {
	// AddGenerationPrompt ends the prompt with the header of an assistant
	// turn, so that the model writes the reply.
	AddGenerationPrompt bool
	// EnableThinking is passed to the template as enable_thinking (Qwen3
	// skips its reasoning when it is false); nil leaves it undefined, the
	// template's default.
	EnableThinking *bool
	// Date is the clock of the template's strftime_now (the "Today Date"
	// of Llama 3.2/3.3 system headers); zero means now.
	Date time.Time
	// Fallback renders plain ChatML when the model has no chat template,
	// instead of returning ErrNoTemplate.
	Fallback bool
}

// The template families TemplateFamily names.
const (
	FamilyQwen25  = "qwen2.5"
	FamilyQwen3   = "qwen3"
	FamilyLlama3  = "llama3"
	FamilyLlama31 = "llama3.1"
	FamilyMistral = "mistral-v0.3"
	FamilyGemma2  = "gemma2"
	FamilyGemma3  = "gemma3"
	FamilyPhi3    = "phi3"
	FamilyChatML  = "chatml"
)

// TemplateFamily names the family of a Jinja chat template ("qwen3",
// "llama3.1", ...), or "" when it is not one of the families above. It is a
// label for reports only: rendering never depends on it.
func TemplateFamily(tmpl string) string {
	has := func(s ...string) bool {
		for _, x := range s {
			if !strings.Contains(tmpl, x) {
				return false
			}
		}
		return true
	}
	switch {
	case has("<|im_start|>", "</think>"), has("<|im_start|>", "reasoning_content"):
		return FamilyQwen3
	case has("<|im_start|>", "You are Qwen, created by Alibaba Cloud."):
		return FamilyQwen25
	case has("<|start_header_id|>", "Cutting Knowledge Date"):
		return FamilyLlama31
	case has("<|start_header_id|>", "<|eot_id|>"):
		return FamilyLlama3
	case has("[INST]", "[AVAILABLE_TOOLS]", "system_message"):
		return FamilyMistral
	case has("<start_of_turn>", "first_user_prefix"):
		return FamilyGemma3
	case has("<start_of_turn>", "System role not supported"):
		return FamilyGemma2
	case has("<|user|>", "<|end|>", "<|assistant|>") && !strings.Contains(tmpl, "<|system|>"):
		return FamilyPhi3
	}
	return ""
}

// chatState is the tokenizer's chat-template data beyond the default
// template: named templates, the special tokens' text, and the parsed
// default template (parsed once, on first use).
type chatState struct {
	named   map[string]string // tokenizer_config.json's list of {name, template}
	special map[string]string // "bos_token" etc., as the config spells them

	once   sync.Once
	parsed *chattemplate.Template
	err    error
}

// ChatTemplateNames lists the names of the model's named chat templates
// ("default", "tool_use", ...), sorted; nil when it has a single template.
func (t *Tokenizer) ChatTemplateNames() []string {
	var names []string
	for n := range t.chat.named {
		names = append(names, n)
	}
	slices.Sort(names)
	return names
}

// ChatTemplateNamed returns the named chat template ("tool_use"), if the
// model has one by that name; "default" is also the plain template.
func (t *Tokenizer) ChatTemplateNamed(name string) (string, bool) {
	if s, ok := t.chat.named[name]; ok {
		return s, true
	}
	if name == "default" && t.chatTemplate != "" {
		return t.chatTemplate, true
	}
	return "", false
}

// SpecialTokens returns the text of the special tokens a chat template may
// use, by the names templates use: bos_token, eos_token, unk_token and
// pad_token, those the model defines.
func (t *Tokenizer) SpecialTokens() map[string]string {
	out := map[string]string{}
	for name, id := range map[string]int32{"bos_token": t.bos, "eos_token": t.eos, "unk_token": t.unk, "pad_token": t.pad} {
		if s := t.specialText(id); s != "" {
			out[name] = s
		}
	}
	for k, v := range t.chat.special {
		out[k] = v
	}
	return out
}

// ggufChatTemplates reads tokenizer.chat_template and the named templates
// llama.cpp's converter writes: the names in tokenizer.chat_templates, each
// template in tokenizer.chat_template.NAME.
func (t *Tokenizer) ggufChatTemplates(g *weights.GGUF) {
	t.chatTemplate, _ = g.String("tokenizer.chat_template")
	names, _ := g.Strings("tokenizer.chat_templates")
	for _, n := range names {
		if s, ok := g.String("tokenizer.chat_template." + n); ok {
			if t.chat.named == nil {
				t.chat.named = map[string]string{}
			}
			t.chat.named[n] = s
		}
	}
}

func (t *Tokenizer) specialText(id int32) string {
	if id < 0 || int(id) >= len(t.tokens) {
		return ""
	}
	return t.tokens[id]
}

// RenderChat renders a conversation with the model's own chat template.
func (t *Tokenizer) RenderChat(msgs []Message, addGenerationPrompt bool) (string, error) {
	return t.RenderChatOptions(msgs, ChatOptions{AddGenerationPrompt: addGenerationPrompt})
}

// RenderChatOptions renders a conversation with the model's chat template.
func (t *Tokenizer) RenderChatOptions(msgs []Message, opts ChatOptions) (string, error) {
	if t.chatTemplate == "" {
		if !opts.Fallback {
			return "", ErrNoTemplate
		}
		return renderChatML(msgs, opts), nil
	}
	t.chat.once.Do(func() { t.chat.parsed, t.chat.err = chattemplate.Parse(t.chatTemplate) })
	if t.chat.err != nil {
		return "", t.chat.err
	}
	return renderParsed(t.chat.parsed, msgs, opts, t.SpecialTokens())
}

// RenderTemplate renders msgs with the chat template tmpl, with bos and eos
// standing for the template's bos_token and eos_token ("" leaves them
// undefined). A template that fails, or raises an error itself, returns a
// *chattemplate.Error. An empty template is ErrNoTemplate: it would render
// every conversation as an empty prompt.
func RenderTemplate(tmpl string, msgs []Message, opts ChatOptions, bos, eos string) (string, error) {
	if strings.TrimSpace(tmpl) == "" {
		return "", fmt.Errorf("%w (the chat template given is empty)", ErrNoTemplate)
	}
	p, err := chattemplate.Parse(tmpl)
	if err != nil {
		return "", err
	}
	special := map[string]string{}
	if bos != "" {
		special["bos_token"] = bos
	}
	if eos != "" {
		special["eos_token"] = eos
	}
	return renderParsed(p, msgs, opts, special)
}

type messageJSON struct {
	Role    string `json:"role"`
	Content string `json:"content"`
}

func renderParsed(p *chattemplate.Template, msgs []Message, opts ChatOptions, special map[string]string) (string, error) {
	js := make([]messageJSON, len(msgs))
	for i, m := range msgs {
		js[i] = messageJSON(m)
	}
	raw, err := json.Marshal(js)
	if err != nil {
		return "", fmt.Errorf("tokenizer: chat messages: %w", err)
	}
	conv := chattemplate.Conversation{Messages: raw, AddGenerationPrompt: opts.AddGenerationPrompt, Special: special}
	if opts.EnableThinking != nil {
		conv.Extra = map[string]any{"enable_thinking": *opts.EnableThinking}
	}
	return p.RenderChat(conv, chattemplate.Options{Now: opts.Date})
}

// renderChatML is the fallback for a model without a template: each turn as
// <|im_start|>role\ncontent<|im_end|>\n.
func renderChatML(msgs []Message, opts ChatOptions) string {
	var b strings.Builder
	for _, m := range msgs {
		b.WriteString("<|im_start|>" + m.Role + "\n" + m.Content + "<|im_end|>\n")
	}
	if opts.AddGenerationPrompt {
		b.WriteString("<|im_start|>assistant\n")
	}
	return b.String()
}
