package main

import (
	"fmt"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"time"
)

// runDemo runs the whole pipeline on the embedded C-voice sample and a small
// random-weight model it writes itself, by running the same commands a user
// would run on a real model, and prints each command line so it can be
// repeated with a downloaded model.
func runDemo(e *env, args []string) error {
	fs := newFlags(e, "demo", "[--out DIR] [--items N] [--threads N]")
	out := fs.String("out", "valueexp-demo", "output `DIR` (model, counts, neurons, results, report.md and its plots)")
	items := fs.Int("items", 4, "evaluation items per value and language")
	threads := fs.Int("threads", 0, "worker threads (0: all cores)")
	fs.alias("t", "threads")
	if err := parseFlags(fs, args, false); err != nil {
		return err
	}
	if *items <= 0 {
		return usageErr("--items must be positive")
	}
	if err := os.MkdirAll(*out, 0o755); err != nil {
		return err
	}
	path := func(name string) string { return filepath.Join(*out, name) }
	model, counts, neurons, results := path("model.gguf"), path("counts.safetensors"), path("neurons.json"), path("results.json")
	th := strconv.Itoa(*threads)
	steps := []struct {
		why  string
		args []string
	}{
		{"write a small random-weight model (qwen2 architecture, hidden 128, 4 layers)",
			[]string{"synth", "--shape", "tiny", "--arch", "qwen2", "--dtype", "f32", "--seed", "1", "--out", model}},
		{"count how often each FFN neuron fires (mlp.hook_act > 0) on the activation stories, per value and language",
			[]string{"record", "--model", model, "--lang", "both", "--fresh", "--threads", th, "--out", counts}},
		{"select value-specific neurons with VAPE, separately for zh and en, plus same-size random controls",
			[]string{"identify", "--counts", counts, "--method", "vape", "--per-language", "--random-control", "--out", neurons}},
		{"switch each value's neurons off and measure the forced-choice support for the value-aligned option",
			[]string{"evaluate", "--model", model, "--neurons", neurons, "--mode", "likelihood", "--max-items", strconv.Itoa(*items), "--same-language", "--threads", th, "--out", results}},
		{"write the report with its plots",
			[]string{"report", "--counts", counts, "--neurons", neurons, "--results", results, "--demo",
				"--title", "ValueExploration demo (random-weight model)", "--out", *out}},
	}
	cmds := commands()
	start := time.Now()
	for i, s := range steps {
		fmt.Fprintf(e.stderr, "\n[%d/%d] %s\n$ valueexp %s\n", i+1, len(steps), s.why, quoteArgs(s.args))
		t0 := time.Now()
		if err := cmds[s.args[0]].run(e, s.args[1:]); err != nil {
			return fmt.Errorf("step %d (%s): %w", i+1, s.args[0], err)
		}
		fmt.Fprintf(e.stderr, "(%s)\n", time.Since(t0).Round(100*time.Millisecond))
	}
	fmt.Fprintf(e.stderr, "\nDone in %s. Open %s.\n", time.Since(start).Round(time.Second), path("report.md"))
	fmt.Fprintln(e.stderr, "This is a demonstration of the pipeline on random weights, not a finding.")
	fmt.Fprintln(e.stderr, "For a real model, run the same commands with --model pointing at a GGUF file or a Hugging Face folder.")
	return nil
}

// quoteArgs renders arguments for a shell.
func quoteArgs(args []string) string {
	q := make([]string, len(args))
	for i, a := range args {
		if a == "" || strings.ContainsAny(a, " \t\"'()$&;|<>*?[]{}") {
			a = "'" + strings.ReplaceAll(a, "'", `'\''`) + "'"
		}
		q[i] = a
	}
	return strings.Join(q, " ")
}
