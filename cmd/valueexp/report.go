package main

import (
	"fmt"
	"os"
	"path/filepath"
	"strings"

	"github.com/valueexploration/valueexp/hooks"
	"github.com/valueexploration/valueexp/valueexp/evaluate"
	"github.com/valueexploration/valueexp/valueexp/report"
	"github.com/valueexploration/valueexp/weights"
	"github.com/valueexploration/valueexp/weights/safetensors"
)

func runReport(e *env, args []string) error {
	fs := newFlags(e, "report", "[--counts FILE] [--neurons FILE] [--results FILE [--data FILE] [--correction holm|bh] [--seed N]] --out DIR [--title TEXT] [--demo] [--model FILE] [--force]")
	counts := fs.String("counts", "", "activation counts `FILE` from valueexp record (safetensors)")
	neurons := fs.String("neurons", "", "neuron-set `FILE` from valueexp identify (JSON)")
	results := fs.String("results", "", "evaluation results `FILE` from valueexp evaluate (JSON)")
	out := fs.String("out", "", "output `DIR` for report.md and the PNG figures")
	title := fs.String("title", "", "report `TITLE` (default \"ValueExploration report\")")
	demo := fs.Bool("demo", false, "mark the report as a demonstration on a random-weight model")
	model := fs.String("model", "", "model `FILE` (.gguf) to check for random weights (default: the model the results name, if it is a readable .gguf)")
	sf := &statsFlags{
		data:       fs.String("data", "", "evaluation data `FILE` the results were computed on, for the intervals (default: the data the results name, when it is the embedded sample or a readable file)"),
		correction: fs.String("correction", "holm", "multiple-testing correction across the sets × values matrix: holm (Holm–Bonferroni) or bh (Benjamini–Hochberg)"),
		seed:       fs.Uint64("seed", 1, "seed of the bootstrap and permutation draws of the statistics"),
		force:      fs.Bool("force", false, "write the report even when the inputs do not belong together, with a warning at the top"),
	}
	if err := parseFlags(fs, args, false); err != nil {
		return err
	}
	if err := sf.check(); err != nil {
		return err
	}
	if *out == "" {
		return usageErr("--out is required")
	}
	if *counts == "" && *neurons == "" && *results == "" {
		return usageErr("give at least one of --counts, --neurons and --results")
	}
	in := report.Inputs{Title: *title, Demo: *demo, CountsFile: *counts, NeuronsFile: *neurons, ResultsFile: *results}
	if *counts != "" {
		b, err := os.ReadFile(*counts)
		if err != nil {
			return err
		}
		if in.Counts, err = hooks.ParseActProb(b); err != nil {
			return fmt.Errorf("%s: %w", *counts, err)
		}
		// ParseActProb has already validated the file, so this cannot fail
		// for a reason it did not report; the metadata holds the manifest.
		f, err := safetensors.Parse(b)
		if err != nil {
			return fmt.Errorf("%s: %w", *counts, err)
		}
		in.CountsMeta = f.Metadata
		in.CountsSHA256 = sha256Hex(b)
	}
	if *neurons != "" {
		f, err := hooks.LoadNeuronSets(*neurons)
		if err != nil {
			return err
		}
		in.Neurons = f
		if in.NeuronsSHA256, err = fileSHA256(*neurons); err != nil {
			return err
		}
	}
	if *results != "" {
		r, err := loadResults(*results)
		if err != nil {
			return err
		}
		in.Results = r
	}
	if err := sf.apply(&in); err != nil {
		return err
	}
	if !in.Demo {
		path := *model
		if path == "" && in.Results != nil && strings.HasSuffix(strings.ToLower(in.Results.Model), ".gguf") {
			path = in.Results.Model
		}
		if path != "" {
			syn, why, err := syntheticGGUF(path)
			if err != nil && *model != "" {
				return err
			}
			in.Demo, in.DemoReason = syn, why
		}
	}
	files, err := report.Write(*out, in)
	if err != nil {
		return err
	}
	pngs := 0
	for _, f := range files {
		if filepath.Ext(f) == ".png" {
			pngs++
		}
	}
	fmt.Fprintf(e.stderr, "wrote %s with %d figures\n", filepath.Join(*out, report.ReportFile), pngs)
	for _, f := range files {
		fmt.Fprintln(e.stdout, f)
	}
	return nil
}

// syntheticGGUF reports whether the GGUF at path is a random-weight model
// written by valueexp synth (key valueexp.synthetic, or a general.name that
// says so), and the sentence for the report's notice.
func syntheticGGUF(path string) (bool, string, error) {
	g, err := weights.OpenGGUF(path)
	if err != nil {
		return false, "", err
	}
	defer g.Close()
	if syn, _ := g.Bool("valueexp.synthetic"); syn {
		return true, fmt.Sprintf("The model file %s says valueexp.synthetic = true: its weights are random.", filepath.Base(path)), nil
	}
	if name, ok := g.String("general.name"); ok && strings.Contains(strings.ToLower(name), "random weights") {
		return true, fmt.Sprintf("The model %q has random weights.", name), nil
	}
	return false, "", nil
}

// loadResults reads the JSON that valueexp evaluate writes, checking every
// number in it (report.ReadResults).
func loadResults(path string) (*evaluate.Results, error) {
	f, err := os.Open(path)
	if err != nil {
		return nil, err
	}
	defer f.Close()
	r, err := report.ReadResults(f, report.MaxResultsBytes)
	if err != nil {
		return nil, fmt.Errorf("%s: %w", path, err)
	}
	return r, nil
}
