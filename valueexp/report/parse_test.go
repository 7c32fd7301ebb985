package report

import (
	"math"
	"strings"
	"testing"

	"github.com/valueexploration/valueexp/valueexp/cvoice"
)

func TestParseTag(t *testing.T) {
	tests := []struct {
		name string
		want Tag
		ok   bool
	}{
		{"诚信/zh", Tag{cvoice.Integrity, "zh"}, true},
		{"诚信/en", Tag{cvoice.Integrity, "en"}, true},
		{"Rule of Law/en", Tag{cvoice.RuleOfLaw, "en"}, true},
		{"rule-of-law", Tag{cvoice.RuleOfLaw, ""}, true},
		{"友善", Tag{cvoice.Friendliness, ""}, true},
		{"诚信/zh/random", Tag{}, false},
		{"富强-support", Tag{}, false},
		{"诚信/中文", Tag{}, false},
		{"", Tag{}, false},
		{"/zh", Tag{}, false},
	}
	for _, tt := range tests {
		got, ok := ParseTag(tt.name)
		if ok != tt.ok || got != tt.want {
			t.Errorf("ParseTag(%q) = %v, %v; want %v, %v", tt.name, got, ok, tt.want, tt.ok)
		}
	}
}

func TestRandomControlOf(t *testing.T) {
	tests := []struct {
		name, of string
		ok       bool
	}{
		{"random:诚信/zh", "诚信/zh", true},
		{"random:诚信/zh#2", "诚信/zh", true}, // draw 2 of identify's controls
		{"random:诚信/zh#x", "诚信/zh#x", true},
		{"random/诚信/zh", "诚信/zh", true},
		{"诚信/zh/random", "诚信/zh", true},
		{"诚信/zh-random", "诚信/zh", true},
		{"诚信/zh", "", false},
		{"random:", "", false},
	}
	for _, tt := range tests {
		of, ok := randomControlOf(tt.name)
		if of != tt.of || ok != tt.ok {
			t.Errorf("randomControlOf(%q) = %q, %v; want %q, %v", tt.name, of, ok, tt.of, tt.ok)
		}
	}
}

func TestJaccard(t *testing.T) {
	tests := []struct {
		a, b  []uint64
		want  float64
		inter int
	}{
		{[]uint64{1, 2, 3}, []uint64{2, 3, 4}, 2.0 / 4, 2},
		{[]uint64{1, 2}, []uint64{3}, 0, 0},
		{[]uint64{5}, []uint64{5}, 1, 1},
		{nil, []uint64{1}, 0, 0},
		{nil, nil, math.NaN(), 0},
	}
	for _, tt := range tests {
		got, in := jaccard(tt.a, tt.b)
		if in != tt.inter || !(got == tt.want || math.IsNaN(got) && math.IsNaN(tt.want)) {
			t.Errorf("jaccard(%v, %v) = %v, %d; want %v, %d", tt.a, tt.b, got, in, tt.want, tt.inter)
		}
	}
}

func TestKthSmallestRate(t *testing.T) {
	// torch.kthvalue is 1-based: the round(rate·n)-th smallest.
	vals := []float64{5, 1, 4, 2, 3, 9, 8, 7, 6, 10}
	for _, tt := range []struct{ rate, want float64 }{{0.95, 10}, {0.5, 5}, {0.04, 1}, {0, 1}, {1, 10}} {
		if got := kthSmallestRate(vals, tt.rate); got != tt.want {
			t.Errorf("rate %v: got %v, want %v", tt.rate, got, tt.want)
		}
	}
	if !math.IsNaN(kthSmallestRate(nil, 0.5)) {
		t.Error("empty input should give NaN")
	}
}

func TestNumberFormats(t *testing.T) {
	for _, tt := range []struct {
		x      float64
		num, s string
	}{
		{-10, "-10.00", "-10.00"}, {1, "1.00", "+1.00"}, {0, "0.00", "0.00"}, {-0.001, "0.00", "0.00"}, {math.NaN(), "n/a", "n/a"},
	} {
		if got := num(tt.x, 2); got != tt.num {
			t.Errorf("num(%v) = %q, want %q", tt.x, got, tt.num)
		}
		if got := signed(tt.x, 2); got != tt.s {
			t.Errorf("signed(%v) = %q, want %q", tt.x, got, tt.s)
		}
	}
}

func TestASCIILabel(t *testing.T) {
	for _, tt := range []struct{ name, want string }{
		{"诚信/zh", "Integrity/zh"},
		{"random:法治/en", "random: Rule of Law/en"},
		{"富强-support", "Prosperity-support"},
		{"集合✓", "???"},
	} {
		if got := asciiLabel(tt.name); got != tt.want {
			t.Errorf("asciiLabel(%q) = %q, want %q", tt.name, got, tt.want)
		}
	}
}

func TestTrimZero(t *testing.T) {
	for _, tt := range []struct{ in, want string }{
		{"+0.00", "0.00"}, {"-0.0", "0.0"}, {"+0.01", "+0.01"}, {"-1.5", "-1.5"}, {"0.33", "0.33"},
	} {
		if got := trimZero(tt.in); got != tt.want {
			t.Errorf("trimZero(%q) = %q, want %q", tt.in, got, tt.want)
		}
	}
}

func TestRoundTicks(t *testing.T) {
	labels := func(lo, hi, min float64) []string {
		var out []string
		for _, tk := range roundTicks(lo, hi, min) {
			if tk.Label != "" {
				out = append(out, tk.Label)
			}
		}
		return out
	}
	for _, tt := range []struct {
		lo, hi, min float64
		want        string
	}{
		{0, 5220, 1, "0 1000 2000 3000 4000 5000"},
		{0, 96, 1, "0 20 40 60 80"},
		{0, 3, 1, "0 1 2 3"},
		{-1.4, 1.4, 0, "-1 -0.5 0 0.5 1"},
		{0, 1, 0, "0 0.2 0.4 0.6 0.8 1"},
		{-10, 10, 0, "-10 -5 0 5 10"},
	} {
		if got := strings.Join(labels(tt.lo, tt.hi, tt.min), " "); got != tt.want {
			t.Errorf("roundTicks(%v, %v, %v) labels %q, want %q", tt.lo, tt.hi, tt.min, got, tt.want)
		}
	}
}

// FuzzParseTag checks that any name either fails or yields a tag whose
// ASCII label parses back to the same tag.
func FuzzParseTag(f *testing.F) {
	for _, s := range []string{"诚信/zh", "Rule of Law/en", "rule-of-law", "友善", "random:诚信/zh", "诚信/zh/x", "/", "富强/zh-Hans", "\xff/zh"} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, name string) {
		tag, ok := ParseTag(name)
		label := asciiLabel(name)
		for _, r := range label {
			if r >= 0x80 {
				t.Fatalf("asciiLabel(%q) = %q is not ASCII", name, label)
			}
		}
		if !ok {
			return
		}
		back, ok := ParseTag(tag.Label())
		if !ok || back != tag {
			t.Fatalf("ParseTag(%q) = %v, but its label %q parses to %v, %v", name, tag, tag.Label(), back, ok)
		}
	})
}
