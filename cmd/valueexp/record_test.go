package main

import (
	"bytes"
	"fmt"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/valueexploration/valueexp/engine"
	"github.com/valueexploration/valueexp/hooks"
	"github.com/valueexploration/valueexp/internal/shareddata"
	"github.com/valueexploration/valueexp/valueexp/record"
	"github.com/valueexploration/valueexp/valueexp/torchfile"
)

// runCLIEnv is runCLI with environment variables.
func runCLIEnv(t *testing.T, vars map[string]string, args ...string) (code int, stdout, stderr string) {
	t.Helper()
	var out, errb bytes.Buffer
	e := &env{stdout: &out, stderr: &errb, stdin: strings.NewReader(""), getenv: func(k string) string { return vars[k] }}
	code = run(e, args)
	return code, out.String(), errb.String()
}

func mustRun(t *testing.T, vars map[string]string, args ...string) string {
	t.Helper()
	code, stdout, stderr := runCLIEnv(t, vars, args...)
	if code != 0 {
		t.Fatalf("valueexp %s: exit %d\n%s", strings.Join(args, " "), code, stderr)
	}
	return stdout + stderr
}

// TestRecordShardsMergeIdentify runs the pipeline through the CLI on the
// embedded sample: a single run, the same job as three shards whose index
// comes from the Kubernetes and Slurm variables, a merge that must equal the
// single run byte for byte, and identify on the result.
func TestRecordShardsMergeIdentify(t *testing.T) {
	model := shareddata.Path(t, "refdata", "models", "llama-tiny", "llama-tiny.gguf")
	dir := t.TempDir()
	single := filepath.Join(dir, "single.safetensors")
	mustRun(t, nil, "record", "--model", model, "--lang", "en", "--threads", "2", "--out", single)

	shardEnv := []map[string]string{
		{record.EnvKubernetesIndex: "0"}, {record.EnvSlurmIndex: "1"}, {record.EnvKubernetesIndex: "2"},
	}
	var shards []string
	for i, vars := range shardEnv {
		out := filepath.Join(dir, fmt.Sprintf("shard%d.safetensors", i))
		log := mustRun(t, vars, "record", "--model", model, "--lang", "en", "--shards", "3", "--batch-tokens", "900", "--out", out)
		if !strings.Contains(log, "valueexp merge") {
			t.Errorf("a shard's log does not point to merge:\n%s", log)
		}
		shards = append(shards, out)
	}
	merged := filepath.Join(dir, "merged.safetensors")
	mustRun(t, nil, append([]string{"merge", "--out", merged}, shards...)...)
	a, _ := os.ReadFile(single)
	b, _ := os.ReadFile(merged)
	if !bytes.Equal(a, b) {
		t.Error("merged shards differ from the single run")
	}
	if code, _, stderr := runCLIEnv(t, nil, "merge", "--out", filepath.Join(dir, "x"), shards[0], shards[0]); code == 0 || !strings.Contains(stderr, "twice") {
		t.Errorf("merging a shard with itself: exit %d, %s", code, stderr)
	}

	if log := mustRun(t, nil, "record", "--model", model, "--lang", "en", "--out", single); !strings.Contains(log, "nothing to do") {
		t.Errorf("rerunning a finished job:\n%s", log)
	}
	if code, _, stderr := runCLIEnv(t, nil, "record", "--model", model, "--lang", "zh", "--out", single); code == 0 || !strings.Contains(stderr, "--fresh") {
		t.Errorf("another job onto an existing output: exit %d, %s", code, stderr)
	}

	neurons := filepath.Join(dir, "neurons.json")
	summary := mustRun(t, nil, "identify", "--counts", merged, "--random-control", "--out", neurons)
	if !strings.Contains(summary, "per-layer total") || !strings.Contains(summary, "诚信/en") {
		t.Errorf("identify summary:\n%s", summary)
	}
	f, err := hooks.LoadNeuronSets(neurons)
	if err != nil {
		t.Fatal(err)
	}
	m, err := engine.Load(model, engine.Options{Threads: 1})
	if err != nil {
		t.Fatal(err)
	}
	defer m.Close()
	if err := f.Validate(m.Shape()); err != nil {
		t.Errorf("neuron sets do not fit the model: %v", err)
	}
	if len(f.NeuronSets) != 48 {
		t.Errorf("%d sets, want 12 values + 3 draws × 12 random controls", len(f.NeuronSets))
	}
	if _, ok := f.Find("random:诚信/en"); !ok {
		t.Error("no random control named random:诚信/en")
	}
}

// TestIdentifyCLIReproducesAuthorsMasks is the acceptance test for
// identify: "--pt SUPPORT --pt CONFLICT" with the authors' settings and
// question normalisation writes, for every value and both settings, neuron
// sets equal to the released masks on both sides and all 32 layers.
func TestIdentifyCLIReproducesAuthorsMasks(t *testing.T) {
	counts := shareddata.Path(t, "cvoice", "authors-llama-counts")
	masks := shareddata.Path(t, "cvoice", "authors-llama-masks")
	dir := t.TempDir()
	for _, value := range []string{"富强", "民主", "文明", "和谐", "自由", "平等", "公正", "法治", "爱国", "敬业", "诚信", "友善"} {
		for _, view := range []struct{ name, rate string }{{"decision", "0.95"}, {"semantic", "0.50"}} {
			out := filepath.Join(dir, value+"-"+view.name+".json")
			mustRun(t, nil, "identify", "--legacy-question-normalisation",
				"--pt", filepath.Join(counts, value+"-support.pt"), "--pt", filepath.Join(counts, value+"-conflict.pt"),
				"--top-rate", "0.01", "--filter-rate", view.rate, "--bar-ratio", view.rate, "--out", out)
			f, err := hooks.LoadNeuronSets(out)
			if err != nil {
				t.Fatal(err)
			}
			mv, err := torchfile.Load(filepath.Join(masks, fmt.Sprintf("activation_mask_%s_%s_0.01", value, view.name)))
			if err != nil {
				t.Fatal(err)
			}
			sides := mv.([]any)
			for side, tag := range []string{value + "-support", value + "-conflict"} {
				set, ok := f.Find(tag)
				if !ok {
					t.Fatalf("%s: no set %q", out, tag)
				}
				got := set.Indices()
				for l, x := range sides[side].([]any) {
					want, err := x.(*torchfile.Tensor).Int32s()
					if err != nil {
						t.Fatal(err)
					}
					if len(want) != len(got[l]) || !slices.Equal(want, got[l]) {
						t.Errorf("%s %s layer %d: got %d neurons, want %d", view.name, tag, l, len(got[l]), len(want))
					}
				}
			}
		}
	}
}

func TestRecordIdentifyUsageErrors(t *testing.T) {
	for _, args := range [][]string{
		{"record", "--out", "x"},
		{"record", "--model", "m", "--out", "x", "--shard", "3/3"},
		{"record", "--model", "m", "--out", "x", "--shard", "auto/3"},
		{"record", "--model", "m", "--out", "x", "--lang", "fr"},
		{"record", "--model", "m", "--out", "x", "--count", "tokens"},
		{"record", "--model", "m", "--out", "x", "--shard", "0/2", "--shards", "2"},
		{"merge", "--out", "x"},
		{"identify", "--out", "x"},
		{"identify", "--counts", "c", "--pt", "p.pt", "--out", "x"},
		{"identify", "--counts", "c", "--method", "entropy", "--out", "x"},
		{"identify", "--counts", "c", "--per-language", "--pooled", "--out", "x"},
		{"identify", "--counts", "c", "--pos", "a", "--out", "x"},
	} {
		if code, _, stderr := runCLIEnv(t, nil, args...); code != 2 {
			t.Errorf("%q: exit %d, want 2 (usage)\n%s", args, code, stderr)
		}
	}
}

func TestProgressLine(t *testing.T) {
	got := progressLine(record.Progress{Items: 30, ItemsTotal: 100, Resumed: 10, Tokens: 5000, Elapsed: 10 * time.Second})
	// 20 items in 10 s here, 70 to go: 35 s; 5000 tokens / 10 s.
	want := "[#######.................] 30/100 items  30.0%  500 tok/s  ETA 35s"
	if got != want {
		t.Errorf("got  %q\nwant %q", got, want)
	}
	var buf bytes.Buffer
	now := time.Unix(0, 0)
	p := newRecordProgress(&buf, false)
	p.now = func() time.Time { return now }
	p.update(record.Progress{Items: 1, ItemsTotal: 3})
	now = now.Add(time.Second)
	p.update(record.Progress{Items: 2, ItemsTotal: 3}) // within 10 s: not printed
	now = now.Add(time.Second)
	p.update(record.Progress{Items: 3, ItemsTotal: 3}) // done: always printed
	if n := strings.Count(buf.String(), "\n"); n != 2 || strings.Contains(buf.String(), "\r") {
		t.Errorf("plain progress printed %d lines:\n%q", n, buf.String())
	}
}
