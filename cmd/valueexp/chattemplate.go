package main

import (
	"bytes"
	"encoding/json"
	"fmt"
	"io"
	"os"

	"github.com/valueexploration/valueexp/tokenizer"
	"github.com/valueexploration/valueexp/tokenizer/chattemplate"
)

// maxMessagesFile bounds the --messages file (a conversation, not a corpus).
const maxMessagesFile = 64 << 20

func runChatTemplate(e *env, args []string) error {
	fs := newFlags(e, "chat-template", "(--model M | --template FILE.jinja) --messages FILE.json [--add-generation-prompt] [--bos TEXT] [--eos TEXT]")
	model := fs.String("model", "", "take the chat template and special tokens from the model or tokenizer at `PATH`")
	tmplFile := fs.String("template", "", "take the chat template from `FILE.jinja` instead")
	name := fs.String("template-name", "", "use the model's named template `NAME` (default: \"tool_use\" when tools are given and the model has it, as transformers does)")
	messages := fs.String("messages", "", "`FILE.json` holding {\"messages\": [...], \"tools\": [...]} (tools optional; - for stdin)")
	addGen := fs.Bool("add-generation-prompt", false, "end with the opening of an assistant turn")
	bos := fs.String("bos", "", "`TEXT` of bos_token (default: the model's)")
	eos := fs.String("eos", "", "`TEXT` of eos_token (default: the model's)")
	if err := parseFlags(fs, args, false); err != nil {
		return err
	}
	if (*model == "") == (*tmplFile == "") {
		return usageErr("give exactly one of --model and --template")
	}
	if *messages == "" {
		return usageErr("--messages is required")
	}
	if *name != "" && *model == "" {
		return usageErr("--template-name needs --model")
	}
	in, closeIn, err := openInput(e, *messages)
	if err != nil {
		return err
	}
	raw, err := io.ReadAll(io.LimitReader(in, maxMessagesFile+1))
	closeIn()
	if err != nil {
		return fmt.Errorf("--messages %s: %w", *messages, err)
	}
	if len(raw) > maxMessagesFile {
		return fmt.Errorf("--messages %s: larger than %d bytes", *messages, maxMessagesFile)
	}
	var conv struct {
		Messages json.RawMessage `json:"messages"`
		Tools    json.RawMessage `json:"tools"`
	}
	dec := json.NewDecoder(bytes.NewReader(raw))
	dec.DisallowUnknownFields()
	if err := dec.Decode(&conv); err != nil {
		return fmt.Errorf("--messages %s: want {\"messages\": [...], \"tools\": [...]}: %w", *messages, err)
	}
	if len(conv.Messages) == 0 || conv.Messages[0] != '[' {
		return fmt.Errorf("--messages %s: field \"messages\" must be a list", *messages)
	}
	if len(conv.Tools) > 0 && string(conv.Tools) == "null" {
		conv.Tools = nil
	}
	if len(conv.Tools) > 0 && conv.Tools[0] != '[' {
		return fmt.Errorf("--messages %s: field \"tools\" must be a list", *messages)
	}

	special := map[string]string{}
	var src, what string
	if *tmplFile != "" {
		b, err := os.ReadFile(*tmplFile)
		if err != nil {
			return err
		}
		src, what = string(b), *tmplFile
	} else {
		tok, err := tokenizer.Load(*model)
		if err != nil {
			return err
		}
		special = tok.SpecialTokens()
		src, what = tok.ChatTemplate(), *model
		chosen := *name
		if chosen == "" && conv.Tools != nil {
			if _, ok := tok.ChatTemplateNamed("tool_use"); ok {
				chosen = "tool_use"
			}
		}
		if chosen != "" {
			s, ok := tok.ChatTemplateNamed(chosen)
			if !ok {
				return fmt.Errorf("%s: no chat template named %q (the model has %q)", *model, chosen, tok.ChatTemplateNames())
			}
			src = s
		}
		if src == "" {
			return fmt.Errorf("%s: %w", *model, tokenizer.ErrNoTemplate)
		}
	}
	if *bos != "" {
		special["bos_token"] = *bos
	}
	if *eos != "" {
		special["eos_token"] = *eos
	}
	tmpl, err := chattemplate.Parse(src)
	if err != nil {
		return fmt.Errorf("%s: %w", what, err)
	}
	out, err := tmpl.RenderChat(chattemplate.Conversation{
		Messages: conv.Messages, Tools: conv.Tools, AddGenerationPrompt: *addGen, Special: special,
	}, chattemplate.Options{})
	if err != nil {
		return fmt.Errorf("%s: %w", what, err)
	}
	_, err = io.WriteString(e.stdout, out)
	return err
}
