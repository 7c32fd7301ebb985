package report

import (
	"encoding/json"
	"strings"

	"github.com/valueexploration/valueexp/valueexp/cvoice"
)

// Tag is a parsed set or tag name of the form "<value>[/<lang>]", for
// example "诚信/zh", "Integrity/en" or "rule-of-law".
type Tag struct {
	Value cvoice.Value
	Lang  string // "zh", "en", another suffix, or "" for sets pooled over languages
}

// ParseTag reads a tag name "<value>[/<lang>]" where value is any name
// cvoice.LookupValue accepts. It reports false for names that do not
// name one of the 12 values.
func ParseTag(name string) (Tag, bool) {
	value, lang, _ := strings.Cut(name, "/")
	if strings.Contains(lang, "/") {
		return Tag{}, false
	}
	v, ok := cvoice.LookupValue(value)
	if !ok {
		return Tag{}, false
	}
	lang = strings.TrimSpace(lang)
	if lang != "" && !isLangCode(lang) {
		return Tag{}, false
	}
	return Tag{Value: v, Lang: lang}, true
}

// isLangCode accepts short ASCII language codes like "zh", "en", "zh-Hans".
func isLangCode(s string) bool {
	if len(s) > 16 {
		return false
	}
	for _, r := range s {
		if !(r >= 'a' && r <= 'z' || r >= 'A' && r <= 'Z' || r == '-' || r == '_') {
			return false
		}
	}
	return true
}

// Label is the tag in ASCII for figures: "Integrity/zh".
func (t Tag) Label() string {
	if t.Lang == "" {
		return t.Value.English()
	}
	return t.Value.English() + "/" + t.Lang
}

// randomControlOf recognises the names random same-size control sets get
// ("random:诚信/zh", "random:诚信/zh#2", "random/诚信/zh", "诚信/zh/random",
// "诚信/zh:random", "诚信/zh-random") and returns the name of the set it
// controls.
func randomControlOf(name string) (string, bool) {
	// identify's names: "random:NAME" and, for later draws, "random:NAME#d".
	if set, _, ok := parseControl(name); ok {
		return set, true
	}
	for _, p := range []string{"random/", "random-", "rand:"} {
		if rest, ok := strings.CutPrefix(name, p); ok && rest != "" {
			return rest, true
		}
	}
	for _, s := range []string{"/random", ":random", "-random", "+random"} {
		if rest, ok := strings.CutSuffix(name, s); ok && rest != "" {
			return rest, true
		}
	}
	return "", false
}

// provenanceMethod returns the "method" field of a set's provenance, if
// the provenance is a JSON object that has one.
func provenanceMethod(raw json.RawMessage) string {
	var p struct {
		Method string `json:"method"`
	}
	if len(raw) == 0 || json.Unmarshal(raw, &p) != nil {
		return ""
	}
	return p.Method
}

// asciiLabel makes any name safe for the plot fonts: Chinese value names
// become English, other non-ASCII characters become '?'.
func asciiLabel(name string) string {
	if t, ok := ParseTag(name); ok {
		return t.Label()
	}
	if rest, ok := randomControlOf(name); ok {
		return "random: " + asciiLabel(rest)
	}
	// Value names inside other names ("富强-support") still read in English.
	for _, v := range cvoice.Values() {
		name = strings.ReplaceAll(name, v.Chinese, v.English)
	}
	var b strings.Builder
	for _, r := range name {
		if r < 0x80 && r >= 0x20 {
			b.WriteRune(r)
		} else {
			b.WriteByte('?')
		}
	}
	return b.String()
}

// langTitle names a language group in prose.
func langTitle(lang string) string {
	switch lang {
	case "zh":
		return "Chinese (zh)"
	case "en":
		return "English (en)"
	case "":
		return "pooled over languages"
	}
	return lang
}

// langFile is the language part of a figure's file name.
func langFile(lang string) string {
	if lang == "" {
		return "pooled"
	}
	return strings.ToLower(lang)
}
