package main

import (
	"go/ast"
	"go/parser"
	"go/token"
	"maps"
	"os"
	"path/filepath"
	"regexp"
	"slices"
	"strconv"
	"strings"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// synthModel writes a small random-weight model (qwen2, hidden 128, 2 layers
// of 384 FFN neurons, 2130 tokens) into a fresh temporary folder.
func synthModel(t *testing.T) string {
	t.Helper()
	path := filepath.Join(t.TempDir(), "tiny.gguf")
	code, _, stderr := runCLI(t, "", "synth", "--shape", "tiny", "--dtype", "f32", "--layers", "2", "--out", path)
	require.Equal(t, 0, code, stderr)
	return path
}

// tinyNeuronSets is a hand-written neuron-set file for synthModel's shape:
// Prosperity has different neurons in each language, so a test can see
// which of the sets a name picked.
const tinyNeuronSets = `{"format": "neuron-sets", "version": 1, "neuron_sets": [
 {"name": "富强/zh", "site": "mlp.hook_act", "layers": [{"layer": 0, "indices": [5, 7]}]},
 {"name": "富强/en", "site": "mlp.hook_act", "layers": [{"layer": 0, "indices": [9]}]},
 {"name": "random:富强/zh", "site": "mlp.hook_act", "layers": [{"layer": 1, "indices": [1, 2]}]},
 {"name": "诚信/en", "site": "mlp.hook_act", "layers": [{"layer": 1, "indices": [3]}]}]}
`

func writeFile(t *testing.T, name, content string) string {
	t.Helper()
	path := filepath.Join(t.TempDir(), name)
	require.NoError(t, os.WriteFile(path, []byte(content), 0o644))
	return path
}

// sourceFlags are the flags a command defines, as written in its source.
type sourceFlags struct {
	names      []string // canonical names and visible aliases
	deprecated []string
}

// flagsInSource reads this package's source and returns, for every
// function that calls newFlags(e, "CMD", ...), the flags it defines with
// fs.String, fs.Var, fs.alias, ... (and those of interventions.register when
// it calls register). The help test compares each command's --help with
// this list, so the help is checked against the code, not against itself.
func flagsInSource(t *testing.T) map[string]*sourceFlags {
	t.Helper()
	files, err := filepath.Glob("*.go")
	require.NoError(t, err)
	fset := token.NewFileSet()
	type fn struct {
		cmd               string
		flags, deprecated []string
		registers         []string // register-like methods it calls
	}
	var fns []*fn
	// registerFlags holds the flags each shared registering method defines
	// (interventions.register, evalRunFlags.registerRun).
	registerFlags := map[string][]string{}
	str := func(e ast.Expr) (string, bool) {
		lit, ok := e.(*ast.BasicLit)
		if !ok || lit.Kind != token.STRING {
			return "", false
		}
		s, err := strconv.Unquote(lit.Value)
		return s, err == nil
	}
	for _, name := range files {
		if strings.HasSuffix(name, "_test.go") {
			continue
		}
		f, err := parser.ParseFile(fset, name, nil, 0)
		require.NoError(t, err)
		for _, d := range f.Decls {
			decl, ok := d.(*ast.FuncDecl)
			if !ok || decl.Body == nil {
				continue
			}
			cur := &fn{}
			ast.Inspect(decl.Body, func(n ast.Node) bool {
				call, ok := n.(*ast.CallExpr)
				if !ok {
					return true
				}
				if id, ok := call.Fun.(*ast.Ident); ok && id.Name == "newFlags" && len(call.Args) >= 2 {
					cur.cmd, _ = str(call.Args[1])
					return true
				}
				sel, ok := call.Fun.(*ast.SelectorExpr)
				if !ok {
					return true
				}
				if strings.HasPrefix(sel.Sel.Name, "register") {
					cur.registers = append(cur.registers, sel.Sel.Name)
					return true
				}
				if x, ok := sel.X.(*ast.Ident); !ok || x.Name != "fs" {
					return true
				}
				arg := -1
				switch sel.Sel.Name {
				case "String", "Int", "Bool", "Float64", "Uint64", "Duration", "alias":
					arg = 0
				case "Var", "StringVar", "IntVar", "BoolVar", "Uint64Var", "Float64Var", "DurationVar":
					arg = 1
				case "deprecate":
					if s, ok := str(call.Args[0]); ok {
						cur.deprecated = append(cur.deprecated, s)
					}
				}
				if arg >= 0 && arg < len(call.Args) {
					if s, ok := str(call.Args[arg]); ok {
						cur.flags = append(cur.flags, s)
					}
				}
				return true
			})
			if decl.Recv != nil && strings.HasPrefix(decl.Name.Name, "register") {
				registerFlags[decl.Name.Name] = cur.flags
			}
			if cur.cmd != "" {
				fns = append(fns, cur)
			}
		}
	}
	require.NotEmpty(t, registerFlags["register"], "interventions.register defines no flags?")
	out := map[string]*sourceFlags{}
	for _, f := range fns {
		s := &sourceFlags{names: f.flags, deprecated: f.deprecated}
		for _, r := range f.registers {
			s.names = append(s.names, registerFlags[r]...)
		}
		out[f.cmd] = s
	}
	return out
}

// flagToken finds flag spellings in help text: -x or --name after a space,
// bracket, parenthesis, bar or comma.
var flagToken = regexp.MustCompile(`(?:^|[\s\[(|,])(--?[a-zA-Z][a-zA-Z0-9-]*)`)

// TestHelpEveryCommand runs every command's help three ways and checks that
// it goes to stdout with exit 0, and that the usage line and the flag list
// spell every flag the command's source defines as --name (-x for one
// letter), list nothing else, and agree with each other.
func TestHelpEveryCommand(t *testing.T) {
	src := flagsInSource(t)
	for name := range commands() {
		t.Run(name, func(t *testing.T) {
			sf, ok := src[name]
			require.True(t, ok, "no newFlags(e, %q, ...) found in the source", name)
			var help string
			for _, args := range [][]string{{name, "--help"}, {name, "-h"}, {"help", name}, {name, "help"}} {
				code, stdout, stderr := runCLI(t, "", args...)
				require.Equal(t, 0, code, "%v: %s", args, stderr)
				assert.Empty(t, stderr, "%v", args)
				require.True(t, strings.HasPrefix(stdout, "Usage: valueexp "+name), "%v printed:\n%s", args, stdout)
				if help == "" {
					help = stdout
				}
				assert.Equal(t, help, stdout, "%v differs from %s --help", args, name)
			}
			usageLine, _, _ := strings.Cut(help, "\n")
			listed := map[string]bool{}
			if _, list, ok := strings.Cut(help, "\nFlags:\n"); ok {
				for _, line := range strings.Split(list, "\n") {
					if !strings.HasPrefix(line, "  -") {
						continue
					}
					for _, part := range strings.Split(strings.TrimSpace(line), ", ") {
						fl, _, _ := strings.Cut(part, " ")
						listed[fl] = true
					}
				}
			}
			var want []string
			for _, f := range sf.names {
				want = append(want, flagName(f))
			}
			slices.Sort(want)
			var got []string
			for f := range listed {
				got = append(got, f)
			}
			slices.Sort(got)
			assert.Equal(t, want, got, "flag list of %s", name)
			for _, f := range sf.names {
				if len(f) > 1 {
					assert.NotRegexp(t, `(^|[\s\[(|,])-`+regexp.QuoteMeta(f)+`\b`, help, "%s spelled with one dash", f)
				}
			}
			for _, d := range sf.deprecated {
				assert.Contains(t, help, "(formerly "+flagName(d)+")")
			}
			for _, m := range flagToken.FindAllStringSubmatch(usageLine, -1) {
				assert.True(t, listed[m[1]], "usage line of %s names %s, which the flag list does not have", name, m[1])
			}
		})
	}
}

// TestFlagVocabulary checks the shared spellings in every command's source:
// --threads always has -t, --max-tokens always has -n and the reverse, and
// the old spellings exist only as deprecated ones.
func TestFlagVocabulary(t *testing.T) {
	pairs := [][2]string{{"threads", "t"}, {"max-tokens", "n"}}
	for name, sf := range flagsInSource(t) {
		for _, p := range pairs {
			assert.Equal(t, slices.Contains(sf.names, p[0]), slices.Contains(sf.names, p[1]),
				"%s: --%s and -%s go together", name, p[0], p[1])
		}
		for _, old := range []string{"max-new-tokens", "nthreads", "max_tokens", "model-path", "output", "language", "dataset"} {
			assert.NotContains(t, sf.names, old, "%s defines --%s", name, old)
		}
	}
	assert.Equal(t, []string{"max-new-tokens"}, flagsInSource(t)["record"].deprecated)
}

// TestTopLevelHelpAndVersion covers valueexp help, --version and version.
func TestTopLevelHelpAndVersion(t *testing.T) {
	for _, args := range [][]string{{}, {"help"}, {"--help"}, {"-h"}} {
		code, stdout, stderr := runCLI(t, "", args...)
		require.Equal(t, 0, code, "%v", args)
		assert.Empty(t, stderr)
		for name := range commands() {
			assert.Contains(t, stdout, "\n  "+name+" ", "%v: command list lacks %s", args, name)
		}
	}
	for _, args := range [][]string{{"version"}, {"--version"}} {
		code, stdout, stderr := runCLI(t, "", args...)
		require.Equal(t, 0, code, "%v: %s", args, stderr)
		assert.Regexp(t, `^valueexp \S+\n`, stdout)
		assert.Contains(t, stdout, "module    github.com/valueexploration/valueexp\n")
		assert.Regexp(t, `\n  go        go1\.\d+\S* \w+/\w+\n`, stdout)
		assert.Regexp(t, `\n  kernels   (generic|avx2|avxvnni|avx512|neon|neon-dotprod)\n`, stdout)
		assert.Contains(t, stdout, "\n  revision  ")
		assert.Contains(t, stdout, "\n  time      ")
	}
}

// mistake is one thing a new user types and what should happen.
type mistake struct {
	name    string
	args    []string
	code    int
	stdout  []string // substrings stdout must hold
	stderr  []string // substrings stderr must hold
	without []string // substrings stderr must not hold
}

func checkMistakes(t *testing.T, cases []mistake) {
	t.Helper()
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			code, stdout, stderr := runCLI(t, "", c.args...)
			assert.Equal(t, c.code, code, "exit code; stderr:\n%s", stderr)
			for _, s := range c.stdout {
				assert.Contains(t, stdout, s)
			}
			for _, s := range c.stderr {
				assert.Contains(t, stderr, s)
			}
			for _, s := range c.without {
				assert.NotContains(t, stderr, s)
			}
		})
	}
}

// TestNewUserMistakes runs the trips of issue 13's "Why" list that concern
// the command line and checks what happens now.
func TestNewUserMistakes(t *testing.T) {
	model := synthModel(t)
	sets := writeFile(t, "neurons.json", tinyNeuronSets)
	tmp := t.TempDir()
	out := func(name string) string { return filepath.Join(tmp, name) }
	gen := []string{"generate", "--model", model, "--prompt", "hello"}
	checkMistakes(t, []mistake{
		// The token budget: one name, -n everywhere, old spelling noted.
		{name: "generate -n 0 names the flag", args: append(gen, "-n", "0"), code: 2,
			stderr: []string{"--max-tokens (-n) must be positive"}, without: []string{"MaxTokens"}},
		{name: "generate --max-tokens", args: append(gen, "--max-tokens", "2"), code: 0, stderr: []string{"2 generated"}},
		{name: "generate -n", args: append(gen, "-n", "2"), code: 0, stderr: []string{"2 generated"}},
		{name: "generate --temp -1 names the flag", args: append(gen, "--temp", "-1"), code: 2, stderr: []string{"--temp must be"}},
		{name: "evaluate -n 0 names the flag", args: []string{"evaluate", "--model", model, "--out", out("r.json"), "-n", "0"}, code: 2,
			stderr: []string{"--max-tokens (-n) must be positive, got 0"}},
		{name: "identify --top-rate 2 names the flag", args: []string{"identify", "--counts", "c.safetensors", "--top-rate", "2", "--out", out("n.json")}, code: 2,
			stderr: []string{"--top-rate must be in [0, 1], got 2"}, without: []string{"VAPE top rate"}},
		{name: "identify --top-n -1 names the flag", args: []string{"identify", "--counts", "c.safetensors", "--method", "diff", "--top-n", "-1", "--out", out("n.json")}, code: 2,
			stderr: []string{"--top-n must not be negative"}, without: []string{"TopN"}},
		{name: "record --max-new-tokens still works, with a note", args: []string{"record", "--model", filepath.Join(tmp, "none.gguf"), "--max-new-tokens", "5", "--out", out("c.safetensors")}, code: 1,
			stderr: []string{"--max-new-tokens is deprecated; use --max-tokens (-n)", "none.gguf"}},
		// Threads: --threads and -t everywhere.
		{name: "generate -t", args: append(gen, "-n", "1", "-t", "1"), code: 0},
		{name: "generate --threads", args: append(gen, "-n", "1", "--threads", "1"), code: 0},
		{name: "bench --threads and --max-tokens", args: []string{"bench", "--model", model, "-p", "4", "--max-tokens", "2", "--threads", "1", "-r", "1"}, code: 0,
			stdout: []string{"pp4", "tg2"}},
		{name: "bench -t and -n", args: []string{"bench", "--model", model, "-p", "0", "-n", "2", "-t", "1", "-r", "1"}, code: 0, stdout: []string{"tg2"}},
		{name: "bench --bandwidth", args: []string{"bench", "--model", model, "-p", "0", "-n", "2", "-t", "1", "-r", "1", "--bandwidth"}, code: 0,
			stdout: []string{"tg2"}, stderr: []string{"tg2, 1 threads: decode reads ", "read bandwidth ", "best of 5 passes over 512.00 MiB"}},
		{name: "bench --no-mmap", args: []string{"bench", "--model", model, "-p", "3", "-n", "2", "-t", "1", "-r", "1", "--no-mmap"}, code: 0, stdout: []string{"pp3", "tg2"}},
		{name: "bench -t 0 names the flag", args: []string{"bench", "--model", model, "-t", "0"}, code: 2, stderr: []string{"--threads (-t) values must be at least 1"}},
		// Set names: English and Chinese, suffixes, unknown ones listed.
		{name: "generate --deactivate Prosperity", args: append(gen, "-n", "2", "--neurons", sets, "--deactivate", "Prosperity"), code: 0},
		{name: "generate --deactivate prosperity/zh", args: append(gen, "-n", "2", "--neurons", sets, "--deactivate", "prosperity/zh"), code: 0},
		{name: "generate --scale Integrity=0.5", args: append(gen, "-n", "2", "--neurons", sets, "--scale", "Integrity=0.5"), code: 0},
		{name: "dump --deactivate 富强/zh", args: []string{"dump", "--model", model, "--tokens", "1,2", "--out", out("d.safetensors"), "--neurons", sets, "--deactivate", "富强/zh"}, code: 0},
		{name: "unknown set lists the names", args: append(gen, "--neurons", sets, "--deactivate", "Democracy"), code: 2,
			stderr: []string{"--deactivate", "no neuron set for Democracy (民主)", "available: 富强/zh, 富强/en, 诚信/en", "1 random controls"}},
		{name: "evaluate unknown set lists the names", args: []string{"evaluate", "--model", model, "--out", out("r.json"), "--neurons", sets, "--deactivate", "Prosperty"}, code: 2,
			stderr: []string{`"Prosperty" not found`, "available: 富强/zh"}},
		// Help on stdout, for the command asked about.
		{name: "help inspect", args: []string{"help", "inspect"}, code: 0, stdout: []string{"Usage: valueexp inspect --model PATH", "--json"}},
		{name: "inspect --help", args: []string{"inspect", "--help"}, code: 0, stdout: []string{"Usage: valueexp inspect"}},
		{name: "evaluate: --neurons optional", args: []string{"evaluate", "--help"}, code: 0, stdout: []string{"[--neurons NEURONS.json"}},
		// Commands, flags and paths mistyped.
		{name: "unknown command", args: []string{"generat"}, code: 2, stderr: []string{`unknown command "generat"; did you mean "generate"?`}},
		{name: "help for an unknown command", args: []string{"help", "inpect"}, code: 2, stderr: []string{`did you mean "inspect"?`}},
		{name: "unknown flag", args: append(gen, "--max-token", "3"), code: 2, stderr: []string{"unknown flag --max-token; did you mean --max-tokens?"}},
		{name: "missing value names the flag", args: []string{"generate", "--prompt", "x", "--model"}, code: 2, stderr: []string{"flag needs an argument: --model"}},
		{name: "bad value names the flag as typed", args: append(gen, "-n", "many"), code: 2, stderr: []string{`invalid value "many" for --max-tokens (-n): want an integer`}},
		{name: "bad number says what it wants", args: append(gen, "--temp", "warm"), code: 2, stderr: []string{`invalid value "warm" for --temp: want a number`}},
		{name: "negative seed says what it wants", args: append(gen, "--seed", "-1"), code: 2, stderr: []string{`for --seed: want a whole number ≥ 0`}},
		{name: "bad boolean says what it wants", args: []string{"inspect", "--model", model, "--json=maybe"}, code: 2, stderr: []string{`for --json: want true or false`}},
		{name: "dump --tokens outside the vocabulary names the flag", args: []string{"dump", "--model", model, "--tokens", "1,99999", "--out", out("d2.safetensors")}, code: 2,
			stderr: []string{"--tokens: id 99999 (position 1) outside the vocabulary [0, 2130)"}},
		{name: "model as a positional argument", args: []string{"inspect", model}, code: 2, stderr: []string{"did you mean --model " + model + "?"}},
		{name: "tokenize with the model as text", args: []string{"tokenize", model, "hello"}, code: 2, stderr: []string{"did you mean --model " + model + "?"}},
		{name: "tokenize text is still text", args: []string{"tokenize", "--model", model, "hello"}, code: 0},
	})
}

// TestDeactivateResolvesSetNames checks that a set name reaches the right
// neurons: dump records mlp.hook_act after the edit, so the deactivated
// columns read 0 and the others do not.
func TestDeactivateResolvesSetNames(t *testing.T) {
	model := synthModel(t)
	sets := writeFile(t, "neurons.json", tinyNeuronSets)
	for _, c := range []struct {
		name       string
		zero, live []int // layer-0 columns
	}{
		{"Prosperity/zh", []int{5, 7}, []int{9}},
		{"富强/en", []int{9}, []int{5, 7}},
		{"prosperity", []int{5, 7, 9}, nil},
		{"Integrity", nil, []int{5, 7, 9}}, // its one set is in layer 1
	} {
		out := filepath.Join(t.TempDir(), "d.safetensors")
		code, _, stderr := runCLI(t, "", "dump", "--model", model, "--tokens", "1,2,3", "--neurons", sets, "--deactivate", c.name, "--out", out)
		require.Equal(t, 0, code, stderr)
		act := tensorF32(t, readSafetensors(t, out), "blk.0.ffn_gate_act")
		const cols = 384
		require.Len(t, act, 3*cols)
		for row := 0; row < 3; row++ {
			for _, col := range c.zero {
				assert.Zero(t, act[row*cols+col], "%s: row %d column %d", c.name, row, col)
			}
			for _, col := range c.live {
				assert.NotZero(t, act[row*cols+col], "%s: row %d column %d", c.name, row, col)
			}
		}
	}
}

func TestNearest(t *testing.T) {
	cmds := slices.Sorted(maps.Keys(commands()))
	for _, c := range []struct{ typed, want string }{
		{"generat", "generate"}, {"genrate", "generate"}, {"gen", "generate"}, {"INSPECT", "inspect"},
		{"idnetify", "identify"}, {"evalute", "evaluate"}, {"samples", "sample"}, {"versoin", "version"},
		{"nosuch", ""}, {"x", ""}, {"re", ""},
	} {
		assert.Equal(t, c.want, nearest(c.typed, cmds), "nearest(%q)", c.typed)
	}
	assert.Equal(t, 3, editDistance("kitten", "sitting"))
	assert.Equal(t, 2, editDistance("富强", "和谐"))
	assert.Equal(t, 0, editDistance("", ""))
}

// TestNoMmapGeneratesTheSame runs generate with the weights mapped and with
// them copied into memory (--no-mmap): the greedy continuation is the same.
func TestNoMmapGeneratesTheSame(t *testing.T) {
	model := synthModel(t)
	args := []string{"generate", "--model", model, "--prompt", "hello there", "-n", "8", "--temp", "0", "-t", "1"}
	code, mapped, stderr := runCLI(t, "", args...)
	if code != 0 {
		t.Fatalf("generate: exit %d\n%s", code, stderr)
	}
	code, copied, stderr := runCLI(t, "", append(args, "--no-mmap")...)
	if code != 0 {
		t.Fatalf("generate --no-mmap: exit %d\n%s", code, stderr)
	}
	if mapped == "" || copied != mapped {
		t.Errorf("generate printed %q mapped and %q with --no-mmap", mapped, copied)
	}
}
