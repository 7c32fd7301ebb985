// Command valueexp runs transformer models in pure Go with interpretability
// hooks, and the ValueExploration pipeline on top of them: record which FFN
// neurons fire on value-laden C-voice stories, identify value-specific
// neurons (VAPE), switch them off, and measure how the model's value-driven
// decisions change.
//
// Run "valueexp help" for the commands.
package main

import (
	"errors"
	"flag"
	"fmt"
	"io"
	"os"
	"sort"
	"strings"
)

// command is one subcommand: it parses its own flags from args.
type command struct {
	summary string
	run     func(env *env, args []string) error
}

// env carries the process's streams, so commands can be tested in-process.
type env struct {
	stdout, stderr io.Writer
	stdin          io.Reader
	getenv         func(string) string
}

func commands() map[string]command {
	return map[string]command{
		"inspect":  {"describe a model: architecture, hyperparameters, tensors", runInspect},
		"dump":     {"write logits and per-layer activations for given tokens", runDump},
		"generate": {"generate text (optionally with neurons deactivated)", runGenerate},
		"tokenize": {"text to token ids and back", runTokenize},
		"synth":    {"write a random-weight GGUF of a real model's shape", runSynth},
		"bench":    {"prompt-processing and generation speed, like llama-bench", runBench},
		"import":   {"import the authors' C-voice xlsx files to JSONL", runImport},
		"record":   {"count neuron activations per value and language", runRecord},
		"merge":    {"sum activation counts from shards", runMerge},
		"identify": {"select value-specific neurons (VAPE, diff, random control)", runIdentify},
		"evaluate": {"measure value decisions with neuron sets deactivated", runEvaluate},
		"report":   {"Markdown report with plots", runReport},
		"demo":     {"the whole pipeline on the embedded sample and a small model", runDemo},
		"study":    {"record, identify, evaluate and report as one resumable run", runStudy},
	}
}

func main() {
	e := &env{stdout: os.Stdout, stderr: os.Stderr, stdin: os.Stdin, getenv: os.Getenv}
	os.Exit(run(e, os.Args[1:]))
}

// errUsage marks errors caused by how the command was called (exit code 2).
var errUsage = errors.New("usage")

func run(e *env, args []string) int {
	cmds := commands()
	if len(args) == 0 || args[0] == "help" || args[0] == "-h" || args[0] == "--help" {
		usage(e.stdout, cmds)
		return 0
	}
	c, ok := cmds[args[0]]
	if !ok {
		fmt.Fprintf(e.stderr, "valueexp: unknown command %q\n\n", args[0])
		usage(e.stderr, cmds)
		return 2
	}
	if err := c.run(e, args[1:]); err != nil {
		if errors.Is(err, flag.ErrHelp) {
			return 0
		}
		fmt.Fprintf(e.stderr, "valueexp %s: %v\n", args[0], err)
		if errors.Is(err, errUsage) {
			return 2
		}
		return 1
	}
	return 0
}

func usage(w io.Writer, cmds map[string]command) {
	fmt.Fprintln(w, "valueexp: value neurons in language models, on a pure-Go inference engine")
	fmt.Fprintln(w, "\nUsage: valueexp COMMAND [flags]   (valueexp COMMAND -h for its flags)")
	fmt.Fprintln(w, "\nCommands:")
	names := make([]string, 0, len(cmds))
	for n := range cmds {
		names = append(names, n)
	}
	sort.Strings(names)
	for _, n := range names {
		fmt.Fprintf(w, "  %-10s %s\n", n, cmds[n].summary)
	}
}

// newFlags returns a flag set whose errors are returned, not printed and exited on.
func newFlags(e *env, name, synopsis string) *flag.FlagSet {
	fs := flag.NewFlagSet(name, flag.ContinueOnError)
	fs.SetOutput(e.stderr)
	fs.Usage = func() {
		fmt.Fprintf(e.stderr, "Usage: valueexp %s %s\n\nFlags:\n", name, synopsis)
		fs.PrintDefaults()
	}
	return fs
}

// parseFlags parses args and reports flag errors and stray arguments as usage
// errors. Flags may follow positional arguments ("import a.xlsx b.xlsx --out
// x"), as users type them; fs.Args() then holds every positional argument.
func parseFlags(fs *flag.FlagSet, args []string, allowArgs bool) error {
	var positional []string
	for {
		if err := fs.Parse(args); err != nil {
			if errors.Is(err, flag.ErrHelp) {
				return err
			}
			return fmt.Errorf("%w: %v", errUsage, err)
		}
		rest := fs.Args()
		if len(rest) == 0 {
			break
		}
		if rest[0] == "--" { // everything after -- is positional
			positional = append(positional, rest[1:]...)
			break
		}
		positional = append(positional, rest[0])
		args = rest[1:]
	}
	if !allowArgs && len(positional) > 0 {
		return fmt.Errorf("%w: unexpected arguments %q", errUsage, strings.Join(positional, " "))
	}
	// Leave the positional arguments where callers look for them.
	_ = fs.Parse(append([]string{"--"}, positional...))
	return nil
}

func usageErr(format string, a ...any) error {
	return fmt.Errorf("%w: %s", errUsage, fmt.Sprintf(format, a...))
}
