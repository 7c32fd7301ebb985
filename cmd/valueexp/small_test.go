package main

import (
	"context"
	"encoding/json"
	"errors"
	"math"
	"os"
	"path/filepath"
	"regexp"
	"strconv"
	"strings"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/valueexploration/valueexp/engine"
	"github.com/valueexploration/valueexp/tokenizer"
	"github.com/valueexploration/valueexp/valueexp/cvoice"
	"github.com/valueexploration/valueexp/valueexp/cvoice/sample"
	"github.com/valueexploration/valueexp/valueexp/evaluate"
	"github.com/valueexploration/valueexp/valueexp/record"
)

// TestGenerateReportsSpeed checks the last stderr line of generate: prompt
// and generation tokens per second, while stdout holds only the text.
func TestGenerateReportsSpeed(t *testing.T) {
	model := synthModel(t)
	code, stdout, stderr := runCLI(t, "", "generate", "--model", model, "--prompt", "Once upon a time", "-n", "6")
	require.Equal(t, 0, code, stderr)
	assert.Regexp(t, `\[\d+ prompt tokens, 6 generated, finish: length; prompt [0-9.]+ tokens/s, generation [0-9.]+ tokens/s\]\n$`, stderr)
	assert.NotContains(t, stdout, "tokens/s")
	code, stdout, stderr = runCLI(t, "", "generate", "--model", model, "--prompt", "Once", "-n", "3", "--neurons", writeFile(t, "n.json", tinyNeuronSets), "--deactivate", "Prosperity", "--compare")
	require.Equal(t, 0, code, stderr)
	assert.Regexp(t, `\[plain model: \d+ prompt tokens, 3 generated; prompt [0-9.]+ tokens/s, generation [0-9.]+ tokens/s\]`, stderr)
	assert.NotContains(t, stdout, "tokens/s")
}

// TestEvaluatePrintsLargestEffects checks the effects table against the
// results file: the rows are the non-random conditions' cells with the
// largest |Δ vs plain|, in that order.
func TestEvaluatePrintsLargestEffects(t *testing.T) {
	model := synthModel(t)
	sets := writeFile(t, "n.json", tinyNeuronSets)
	out := filepath.Join(t.TempDir(), "results.json")
	code, _, stderr := runCLI(t, "", "evaluate", "--model", model, "--neurons", sets, "--deactivate", "Prosperity,Integrity/en",
		"--lang", "en", "--max-items", "1", "--no-random-control", "--out", out)
	require.Equal(t, 0, code, stderr)
	b, err := os.ReadFile(out)
	require.NoError(t, err)
	var res evaluate.Results
	require.NoError(t, json.Unmarshal(b, &res))
	var deltas []float64
	for _, c := range res.Cells {
		if c.Condition != "none" {
			require.NotNil(t, c.DeltaVsNone)
			deltas = append(deltas, math.Abs(*c.DeltaVsNone))
		}
	}
	require.Len(t, deltas, 3*12) // 富强/zh, 富强/en and 诚信/en, each on 12 English cells
	_, table, ok := strings.Cut(stderr, "largest effects (8 of 36 cells)")
	require.True(t, ok, stderr)
	rows := regexp.MustCompile(`(?m)^  (\S+) +(.+?) (en) +([0-9.]+) +([+-][0-9.]+) +(\S+)$`).FindAllStringSubmatch(table, -1)
	require.Len(t, rows, 8, table)
	// The printed |Δ| are the 8 largest, in decreasing order.
	var printed []float64
	for _, r := range rows {
		d, err := strconv.ParseFloat(r[5], 64)
		require.NoError(t, err)
		printed = append(printed, math.Abs(d))
		assert.Contains(t, []string{"富强/zh", "富强/en", "诚信/en"}, r[1])
	}
	for i := 1; i < len(printed); i++ {
		assert.GreaterOrEqual(t, printed[i-1], printed[i])
	}
	larger := 0
	for _, d := range deltas {
		if d > printed[7]+0.05 { // the table rounds to 0.1
			larger++
		}
	}
	assert.Less(t, larger, 8, "cells with a larger |Δ| than the table's last row")
}

// TestRecordResumesAndFileModes interrupts a record job after one batch
// (through the library, as a killed run would leave it), runs the same
// command and checks that it says it resumes, from where, and how many
// items were done; then that every output file has the same mode.
func TestRecordResumesAndFileModes(t *testing.T) {
	model := synthModel(t)
	dir := t.TempDir()
	out := filepath.Join(dir, "counts.safetensors")
	const batchTokens = 600

	// The job valueexp record --lang en --batch-tokens 600 runs.
	d, err := sample.Load()
	require.NoError(t, err)
	langs := []cvoice.Language{cvoice.LangEnglish}
	units, tags, err := record.Units(d.Items(), langs, record.ModeText)
	require.NoError(t, err)
	m, err := engine.Load(model, engine.Options{Threads: 1})
	require.NoError(t, err)
	tok, err := tokenizer.Load(model)
	require.NoError(t, err)
	defer m.Close()
	partial := record.CheckpointPath(out)
	// interrupt leaves a checkpoint after two batches, as a killed run would.
	interrupt := func() int {
		t.Helper()
		require.NoError(t, os.RemoveAll(out))
		job := &record.Job{
			Model: m, Encode: func(s string) []int32 { return tok.Encode(s, tokenizer.EncodeOptions{AddSpecial: true}) },
			ModelName: filepath.Base(model), Fingerprint: record.Fingerprint(m.Weights),
			Units: units, Tags: tags, Langs: []string{"en"}, Mode: record.ModeText,
			BatchTokens: batchTokens, GenBatch: record.DefaultGenBatch, MaxNewTokens: record.DefaultMaxNewTokens,
			Out: out, MaxBatches: 2, Fresh: true,
		}
		res, err := job.Run(context.Background())
		require.True(t, errors.Is(err, record.ErrInterrupted), "%v", err)
		done := res.Counts.Manifest.Coverage.Items()
		require.Greater(t, done, 0)
		require.Less(t, done, len(units))
		st, err := os.Stat(partial)
		require.NoError(t, err)
		assert.Equal(t, os.FileMode(0o644), st.Mode().Perm(), "checkpoint mode")
		return done
	}
	args := []string{"record", "--model", model, "--lang", "en", "--batch-tokens", strconv.Itoa(batchTokens), "--out", out}

	done := interrupt()
	code, _, stderr := runCLI(t, "", append(args, "--fresh")...)
	require.Equal(t, 0, code, stderr)
	assert.Contains(t, stderr, "record: --fresh: ignoring checkpoint "+partial+" ("+strconv.Itoa(done)+" items counted")
	assert.NotContains(t, stderr, "resum")

	done = interrupt()
	code, _, stderr = runCLI(t, "", args...)
	require.Equal(t, 0, code, stderr)
	assert.Contains(t, stderr, "record: resuming from checkpoint "+partial)
	assert.Contains(t, stderr, strconv.Itoa(done)+" of "+strconv.Itoa(len(units))+" items of shard")
	assert.Contains(t, stderr, "resumed from "+partial+" after "+strconv.Itoa(done)+" items; counted the other "+strconv.Itoa(len(units)-done))
	_, err = os.Stat(partial)
	assert.True(t, os.IsNotExist(err), "checkpoint left behind")

	// Modes: record and merge write through a temporary file; the others
	// create theirs directly. All must match a file created the usual way
	// (0666 less the umask: 0644 under the usual 022), and record's is 0644.
	ref := filepath.Join(dir, "reference")
	f, err := os.Create(ref)
	require.NoError(t, err)
	f.Close()
	merged := filepath.Join(dir, "merged.safetensors")
	require.Equal(t, 0, code)
	code, _, stderr = runCLI(t, "", "merge", "--out", merged, out)
	require.Equal(t, 0, code, stderr)
	neurons := filepath.Join(dir, "neurons.json")
	code, _, stderr = runCLI(t, "", "identify", "--counts", out, "--out", neurons)
	require.Equal(t, 0, code, stderr)
	data := filepath.Join(dir, "data.jsonl")
	code, _, stderr = runCLI(t, "", "sample", "--out", data)
	require.Equal(t, 0, code, stderr)
	dump := filepath.Join(dir, "dump.safetensors")
	code, _, stderr = runCLI(t, "", "dump", "--model", model, "--tokens", "1,2", "--out", dump)
	require.Equal(t, 0, code, stderr)
	refSt, err := os.Stat(ref)
	require.NoError(t, err)
	for _, p := range []string{out, merged, neurons, data, dump, model} {
		st, err := os.Stat(p)
		require.NoError(t, err)
		assert.Equal(t, refSt.Mode().Perm(), st.Mode().Perm(), "mode of %s", filepath.Base(p))
	}
	for _, p := range []string{out, merged} {
		st, _ := os.Stat(p)
		assert.Equal(t, os.FileMode(0o644), st.Mode().Perm(), "mode of %s", filepath.Base(p))
	}
}
