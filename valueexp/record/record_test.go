package record

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"

	"github.com/valueexploration/valueexp/engine"
	"github.com/valueexploration/valueexp/hooks"
)

// runJob runs j and fails the test on error.
func runJob(t *testing.T, j *Job) *Result {
	t.Helper()
	res, err := j.Run(context.Background())
	if err != nil {
		t.Fatal(err)
	}
	return res
}

func readFile(t *testing.T, path string) []byte {
	t.Helper()
	b, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	return b
}

// TestCountsMatchBruteForce checks the packed, early-stopped counting
// against a plain reference: each text run alone through the full model,
// its hook_act values copied out and compared with zero one by one.
func TestCountsMatchBruteForce(t *testing.T) {
	m := loadModel(t, writeRandomLlama(t, 1))
	out := filepath.Join(t.TempDir(), "counts.safetensors")
	j := testJob(t, m, out, 9)
	res := runJob(t, j)

	L, D, K := m.Config.Layers, m.Config.FFNSize, len(j.Tags)
	wantCount := make([]uint64, K*L*D)
	wantTokens := make([]uint64, K*L)
	items := make([]int64, K)
	var rows [][]float32 // per layer, this text's activations
	obs := hooks.ObserverFunc(func(p hooks.Point, t hooks.Tensor, _ *hooks.Rows) {
		rows[p.Layer] = append([]float32(nil), t.Data[:t.Rows*t.Cols]...)
	})
	h := hooks.New(L)
	if err := h.Observe("blocks.*.mlp.hook_act", obs); err != nil {
		t.Fatal(err)
	}
	for _, u := range j.Units {
		ids := byteEncode(u.Text)
		if len(ids) > m.Config.ContextLength {
			ids = ids[:m.Config.ContextLength]
		}
		rows = make([][]float32, L)
		if _, err := m.Forward(context.Background(), []engine.Input{{Seq: m.NewSequence(), Tokens: ids, Tag: u.Tag, Logits: engine.LastLogits}}, engine.RunOptions{Hooks: h}); err != nil {
			t.Fatal(err)
		}
		for l := range L {
			for r := range len(ids) {
				for d := range D {
					if rows[l][r*D+d] > 0 {
						wantCount[(int(u.Tag)*L+l)*D+d]++
					}
				}
				wantTokens[int(u.Tag)*L+l]++
			}
		}
		items[u.Tag]++
	}
	got := res.Counts
	if !slices.Equal(got.Prob.Count, wantCount) {
		t.Error("counts differ from the one-text-at-a-time reference")
	}
	if !slices.Equal(got.Prob.Tokens, wantTokens) {
		t.Errorf("token totals differ: got %v, want %v", got.Prob.Tokens, wantTokens)
	}
	if !slices.Equal(got.Manifest.ItemsPerTag, items) {
		t.Errorf("items per tag: got %v, want %v", got.Manifest.ItemsPerTag, items)
	}
	if got.Manifest.Truncated == 0 {
		t.Error("no text was truncated, so the context-length cut went untested; use longer texts")
	}
	// The file on disk is what was returned, and hooks can read it too.
	back, err := Load(out)
	if err != nil {
		t.Fatal(err)
	}
	if !slices.Equal(back.Prob.Count, wantCount) || back.Manifest.Partial || !back.Manifest.Complete {
		t.Errorf("reloaded file differs or is not marked complete: %+v", back.Manifest)
	}
	if _, err := hooks.LoadActProb(out); err != nil {
		t.Errorf("hooks.LoadActProb cannot read a counts file: %v", err)
	}
	if _, err := os.Stat(CheckpointPath(out)); !errors.Is(err, os.ErrNotExist) {
		t.Errorf("checkpoint left behind after a finished run: %v", err)
	}
}

// TestShardsMergeEqualsSingleRun is the acceptance test: three
// shards, counted with another batch size, merge into exactly the file a
// single run writes.
func TestShardsMergeEqualsSingleRun(t *testing.T) {
	m := loadModel(t, writeRandomLlama(t, 2))
	dir := t.TempDir()
	single := testJob(t, m, filepath.Join(dir, "single.safetensors"), 8)
	runJob(t, single)

	var parts []*Counts
	for i := range 3 {
		j := testJob(t, m, filepath.Join(dir, "shard"+string(rune('0'+i))+".safetensors"), 8)
		j.Shard = Shard{Index: i, Count: 3}
		j.BatchTokens = 700
		res := runJob(t, j)
		if res.Counts.Manifest.Complete {
			t.Errorf("shard %d claims to cover the whole job", i)
		}
		parts = append(parts, res.Counts)
	}
	// Any order merges the same.
	merged, err := Merge(parts[2], parts[0], parts[1])
	if err != nil {
		t.Fatal(err)
	}
	mergedPath := filepath.Join(dir, "merged.safetensors")
	if err := merged.Save(mergedPath); err != nil {
		t.Fatal(err)
	}
	if !bytes.Equal(readFile(t, mergedPath), readFile(t, single.Out)) {
		t.Errorf("merged shards differ from the single run\nmerged: %+v\nsingle: %+v", merged.Manifest, mustLoad(t, single.Out).Manifest)
	}

	// Two shards only: a valid but incomplete merge that can take the third later.
	two, err := Merge(parts[0], parts[1])
	if err != nil {
		t.Fatal(err)
	}
	if two.Manifest.Complete || two.Manifest.Shard != (Shard{}) {
		t.Errorf("a merge of 2 of 3 shards: complete=%v shard=%v", two.Manifest.Complete, two.Manifest.Shard)
	}
	all, err := Merge(two, parts[2])
	if err != nil {
		t.Fatal(err)
	}
	if !slices.Equal(all.Prob.Count, merged.Prob.Count) || !all.Manifest.Complete {
		t.Error("merging a partial merge with the last shard differs from merging all three")
	}
}

func mustLoad(t *testing.T, path string) *Counts {
	t.Helper()
	c, err := Load(path)
	if err != nil {
		t.Fatal(err)
	}
	return c
}

// TestResumeEqualsSingleRun kills a run after two batches (and another by
// closing Interrupt), resumes it, and requires the very same file.
func TestResumeEqualsSingleRun(t *testing.T) {
	m := loadModel(t, writeRandomLlama(t, 3))
	dir := t.TempDir()
	single := testJob(t, m, filepath.Join(dir, "single.safetensors"), 8)
	runJob(t, single)
	want := readFile(t, single.Out)

	t.Run("MaxBatches", func(t *testing.T) {
		out := filepath.Join(dir, "resumed.safetensors")
		j := testJob(t, m, out, 8)
		j.MaxBatches = 2
		_, err := j.Run(context.Background())
		if !errors.Is(err, ErrInterrupted) {
			t.Fatalf("interrupted run returned %v, want ErrInterrupted", err)
		}
		if !strings.Contains(err.Error(), "resume") {
			t.Errorf("interruption message does not say how to resume: %v", err)
		}
		cp := mustLoad(t, CheckpointPath(out))
		if !cp.Manifest.Partial || cp.Manifest.Coverage.Items() == 0 {
			t.Fatalf("checkpoint manifest: %+v", cp.Manifest)
		}
		if _, err := os.Stat(out); !errors.Is(err, os.ErrNotExist) {
			t.Fatal("an interrupted run wrote the final output")
		}
		// Resume twice more with a stop each time, then finish.
		for range 2 {
			j := testJob(t, m, out, 8)
			j.MaxBatches = 1
			if _, err := j.Run(context.Background()); !errors.Is(err, ErrInterrupted) {
				t.Fatalf("second interruption: %v", err)
			}
		}
		j = testJob(t, m, out, 8)
		res := runJob(t, j)
		if res.Resumed == 0 {
			t.Error("the run did not resume from the checkpoint")
		}
		if !bytes.Equal(readFile(t, out), want) {
			t.Error("resumed run differs from the uninterrupted run")
		}
		again := runJob(t, testJob(t, m, out, 8))
		if !again.AlreadyDone {
			t.Error("a rerun of a finished job counted again instead of reporting it done")
		}
	})
	t.Run("Interrupt", func(t *testing.T) {
		out := filepath.Join(dir, "signalled.safetensors")
		j := testJob(t, m, out, 8)
		stop := make(chan struct{})
		close(stop)
		j.Interrupt = stop
		if _, err := j.Run(context.Background()); !errors.Is(err, ErrInterrupted) {
			t.Fatalf("got %v, want ErrInterrupted", err)
		}
		runJob(t, testJob(t, m, out, 8))
		if !bytes.Equal(readFile(t, out), want) {
			t.Error("run resumed after Interrupt differs from the uninterrupted run")
		}
	})
	t.Run("CheckpointEvery", func(t *testing.T) {
		out := filepath.Join(dir, "periodic.safetensors")
		j := testJob(t, m, out, 8)
		j.CheckpointEvery = 1
		calls := 0
		j.Progress = func(p Progress) {
			calls++
			if p.Items < p.ItemsTotal {
				if _, err := os.Stat(CheckpointPath(out)); calls > 1 && err != nil {
					t.Errorf("no checkpoint after batch %d: %v", calls-1, err)
				}
			}
		}
		runJob(t, j)
		if calls < 3 || !bytes.Equal(readFile(t, out), want) {
			t.Errorf("%d progress calls; output equal: %v", calls, bytes.Equal(readFile(t, out), want))
		}
	})
}

// TestResumeRefusesOtherJobs checks that a checkpoint is never continued by
// a run with other data, another shard or another model, and that --fresh
// starts over.
func TestResumeRefusesOtherJobs(t *testing.T) {
	m := loadModel(t, writeRandomLlama(t, 4))
	out := filepath.Join(t.TempDir(), "c.safetensors")
	j := testJob(t, m, out, 8)
	j.MaxBatches = 1
	if _, err := j.Run(context.Background()); !errors.Is(err, ErrInterrupted) {
		t.Fatal(err)
	}
	for _, tc := range []struct {
		name   string
		change func(*Job)
		want   string
	}{
		{"other data", func(j *Job) { j.Units = j.Units[1:] }, "item count"},
		{"other text", func(j *Job) { j.Units[0].Text += "!" }, "data digest"},
		{"other shard", func(j *Job) { j.Shard = Shard{Index: 0, Count: 2} }, "shard"},
		{"other model", func(j *Job) { j.Fingerprint = "feed" }, "fingerprint"},
		{"other mode", func(j *Job) { j.Mode = ModeGenerated }, "mode"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			j := testJob(t, m, out, 8)
			j.Units = slices.Clone(j.Units)
			tc.change(j)
			_, err := j.Run(context.Background())
			if err == nil || !strings.Contains(err.Error(), tc.want) || !strings.Contains(err.Error(), "--fresh") {
				t.Errorf("got %v, want an error mentioning %q and --fresh", err, tc.want)
			}
		})
	}
	j = testJob(t, m, out, 8)
	j.Units = j.Units[1:]
	j.Fresh = true
	if res := runJob(t, j); res.Resumed != 0 {
		t.Errorf("--fresh resumed %d items", res.Resumed)
	}
}

// TestMergeRefusesMismatches covers the merge checks.
func TestMergeRefusesMismatches(t *testing.T) {
	m := loadModel(t, writeRandomLlama(t, 5))
	dir := t.TempDir()
	shard := func(name string, i, n int, change func(*Job)) *Counts {
		j := testJob(t, m, filepath.Join(dir, name), 7)
		j.Shard = Shard{Index: i, Count: n}
		if change != nil {
			change(j)
		}
		res, err := j.Run(context.Background())
		if err != nil && !errors.Is(err, ErrInterrupted) {
			t.Fatal(err)
		}
		if errors.Is(err, ErrInterrupted) {
			return mustLoad(t, CheckpointPath(j.Out))
		}
		return res.Counts
	}
	a := shard("a", 0, 2, nil)
	b := shard("b", 1, 2, nil)
	overlapping := shard("c", 0, 3, nil)
	otherData := shard("d", 1, 2, func(j *Job) { j.Units = j.Units[:len(j.Units)-1] })
	unfinished := shard("e", 1, 2, func(j *Job) { j.MaxBatches = 1 })
	for _, tc := range []struct {
		name  string
		parts []*Counts
		want  string
	}{
		{"same shard twice", []*Counts{a, a}, "counted twice"},
		{"overlapping shards", []*Counts{a, overlapping}, "overlap"},
		{"other data", []*Counts{a, otherData}, "item count"},
		{"checkpoint", []*Counts{a, unfinished}, "unfinished"},
		{"nothing", nil, "no inputs"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			_, err := Merge(tc.parts...)
			if err == nil || !strings.Contains(err.Error(), tc.want) {
				t.Errorf("got %v, want an error mentioning %q", err, tc.want)
			}
		})
	}
	if _, err := Merge(a, b); err != nil {
		t.Errorf("disjoint shards: %v", err)
	}
}

func TestParseShard(t *testing.T) {
	env := func(kv map[string]string) func(string) string { return func(k string) string { return kv[k] } }
	for _, tc := range []struct {
		in      string
		env     map[string]string
		want    Shard
		wantErr string
	}{
		{"", nil, Whole, ""},
		{"0/1", nil, Whole, ""},
		{"2/3", nil, Shard{2, 3}, ""},
		{"auto/4", map[string]string{EnvKubernetesIndex: "3"}, Shard{3, 4}, ""},
		{"auto/4", map[string]string{EnvSlurmIndex: "1"}, Shard{1, 4}, ""},
		{"auto/4", map[string]string{EnvKubernetesIndex: "0", EnvSlurmIndex: "2"}, Shard{0, 4}, ""},
		{"auto/4", nil, Shard{}, "neither"},
		{"auto/4", map[string]string{EnvSlurmIndex: "4"}, Shard{}, "SLURM_ARRAY_TASK_ID"},
		{"3/3", nil, Shard{}, "outside"},
		{"-1/3", nil, Shard{}, "outside"},
		{"1/0", nil, Shard{}, "positive"},
		{"1", nil, Shard{}, "i/n"},
		{"x/2", nil, Shard{}, "not an integer"},
	} {
		got, err := ParseShard(tc.in, env(tc.env))
		if tc.wantErr != "" {
			if err == nil || !strings.Contains(err.Error(), tc.wantErr) {
				t.Errorf("ParseShard(%q): got %v, %v; want error with %q", tc.in, got, err, tc.wantErr)
			}
			continue
		}
		if err != nil || got != tc.want {
			t.Errorf("ParseShard(%q) = %v, %v; want %v", tc.in, got, err, tc.want)
		}
	}
}

// TestShardsPartitionItems checks Size and Item against a plain loop.
func TestShardsPartitionItems(t *testing.T) {
	for total := range 12 {
		for n := 1; n <= 5; n++ {
			seen := make([]int, total)
			for i := range n {
				s := Shard{i, n}
				for k := range s.Size(total) {
					seen[s.Item(k)]++
				}
			}
			for i, c := range seen {
				if c != 1 {
					t.Errorf("total %d, %d shards: item %d taken %d times", total, n, i, c)
				}
			}
		}
	}
}

// TestMergeComparesFingerprintNotName is issue 14 case 5: shards of the
// same weights recorded under other file names (another mount, a Hugging
// Face snapshot folder) merge; shards of other weights under the same name
// do not.
func TestMergeComparesFingerprintNotName(t *testing.T) {
	m := loadModel(t, writeRandomLlama(t, 5))
	dir := t.TempDir()
	shard := func(i int, name, fingerprint string) *Counts {
		j := testJob(t, m, filepath.Join(dir, fmt.Sprintf("%d-%s.safetensors", i, fingerprint)), 7)
		j.Shard = Shard{Index: i, Count: 2}
		j.ModelName = name
		if fingerprint != "" {
			j.Fingerprint = fingerprint
		}
		return runJob(t, j).Counts
	}
	a := shard(0, "model.gguf", "")
	b := shard(1, "snapshots/3f2a/model-00001-of-00001.gguf", "")
	merged, err := Merge(a, b)
	if err != nil {
		t.Fatalf("same weights under another name: %v", err)
	}
	if !merged.Manifest.Complete {
		t.Error("the merge of both shards is not complete")
	}
	other := shard(1, "model.gguf", "another-checkpoint")
	if _, err := Merge(a, other); err == nil || !strings.Contains(err.Error(), "fingerprint") {
		t.Errorf("other weights under the same name: got %v, want a fingerprint mismatch", err)
	}
}
