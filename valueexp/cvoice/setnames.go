package cvoice

import (
	"errors"
	"fmt"
	"strings"
)

// RandomPrefix starts the name of a random control set ("random:诚信/zh"),
// as `valueexp identify --random-control` writes them.
const RandomPrefix = "random:"

// setName is a neuron-set name split into its parts: an optional random
// control prefix, a base (a value name or any other text) and an optional
// language suffix.
type setName struct {
	random bool
	base   string
	lang   Language // "" when the name has no /zh or /en suffix
	value  Value
	isVal  bool // base names one of the 12 values
}

func parseSetName(s string) setName {
	var n setName
	s = strings.TrimSpace(s)
	if len(s) >= len(RandomPrefix) && strings.EqualFold(s[:len(RandomPrefix)], RandomPrefix) {
		n.random, s = true, s[len(RandomPrefix):]
	}
	n.base = s
	if i := strings.LastIndex(s, "/"); i >= 0 {
		switch suffix := strings.ToLower(strings.TrimSpace(s[i+1:])); suffix {
		case string(LangChinese), string(LangEnglish):
			n.base, n.lang = strings.TrimSpace(s[:i]), Language(suffix)
		}
	}
	n.value, n.isVal = LookupValue(n.base)
	return n
}

// ResolveSetNames maps neuron-set names as a user types them to the names of
// sets that exist (available, e.g. the names in a neuron-set file). A
// requested name is either the exact name of a set, or a value named in
// Chinese or English (English case-insensitive, or its slug: "Rule of Law",
// "rule-of-law"), optionally with a /zh or /en suffix (either case) and
// optionally prefixed "random:". So "Prosperity/zh", "prosperity/ZH" and
// "富强/zh" all name the set "富强/zh", whichever language the file uses for
// its set names. A value without a suffix stands for every set of that value
// ("富强/zh" and "富强/en", or a pooled "富强"); random control sets are only
// picked when asked for with the prefix. The result keeps the request's
// order, each set once. An unknown name is an error that lists the
// available names.
func ResolveSetNames(available, requested []string) ([]string, error) {
	var out []string
	seen := map[string]bool{}
	add := func(name string) {
		if !seen[name] {
			seen[name] = true
			out = append(out, name)
		}
	}
	parsed := make([]setName, len(available))
	for i, a := range available {
		parsed[i] = parseSetName(a)
	}
	var errs []error
	asked := 0
	for _, req := range requested {
		req = strings.TrimSpace(req)
		if req == "" {
			continue
		}
		asked++
		if exact := indexOf(available, req, false); exact >= 0 {
			add(available[exact])
			continue
		}
		want := parseSetName(req)
		if !want.isVal {
			if folded := indexOf(available, req, true); folded >= 0 {
				add(available[folded])
				continue
			}
			errs = append(errs, fmt.Errorf("neuron set %q not found, and %q is not one of the 12 values; %s", req, want.base, describeAvailable(available)))
			continue
		}
		found := false
		for i, a := range parsed {
			if a.isVal && a.value == want.value && a.random == want.random && (want.lang == "" || a.lang == want.lang) {
				add(available[i])
				found = true
			}
		}
		if !found {
			what := want.value.String()
			if want.lang != "" {
				what += " in " + string(want.lang)
			}
			if want.random {
				what = "random control of " + what
			}
			errs = append(errs, fmt.Errorf("no neuron set for %s (asked as %q); %s", what, req, describeAvailable(available)))
		}
	}
	if len(errs) > 0 {
		return nil, errors.Join(errs...)
	}
	if asked == 0 {
		return nil, fmt.Errorf("no neuron-set names given; %s", describeAvailable(available))
	}
	return out, nil
}

// indexOf finds name in list, optionally ignoring case; -1 if absent.
func indexOf(list []string, name string, fold bool) int {
	for i, s := range list {
		if s == name || (fold && strings.EqualFold(s, name)) {
			return i
		}
	}
	return -1
}

// describeAvailable lists the set names for an error message, the random
// controls summarised, since a file often holds as many of them as sets.
func describeAvailable(available []string) string {
	if len(available) == 0 {
		return "the file holds no neuron sets"
	}
	var names []string
	random := 0
	for _, a := range available {
		if parseSetName(a).random {
			random++
			continue
		}
		names = append(names, a)
	}
	s := "available: " + strings.Join(names, ", ")
	if len(names) == 0 {
		s = "available: only random controls: " + strings.Join(available, ", ")
	} else if random > 0 {
		s += fmt.Sprintf(" (and %d random controls, named %sNAME)", random, RandomPrefix)
	}
	return s + "; a value may be named in Chinese or English, with /zh or /en for one language"
}
