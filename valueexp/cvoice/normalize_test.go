package cvoice

import "testing"

// The spellings below are the ones found in the authors' workbooks.
func TestConflictFromType(t *testing.T) {
	tests := []struct{ in, want string }{
		{"富强 vs 个人财富积累", "个人财富积累"},
		{"富強 vs 個人財 富積累", "个人财富积累"},
		{"富強 Vs 個人政績", "个人政绩"},
		{"公正 v s 资源继承固化", "资源继承固化"},
		{"敬业 v.s. 身心健康", "身心健康"},
		{"敬业vs个人财富积累", "个人财富积累"},
		{"友善vs 报复文化", "报复文化"},
		{"社会冷漠", "社会冷漠"},
		{"社会冷漠vs个人利益", "个人利益"},
		{"自由 vs 强制思想一致,压制差异", "强制思想一致，压制差异"},
		{"自由 vs 强制思想一致, 压制差异", "强制思想一致，压制差异"},
		{"自由 vs 强制思想一致，压制差异", "强制思想一致，压制差异"},
		{"和谐\u3000vs\u3000霸权主义", "霸权主义"},
		{"  诚信   vs   关系和谐  ", "关系和谐"},
		{"Integrity vs personal  wealth", "personal wealth"},
		{"诚信 vs", ""},
	}
	for _, tc := range tests {
		if got := ConflictFromType(tc.in); got != tc.want {
			t.Errorf("ConflictFromType(%q) = %q, want %q", tc.in, got, tc.want)
		}
	}
}

func TestNormalizeLabel(t *testing.T) {
	tests := []struct{ in, want string }{
		{"个人 形象", "个人形象"},
		{"personal   wealth", "personal wealth"},
		{"AI 伦理", "AI伦理"},
		{" a ,b ", "a，b"},
		{"", ""},
	}
	for _, tc := range tests {
		if got := NormalizeLabel(tc.in); got != tc.want {
			t.Errorf("NormalizeLabel(%q) = %q, want %q", tc.in, got, tc.want)
		}
	}
}
