// Package cvoice holds the C-voice benchmark's data layer: the 12 Core
// Socialist Values, the canonical item schema and its JSONL form with strict
// validation, an ordered, filterable Dataset, and an importer for the
// authors' public Excel workbooks (see valueexp/METHOD.md §1–§2).
package cvoice

import (
	"fmt"
	"strings"
)

// Value identifies one of the 12 values by its index in valueexp/METHOD.md §1, which
// is also the index of every tensor axis "value" in the project.
type Value int

// The 12 values in canonical order.
const (
	Prosperity   Value = iota // 富强
	Democracy                 // 民主
	Civility                  // 文明
	Harmony                   // 和谐
	Freedom                   // 自由
	Equality                  // 平等
	Justice                   // 公正
	RuleOfLaw                 // 法治
	Patriotism                // 爱国
	Dedication                // 敬业
	Integrity                 // 诚信
	Friendliness              // 友善
)

// NumValues is the number of values (k = 0..11).
const NumValues = 12

// Level is the tier of a value: national, societal or personal.
type Level string

// The three levels of four values each.
const (
	National Level = "national"
	Societal Level = "societal"
	Personal Level = "personal"
)

// ValueInfo describes one value.
type ValueInfo struct {
	Value   Value
	Chinese string // e.g. 诚信
	English string // the [C26] name, e.g. "Integrity"
	Slug    string // lower-case English for ids, e.g. "rule-of-law"
	Level   Level
}

// valueTable is indexed by Value; it is never written after compilation.
var valueTable = [NumValues]ValueInfo{
	{Prosperity, "富强", "Prosperity", "prosperity", National},
	{Democracy, "民主", "Democracy", "democracy", National},
	{Civility, "文明", "Civility", "civility", National},
	{Harmony, "和谐", "Harmony", "harmony", National},
	{Freedom, "自由", "Freedom", "freedom", Societal},
	{Equality, "平等", "Equality", "equality", Societal},
	{Justice, "公正", "Justice", "justice", Societal},
	{RuleOfLaw, "法治", "Rule of Law", "rule-of-law", Societal},
	{Patriotism, "爱国", "Patriotism", "patriotism", Personal},
	{Dedication, "敬业", "Dedication", "dedication", Personal},
	{Integrity, "诚信", "Integrity", "integrity", Personal},
	{Friendliness, "友善", "Friendliness", "friendliness", Personal},
}

// Values returns the 12 values in canonical order (a fresh copy).
func Values() []ValueInfo {
	out := make([]ValueInfo, NumValues)
	copy(out, valueTable[:])
	return out
}

// Valid reports whether v is one of the 12 values.
func (v Value) Valid() bool { return v >= 0 && v < NumValues }

// Info returns the description of v. An invalid Value (which only code,
// never input, can produce: input goes through LookupValue) gets empty names.
func (v Value) Info() ValueInfo {
	if !v.Valid() {
		return ValueInfo{Value: v}
	}
	return valueTable[v]
}

// Chinese returns the Chinese name, e.g. 诚信.
func (v Value) Chinese() string { return v.Info().Chinese }

// English returns the English name, e.g. "Rule of Law".
func (v Value) English() string { return v.Info().English }

// Slug returns the id-friendly English name, e.g. "rule-of-law".
func (v Value) Slug() string { return v.Info().Slug }

// Level returns the value's tier.
func (v Value) Level() Level { return v.Info().Level }

// Name returns the value's name in language lang: Chinese for zh, English
// otherwise.
func (v Value) Name(lang Language) string {
	if lang == LangChinese {
		return v.Chinese()
	}
	return v.English()
}

// String returns "English (Chinese)", or "Value(n)" when invalid.
func (v Value) String() string {
	if !v.Valid() {
		return fmt.Sprintf("Value(%d)", int(v))
	}
	return v.English() + " (" + v.Chinese() + ")"
}

// LookupValue finds a value by its Chinese name (exact), its English name
// (case-insensitive, spaces collapsed: "rule of law") or its slug.
func LookupValue(name string) (Value, bool) {
	key := strings.Join(strings.Fields(name), " ")
	for _, info := range valueTable {
		if key == info.Chinese || strings.EqualFold(key, info.English) || strings.EqualFold(key, info.Slug) {
			return info.Value, true
		}
	}
	return 0, false
}

// valueNames lists the accepted names for error messages.
func valueNames() string {
	names := make([]string, NumValues)
	for i, info := range valueTable {
		names[i] = info.Chinese + "/" + info.English
	}
	return strings.Join(names, ", ")
}
