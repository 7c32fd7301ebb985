package main

import (
	"bufio"
	"bytes"
	"encoding/json"
	"fmt"
	"image/png"
	"math"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/valueexploration/valueexp/internal/shareddata"
	"github.com/valueexploration/valueexp/weights/safetensors"
)

// runCLI runs the command in-process and returns its exit code and output.
func runCLI(t *testing.T, stdin string, args ...string) (code int, stdout, stderr string) {
	t.Helper()
	var out, errb bytes.Buffer
	e := &env{stdout: &out, stderr: &errb, stdin: strings.NewReader(stdin), getenv: func(string) string { return "" }}
	code = run(e, args)
	return code, out.String(), errb.String()
}

func readSafetensors(t *testing.T, path string) *safetensors.File {
	t.Helper()
	b, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	f, err := safetensors.Parse(b)
	if err != nil {
		t.Fatal(err)
	}
	return f
}

func tensorF32(t *testing.T, f *safetensors.File, name string) []float32 {
	t.Helper()
	ti, ok := f.Tensor(name)
	if !ok {
		t.Fatalf("tensor %q missing", name)
	}
	v, err := ti.Float32s()
	if err != nil {
		t.Fatal(err)
	}
	return v
}

func relErr(got, want []float32) float64 {
	var d, r float64
	for i := range want {
		d = math.Max(d, math.Abs(float64(got[i]-want[i])))
		r = math.Max(r, math.Abs(float64(want[i])))
	}
	return d / r
}

// TestDumpMatchesReference runs `valueexp dump` on llama-tiny with the
// reference sequence and compares every tensor it writes with llama.cpp's.
func TestDumpMatchesReference(t *testing.T) {
	model := shareddata.Path(t, "refdata", "models", "llama-tiny", "llama-tiny.gguf")
	ref := readSafetensors(t, shareddata.Path(t, "refdata", "refs", "llama-tiny.refs.safetensors"))
	toks, _ := ref.Tensor("seq0.tokens")
	ids, _ := toks.Int64s()
	var list []string
	for _, id := range ids {
		list = append(list, fmt.Sprint(id))
	}
	out := filepath.Join(t.TempDir(), "dump.safetensors")
	if code, _, stderr := runCLI(t, "", "dump", "--model", model, "--tokens", strings.Join(list, ","), "--out", out); code != 0 {
		t.Fatalf("exit %d: %s", code, stderr)
	}
	got := readSafetensors(t, out)
	names := []string{"logits"}
	for l := 0; l < 3; l++ {
		names = append(names, fmt.Sprintf("blk.%d.ffn_gate_act", l), fmt.Sprintf("blk.%d.ffn_act", l), fmt.Sprintf("blk.%d.out", l))
	}
	for _, n := range names {
		if e := relErr(tensorF32(t, got, n), tensorF32(t, ref, "seq0."+n)); e > 1e-5 {
			t.Errorf("%s: relative error %.2e", n, e)
		}
	}
}

// TestGenerateGreedyMatchesReference checks the CLI's greedy text on
// stories260K against the reference continuation.
func TestGenerateGreedyMatchesReference(t *testing.T) {
	model := shareddata.Path(t, "refdata", "models", "stories260K", "stories260K.gguf")
	code, stdout, stderr := runCLI(t, "", "generate", "--model", model, "--prompt", "Once upon a time", "-n", "24")
	if code != 0 {
		t.Fatalf("exit %d: %s", code, stderr)
	}
	// README §5: the 24 greedy tokens read ", there was a little girl named
	// Lily. She loved to play outside in the p".
	if want := ", there was a little girl named Lily. She loved to play outside in the p"; strings.TrimSpace(stdout) != want {
		t.Errorf("generated %q, want %q", stdout, want)
	}
}

// TestTokenizeMatchesReference checks `tokenize` and `tokenize --jsonl`
// against the llama.cpp ids of the bilingual reference file.
func TestTokenizeMatchesReference(t *testing.T) {
	model := shareddata.Path(t, "refdata", "models", "stories260K", "stories260K.gguf")
	refPath := shareddata.Path(t, "refdata", "tokenizers", "stories260K.bilingual.jsonl")
	f, err := os.Open(refPath)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	type refCase struct {
		Case          string  `json:"case"`
		Text          string  `json:"text"`
		IDs           []int32 `json:"ids"`
		IDsAddSpecial []int32 `json:"ids_add_special"`
	}
	var cases []refCase
	var input strings.Builder
	sc := bufio.NewScanner(f)
	sc.Buffer(make([]byte, 1<<20), 1<<24)
	for sc.Scan() {
		var c refCase
		if err := json.Unmarshal(sc.Bytes(), &c); err != nil {
			t.Fatal(err)
		}
		cases = append(cases, c)
		line, _ := json.Marshal(map[string]string{"case": c.Case, "text": c.Text})
		input.Write(line)
		input.WriteByte('\n')
	}
	for _, c := range cases[:5] {
		code, stdout, stderr := runCLI(t, "", "tokenize", "--model", model, "--add-special", c.Text)
		if code != 0 {
			t.Fatalf("exit %d: %s", code, stderr)
		}
		if want, _ := json.Marshal(c.IDsAddSpecial); strings.TrimSpace(stdout) != string(want) {
			t.Errorf("%s: ids %s, want %s", c.Case, stdout, want)
		}
	}
	code, stdout, stderr := runCLI(t, input.String(), "tokenize", "--model", model, "--jsonl", "-")
	if code != 0 {
		t.Fatalf("exit %d: %s", code, stderr)
	}
	lines := strings.Split(strings.TrimRight(stdout, "\n"), "\n")
	if len(lines) != len(cases) {
		t.Fatalf("%d output lines for %d input lines", len(lines), len(cases))
	}
	for i, l := range lines {
		var got struct {
			Case string  `json:"case"`
			IDs  []int32 `json:"ids"`
		}
		if err := json.Unmarshal([]byte(l), &got); err != nil {
			t.Fatal(err)
		}
		if got.Case != cases[i].Case || fmt.Sprint(got.IDs) != fmt.Sprint(cases[i].IDs) {
			t.Errorf("line %d (%s): ids %v, want %v", i+1, got.Case, got.IDs, cases[i].IDs)
		}
	}
	// --decode inverts.
	code, stdout, _ = runCLI(t, "", "tokenize", "--model", model, "--decode", "403,407,261,378")
	if code != 0 || strings.TrimSpace(stdout) != "Once upon a time" {
		t.Errorf("decode: exit %d, %q", code, stdout)
	}
}

// TestUsageErrors checks exit code 2 and a message naming the flag.
func TestUsageErrors(t *testing.T) {
	for _, c := range []struct {
		args []string
		want string
	}{
		{[]string{"nosuch"}, `unknown command "nosuch"`},
		{[]string{"dump", "--model", "x"}, "--model and --out are required"},
		{[]string{"dump", "--bogus"}, "unknown flag --bogus"},
		{[]string{"generate", "--model", "m", "--prompt", "p", "--compare"}, "--compare needs"},
		{[]string{"tokenize", "--model", "m"}, "exactly one of TEXT"},
		{[]string{"evaluate", "--model", "m", "--out", "o", "--mode", "vote"}, `--mode "vote"`},
		{[]string{"dump", "--model", "m", "--out", "o", "--tokens", "1,x"}, ""},
	} {
		code, _, stderr := runCLI(t, "", c.args...)
		if code == 0 || !strings.Contains(stderr, c.want) {
			t.Errorf("%v: exit %d, stderr %q, want a failure mentioning %q", c.args, code, stderr, c.want)
		}
	}
	if code, _, stderr := runCLI(t, "", "dump", "--model", "/nonexistent/model.gguf", "--tokens", "1", "--out", filepath.Join(t.TempDir(), "x")); code != 1 || !strings.Contains(stderr, "/nonexistent/model.gguf") {
		t.Errorf("missing model: exit %d, %q", code, stderr)
	}
}

// TestInspectJSON checks `inspect --json` on a GGUF and an HF folder against
// the README's table for llama-tiny and qwen2-tiny.
func TestInspectJSON(t *testing.T) {
	for _, c := range []struct {
		path                []string
		arch                string
		hidden, layers, ffn int
		params              int64
		tied, bias          bool
	}{
		{[]string{"refdata", "models", "llama-tiny", "llama-tiny.gguf"}, "llama", 64, 3, 160, 195008, false, false},
		{[]string{"refdata", "models", "qwen2-tiny", "hf"}, "qwen2", 64, 3, 160, 162624, true, true},
	} {
		code, stdout, stderr := runCLI(t, "", "inspect", "--json", "--model", shareddata.Path(t, c.path...))
		if code != 0 {
			t.Fatalf("exit %d: %s", code, stderr)
		}
		var r struct {
			Params int64 `json:"params"`
			Config struct {
				Arch   string `json:"arch"`
				Hidden int    `json:"hidden_size"`
				Layers int    `json:"layers"`
				FFN    int    `json:"ffn_size"`
				Tied   bool   `json:"tied_embeddings"`
				Bias   bool   `json:"attn_bias"`
			} `json:"config"`
		}
		if err := json.Unmarshal([]byte(stdout), &r); err != nil {
			t.Fatal(err)
		}
		got := fmt.Sprint(r.Config.Arch, r.Config.Hidden, r.Config.Layers, r.Config.FFN, r.Params, r.Config.Tied, r.Config.Bias)
		want := fmt.Sprint(c.arch, c.hidden, c.layers, c.ffn, c.params, c.tied, c.bias)
		if got != want {
			t.Errorf("%v: %s, want %s", c.path, got, want)
		}
	}
}

// TestFlagsAfterArguments checks that flags may follow positional arguments,
// as in the README's import command.
func TestFlagsAfterArguments(t *testing.T) {
	dir := shareddata.Path(t, "cvoice", "authors-zh")
	out := filepath.Join(t.TempDir(), "zh.jsonl")
	code, _, stderr := runCLI(t, "", "import", "--xlsx", filepath.Join(dir, "test-zh-200.xlsx"), filepath.Join(dir, "诚信-final.xlsx"), "--skip-incomplete", "--out", out)
	if code != 0 {
		t.Fatalf("exit %d: %s", code, stderr)
	}
	// test-zh-200 holds 2,694 complete rows; 诚信-final.xlsx 203 (cvoice README).
	if !strings.Contains(stderr, "evaluation items: 2694") || !strings.Contains(stderr, "activation items: 203") {
		t.Errorf("import summary: %s", stderr)
	}
}

// TestGenerateStopString checks that a stop string ends the text and is never
// printed, though the stream has to hold text back to know it.
func TestGenerateStopString(t *testing.T) {
	model := shareddata.Path(t, "refdata", "models", "stories260K", "stories260K.gguf")
	code, stdout, stderr := runCLI(t, "", "generate", "--model", model, "--prompt", "Once upon a time", "-n", "24", "--stop", "Lily", "--stop", "zzz")
	if code != 0 {
		t.Fatalf("exit %d: %s", code, stderr)
	}
	if want := ", there was a little girl named "; strings.TrimRight(stdout, "\n") != want {
		t.Errorf("generated %q, want %q", stdout, want)
	}
	if !strings.Contains(stderr, "finish: stop") {
		t.Errorf("finish reason: %s", stderr)
	}
}

// TestDemoWritesReport runs the whole demo pipeline (with one evaluation
// item per value and language to keep it short) and checks the report, its
// plots and the demonstration notice. It needs no shared data.
func TestDemoWritesReport(t *testing.T) {
	if testing.Short() {
		t.Skip("the demo pipeline takes a while; skipped in -short mode")
	}
	dir := t.TempDir()
	code, _, stderr := runCLI(t, "", "demo", "--out", dir, "--items", "1")
	if code != 0 {
		t.Fatalf("exit %d: %s", code, stderr)
	}
	md, err := os.ReadFile(filepath.Join(dir, "report.md"))
	if err != nil {
		t.Fatal(err)
	}
	if !strings.Contains(string(md), "DEMONSTRATION OF THE PIPELINE") {
		t.Error("report.md lacks the demonstration notice")
	}
	pngs, _ := filepath.Glob(filepath.Join(dir, "*.png"))
	if len(pngs) < 5 {
		t.Fatalf("%d plots written: %v", len(pngs), pngs)
	}
	for _, p := range pngs {
		f, err := os.Open(p)
		if err != nil {
			t.Fatal(err)
		}
		img, err := png.Decode(f)
		f.Close()
		if err != nil {
			t.Errorf("%s: %v", p, err)
			continue
		}
		if b := img.Bounds(); b.Dx() < 200 || b.Dy() < 150 {
			t.Errorf("%s: %dx%d is too small to read", p, b.Dx(), b.Dy())
		}
		if !strings.Contains(string(md), filepath.Base(p)) {
			t.Errorf("report.md does not show %s", filepath.Base(p))
		}
	}
	for _, f := range []string{"model.gguf", "counts.safetensors", "neurons.json", "results.json"} {
		if _, err := os.Stat(filepath.Join(dir, f)); err != nil {
			t.Error(err)
		}
	}
}
