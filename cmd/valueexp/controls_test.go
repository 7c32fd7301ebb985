package main

import (
	"strings"
	"testing"
)

// The random-control flags of identify are checked before any file is read.
func TestIdentifyRandomFlags(t *testing.T) {
	for _, tt := range []struct {
		args []string
		want string
	}{
		{[]string{"--random-draws", "0"}, "--random-draws 0"},
		{[]string{"--random-from", "everywhere"}, `--random-from "everywhere"`},
	} {
		args := append([]string{"identify", "--counts", "missing.safetensors", "--random-control", "--out", "x.json"}, tt.args...)
		code, _, stderr := runCLI(t, "", args...)
		if code != 2 || !strings.Contains(stderr, tt.want) {
			t.Errorf("%v: exit %d, %q; want 2 and %q", tt.args, code, stderr, tt.want)
		}
	}
}
