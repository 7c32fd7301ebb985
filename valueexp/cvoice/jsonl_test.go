package cvoice

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

const validAct = `{"id": "en-act-integrity-001", "value": "Integrity", "language": "en", "split": "activation", "conflict": "personal wealth", "context": "I run a shop.", "aligned": "Refuse.", "violating": "Accept.", "rationale": "Honesty matters."}`
const validEval = `{"id": "zh-eval-integrity-001", "value": "诚信", "language": "zh", "split": "evaluation", "conflict": "个人财富积累", "context": "我开了一家小店。", "aligned": "拒绝。", "violating": "接受。"}`

// line builds a JSON object from alternating key/value pairs; values are
// written raw, so callers can insert non-strings.
func line(kv ...string) string {
	var parts []string
	for i := 0; i+1 < len(kv); i += 2 {
		parts = append(parts, fmt.Sprintf("%q: %s", kv[i], kv[i+1]))
	}
	return "{" + strings.Join(parts, ", ") + "}"
}

// act returns a valid activation line with fields replaced ("" value removes).
func act(replace ...string) string {
	fields := []string{"id", `"a-1"`, "value", `"Integrity"`, "language", `"en"`, "split", `"activation"`,
		"conflict", `"wealth"`, "context", `"story"`, "aligned", `"good"`, "violating", `"bad"`, "rationale", `"why"`}
	for i := 0; i+1 < len(replace); i += 2 {
		found := false
		for j := 0; j < len(fields); j += 2 {
			if fields[j] == replace[i] {
				fields[j+1] = replace[i+1]
				found = true
			}
		}
		if !found {
			fields = append(fields, replace[i], replace[i+1])
		}
	}
	var kept []string
	for j := 0; j < len(fields); j += 2 {
		if fields[j+1] != "" {
			kept = append(kept, fields[j], fields[j+1])
		}
	}
	return line(kept...)
}

func TestReadJSONLValid(t *testing.T) {
	input := "\ufeff" + validAct + "\n\n" + validEval + "\n" +
		act("id", `"zh-act-rule-of-law-0002"`, "value", `"rule of law"`, "language", `"zh"`, "rationale", "", "no_rationale", "true", "source", `"法治-final.xlsx: sheet Sheet1: row 2"`) + "\n" +
		act("id", `"x"`, "split", `"evaluation"`, "rationale", `""`) // no trailing newline
	items, err := ReadJSONL(strings.NewReader(input), "data.jsonl")
	if err != nil {
		t.Fatal(err)
	}
	want := []Item{
		{ID: "en-act-integrity-001", Value: Integrity, Language: LangEnglish, Split: Activation, Conflict: "personal wealth", Context: "I run a shop.", Aligned: "Refuse.", Violating: "Accept.", Rationale: "Honesty matters."},
		{ID: "zh-eval-integrity-001", Value: Integrity, Language: LangChinese, Split: Evaluation, Conflict: "个人财富积累", Context: "我开了一家小店。", Aligned: "拒绝。", Violating: "接受。"},
		{ID: "zh-act-rule-of-law-0002", Value: RuleOfLaw, Language: LangChinese, Split: Activation, Conflict: "wealth", Context: "story", Aligned: "good", Violating: "bad", NoRationale: true, Source: "法治-final.xlsx: sheet Sheet1: row 2"},
		{ID: "x", Value: Integrity, Language: LangEnglish, Split: Evaluation, Conflict: "wealth", Context: "story", Aligned: "good", Violating: "bad"},
	}
	if len(items) != len(want) {
		t.Fatalf("got %d items, want %d", len(items), len(want))
	}
	for i := range want {
		if items[i] != want[i] {
			t.Errorf("item %d = %+v\nwant %+v", i, items[i], want[i])
		}
	}
}

func TestReadJSONLInvalid(t *testing.T) {
	valuesList := "(want one of 富强/Prosperity, 民主/Democracy, 文明/Civility, 和谐/Harmony, 自由/Freedom, 平等/Equality, 公正/Justice, 法治/Rule of Law, 爱国/Patriotism, 敬业/Dedication, 诚信/Integrity, 友善/Friendliness)"
	tests := []struct {
		name, input string
		want        []string // each must appear in the error
	}{
		{"unknown value", act("value", `"Honesty"`), []string{`data.jsonl:1: field "value": unknown value "Honesty" ` + valuesList}},
		{"unknown field", act("stance", `"x"`), []string{`data.jsonl:1: field "stance": unknown field`}},
		{"case-variant field is unknown", act("Context", `"x"`), []string{`field "Context": unknown field`}},
		{"missing field", act("context", ""), []string{`data.jsonl:1: field "context": missing`}},
		{"several problems on one line", act("language", `"fr"`, "split", `"train"`), []string{
			`data.jsonl:1: field "language": unknown language "fr" (want en or zh)`,
			`data.jsonl:1: field "split": unknown split "train" (want activation or evaluation)`}},
		{"empty string", act("aligned", `"  "`), []string{`field "aligned": empty`}},
		{"empty value", act("value", `""`), []string{`field "value": empty`}},
		{"empty id", act("id", `""`), []string{`field "id": empty`}},
		{"id with space", act("id", `"a 1"`), []string{`field "id": "a 1" has character ' '`}},
		{"number instead of string", act("context", `42`), []string{`field "context": want a string, got 42`}},
		{"null instead of string", act("context", `null`), []string{`field "context": want a string, got null`}},
		{"activation without rationale", act("rationale", ""), []string{`field "rationale": empty; activation items need one`}},
		{"evaluation with rationale", act("split", `"evaluation"`), []string{`field "rationale": evaluation items must not have one`}},
		{"no_rationale with rationale", act("no_rationale", "true"), []string{`field "rationale": present although no_rationale is set`}},
		{"no_rationale on evaluation", act("split", `"evaluation"`, "rationale", "", "no_rationale", "true"), []string{`field "no_rationale": only meaningful for activation items`}},
		{"no_rationale not bool", act("no_rationale", `"yes"`), []string{`field "no_rationale": want true or false`}},
		{"empty source", act("source", `""`), []string{`field "source": empty (omit the field instead)`}},
		{"same choices", act("violating", `"good"`), []string{`field "violating": same text as aligned`}},
		{"duplicate key", `{"id": "a", "id": "b"}`, []string{`data.jsonl:1: field "id": appears twice`}},
		{"not an object", `["a"]`, []string{`data.jsonl:1: not a JSON object`}},
		{"broken JSON", `{"id": "a",`, []string{`data.jsonl:1: bad JSON`}},
		{"trailing data", act() + ` {}`, []string{`data.jsonl:1: bad JSON: data after the object`}},
		{"invalid UTF-8", act("context", "\"\xff\""), []string{`data.jsonl:1: invalid UTF-8`}},
		{"duplicate ids", act() + "\n" + act("context", `"other"`), []string{`data.jsonl:2: field "id": duplicate id "a-1" (first at data.jsonl:1)`}},
		{"line numbers count blank lines", "\n" + act() + "\n\n" + act("value", `"Honesty"`), []string{`data.jsonl:4: field "value"`}},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			items, err := ReadJSONL(strings.NewReader(tc.input), "data.jsonl")
			if err == nil {
				t.Fatalf("no error; items %+v", items)
			}
			if items != nil {
				t.Errorf("items returned alongside an error")
			}
			for _, w := range tc.want {
				if !strings.Contains(err.Error(), w) {
					t.Errorf("error\n%v\nlacks\n%s", err, w)
				}
			}
			var le *LineError
			if !errors.As(err, &le) || le.File != "data.jsonl" {
				t.Errorf("error is not a *LineError for data.jsonl: %#v", err)
			}
		})
	}
}

func TestReadJSONLErrorLimit(t *testing.T) {
	var sb strings.Builder
	for i := 0; i < 25; i++ {
		sb.WriteString(act("id", fmt.Sprintf(`"id-%d"`, i), "value", `"Honesty"`) + "\n")
	}
	_, err := ReadJSONL(strings.NewReader(sb.String()), "d.jsonl")
	lines := strings.Split(err.Error(), "\n")
	if len(lines) != MaxReportedErrors+1 {
		t.Fatalf("error has %d lines, want %d", len(lines), MaxReportedErrors+1)
	}
	if !strings.HasPrefix(lines[19], "d.jsonl:20:") || lines[20] != "... and 5 more errors" {
		t.Errorf("lines 20-21 = %q, %q", lines[19], lines[20])
	}
}

// Lines of several MB are fine; past MaxLineBytes the reader stops with an
// error naming the line.
func TestReadJSONLLongLines(t *testing.T) {
	story := strings.Repeat("很长的故事。", 1<<20/2) // about 9 MB of UTF-8
	long := act("context", fmt.Sprintf("%q", story))
	items, err := ReadJSONL(strings.NewReader(act("id", `"short"`)+"\n"+long+"\n"), "big.jsonl")
	if err != nil {
		t.Fatal(err)
	}
	if len(items) != 2 || items[1].Context != story {
		t.Fatalf("long line not read back intact (%d items)", len(items))
	}
	tooLong := act("context", fmt.Sprintf("%q", strings.Repeat("x", MaxLineBytes)))
	_, err = ReadJSONL(strings.NewReader(act("id", `"short"`)+"\n"+tooLong), "big.jsonl")
	if !errors.Is(err, ErrLineTooLong) || !strings.Contains(err.Error(), "big.jsonl:2: ") {
		t.Errorf("error = %v", err)
	}
}

func TestWriteReadRoundTrip(t *testing.T) {
	items := []Item{
		{ID: "en-act-integrity-001", Value: Integrity, Language: LangEnglish, Split: Activation, Conflict: "wealth", Context: "A <b> & \"quoted\"\nstory", Aligned: "a", Violating: "b", Rationale: "r"},
		{ID: "zh-act-rule-of-law-0002", Value: RuleOfLaw, Language: LangChinese, Split: Activation, Conflict: "自由享乐", Context: "困境", Aligned: "守法", Violating: "违法", NoRationale: true, Source: "法治-final.xlsx: sheet Sheet1: row 2"},
		{ID: "zh-eval-friendliness-0002", Value: Friendliness, Language: LangChinese, Split: Evaluation, Conflict: "社会冷漠", Context: "故事", Aligned: "帮助", Violating: "走开"},
	}
	var buf bytes.Buffer
	if err := WriteJSONL(&buf, items); err != nil {
		t.Fatal(err)
	}
	// The written form, checked field by field against the schema.
	wantLines := []string{
		`{"id":"en-act-integrity-001","value":"Integrity","language":"en","split":"activation","conflict":"wealth","context":"A <b> & \"quoted\"\nstory","aligned":"a","violating":"b","rationale":"r"}`,
		`{"id":"zh-act-rule-of-law-0002","value":"法治","language":"zh","split":"activation","conflict":"自由享乐","context":"困境","aligned":"守法","violating":"违法","no_rationale":true,"source":"法治-final.xlsx: sheet Sheet1: row 2"}`,
		`{"id":"zh-eval-friendliness-0002","value":"友善","language":"zh","split":"evaluation","conflict":"社会冷漠","context":"故事","aligned":"帮助","violating":"走开"}`,
	}
	if got := strings.TrimSuffix(buf.String(), "\n"); got != strings.Join(wantLines, "\n") {
		t.Errorf("written:\n%s\nwant:\n%s", got, strings.Join(wantLines, "\n"))
	}
	back, err := ReadJSONL(&buf, "rt.jsonl")
	if err != nil {
		t.Fatal(err)
	}
	for i := range items {
		if back[i] != items[i] {
			t.Errorf("item %d round-tripped to %+v", i, back[i])
		}
	}
}

func TestWriteJSONLRejectsInvalid(t *testing.T) {
	good := Item{ID: "a", Value: Civility, Language: LangEnglish, Split: Evaluation, Conflict: "c", Context: "x", Aligned: "a", Violating: "b"}
	bad := good
	bad.ID = "b"
	bad.Value = Value(13)
	var buf bytes.Buffer
	err := WriteJSONL(&buf, []Item{good, bad, good})
	if err == nil || buf.Len() != 0 {
		t.Fatalf("err = %v, wrote %d bytes", err, buf.Len())
	}
	for _, w := range []string{`item 1 (id "b"): field "value": invalid value index 13`, `item 2: field "id": duplicate id "a" (first at item 0)`} {
		if !strings.Contains(err.Error(), w) {
			t.Errorf("error\n%v\nlacks %q", err, w)
		}
	}
}

func TestJSONLFiles(t *testing.T) {
	dir := t.TempDir()
	a, b := filepath.Join(dir, "a.jsonl"), filepath.Join(dir, "b.jsonl")
	if err := WriteJSONLFile(a, []Item{{ID: "x", Value: Harmony, Language: LangEnglish, Split: Evaluation, Conflict: "c", Context: "s", Aligned: "a", Violating: "b"}}); err != nil {
		t.Fatal(err)
	}
	items, err := ReadJSONLFile(a)
	if err != nil || len(items) != 1 || items[0].Value != Harmony {
		t.Fatalf("ReadJSONLFile = %+v, %v", items, err)
	}
	if err := os.WriteFile(b, []byte(act("id", `"x"`)+"\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	_, err = LoadJSONL(a, b)
	if err == nil || !strings.Contains(err.Error(), `b.jsonl:1: field "id": duplicate id "x" (first at `+a+`:1)`) {
		t.Errorf("cross-file duplicate: %v", err)
	}
	if _, err := ReadJSONLFile(filepath.Join(dir, "none.jsonl")); err == nil {
		t.Error("missing file: no error")
	}
}

func TestItemJSONMethods(t *testing.T) {
	var it Item
	if err := json.Unmarshal([]byte(validEval), &it); err != nil {
		t.Fatal(err)
	}
	if it.Value != Integrity || it.Split != Evaluation {
		t.Errorf("unmarshalled %+v", it)
	}
	out, err := json.Marshal(it)
	if err != nil {
		t.Fatal(err)
	}
	var again Item
	if err := json.Unmarshal(out, &again); err != nil || again != it {
		t.Errorf("round trip: %+v, %v", again, err)
	}
	if err := json.Unmarshal([]byte(act("value", `"Honesty"`)), &it); err == nil || !strings.Contains(err.Error(), `unknown value "Honesty"`) {
		t.Errorf("Unmarshal of a bad item: %v", err)
	}
}
