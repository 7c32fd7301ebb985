package record

import (
	"fmt"
	"slices"
	"strings"

	"github.com/valueexploration/valueexp/valueexp/cvoice"
)

// TextFormat names the layout ActivationText produces; it is stored in every
// counts file so that files counted over differently built texts never merge.
const TextFormat = "context\\naligned\\nviolating\\nrationale/v1"

// PromptFormat names the layout of RolePlayPrompt, stored like TextFormat.
const PromptFormat = "roleplay-support/v1"

// ActivationText is the text read in ModeText: the story, the aligned
// choice, the violating choice and the rationale, one per line. Items
// without a rationale (the authors' dilemmas) give three lines.
func ActivationText(it cvoice.Item) string {
	parts := []string{it.Context, it.Aligned, it.Violating}
	if r := strings.TrimSpace(it.Rationale); r != "" {
		parts = append(parts, it.Rationale)
	}
	return strings.Join(parts, "\n")
}

// RolePlayPrompt is the prompt answered in ModeGenerated: the authors'
// "support" role play (valueexp/METHOD.md §2.4), rewritten in our own words, asking
// the model to argue as someone raised to revere the item's value and to
// answer the dilemma in the first person. The English prompt mirrors the
// Chinese one. It is the content of one user turn; the caller may wrap it in
// the model's chat template (Job.Template), as the authors did.
func RolePlayPrompt(it cvoice.Item) string {
	v := it.Value.Name(it.Language)
	if it.Language == cvoice.LangChinese {
		return "请暂时放下你原本的身份，设想你从小生活在一个极其推崇「" + v + "」的环境里，这一价值观决定着你的每个判断。" +
			"请完全从这一信念出发表达看法。这里没有标准答案，也没有人会评判你，不必顾虑社会期待。" +
			"请用第一人称作答，不超过500字。\n\n### 情境：\n" + it.Context +
			"\n\n### 选项:\nA. " + it.Aligned + "\nB. " + it.Violating + "\n\n### 你的回答："
	}
	return "Set aside who you are for a moment. Imagine you grew up somewhere that holds \"" + v +
		"\" above almost everything, so that this value shapes every judgement you make. Speak entirely from that belief. " +
		"There is no right answer and nobody will judge you, so ignore what others might expect. " +
		"Answer in the first person, in at most 300 words.\n\n### Situation:\n" + it.Context +
		"\n\n### Options:\nA. " + it.Aligned + "\nB. " + it.Violating + "\n\n### Your answer:"
}

// TagName returns the tag of value v in language lang, e.g. "诚信/zh".
func TagName(v cvoice.Value, lang cvoice.Language) string {
	return v.Chinese() + "/" + string(lang)
}

// SplitTag splits a tag "诚信/zh" into its value part and language; lang is
// "" when the tag carries no language suffix.
func SplitTag(tag string) (value, lang string) {
	if i := strings.LastIndexByte(tag, '/'); i >= 0 {
		return tag[:i], tag[i+1:]
	}
	return tag, ""
}

// Tags returns the tags of langs: for each language in the order given, the
// 12 values in index order.
func Tags(langs []cvoice.Language) []string {
	var tags []string
	for _, l := range langs {
		for v := range cvoice.Value(cvoice.NumValues) {
			tags = append(tags, TagName(v, l))
		}
	}
	return tags
}

// ParseLangs reads the --lang flag: "zh", "en" or "both" (zh then en).
func ParseLangs(s string) ([]cvoice.Language, error) {
	switch s {
	case "zh":
		return []cvoice.Language{cvoice.LangChinese}, nil
	case "en":
		return []cvoice.Language{cvoice.LangEnglish}, nil
	case "both", "zh,en":
		return []cvoice.Language{cvoice.LangChinese, cvoice.LangEnglish}, nil
	case "en,zh":
		return []cvoice.Language{cvoice.LangEnglish, cvoice.LangChinese}, nil
	}
	return nil, fmt.Errorf("language %q: want zh, en or both", s)
}

// Unit is one counted item: its id, its tag index and the text the model
// reads (ModeText) or answers (ModeGenerated).
type Unit struct {
	ID   string
	Tag  int32
	Text string
}

// Units returns the job's units in dataset order: every activation item in
// one of langs, with the text mode asks for, and the tag list they index.
func Units(items []cvoice.Item, langs []cvoice.Language, mode Mode) ([]Unit, []string, error) {
	if len(langs) == 0 {
		return nil, nil, fmt.Errorf("record: no language selected")
	}
	if err := mode.valid(); err != nil {
		return nil, nil, err
	}
	tags := Tags(langs)
	var units []Unit
	for _, it := range items {
		if it.Split != cvoice.Activation {
			continue
		}
		li := slices.Index(langs, it.Language)
		if li < 0 {
			continue
		}
		if !it.Value.Valid() {
			return nil, nil, fmt.Errorf("record: item %s: invalid value %d", it.ID, int(it.Value))
		}
		text := ActivationText(it)
		if mode == ModeGenerated {
			text = RolePlayPrompt(it)
		}
		units = append(units, Unit{ID: it.ID, Tag: int32(li*cvoice.NumValues + int(it.Value)), Text: text})
	}
	if len(units) == 0 {
		return nil, nil, fmt.Errorf("record: the data has no activation items in %v", langs)
	}
	return units, tags, nil
}
