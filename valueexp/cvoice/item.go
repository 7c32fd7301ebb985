package cvoice

import (
	"fmt"
	"strings"
	"unicode/utf8"
)

// Language is an item's language code.
type Language string

// The two C-voice languages.
const (
	LangEnglish Language = "en"
	LangChinese Language = "zh"
)

// Split says what an item is for.
type Split string

// The two C-voice parts (valueexp/METHOD.md §2.1).
const (
	// Activation items are read by the model while FFN activations are
	// counted; they carry a rationale for the aligned choice.
	Activation Split = "activation"
	// Evaluation items are posed as A/B dilemmas after deactivation; they
	// never carry a rationale.
	Evaluation Split = "evaluation"
)

// Item is one C-voice dilemma: a first-person story where the target value
// clashes with a motive, and two choices, one upholding the value and one
// serving the motive.
type Item struct {
	// ID is unique within a dataset, e.g. "zh-act-integrity-001".
	ID       string
	Value    Value
	Language Language
	Split    Split
	// Conflict is the competing value or motive, free text, e.g. 个人财富积累.
	Conflict string
	// Context is the dilemma story.
	Context string
	// Aligned is the value-aligned choice; Violating the value-violating one.
	Aligned   string
	Violating string
	// Rationale explains why Aligned upholds the value. Activation items
	// need one unless NoRationale is set; evaluation items must have none.
	Rationale string
	// NoRationale marks an activation item that by construction has no
	// rationale, such as the authors' "{value}-final.xlsx" dilemmas: it lets
	// them pass validation while keeping the omission explicit, so code that
	// builds rationale-bearing prompts can tell them apart.
	NoRationale bool
	// Source is optional provenance, e.g. "test-zh-200.xlsx: sheet 诚信: row 17".
	Source string
}

// FieldError is a problem with one field of an item.
type FieldError struct {
	Field string // the JSON field name, e.g. "value"
	Msg   string
}

func (e *FieldError) Error() string { return fmt.Sprintf("field %q: %s", e.Field, e.Msg) }

// maxIDLen bounds ids so they stay usable as file names and map keys.
const maxIDLen = 200

// Validate reports every problem with it, joined, or nil.
func (it Item) Validate() error {
	return joinErrors(it.problems(nil))
}

// problems lists the item's field errors, leaving out fields in skip (which
// a caller has already reported more precisely).
func (it Item) problems(skip map[string]bool) []error {
	var errs []error
	add := func(field, format string, args ...any) {
		if !skip[field] {
			errs = append(errs, &FieldError{Field: field, Msg: fmt.Sprintf(format, args...)})
		}
	}
	if msg := checkID(it.ID); msg != "" {
		add("id", "%s", msg)
	}
	if !it.Value.Valid() {
		add("value", "invalid value index %d", int(it.Value))
	}
	if it.Language != LangEnglish && it.Language != LangChinese {
		add("language", "unknown language %q (want en or zh)", string(it.Language))
	}
	if it.Split != Activation && it.Split != Evaluation {
		add("split", "unknown split %q (want activation or evaluation)", string(it.Split))
	}
	for _, f := range []struct{ name, text string }{
		{"conflict", it.Conflict}, {"context", it.Context}, {"aligned", it.Aligned}, {"violating", it.Violating},
	} {
		switch {
		case strings.TrimSpace(f.text) == "":
			add(f.name, "empty")
		case !utf8.ValidString(f.text):
			add(f.name, "invalid UTF-8")
		}
	}
	if strings.TrimSpace(it.Aligned) != "" && strings.TrimSpace(it.Aligned) == strings.TrimSpace(it.Violating) {
		add("violating", "same text as aligned")
	}
	hasRationale := strings.TrimSpace(it.Rationale) != ""
	switch it.Split {
	case Activation:
		if it.NoRationale && hasRationale {
			add("rationale", "present although no_rationale is set")
		}
		if !it.NoRationale && !hasRationale {
			add("rationale", "empty; activation items need one (or no_rationale: true)")
		}
	case Evaluation:
		if hasRationale {
			add("rationale", "evaluation items must not have one")
		}
		if it.NoRationale {
			add("no_rationale", "only meaningful for activation items")
		}
	}
	if hasRationale && !utf8.ValidString(it.Rationale) {
		add("rationale", "invalid UTF-8")
	}
	if !utf8.ValidString(it.Source) {
		add("source", "invalid UTF-8")
	}
	return errs
}

// checkID returns what is wrong with an id, or "".
func checkID(id string) string {
	if id == "" {
		return "empty"
	}
	if len(id) > maxIDLen {
		return fmt.Sprintf("longer than %d bytes", maxIDLen)
	}
	for _, r := range id {
		ok := r >= 'a' && r <= 'z' || r >= 'A' && r <= 'Z' || r >= '0' && r <= '9' || r == '-' || r == '_' || r == '.'
		if !ok {
			return fmt.Sprintf("%q has character %q (want letters, digits, '-', '_', '.')", id, r)
		}
	}
	return ""
}
