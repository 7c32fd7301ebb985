package tokenizer

import (
	"errors"
	"fmt"
	"strings"
	"time"
	"unicode"
)

// Chat templates are Jinja programs shipped with each model. Rather than
// interpret Jinja, this package recognises the template of each supported
// family by its distinctive text and renders conversations with a Go
// transcription of that template's behaviour for system, user and assistant
// turns (tool calls are not supported). The tests compare every family with
// the output of the real template rendered by Python's jinja2.

// ErrUnknownTemplate is returned when a chat template belongs to no family
// this package knows; ChatOptions.Fallback renders plain ChatML instead.
var ErrUnknownTemplate = errors.New("tokenizer: chat template not recognised")

// ErrNoTemplate is returned when the model ships no chat template.
var ErrNoTemplate = errors.New("tokenizer: model has no chat template")

// ChatOptions controls RenderChatOptions.
type ChatOptions struct {
	// AddGenerationPrompt ends the prompt with the header of an assistant
	// turn, so that the model writes the reply.
	AddGenerationPrompt bool
	// EnableThinking set to false makes Qwen3 skip its reasoning (an empty
	// <think></think> block follows the generation prompt); nil is the
	// template's default.
	EnableThinking *bool
	// Date is the "Today Date" of Llama 3.2/3.3 system headers; zero means now.
	Date time.Time
	// Fallback renders plain ChatML when the template is missing or not
	// recognised, instead of returning an error.
	Fallback bool
}

// The template families RenderChat knows.
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
// "llama3.1", ...), or "" when it is not recognised.
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

// RenderChat renders a conversation with the model's own chat template.
func (t *Tokenizer) RenderChat(msgs []Message, addGenerationPrompt bool) (string, error) {
	return t.RenderChatOptions(msgs, ChatOptions{AddGenerationPrompt: addGenerationPrompt})
}

// RenderChatOptions renders a conversation with the model's chat template.
func (t *Tokenizer) RenderChatOptions(msgs []Message, opts ChatOptions) (string, error) {
	if t.chatTemplate == "" && !opts.Fallback {
		return "", ErrNoTemplate
	}
	return RenderTemplate(t.chatTemplate, msgs, opts, t.specialText(t.bos), t.specialText(t.eos))
}

func (t *Tokenizer) specialText(id int32) string {
	if id < 0 || int(id) >= len(t.tokens) {
		return ""
	}
	return t.tokens[id]
}

// RenderTemplate renders msgs as the chat template tmpl would, with bos and
// eos standing for the template's bos_token and eos_token.
func RenderTemplate(tmpl string, msgs []Message, opts ChatOptions, bos, eos string) (string, error) {
	fam := TemplateFamily(tmpl)
	if fam == "" {
		if !opts.Fallback {
			return "", ErrUnknownTemplate
		}
		fam = FamilyChatML
	}
	for i, m := range msgs {
		switch m.Role {
		case "system", "user", "assistant":
		default:
			return "", fmt.Errorf("tokenizer: chat message %d: role %q not supported", i, m.Role)
		}
	}
	var b strings.Builder
	var err error
	switch fam {
	case FamilyQwen25:
		renderQwen25(&b, msgs, opts)
	case FamilyQwen3:
		renderQwen3(&b, msgs, opts)
	case FamilyLlama3:
		renderLlama3(&b, msgs, opts, bos)
	case FamilyLlama31:
		date := "26 Jul 2024" // Llama 3.1's template hard-codes this date
		if strings.Contains(tmpl, "strftime_now") {
			d := opts.Date
			if d.IsZero() {
				d = time.Now()
			}
			date = d.Format("02 Jan 2006")
		}
		renderLlama31(&b, msgs, opts, bos, date)
	case FamilyMistral:
		err = renderMistral(&b, msgs, bos, eos)
	case FamilyGemma2, FamilyGemma3:
		err = renderGemma(&b, msgs, opts, bos, fam == FamilyGemma3)
	case FamilyPhi3:
		renderPhi3(&b, msgs, bos)
	case FamilyChatML:
		for _, m := range msgs {
			b.WriteString("<|im_start|>" + m.Role + "\n" + m.Content + "<|im_end|>\n")
		}
		if opts.AddGenerationPrompt {
			b.WriteString("<|im_start|>assistant\n")
		}
	}
	if err != nil {
		return "", err
	}
	return b.String(), nil
}

// pyStrip is Python's str.strip() with no argument, as Jinja's trim filter
// applies it.
func pyStrip(s string) string {
	return strings.TrimFunc(s, func(r rune) bool { return unicode.IsSpace(r) || (r >= 0x1C && r <= 0x1F) })
}

func renderQwen25(b *strings.Builder, msgs []Message, opts ChatOptions) {
	if len(msgs) > 0 && msgs[0].Role == "system" {
		b.WriteString("<|im_start|>system\n" + msgs[0].Content + "<|im_end|>\n")
	} else {
		b.WriteString("<|im_start|>system\nYou are Qwen, created by Alibaba Cloud. You are a helpful assistant.<|im_end|>\n")
	}
	for i, m := range msgs {
		if m.Role == "system" && i == 0 {
			continue
		}
		b.WriteString("<|im_start|>" + m.Role + "\n" + m.Content + "<|im_end|>\n")
	}
	if opts.AddGenerationPrompt {
		b.WriteString("<|im_start|>assistant\n")
	}
}

func renderQwen3(b *strings.Builder, msgs []Message, opts ChatOptions) {
	if len(msgs) > 0 && msgs[0].Role == "system" {
		b.WriteString("<|im_start|>system\n" + msgs[0].Content + "<|im_end|>\n")
	}
	// Reasoning is kept only for assistant turns after the last real user
	// query (tool responses, wrapped in <tool_response>, do not count).
	lastQuery := len(msgs) - 1
	for i := len(msgs) - 1; i >= 0; i-- {
		c := msgs[i].Content
		if msgs[i].Role == "user" && !(strings.HasPrefix(c, "<tool_response>") && strings.HasSuffix(c, "</tool_response>")) {
			lastQuery = i
			break
		}
	}
	for i, m := range msgs {
		switch {
		case m.Role == "user" || (m.Role == "system" && i != 0):
			b.WriteString("<|im_start|>" + m.Role + "\n" + m.Content + "<|im_end|>\n")
		case m.Role == "assistant":
			content, reasoning := m.Content, ""
			if strings.Contains(content, "</think>") {
				parts := strings.Split(m.Content, "</think>")
				content = strings.TrimLeft(parts[len(parts)-1], "\n")
				before := strings.Split(strings.TrimRight(parts[0], "\n"), "<think>")
				reasoning = strings.TrimLeft(before[len(before)-1], "\n")
			}
			if i > lastQuery && (i == len(msgs)-1 || reasoning != "") {
				b.WriteString("<|im_start|>assistant\n<think>\n" + strings.Trim(reasoning, "\n") + "\n</think>\n\n" + strings.TrimLeft(content, "\n"))
			} else {
				b.WriteString("<|im_start|>assistant\n" + content)
			}
			b.WriteString("<|im_end|>\n")
		}
	}
	if opts.AddGenerationPrompt {
		b.WriteString("<|im_start|>assistant\n")
		if opts.EnableThinking != nil && !*opts.EnableThinking {
			b.WriteString("<think>\n\n</think>\n\n")
		}
	}
}

func renderLlama3(b *strings.Builder, msgs []Message, opts ChatOptions, bos string) {
	for i, m := range msgs {
		if i == 0 {
			b.WriteString(bos)
		}
		b.WriteString("<|start_header_id|>" + m.Role + "<|end_header_id|>\n\n" + pyStrip(m.Content) + "<|eot_id|>")
	}
	if opts.AddGenerationPrompt {
		b.WriteString("<|start_header_id|>assistant<|end_header_id|>\n\n")
	}
}

func renderLlama31(b *strings.Builder, msgs []Message, opts ChatOptions, bos, date string) {
	b.WriteString(bos)
	system := ""
	if len(msgs) > 0 && msgs[0].Role == "system" {
		system = pyStrip(msgs[0].Content)
		msgs = msgs[1:]
	}
	b.WriteString("<|start_header_id|>system<|end_header_id|>\n\nCutting Knowledge Date: December 2023\nToday Date: " + date + "\n\n" + system + "<|eot_id|>")
	for _, m := range msgs {
		b.WriteString("<|start_header_id|>" + m.Role + "<|end_header_id|>\n\n" + pyStrip(m.Content) + "<|eot_id|>")
	}
	if opts.AddGenerationPrompt {
		b.WriteString("<|start_header_id|>assistant<|end_header_id|>\n\n")
	}
}

func renderMistral(b *strings.Builder, msgs []Message, bos, eos string) error {
	system, hasSystem := "", false
	if len(msgs) > 0 && msgs[0].Role == "system" {
		system, hasSystem = msgs[0].Content, true
		msgs = msgs[1:]
	}
	for i, m := range msgs {
		if (m.Role == "user") != (i%2 == 0) {
			return errors.New("tokenizer: chat template: After the optional system message, conversation roles must alternate user/assistant/user/assistant/...")
		}
	}
	b.WriteString(bos)
	for i, m := range msgs {
		switch m.Role {
		case "user":
			if i == len(msgs)-1 && hasSystem {
				b.WriteString("[INST] " + system + "\n\n" + m.Content + "[/INST]")
			} else {
				b.WriteString("[INST] " + m.Content + "[/INST]")
			}
		case "assistant":
			b.WriteString(" " + pyStrip(m.Content) + eos)
		default:
			return errors.New("tokenizer: chat template: Only user and assistant roles are supported, with the exception of an initial optional system message!")
		}
	}
	return nil
}

func renderGemma(b *strings.Builder, msgs []Message, opts ChatOptions, bos string, gemma3 bool) error {
	prefix := ""
	if len(msgs) > 0 && msgs[0].Role == "system" {
		if !gemma3 {
			return errors.New("tokenizer: chat template: System role not supported")
		}
		prefix = msgs[0].Content + "\n\n"
		msgs = msgs[1:]
	}
	b.WriteString(bos)
	for i, m := range msgs {
		if (m.Role == "user") != (i%2 == 0) {
			return errors.New("tokenizer: chat template: Conversation roles must alternate user/assistant/user/assistant/...")
		}
		role := m.Role
		if role == "assistant" {
			role = "model"
		}
		b.WriteString("<start_of_turn>" + role + "\n")
		if i == 0 {
			b.WriteString(prefix)
		}
		b.WriteString(pyStrip(m.Content) + "<end_of_turn>\n")
	}
	if opts.AddGenerationPrompt {
		b.WriteString("<start_of_turn>model\n")
	}
	return nil
}

func renderPhi3(b *strings.Builder, msgs []Message, bos string) {
	b.WriteString(bos)
	for _, m := range msgs {
		switch m.Role {
		case "user":
			b.WriteString("<|user|>\n" + m.Content + "<|end|>\n<|assistant|>\n")
		case "assistant":
			b.WriteString(m.Content + "<|end|>\n")
		}
	}
}
