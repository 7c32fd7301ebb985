package main

import (
	"os"
	"path/filepath"
	"strings"
	"testing"
)

// `valueexp report` refuses results with a rate out of range or an unknown
// version, naming the field (issue 14 item 8: a rate of 1e308 hung the
// plot rasteriser, and version 2 was read as if it were 1).
func TestReportRefusesBadResults(t *testing.T) {
	cell := func(support, version string) string {
		return `{"format":"valueexp-results","version":` + version + `,"model":"m","mode":"likelihood",
 "conditions":[{"name":"none","kind":"none","neurons":0}],
 "cells":[{"condition":"none","value":"诚信","value_en":"Integrity","language":"zh","items":4,"answered":4,"parse_failures":0,"parse_failure_rate":0,"support_rate":` + support + `,"aligned_choice_rate":0.5}]}`
	}
	for _, tt := range []struct{ name, json, want string }{
		{"huge rate", cell("1e308", "1"), "support_rate 1e+308 out of range [0, 100]"},
		{"negative rate", cell("-1e308", "1"), "support_rate -1e+308"},
		{"rate above 100", cell("250", "1"), "support_rate 250"},
		{"unknown version", cell("50", "2"), "version 2 is not supported"},
	} {
		t.Run(tt.name, func(t *testing.T) {
			dir := t.TempDir()
			path := filepath.Join(dir, "results.json")
			if err := os.WriteFile(path, []byte(tt.json), 0o644); err != nil {
				t.Fatal(err)
			}
			code, _, stderr := runCLI(t, "", "report", "--results", path, "--out", filepath.Join(dir, "rep"))
			if code == 0 || !strings.Contains(stderr, tt.want) || !strings.Contains(stderr, "results.json") {
				t.Errorf("exit %d, stderr %q; want a failure naming results.json and %q", code, stderr, tt.want)
			}
		})
	}
	// The same file with a valid rate is accepted: the refusals above are
	// about the numbers, not the file's shape.
	dir := t.TempDir()
	path := filepath.Join(dir, "results.json")
	if err := os.WriteFile(path, []byte(cell("50", "1")), 0o644); err != nil {
		t.Fatal(err)
	}
	if code, _, stderr := runCLI(t, "", "report", "--results", path, "--out", filepath.Join(dir, "rep")); code != 0 {
		t.Errorf("valid file: exit %d: %s", code, stderr)
	}
}

// The statistics flags are checked: an unknown correction is a usage error.
func TestReportCorrectionFlag(t *testing.T) {
	dir := t.TempDir()
	code, _, stderr := runCLI(t, "", "report", "--results", filepath.Join(dir, "none.json"), "--correction", "bonferroni", "--out", dir)
	if code != 2 || !strings.Contains(stderr, "--correction") {
		t.Errorf("exit %d, %q; want a failure naming --correction", code, stderr)
	}
}
