package cvoice

import (
	"slices"
	"strings"
	"testing"
)

func mk(id string, v Value, l Language, s Split) Item {
	it := Item{ID: id, Value: v, Language: l, Split: s, Conflict: "c", Context: "x", Aligned: "a", Violating: "b"}
	if s == Activation {
		it.Rationale = "r"
	}
	return it
}

func ids(d *Dataset) []string {
	var out []string
	for it := range d.All() {
		out = append(out, it.ID)
	}
	return out
}

func TestDatasetOrderAndFilters(t *testing.T) {
	items := []Item{
		mk("zh-eval-2", Integrity, LangChinese, Evaluation),
		mk("en-act-1", Integrity, LangEnglish, Activation),
		mk("zh-eval-1", Integrity, LangChinese, Evaluation),
		mk("p-zh-act", Prosperity, LangChinese, Activation),
		mk("en-eval-1", Integrity, LangEnglish, Evaluation),
		mk("zh-act-1", Integrity, LangChinese, Activation),
		mk("f", Friendliness, LangEnglish, Evaluation),
	}
	d, err := NewDataset(items)
	if err != nil {
		t.Fatal(err)
	}
	// Value index, then en before zh, activation before evaluation, then id.
	want := []string{"p-zh-act", "en-act-1", "en-eval-1", "zh-act-1", "zh-eval-1", "zh-eval-2", "f"}
	if got := ids(d); !slices.Equal(got, want) {
		t.Errorf("order = %v, want %v", got, want)
	}
	// Input order must not matter.
	slices.Reverse(items)
	d2, _ := NewDataset(items)
	if !slices.Equal(ids(d2), want) {
		t.Errorf("order depends on input order: %v", ids(d2))
	}
	tests := []struct {
		name string
		got  *Dataset
		want []string
	}{
		{"OfValue", d.OfValue(Integrity), []string{"en-act-1", "en-eval-1", "zh-act-1", "zh-eval-1", "zh-eval-2"}},
		{"OfLanguage", d.OfLanguage(LangEnglish), []string{"en-act-1", "en-eval-1", "f"}},
		{"OfSplit", d.OfSplit(Activation), []string{"p-zh-act", "en-act-1", "zh-act-1"}},
		{"Select", d.Select(Query{Values: []Value{Integrity, Friendliness}, Languages: []Language{LangEnglish}, Splits: []Split{Evaluation}}), []string{"en-eval-1", "f"}},
		{"Select all", d.Select(Query{}), want},
		{"Filter", d.Filter(func(it Item) bool { return strings.HasSuffix(it.ID, "-1") }), []string{"en-act-1", "en-eval-1", "zh-act-1", "zh-eval-1"}},
		{"FirstN", d.FirstN(1), []string{"p-zh-act", "en-act-1", "en-eval-1", "zh-act-1", "zh-eval-1", "f"}},
		{"FirstN 0", d.FirstN(0), nil},
	}
	for _, tc := range tests {
		if got := ids(tc.got); !slices.Equal(got, tc.want) {
			t.Errorf("%s = %v, want %v", tc.name, got, tc.want)
		}
	}
	if c := d.CountByValue(); c[Integrity] != 5 || c[Prosperity] != 1 || c[Friendliness] != 1 || c[Democracy] != 0 {
		t.Errorf("CountByValue = %v", c)
	}
	if it, ok := d.ByID("f"); !ok || it.Value != Friendliness {
		t.Errorf("ByID(f) = %+v, %v", it, ok)
	}
	if _, ok := d.ByID("nope"); ok {
		t.Error("ByID(nope) found something")
	}
	if d.Len() != 7 || d.At(0).ID != "p-zh-act" {
		t.Errorf("Len/At wrong")
	}
	cp := d.Items()
	cp[0].ID = "changed"
	if d.At(0).ID != "p-zh-act" {
		t.Error("Items exposed internal storage")
	}
}

func TestNewDatasetRejects(t *testing.T) {
	a := mk("a", Civility, LangEnglish, Evaluation)
	bad := mk("b", Civility, LangEnglish, Activation)
	bad.Rationale = ""
	_, err := NewDataset([]Item{a, bad, a})
	if err == nil {
		t.Fatal("want error")
	}
	for _, w := range []string{`item 1 (id "b"): field "rationale"`, `duplicate id "a"`} {
		if !strings.Contains(err.Error(), w) {
			t.Errorf("error\n%v\nlacks %q", err, w)
		}
	}
}
