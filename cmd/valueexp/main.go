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
	"maps"
	"os"
	"slices"
	"sort"

	"github.com/valueexploration/valueexp/engine/kernels"
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
		"inspect":       {"describe a model: architecture, hyperparameters, tensors", runInspect},
		"dump":          {"write logits and per-layer activations for given tokens", runDump},
		"generate":      {"generate text (optionally with neurons deactivated)", runGenerate},
		"tokenize":      {"text to token ids and back", runTokenize},
		"synth":         {"write a random-weight GGUF of a real model's shape", runSynth},
		"bench":         {"prompt-processing and generation speed, like llama-bench", runBench},
		"import":        {"import the authors' C-voice xlsx files to JSONL", runImport},
		"record":        {"count neuron activations per value and language", runRecord},
		"merge":         {"sum activation counts from shards", runMerge},
		"identify":      {"select value-specific neurons (VAPE, diff, random control)", runIdentify},
		"evaluate":      {"measure value decisions with neuron sets deactivated", runEvaluate},
		"report":        {"Markdown report with plots", runReport},
		"demo":          {"the whole pipeline on the embedded sample and a small model", runDemo},
		"sample":        {"write the embedded C-voice sample as JSONL, a template for your own data", runSample},
		"version":       {"module version, VCS revision, Go version and kernel level", runVersion},
		"pull":          {"download a model from the Hugging Face Hub into its cache (then --model hf:ORG/NAME)", runPull},
		"study":         {"record, identify, evaluate and report as one resumable run", runStudy},
		"serve":         {"OpenAI-compatible HTTP server with per-request neuron interventions", runServe},
		"chat-template": {"render a conversation with a model's chat template, as transformers does", runChatTemplate},
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
	switch {
	case len(args) == 0 || args[0] == "-h" || args[0] == "-help" || args[0] == "--help":
		usage(e.stdout, cmds)
		return 0
	case args[0] == "help" && (len(args) == 1 || args[1] == "help"):
		usage(e.stdout, cmds)
		return 0
	case args[0] == "help": // valueexp help CMD is valueexp CMD --help
		args = []string{args[1], "--help"}
	case args[0] == "--version" || args[0] == "-version":
		args = []string{"version"}
	}
	c, ok := cmds[args[0]]
	if !ok {
		fmt.Fprintf(e.stderr, "valueexp: unknown command %q", args[0])
		if near := nearest(args[0], slices.Sorted(maps.Keys(cmds))); near != "" {
			fmt.Fprintf(e.stderr, "; did you mean %q?", near)
		}
		fmt.Fprintln(e.stderr, "\nRun valueexp help for the list of commands.")
		return 2
	}
	// An unknown VALUEEXP_CPU would otherwise run at the default level
	// unnoticed; the error names the variable and the known levels.
	if err := kernels.Err(); err != nil {
		fmt.Fprintf(e.stderr, "valueexp %s: %v\n", args[0], err)
		return 2
	}
	if err := withModelRefs(e, c.run, args[1:]); err != nil {
		if errors.Is(err, flag.ErrHelp) {
			return 0
		}
		fmt.Fprintf(e.stderr, "valueexp %s: %v\n", args[0], err)
		if errors.Is(err, errUsage) {
			fmt.Fprintf(e.stderr, "Run valueexp %s --help for its flags.\n", args[0])
			return 2
		}
		return 1
	}
	return 0
}

func usage(w io.Writer, cmds map[string]command) {
	fmt.Fprintln(w, "valueexp: value neurons in language models, on a pure-Go inference engine")
	fmt.Fprintln(w, "\nUsage: valueexp COMMAND [flags]   (valueexp help COMMAND, or valueexp COMMAND --help, for its flags)")
	fmt.Fprintln(w, "\nCommands:")
	names := make([]string, 0, len(cmds))
	for n := range cmds {
		names = append(names, n)
	}
	sort.Strings(names)
	for _, n := range names {
		fmt.Fprintf(w, "  %-10s %s\n", n, cmds[n].summary)
	}
	fmt.Fprintln(w, "\nFlags mean the same in every command that has them: --model PATH, --out FILE,")
	fmt.Fprintln(w, "--data FILE.jsonl, --lang zh|en|both, --seed N, --threads N (-t), --max-tokens N (-n).")
	fmt.Fprintln(w, "valueexp --version prints the version, the Go version and the kernel level.")
}
