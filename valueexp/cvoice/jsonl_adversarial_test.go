package cvoice

import (
	"errors"
	"fmt"
	"strings"
	"testing"

	"github.com/valueexploration/valueexp/internal/memtest"
)

// TestReadJSONLAdversarialMemory feeds JSONL built to make the reader
// allocate far beyond its input and checks the error and the peak heap
// against ReadJSONL's stated bound (4 × input + 4 × MaxLineBytes).
func TestReadJSONLAdversarialMemory(t *testing.T) {
	var manyFields strings.Builder
	manyFields.WriteString("{")
	for i := 0; manyFields.Len() < MaxLineBytes-32; i++ {
		fmt.Fprintf(&manyFields, `"f%d":0,`, i)
	}
	manyFields.WriteString(`"z":0}`)
	tests := []struct {
		name  string
		input string
		want  string
	}{
		{"a million fields on one line", manyFields.String(), "more than 64 fields"},
		{"deep nesting", `{"context":` + strings.Repeat("[", MaxLineBytes/2) + "}", "bad JSON"},
		{"many bad lines", strings.Repeat("{}\n", 1<<17), "more errors"},
		{"many duplicate ids", validAct + "\n" + strings.Repeat(validAct+"\n", 20000), "duplicate id"},
		{"a line over the limit", `{"context":"` + strings.Repeat("x", MaxLineBytes) + `"}`, "too long"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			var err error
			u := memtest.Measure(func() { _, err = ReadJSONL(strings.NewReader(tc.input), "bad.jsonl") })
			if err == nil || !strings.Contains(err.Error(), tc.want) || !strings.Contains(err.Error(), "bad.jsonl:") {
				t.Fatalf("err = %.200v, want one naming bad.jsonl and containing %q", err, tc.want)
			}
			if n := strings.Count(err.Error(), "\n"); n > MaxReportedErrors {
				t.Errorf("%d error lines, want at most %d plus a count", n+1, MaxReportedErrors)
			}
			if bound := uint64(4*len(tc.input) + 4*MaxLineBytes); u.Peak > bound {
				t.Errorf("peak heap %d bytes for %d bytes of input, bound %d", u.Peak, len(tc.input), bound)
			}
		})
	}
	if _, err := ReadJSONL(strings.NewReader(`{"context":"`+strings.Repeat("x", MaxLineBytes)+`"}`), "x"); !errors.Is(err, ErrLineTooLong) {
		t.Errorf("over-long line: %v, want ErrLineTooLong", err)
	}
}
