package cvoice

import (
	"regexp"
	"strings"
	"unicode"
)

// tradToSimp maps the traditional characters seen in the authors' conflict
// labels (富強, 個人財富積累, 個人政績), plus the other characters of the
// value names and valueexp/METHOD.md §2.2's conflict topics, to simplified ones. It is
// applied to labels only, never to stories.
var tradToSimp = strings.NewReplacer(
	// seen in test-zh-200.xlsx
	"強", "强", "個", "个", "財", "财", "積", "积", "績", "绩",
	// value names
	"諧", "谐", "愛", "爱", "國", "国", "業", "业", "誠", "诚",
	// conflict-topic characters
	"與", "与", "義", "义", "樂", "乐", "習", "习", "爭", "争", "親", "亲",
	"從", "从", "價", "价", "優", "优", "會", "会", "傳", "传", "體", "体",
	"關", "关", "係", "系", "內", "内", "決", "决", "減", "减", "則", "则",
	"創", "创", "別", "别", "動", "动", "團", "团", "聲", "声", "復", "复",
	"娛", "娱", "對", "对", "態", "态", "懾", "慑", "報", "报",
	"濫", "滥", "種", "种", "穩", "稳", "競", "竞", "級", "级", "繼", "继",
	"緒", "绪", "維", "维", "輿", "舆", "範", "范", "規", "规", "視", "视",
	"譽", "誉", "論", "论", "責", "责", "資", "资", "過", "过", "錢", "钱",
	"際", "际", "隱", "隐", "權", "权", "極", "极", "殺", "杀", "壓", "压",
	"異", "异", "厲", "厉", "獨", "独", "專", "专", "發", "发", "經", "经",
	"濟", "济", "勢", "势", "術", "术", "統", "统", "實", "实", "現", "现",
	"為", "为", "衛", "卫", "護", "护", "貪", "贪",
)

// reVersus finds the "vs" separating target value and conflict in the
// authors' Type column, in every spelling they used: "vs", "Vs", "v s",
// "v.s.", with or without surrounding spaces.
var reVersus = regexp.MustCompile(`(?i)\bv\s*\.?\s*s\b\.?`)

// ConflictFromType extracts the conflict motive from an authors' "Type" or
// "冲突类型" cell ("诚信 vs 个人形象" → "个人形象") and normalises it. A cell
// without "vs" is taken to be the motive alone. The part before "vs" is
// ignored: the sheet or file says which value the row belongs to.
func ConflictFromType(cell string) string {
	s := NormalizeLabel(cell)
	if loc := reVersus.FindStringIndex(s); loc != nil {
		s = s[loc[1]:]
	}
	return NormalizeLabel(s)
}

// NormalizeLabel tidies a short Chinese label: traditional characters seen in
// the data become simplified, commas become the full-width "，", spaces of
// any width collapse, and spaces next to Chinese characters or punctuation
// disappear (个人财 富积累 → 个人财富积累).
func NormalizeLabel(s string) string {
	s = tradToSimp.Replace(s)
	rs := []rune(s)
	var out []rune
	for i := 0; i < len(rs); i++ {
		r := rs[i]
		if r == ',' || r == '，' {
			out = trimTrailingSpace(out)
			out = append(out, '，')
			for i+1 < len(rs) && unicode.IsSpace(rs[i+1]) {
				i++
			}
			continue
		}
		if !unicode.IsSpace(r) {
			out = append(out, r)
			continue
		}
		j := i
		for j < len(rs) && unicode.IsSpace(rs[j]) {
			j++
		}
		prevWide := len(out) > 0 && isWide(out[len(out)-1])
		nextWide := j < len(rs) && isWide(rs[j])
		if len(out) > 0 && j < len(rs) && !prevWide && !nextWide {
			out = append(out, ' ')
		}
		i = j - 1
	}
	return strings.TrimSpace(string(out))
}

func trimTrailingSpace(rs []rune) []rune {
	for len(rs) > 0 && unicode.IsSpace(rs[len(rs)-1]) {
		rs = rs[:len(rs)-1]
	}
	return rs
}

// isWide reports whether r is a Han character or CJK/full-width
// punctuation, next to which Chinese text uses no spaces.
func isWide(r rune) bool {
	return unicode.Is(unicode.Han, r) ||
		r >= 0x3000 && r <= 0x303F || // CJK symbols and punctuation
		r >= 0xFF00 && r <= 0xFFEF // full-width forms
}
