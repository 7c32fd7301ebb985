// Package chattemplate renders a model's Jinja chat template exactly as
// Hugging Face transformers' apply_chat_template does: jinja2's sandboxed
// environment with trim_blocks, lstrip_blocks and loop controls, the
// transformers globals raise_exception and strftime_now, its tojson filter
// (json.dumps with ensure_ascii=False), the {% generation %} tag, and
// Python's own semantics for the values a template touches: None + str is an
// error, a list printed is its Python repr, undefined values are empty when
// printed and an error when used.
//
// The interpreter is written here rather than taken from a Go Jinja library
// because the acceptance is byte-exact agreement with jinja2 including where
// jinja2 raises, and the Go libraries treat None, undefined and mixed-type
// arithmetic leniently with no way to configure it. The tests render a
// corpus of real chat templates and compare every byte (or the failure) with
// Python's jinja2.
//
// Not supported, each a clear *Error naming the construct: include, extends
// and import (a chat template is one file), recursive for loops,
// loop.changed, cycler, joiner, lipsum, str.format with format specs, a few
// rarely used filters (truncate, urlize, groupby, ...), integers beyond 64
// bits (an OverflowError instead of Python's big integers), and printing a
// generator (jinja2 prints its memory address).
package chattemplate

import (
	"encoding/json"
	"errors"
	"fmt"
	"strings"
	"time"
)

// Error is a template that cannot be parsed or that fails while rendering.
// Kind is the Python exception jinja2 raises in the same place
// ("TemplateSyntaxError", "TypeError", "UndefinedError", "TemplateError" for
// raise_exception, ...), or "LimitError" when a bound in Limits is hit.
type Error struct {
	Kind string
	Line int // 1-based line of the template, 0 when unknown
	Msg  string
	// Raised is set when the template itself raised the error with
	// raise_exception.
	Raised bool
}

func (e *Error) Error() string {
	if e.Raised {
		return "chat template: " + e.Msg
	}
	if e.Line > 0 {
		return fmt.Sprintf("chat template: line %d: %s: %s", e.Line, e.Kind, e.Msg)
	}
	return fmt.Sprintf("chat template: %s: %s", e.Kind, e.Msg)
}

// Limits bound the work one render may do, so that a hostile or broken
// template (a macro that calls itself, a loop over a huge range) ends in an
// error instead of exhausting the process. A zero field takes its default,
// generous for any real chat template.
type Limits struct {
	MaxDepth  int // nested macro calls; default 200 (Python stops near 1000 frames)
	MaxSteps  int // evaluation steps; default 20 000 000 (a few seconds)
	MaxOutput int // bytes of output and of any one string built; default 64 MiB
}

func (l Limits) withDefaults() Limits {
	if l.MaxDepth <= 0 {
		l.MaxDepth = 200
	}
	if l.MaxSteps <= 0 {
		l.MaxSteps = 20_000_000
	}
	if l.MaxOutput <= 0 {
		l.MaxOutput = 64 << 20
	}
	return l
}

// Template is a parsed chat template. It is safe for concurrent use.
type Template struct {
	body []node
}

// Parse parses template source. Tags jinja2 knows but this renderer does not
// support (include, extends, import, recursive loops) are syntax errors
// naming the construct.
func Parse(src string) (*Template, error) {
	toks, err := lex(src)
	if err != nil {
		return nil, err
	}
	body, err := parse(toks)
	if err != nil {
		return nil, err
	}
	if err := checkNames(body); err != nil {
		return nil, err
	}
	return &Template{body: body}, nil
}

// Options are the render's settings besides the template variables.
type Options struct {
	// Now is the clock of strftime_now; zero means time.Now().
	Now time.Time
	// Limits bounds the render's work (zero fields: the defaults).
	Limits Limits
}

// Render renders the template with the given variables. A value may be any
// of nil, bool, int, int64, float64, string, []any, []string,
// map[string]any (keys sorted), map[string]string, or json.RawMessage,
// which is decoded keeping the order of object keys as Python's json does.
func (t *Template) Render(vars map[string]any, opts Options) (string, error) {
	root := newScope(nil)
	for k, v := range vars {
		c, err := fromGo(v)
		if err != nil {
			return "", fmt.Errorf("chat template: variable %q: %w", k, err)
		}
		root.vars[k] = c
	}
	ev := &evaluator{lim: opts.Limits.withDefaults(), now: opts.Now}
	if ev.now.IsZero() {
		ev.now = time.Now()
	}
	var b strings.Builder
	ev.out = &b
	err := ev.exec(t.body, root)
	if errors.Is(err, errBreak) || errors.Is(err, errContinue) {
		err = &Error{Kind: "TemplateSyntaxError", Msg: "break or continue outside a loop"}
	}
	if err != nil {
		return "", err
	}
	return b.String(), nil
}

// Conversation is the input of apply_chat_template.
type Conversation struct {
	// Messages is the JSON list of messages ({"role": ..., "content": ...,
	// "tool_calls": ...}); content may be a string or a list of parts.
	Messages json.RawMessage
	// Tools is the JSON list of tool schemas, or nil (the template then sees
	// tools = None, as transformers passes it).
	Tools json.RawMessage
	// AddGenerationPrompt ends the prompt with the opening of an assistant turn.
	AddGenerationPrompt bool
	// Special are the tokenizer's special tokens by name ("bos_token",
	// "eos_token", "pad_token", "unk_token"); missing ones stay undefined.
	Special map[string]string
	// Extra are further template variables (for example enable_thinking).
	Extra map[string]any
}

// RenderChat renders a conversation the way apply_chat_template(messages,
// tools=tools, add_generation_prompt=..., tokenize=False) does.
func (t *Template) RenderChat(c Conversation, opts Options) (string, error) {
	vars := map[string]any{}
	for k, v := range c.Extra {
		vars[k] = v
	}
	for k, v := range c.Special {
		vars[k] = v
	}
	if c.Messages == nil {
		vars["messages"] = []any{}
	} else {
		vars["messages"] = c.Messages
	}
	if c.Tools == nil {
		vars["tools"] = nil
	} else {
		vars["tools"] = c.Tools
	}
	vars["documents"] = nil
	vars["add_generation_prompt"] = c.AddGenerationPrompt
	return t.Render(vars, opts)
}

// checkNames fails on filters and tests jinja2 does not know, as jinja2
// does at compile time for code outside if-branches and conditional
// expressions (inside them the error waits until the code runs).
func checkNames(body []node) error {
	var walkE func(e expr, soft bool) error
	var walkN func(ns []node, soft bool) error
	walkE = func(e expr, soft bool) error {
		switch x := e.(type) {
		case *filterE:
			if _, ok := lookupFilter(x.name); !ok && !soft {
				return &Error{Kind: "TemplateAssertionError", Line: x.line, Msg: fmt.Sprintf("No filter named '%s'.", x.name)}
			}
			if x.obj != nil {
				if err := walkE(x.obj, soft); err != nil {
					return err
				}
			}
			for _, a := range append(append([]expr(nil), x.args...), x.kwVals...) {
				if err := walkE(a, soft); err != nil {
					return err
				}
			}
		case *testE:
			if !knownTest(x.name) && !soft {
				return &Error{Kind: "TemplateAssertionError", Line: x.line, Msg: fmt.Sprintf("No test named '%s'.", x.name)}
			}
			if err := walkE(x.obj, soft); err != nil {
				return err
			}
			for _, a := range append(append([]expr(nil), x.args...), x.kwVals...) {
				if err := walkE(a, soft); err != nil {
					return err
				}
			}
		case *condE:
			for _, y := range []expr{x.cond, x.a, x.b} {
				if y != nil {
					if err := walkE(y, true); err != nil {
						return err
					}
				}
			}
		case *binE:
			if err := walkE(x.l, soft); err != nil {
				return err
			}
			return walkE(x.r, soft)
		case *unaryE:
			return walkE(x.x, soft)
		case *getattrE:
			return walkE(x.obj, soft)
		case *getitemE:
			if err := walkE(x.obj, soft); err != nil {
				return err
			}
			return walkE(x.key, soft)
		case *callE:
			if err := walkE(x.fn, soft); err != nil {
				return err
			}
			for _, a := range append(append([]expr(nil), x.args...), x.kwVals...) {
				if err := walkE(a, soft); err != nil {
					return err
				}
			}
		case *compareE:
			if err := walkE(x.first, soft); err != nil {
				return err
			}
			for _, r := range x.rest {
				if err := walkE(r, soft); err != nil {
					return err
				}
			}
		case *concatE:
			for _, r := range x.items {
				if err := walkE(r, soft); err != nil {
					return err
				}
			}
		case *listE:
			for _, r := range x.items {
				if err := walkE(r, soft); err != nil {
					return err
				}
			}
		case *tupleE:
			for _, r := range x.items {
				if err := walkE(r, soft); err != nil {
					return err
				}
			}
		case *dictE:
			for i := range x.keys {
				if err := walkE(x.keys[i], soft); err != nil {
					return err
				}
				if err := walkE(x.vals[i], soft); err != nil {
					return err
				}
			}
		}
		return nil
	}
	walkN = func(ns []node, soft bool) error {
		for _, n := range ns {
			var err error
			switch x := n.(type) {
			case *outputNode:
				err = walkE(x.e, soft)
			case *ifNode:
				for i, c := range x.conds {
					if err = walkE(c, soft); err != nil {
						return err
					}
					if err = walkN(x.bodies[i], true); err != nil {
						return err
					}
				}
				err = walkN(x.els, true)
			case *forNode:
				if err = walkE(x.iter, soft); err == nil {
					if err = walkN(x.body, soft); err == nil {
						err = walkN(x.els, soft)
					}
				}
			case *setNode:
				err = walkE(x.value, soft)
			case *setBlockNode:
				err = walkN(x.body, soft)
			case *macroNode:
				err = walkN(x.m.body, soft)
			case *callBlockNode:
				err = walkN(x.body, soft)
			case *filterBlockNode:
				err = walkN(x.body, soft)
			case *withNode:
				err = walkN(x.body, soft)
			}
			if err != nil {
				return err
			}
		}
		return nil
	}
	return walkN(body, false)
}

func knownTest(name string) bool {
	switch name {
	case "defined", "undefined", "none", "string", "mapping", "iterable", "sequence", "number", "integer", "float", "boolean",
		"true", "false", "callable", "odd", "even", "divisibleby", "lower", "upper", "equalto", "eq", "==", "sameas", "ne", "!=",
		"lt", "<", "le", "<=", "gt", ">", "ge", ">=", "lessthan", "greaterthan", "in", "filter", "test", "escaped":
		return true
	}
	return false
}
