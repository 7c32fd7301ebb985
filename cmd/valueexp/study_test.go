package main

import (
	"bytes"
	"errors"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strconv"
	"strings"
	"testing"

	"github.com/stretchr/testify/require"
	"github.com/valueexploration/valueexp/valueexp/cvoice"
	"github.com/valueexploration/valueexp/valueexp/cvoice/sample"
)

// studyFixture writes a small random-weight model and a small data file
// (the sample's first activation and first evaluation item per value, in
// English) and returns their paths and the study flags that go with them.
func studyFixture(t *testing.T) (model, data string, flags []string) {
	t.Helper()
	dir := t.TempDir()
	model = filepath.Join(dir, "model.gguf")
	if code, _, stderr := runCLI(t, "", "synth", "--shape", "tiny", "--arch", "qwen2", "--dtype", "f32", "--seed", "1", "--out", model); code != 0 {
		t.Fatalf("synth: %s", stderr)
	}
	ds, err := sample.Load()
	require.NoError(t, err)
	seen := map[string]bool{}
	var items []cvoice.Item
	for it := range ds.OfLanguage(cvoice.LangEnglish).All() {
		k := it.Value.Chinese() + string(it.Split)
		if !seen[k] {
			seen[k] = true
			items = append(items, it)
		}
	}
	data = filepath.Join(dir, "data.jsonl")
	require.NoError(t, cvoice.WriteJSONLFile(data, items))
	return model, data, []string{"--model", model, "--data", data, "--lang", "en", "--batch-tokens", "256", "--same-language", "--swap-order", "--no-random-control", "--demo", "--threads", "2"}
}

var (
	reRecordTokens = regexp.MustCompile(`(\d+) items, (\d+) counted tokens`)
	reEvalTokens   = regexp.MustCompile(`this run fed (\d+) tokens through (\d+) forward passes`)
	reDryRow       = regexp.MustCompile(`(?m)^(record|evaluate)\s+(\d+)\s+(\d+)\s+(\d+)\s+(\d+)`)
)

// TestStudyDryRunCountsWhatTheRunProcesses checks that the dry run's
// texts, tokens and passes are the ones the run then reports processing,
// and that a second run skips every stage and a changed flag reruns
// exactly the stages after it.
func TestStudyDryRunCountsWhatTheRunProcesses(t *testing.T) {
	_, _, flags := studyFixture(t)
	out := filepath.Join(t.TempDir(), "study")
	args := append([]string{"study", "--out", out}, flags...)
	code, stdout, stderr := runCLI(t, "", append(args, "--dry-run")...)
	require.Equal(t, 0, code, stderr)
	dry := map[string][]string{}
	for _, m := range reDryRow.FindAllStringSubmatch(stdout, -1) {
		dry[m[1]] = m[2:]
	}
	require.Len(t, dry, 2, stdout)
	_, err := os.Stat(out)
	require.True(t, errors.Is(err, os.ErrNotExist), "a dry run writes nothing")

	code, _, stderr = runCLI(t, "", args...)
	require.Equal(t, 0, code, stderr)
	rec := reRecordTokens.FindStringSubmatch(stderr)
	ev := reEvalTokens.FindStringSubmatch(stderr)
	require.NotNil(t, rec, stderr)
	require.NotNil(t, ev, stderr)
	require.Equal(t, dry["record"][0], rec[1], "record texts")
	require.Equal(t, dry["record"][1], rec[2], "record tokens")
	require.Equal(t, dry["evaluate"][1], ev[1], "evaluate tokens")
	require.Equal(t, dry["evaluate"][3], ev[2], "evaluate passes")
	require.Equal(t, "13", dry["evaluate"][2], "conditions: plain and 12 sets")
	require.Contains(t, stderr, "evaluate: this run")

	skipped := func(stderr string) []string {
		var s []string
		for _, st := range []string{"record", "identify", "evaluate", "report"} {
			if strings.Contains(stderr, "] "+st+": up to date, skipped") {
				s = append(s, st)
			}
		}
		return s
	}
	code, _, stderr = runCLI(t, "", args...)
	require.Equal(t, 0, code, stderr)
	require.Equal(t, []string{"record", "identify", "evaluate", "report"}, skipped(stderr))

	// A changed evaluate flag reruns evaluate and report only.
	code, _, stderr = runCLI(t, "", append(args, "--max-items", "1")...)
	require.Equal(t, 0, code, stderr)
	require.Equal(t, []string{"record", "identify"}, skipped(stderr))
	require.Contains(t, stderr, "evaluate: running (its flags changed: --max-items 0 → 1)")
	require.Contains(t, stderr, "report: running (the earlier stage evaluate was run again)")

	// A changed identify flag reruns identify, evaluate and report.
	code, _, stderr = runCLI(t, "", append(args, "--max-items", "1", "--seed", "5")...)
	require.Equal(t, 0, code, stderr)
	require.Equal(t, []string{"record"}, skipped(stderr))
	require.Contains(t, stderr, "identify: running (its flags changed")

	// A changed input file reruns the stages that read it.
	neurons := filepath.Join(out, "neurons.json")
	b, err := os.ReadFile(neurons)
	require.NoError(t, err)
	require.NoError(t, os.WriteFile(neurons, append(b, ' '), 0o644))
	code, _, stderr = runCLI(t, "", append(args, "--max-items", "1", "--seed", "5")...)
	require.Equal(t, 0, code, stderr)
	require.Equal(t, []string{"record"}, skipped(stderr))
	require.Contains(t, stderr, "identify: running (its output "+neurons+" is missing or was changed)")
}

// TestStudyKilledAndRestartedEqualsUninterrupted builds the command, kills
// a study with SIGKILL at points in every stage (the VALUEEXP_KILL_AT hook
// sends the signal from inside the process, at a chosen progress step),
// restarts it, and checks that the counts, neuron sets and results are
// byte-identical to an uninterrupted study's.
func TestStudyKilledAndRestartedEqualsUninterrupted(t *testing.T) {
	if testing.Short() {
		t.Skip("builds the command and runs several studies")
	}
	bin := filepath.Join(t.TempDir(), "valueexp")
	build := exec.Command("go", "build", "-o", bin, ".")
	if b, err := build.CombinedOutput(); err != nil {
		t.Fatalf("go build: %v\n%s", err, b)
	}
	_, _, flags := studyFixture(t)
	run := func(dir, kill string) (killed bool, stderr string) {
		cmd := exec.Command(bin, append([]string{"study", "--out", "study"}, flags...)...)
		cmd.Dir = dir
		cmd.Env = append(os.Environ(), "VALUEEXP_KILL_AT="+kill)
		var errb bytes.Buffer
		cmd.Stderr = &errb
		err := cmd.Run()
		var ee *exec.ExitError
		if errors.As(err, &ee) && ee.ProcessState.String() == "signal: killed" {
			return true, errb.String()
		}
		require.NoError(t, err, errb.String())
		return false, errb.String()
	}
	files := []string{"counts.safetensors", "neurons.json", "results.json"}
	read := func(dir string) [][]byte {
		var out [][]byte
		for _, f := range files {
			b, err := os.ReadFile(filepath.Join(dir, "study", f))
			require.NoError(t, err)
			out = append(out, b)
		}
		return out
	}
	refDir := t.TempDir()
	killed, stderr := run(refDir, "")
	require.False(t, killed, stderr)
	want := read(refDir)

	// stage:N counts stage starts and ends: 1 record start, 2 record done
	// (before its manifest), 3 identify start, 4 identify done, 5
	// evaluate start, 6 evaluate done, 7 report start, 8 report done.
	for _, kill := range []string{"record:2", "record:7", "stage:2", "stage:3", "stage:4", "evaluate:10", "evaluate:100", "stage:6", "stage:8"} {
		t.Run(kill, func(t *testing.T) {
			dir := t.TempDir()
			killed, stderr := run(dir, kill)
			require.True(t, killed, "the kill point %s was not reached:\n%s", kill, stderr)
			killed, stderr = run(dir, "")
			require.False(t, killed)
			got := read(dir)
			for i := range files {
				require.True(t, bytes.Equal(want[i], got[i]), "%s differs from the uninterrupted study after a kill at %s", files[i], kill)
			}
			if stage, n, _ := strings.Cut(kill, ":"); stage != "stage" {
				_ = n
				require.Contains(t, stderr, "resuming its interrupted run")
			}
			if k, _ := strconv.Atoi(strings.TrimPrefix(kill, "stage:")); strings.HasPrefix(kill, "stage:") && k >= 3 {
				require.Contains(t, stderr, "record: up to date, skipped")
			}
		})
	}
}
