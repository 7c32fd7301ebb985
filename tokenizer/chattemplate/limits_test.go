package chattemplate

import (
	"errors"
	"strings"
	"testing"
	"time"
)

// A broken or hostile template ends in an error naming the bound it hit,
// quickly, instead of exhausting the stack, the memory or the time.
func TestLimits(t *testing.T) {
	deep := strings.Repeat("(", 5000) + "1" + strings.Repeat(")", 5000)
	for _, c := range []struct {
		name, src string
		lim       Limits
		kind      string
		msg       string
	}{
		{"infinite recursion", "{% macro f(n) %}{{ f(n + 1) }}{% endmacro %}{{ f(0) }}", Limits{}, "RecursionError", "macro 'f'"},
		{"mutual recursion", "{% macro a() %}{{ b() }}{% endmacro %}{% macro b() %}{{ a() }}{% endmacro %}{{ a() }}", Limits{}, "RecursionError", "deeper than 200"},
		{"output", "{% for i in range(100000) %}{{ 'x' * 100 }}{% endfor %}", Limits{MaxDepth: 10, MaxSteps: 1 << 30, MaxOutput: 1 << 20}, "LimitError", "output larger than"},
		{"string growth", "{% set ns = namespace(s='x') %}{% for i in range(64) %}{% set ns.s = ns.s + ns.s %}{% endfor %}", Limits{MaxDepth: 10, MaxSteps: 1 << 30, MaxOutput: 1 << 20}, "LimitError", "too long"},
		{"string repeat", "{{ 'x' * 10000000000 }}", Limits{}, "LimitError", "too long"},
		{"steps", "{% for i in range(100000) %}{% for j in range(100000) %}{% endfor %}{% endfor %}", Limits{MaxDepth: 10, MaxSteps: 1_000_000, MaxOutput: 1 << 20}, "LimitError", "steps"},
		{"range", "{{ range(10**9) | length }}", Limits{}, "OverflowError", "MAX_RANGE"},
		{"nesting", "{{ " + deep + " }}", Limits{}, "TemplateSyntaxError", "nested deeper"},
		{"block nesting", strings.Repeat("{% if true %}", 2000) + strings.Repeat("{% endif %}", 2000), Limits{}, "TemplateSyntaxError", "nested deeper"},
	} {
		t.Run(c.name, func(t *testing.T) {
			start := time.Now()
			tmpl, err := Parse(c.src)
			if err == nil {
				_, err = tmpl.Render(nil, Options{Limits: c.lim})
			}
			var e *Error
			if !errors.As(err, &e) || e.Kind != c.kind || !strings.Contains(e.Error(), c.msg) {
				t.Fatalf("err = %v, want %s containing %q", err, c.kind, c.msg)
			}
			if d := time.Since(start); d > 20*time.Second {
				t.Errorf("took %v", d)
			}
		})
	}
}

// Render never changes the template: rendering twice gives the same text,
// also concurrently.
func TestRenderIsRepeatable(t *testing.T) {
	tmpl, err := Parse("{% set ns = namespace(n=0) %}{% for m in messages %}{% set ns.n = ns.n + 1 %}{{ m.content }}{% endfor %}{{ ns.n }}")
	if err != nil {
		t.Fatal(err)
	}
	vars := map[string]any{"messages": []any{map[string]any{"content": "a"}, map[string]any{"content": "b"}}}
	done := make(chan string, 8)
	for i := 0; i < 8; i++ {
		go func() {
			s, err := tmpl.Render(vars, Options{})
			if err != nil {
				s = err.Error()
			}
			done <- s
		}()
	}
	for i := 0; i < 8; i++ {
		if s := <-done; s != "ab2" {
			t.Errorf("render %d: %q", i, s)
		}
	}
}
