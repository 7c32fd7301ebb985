package main

import (
	"bytes"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/valueexploration/valueexp/internal/outlock"
)

// TestHugeFlagValuesRefused gives flags numbers that would make a command
// allocate without bound (worker goroutines, token lists, activations) and
// checks each is refused as a usage error before any work, with no output
// file left behind.
func TestHugeFlagValuesRefused(t *testing.T) {
	model := synthModel(t) // context length 2048
	tmp := t.TempDir()
	longTokens := strings.TrimSuffix(strings.Repeat("5,", 2049), ",")
	out := filepath.Join(tmp, "d.safetensors")
	checkMistakes(t, []mistake{
		{name: "dump threads", args: []string{"dump", "--model", model, "--tokens", "1,2", "--threads", strconv.Itoa(maxThreads + 1), "--out", out},
			code: 2, stderr: []string{"--threads", "at most 1024"}},
		{name: "dump threads huge", args: []string{"dump", "--model", model, "--tokens", "1,2", "--threads", "1000000000000", "--out", out},
			code: 2, stderr: []string{"--threads"}},
		{name: "dump beyond context", args: []string{"dump", "--model", model, "--tokens", longTokens, "--out", out},
			code: 2, stderr: []string{"2049 tokens", "context length 2048"}},
		{name: "bench threads", args: []string{"bench", "--model", model, "-p", "4", "-n", "0", "-r", "1", "-t", "1,2000"},
			code: 2, stderr: []string{"--threads"}},
		{name: "bench -p beyond context", args: []string{"bench", "--model", model, "-p", "4096", "-n", "0", "-r", "1", "-t", "1"},
			code: 2, stderr: []string{"-p 4096", "context length 2048"}},
		{name: "bench -p huge", args: []string{"bench", "--model", model, "-p", "1000000000000", "-n", "0", "-r", "1"},
			code: 2, stderr: []string{"context length"}},
		{name: "bench -n huge", args: []string{"bench", "--model", model, "-p", "0", "-n", "1000000000000", "-r", "1"},
			code: 2, stderr: []string{"-n", "context length"}},
		{name: "synth threads", args: []string{"synth", "--shape", "tiny", "--layers", "1", "--threads", "5000", "--out", filepath.Join(tmp, "s.gguf")},
			code: 2, stderr: []string{"--threads"}},
	})
	for _, f := range []string{out, filepath.Join(tmp, "s.gguf")} {
		_, err := os.Stat(f)
		assert.True(t, os.IsNotExist(err), "%s exists after a refused run", f)
	}
}

// TestLiveOutputNotClobbered holds the lock of an output as a second live
// run would (outlock, this process's pid) and runs dump, merge and import
// on the same --out: each must be refused naming the lock, and leave the
// existing file as it was.
func TestLiveOutputNotClobbered(t *testing.T) {
	model := synthModel(t)
	dir := t.TempDir()
	for _, c := range []struct {
		name string
		args func(out string) []string
	}{
		{"dump", func(out string) []string {
			return []string{"dump", "--model", model, "--tokens", "1,2", "--out", out}
		}},
		{"merge", func(out string) []string {
			return []string{"merge", "--out", out, filepath.Join(dir, "shard0.safetensors")}
		}},
		{"import", func(out string) []string {
			return []string{"import", "--xlsx", filepath.Join(dir, "a.xlsx"), "--out", out}
		}},
	} {
		t.Run(c.name, func(t *testing.T) {
			out := filepath.Join(dir, c.name+".out")
			require.NoError(t, os.WriteFile(out, []byte("the other run's result"), 0o644))
			lock, _, err := outlock.Acquire(out)
			require.NoError(t, err)
			defer lock.Release()
			code, _, stderr := runCLI(t, "", c.args(out)...)
			assert.NotEqual(t, 0, code)
			assert.Contains(t, stderr, "being written by process "+strconv.Itoa(os.Getpid()))
			b, err := os.ReadFile(out)
			require.NoError(t, err)
			assert.Equal(t, "the other run's result", string(b))
		})
	}
}

// TestScaleFactorMustBeFinite: --scale NAME=NaN (or Inf) parsed as a float
// and made every activation NaN; generate then printed <unk> tokens.
func TestScaleFactorMustBeFinite(t *testing.T) {
	model := synthModel(t)
	sets := writeFile(t, "neurons.json", tinyNeuronSets)
	for _, f := range []string{"NaN", "Inf", "-inf"} {
		code, _, stderr := runCLI(t, "", "dump", "--model", model, "--tokens", "1,2", "--neurons", sets, "--scale", "富强/zh="+f, "--out", filepath.Join(t.TempDir(), "d.safetensors"))
		assert.Equal(t, 2, code, stderr)
		assert.Contains(t, stderr, "not finite")
	}
}

// TestOutIsNotAnInput: an --out naming the model, the data or the workbook
// replaced that input with the output (dump --out model.gguf turned the
// model into a safetensors dump). It must be refused and the input kept.
func TestOutIsNotAnInput(t *testing.T) {
	model := synthModel(t)
	data := filepath.Join(t.TempDir(), "data.jsonl")
	code, _, stderr := runCLI(t, "", "sample", "--out", data)
	require.Equal(t, 0, code, stderr)
	xlsxFile := writeFile(t, "book.xlsx", "not really a workbook")
	for _, c := range []struct {
		name  string
		input string
		args  []string
	}{
		{"dump over the model", model, []string{"dump", "--model", model, "--tokens", "1,2", "--out", model}},
		{"record over the data", data, []string{"record", "--model", model, "--data", data, "--out", data}},
		{"record over the model", model, []string{"record", "--model", model, "--out", model}},
		{"bench profile over the model", model, []string{"bench", "--model", model, "-p", "4", "-n", "0", "-r", "1", "--cpuprofile", model}},
		{"import over the workbook", xlsxFile, []string{"import", "--xlsx", xlsxFile, "--out", xlsxFile}},
	} {
		t.Run(c.name, func(t *testing.T) {
			before, err := os.ReadFile(c.input)
			require.NoError(t, err)
			code, _, stderr := runCLI(t, "", c.args...)
			assert.Equal(t, 2, code, stderr)
			assert.Contains(t, stderr, "would destroy that input")
			after, err := os.ReadFile(c.input)
			require.NoError(t, err)
			assert.True(t, bytes.Equal(before, after), "%s was changed", c.input)
		})
	}
}
