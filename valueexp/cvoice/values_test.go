package cvoice

import "testing"

// TestValuesTable checks the table against valueexp/METHOD.md §1, restated here.
func TestValuesTable(t *testing.T) {
	want := []struct {
		zh, en, slug string
		level        Level
	}{
		{"富强", "Prosperity", "prosperity", National},
		{"民主", "Democracy", "democracy", National},
		{"文明", "Civility", "civility", National},
		{"和谐", "Harmony", "harmony", National},
		{"自由", "Freedom", "freedom", Societal},
		{"平等", "Equality", "equality", Societal},
		{"公正", "Justice", "justice", Societal},
		{"法治", "Rule of Law", "rule-of-law", Societal},
		{"爱国", "Patriotism", "patriotism", Personal},
		{"敬业", "Dedication", "dedication", Personal},
		{"诚信", "Integrity", "integrity", Personal},
		{"友善", "Friendliness", "friendliness", Personal},
	}
	vs := Values()
	if len(vs) != NumValues || len(want) != NumValues {
		t.Fatalf("got %d values, want %d", len(vs), NumValues)
	}
	for i, w := range want {
		v := vs[i]
		if int(v.Value) != i || v.Chinese != w.zh || v.English != w.en || v.Slug != w.slug || v.Level != w.level {
			t.Errorf("value %d = %+v, want %+v", i, v, w)
		}
	}
	if Integrity.Chinese() != "诚信" || RuleOfLaw.English() != "Rule of Law" || Friendliness.Slug() != "friendliness" {
		t.Error("constant names disagree with the table")
	}
	vs[0].Chinese = "changed"
	if Prosperity.Chinese() != "富强" {
		t.Error("Values() exposed the table")
	}
}

func TestLookupValue(t *testing.T) {
	tests := []struct {
		name string
		want Value
		ok   bool
	}{
		{"诚信", Integrity, true},
		{" 诚信 ", Integrity, true},
		{"Integrity", Integrity, true},
		{"integrity", Integrity, true},
		{"rule of law", RuleOfLaw, true},
		{"RULE  OF\tLAW", RuleOfLaw, true},
		{"rule-of-law", RuleOfLaw, true},
		{"友善", Friendliness, true},
		{"Honesty", 0, false},
		{"誠信", 0, false}, // traditional form is not a name
		{"", 0, false},
		{"ruleoflaw", 0, false},
	}
	for _, tc := range tests {
		got, ok := LookupValue(tc.name)
		if ok != tc.ok || (ok && got != tc.want) {
			t.Errorf("LookupValue(%q) = %v, %v; want %v, %v", tc.name, got, ok, tc.want, tc.ok)
		}
	}
}

func TestValueNamesAndInvalid(t *testing.T) {
	if got := Integrity.Name(LangChinese); got != "诚信" {
		t.Errorf("Name(zh) = %q", got)
	}
	if got := Integrity.Name(LangEnglish); got != "Integrity" {
		t.Errorf("Name(en) = %q", got)
	}
	if got := Integrity.String(); got != "Integrity (诚信)" {
		t.Errorf("String = %q", got)
	}
	bad := Value(12)
	if bad.Valid() || Value(-1).Valid() || bad.Chinese() != "" || bad.String() != "Value(12)" {
		t.Errorf("invalid value handled wrongly: %v %q", bad.Valid(), bad.String())
	}
}
