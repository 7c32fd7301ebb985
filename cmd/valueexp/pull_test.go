package main

import (
	"bytes"
	"encoding/json"
	"os"
	"path/filepath"
	"reflect"
	"strings"
	"testing"
	"time"

	"github.com/valueexploration/valueexp/internal/testmodel"
	"github.com/valueexploration/valueexp/weights/hub"
	"github.com/valueexploration/valueexp/weights/hub/hubtest"
)

// runHubCLI runs the command in-process with the given environment.
func runHubCLI(t *testing.T, vars map[string]string, args ...string) (code int, stdout, stderr string) {
	t.Helper()
	var out, errb bytes.Buffer
	e := &env{stdout: &out, stderr: &errb, stdin: strings.NewReader(""), getenv: func(k string) string { return vars[k] }}
	code = run(e, args)
	return code, out.String(), errb.String()
}

func readFile(t *testing.T, p string) []byte {
	t.Helper()
	b, err := os.ReadFile(p)
	if err != nil {
		t.Fatal(err)
	}
	return b
}

// inspectJSON runs inspect --json on a model and returns the report without
// its path, which differs between copies of the same model.
func inspectJSON(t *testing.T, vars map[string]string, model string) map[string]any {
	t.Helper()
	code, out, errs := runHubCLI(t, vars, "inspect", "--json", "--model", model)
	if code != 0 {
		t.Fatalf("inspect --model %s: exit %d: %s", model, code, errs)
	}
	var r map[string]any
	if err := json.Unmarshal([]byte(out), &r); err != nil {
		t.Fatal(err)
	}
	delete(r, "path")
	return r
}

// TestPullThenInspect pulls a tiny model from a fake Hub through HF_ENDPOINT
// and HF_HOME, then inspects it as hf:ORG/NAME: the report must equal the
// one of the folder the Hub served.
func TestPullThenInspect(t *testing.T) {
	ggufPath, hfDir := testmodel.Write(t, testmodel.Spec{Arch: "qwen2", Layers: 2, Hidden: 16, FFN: 32, Heads: 2, KV: 1, HeadDim: 8, Vocab: 32, Seed: 3})
	srv := hubtest.New(
		hubtest.Repo{ID: "org/tiny", Files: []hubtest.File{
			{Name: "README.md", Data: []byte("# tiny\n")},
			{Name: "config.json", Data: readFile(t, filepath.Join(hfDir, "config.json"))},
			{Name: "model.safetensors", Data: readFile(t, filepath.Join(hfDir, "model.safetensors")), LFS: true},
		}},
		hubtest.Repo{ID: "org/tiny-GGUF", Files: []hubtest.File{
			{Name: "tiny-F32.gguf", Data: readFile(t, ggufPath), LFS: true},
		}},
	)
	defer srv.Close()
	home := t.TempDir()
	vars := map[string]string{"HF_ENDPOINT": srv.URL, "HF_HOME": home}

	code, out, errs := runHubCLI(t, vars, "pull", "org/tiny")
	if code != 0 {
		t.Fatalf("pull: exit %d: %s", code, errs)
	}
	snaps, _ := filepath.Glob(filepath.Join(home, "hub", "models--org--tiny", "snapshots", "*"))
	if len(snaps) != 1 || !strings.Contains(out, snaps[0]+"\n") || !strings.Contains(out, "--model hf:org/tiny") {
		t.Errorf("pull output %q does not give the snapshot %v and the hf: reference", out, snaps)
	}
	if errs != "" {
		t.Errorf("progress drawn on a non-terminal: %q", errs)
	}
	if got, want := inspectJSON(t, vars, "hf:org/tiny"), inspectJSON(t, vars, hfDir); !reflect.DeepEqual(got, want) {
		t.Errorf("inspect hf:org/tiny = %v\nwant (the served folder) %v", got, want)
	}
	// --model=VALUE and a pinned commit resolve too.
	commit := filepath.Base(snaps[0])
	if code, _, errs := runHubCLI(t, vars, "inspect", "--model=hf:org/tiny@"+commit); code != 0 {
		t.Errorf("inspect --model=hf:org/tiny@%s: exit %d: %s", commit, code, errs)
	}

	// A GGUF repository: pull one file, hf: resolves to it.
	code, out, errs = runHubCLI(t, vars, "pull", "org/tiny-GGUF")
	if code != 1 || !strings.Contains(errs, "valueexp pull org/tiny-GGUF --gguf tiny-F32.gguf") {
		t.Errorf("pull of a GGUF repository without --gguf: exit %d, %q", code, errs)
	}
	if code, out, errs = runHubCLI(t, vars, "pull", "org/tiny-GGUF", "--gguf", "tiny-F32.gguf"); code != 0 || !strings.Contains(out, "tiny-F32.gguf\n") {
		t.Fatalf("pull --gguf: exit %d: %s %s", code, out, errs)
	}
	if got, want := inspectJSON(t, vars, "hf:org/tiny-GGUF"), inspectJSON(t, vars, ggufPath); !reflect.DeepEqual(got, want) {
		t.Errorf("inspect hf:org/tiny-GGUF = %v\nwant %v", got, want)
	}

	// Not pulled: the error says what to run.
	code, _, errs = runHubCLI(t, vars, "inspect", "--model", "hf:org/other@v2")
	if code != 1 || !strings.Contains(errs, "valueexp pull org/other@v2") {
		t.Errorf("inspect of a model not pulled: exit %d, %q", code, errs)
	}
}

func TestPullUsage(t *testing.T) {
	vars := map[string]string{"HF_HOME": t.TempDir(), "HF_ENDPOINT": "http://127.0.0.1:9"}
	for _, args := range [][]string{
		{"pull"},
		{"pull", "a/b", "c/d"},
		{"pull", "../../etc"},
		{"pull", "org/name@../x"},
	} {
		if code, _, errs := runHubCLI(t, vars, args...); code != 2 || errs == "" {
			t.Errorf("%q: exit %d, stderr %q; want a usage error", args, code, errs)
		}
	}
}

func TestWithModelRefs(t *testing.T) {
	home := t.TempDir()
	snap := filepath.Join(home, "hub", "models--org--m", "snapshots", "0123456789abcdef0123456789abcdef01234567")
	if err := os.MkdirAll(snap, 0o755); err != nil {
		t.Fatal(err)
	}
	os.WriteFile(filepath.Join(snap, "config.json"), []byte("{}"), 0o644)
	os.MkdirAll(filepath.Join(home, "hub", "models--org--m", "refs"), 0o755)
	os.WriteFile(filepath.Join(home, "hub", "models--org--m", "refs", "main"), []byte("0123456789abcdef0123456789abcdef01234567"), 0o644)
	e := &env{getenv: func(k string) string { return map[string]string{"HF_HOME": home}[k] }}
	for _, tc := range []struct{ in, want []string }{
		{[]string{"--model", "hf:org/m", "--json"}, []string{"--model", snap, "--json"}},
		{[]string{"-model", "hf:org/m"}, []string{"-model", snap}},
		{[]string{"--model=hf:org/m"}, []string{"--model=" + snap}},
		{[]string{"--model", "local/dir", "--out", "hf:org/m"}, []string{"--model", "local/dir", "--out", "hf:org/m"}},
		{[]string{"--", "--model", "hf:org/m"}, []string{"--", "--model", "hf:org/m"}},
		{[]string{"--model"}, []string{"--model"}},
	} {
		var got []string
		err := withModelRefs(e, func(_ *env, a []string) error { got = a; return nil }, tc.in)
		if err != nil || !reflect.DeepEqual(got, tc.want) {
			t.Errorf("%q -> %q, %v; want %q", tc.in, got, err, tc.want)
		}
	}
}

func TestBarLine(t *testing.T) {
	// Half of 100 MiB on disk, 25 MiB of it received in 5 s (the rest was
	// resumed): 5 MiB/s, and 50 MiB left take 10 s.
	p := hub.Progress{File: "model-00001-of-00002.safetensors", Done: 50 << 20, Total: 100 << 20,
		Transferred: 25 << 20, Files: 1, FilesTotal: 3}
	got := barLine("org/m", p, 5*time.Second)
	want := "org/m [############............] 50.0 MiB/100.0 MiB  5.0 MiB/s  ETA 10s  1/3 ...0001-of-00002.safetensors"
	if got != want {
		t.Errorf("got  %q\nwant %q", got, want)
	}
	if got := barLine("x", hub.Progress{Total: 10}, 0); !strings.Contains(got, "ETA ?") {
		t.Errorf("no rate yet: %q", got)
	}
}
