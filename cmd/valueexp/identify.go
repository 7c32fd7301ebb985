package main

import (
	"errors"
	"fmt"
	"math"
	"strings"

	"github.com/valueexploration/valueexp/valueexp/identify"
	"github.com/valueexploration/valueexp/valueexp/selection"
)

// ptFlag collects a repeated string flag.
type ptFlag []string

func (s *ptFlag) String() string { return strings.Join(*s, ",") }

func (s *ptFlag) Set(v string) error {
	*s = append(*s, v)
	return nil
}

// runIdentify selects value-specific neurons from activation counts and
// writes them as a neuron-set file whose set names are the tags.
func runIdentify(e *env, args []string) error {
	fs := newFlags(e, "identify", "(--counts COUNTS.safetensors | --pt FILE.pt ...) [--method vape|diff] [--per-language|--pooled] [--top-rate X --filter-rate X --bar-ratio X] [--legacy-question-normalisation] [--pos TAGS --neg TAGS --top-n N --min-delta X] [--random-control [--random-draws K] [--random-from outside|all] [--seed 1]] --out NEURONS.json")
	counts := fs.String("counts", "", "counts `FILE` written by valueexp record or merge")
	var pts ptFlag
	fs.Var(&pts, "pt", "torch.save count `FILE` ({value}-{view}.pt with over_zero, token_num, question_num), repeatable; one tag per file, named after it")
	method := fs.String("method", "vape", "selection `METHOD`: vape (LAPE entropy selection) or diff (two-way activation difference)")
	lape := selection.LAPEDefaults()
	topRate := fs.Float64("top-rate", lape.TopRate, "vape: fraction of all neurons kept, lowest entropy first")
	filterRate := fs.Float64("filter-rate", lape.FilterRate, "vape: quantile of all probabilities a neuron must exceed in some tag")
	barRatio := fs.Float64("bar-ratio", lape.ActivationBarRatio, "vape: quantile a kept neuron must exceed to join a tag")
	perLang := fs.Bool("per-language", false, "run the selection separately for each language's tags (the default)")
	pooled := fs.Bool("pooled", false, "sum each value's languages into one tag first")
	legacy := fs.Bool("legacy-question-normalisation", false, "divide counts by the number of questions, as the authors' script did (reproduces their masks)")
	pos := fs.String("pos", "", "diff: comma-separated positive `TAGS` (default: each tag against the rest of its group)")
	neg := fs.String("neg", "", "diff: comma-separated negative `TAGS`")
	topN := fs.Int("top-n", 2000, "diff: neurons with the largest difference always kept")
	minDelta := fs.Float64("min-delta", 0.1, "diff: further neurons kept when their difference is at least this (negative: off)")
	random := fs.Bool("random-control", false, "also write random sets with the same per-layer sizes, named random:TAG (draw 1) and random:TAG#d")
	seed := fs.Uint64("seed", 1, "seed of --random-control")
	draws := fs.Int("random-draws", identify.DefaultRandomDraws, "random control draws per set (`K`), so the control shows its own spread")
	from := fs.String("random-from", "outside", "random controls are drawn from the neurons in no value set (outside) or from all neurons (all)")
	out := fs.String("out", "", "output neuron-set `FILE` (JSON)")
	allowIncomplete := fs.Bool("allow-incomplete", false, "accept --counts that cover only some of the job's items (a merge of some shards); the output's provenance records how many")
	if err := parseFlags(fs, args, false); err != nil {
		return err
	}
	if *out == "" {
		return usageErr("--out is required")
	}
	if (*counts == "") == (len(pts) == 0) {
		return usageErr("give --counts or --pt, not both or neither")
	}
	for _, r := range []struct {
		flag string
		v    float64
	}{{"--top-rate", *topRate}, {"--filter-rate", *filterRate}, {"--bar-ratio", *barRatio}} {
		if !(r.v >= 0 && r.v <= 1) {
			return usageErr("%s must be in [0, 1], got %g", r.flag, r.v)
		}
	}
	if *topN < 0 {
		return usageErr("--top-n must not be negative, got %d", *topN)
	}
	if *perLang && *pooled {
		return usageErr("--per-language and --pooled exclude each other")
	}
	opt := identify.Options{
		Method: identify.Method(*method),
		VAPE:   selection.VAPEParams{TopRate: *topRate, FilterRate: *filterRate, ActivationBarRatio: *barRatio},
		Diff:   selection.DiffParams{TopN: *topN, MinDelta: *minDelta},
		Pos:    splitTags(*pos), Neg: splitTags(*neg),
		RandomControl: *random, Seed: *seed, RandomDraws: *draws, RandomFromAll: *from == "all",
	}
	if *draws < 1 {
		return usageErr("--random-draws %d: want at least 1", *draws)
	}
	if *from != "outside" && *from != "all" {
		return usageErr("--random-from %q: want outside or all", *from)
	}
	if *minDelta < 0 {
		opt.Diff.MinDelta = math.Inf(1)
	}
	if *pooled {
		opt.Grouping = identify.Pooled
	}
	if *legacy {
		opt.VAPE.Normaliser = selection.ByQuestions
	}
	switch opt.Method {
	case identify.VAPE:
		if len(opt.Pos)+len(opt.Neg) > 0 {
			return usageErr("--pos and --neg are for --method diff")
		}
	case identify.Diff:
		if (len(opt.Pos) == 0) != (len(opt.Neg) == 0) {
			return usageErr("--pos and --neg go together")
		}
	default:
		return usageErr("--method %q: want vape or diff", *method)
	}

	var c selection.Counts
	var src identify.Source
	var err error
	if *counts != "" {
		c, src, err = identify.LoadRecordWith(*counts, identify.RecordOptions{AllowIncomplete: *allowIncomplete})
	} else {
		c, src, err = identify.LoadPT(pts...)
	}
	if err != nil {
		if errors.Is(err, identify.ErrIncomplete) {
			return fmt.Errorf("%w (--allow-incomplete)", err)
		}
		return err
	}
	if src.Incomplete != nil {
		fmt.Fprintf(e.stderr, "warning: %s holds only %d of %d items; the sets rest on part of the data (recorded in their provenance)\n", *counts, src.Incomplete.Items, src.Incomplete.Of)
	}
	res, err := identify.Identify(c, opt)
	if err != nil {
		return err
	}
	f, err := identify.NeuronSets(res, src, opt)
	if err != nil {
		return err
	}
	if err := f.Save(*out); err != nil {
		return err
	}
	layers, what := c.Layers, "neurons"
	if src.Shape != nil && src.Shape.Experts > 0 {
		// Expert counts hold one layer per (layer, expert) pair.
		layers = c.Layers / src.Shape.Experts
		what = fmt.Sprintf("neurons in each of %d experts", src.Shape.Experts)
	}
	fmt.Fprintf(e.stdout, "%-24s %7s  %s\n", "set", "neurons", "per layer")
	identify.Summary(e.stdout, f, layers)
	fmt.Fprintf(e.stderr, "wrote %s: %d neuron sets over %d layers × %d %s\n", *out, len(f.NeuronSets), layers, c.Dim, what)
	return nil
}

// splitTags splits a comma-separated flag value, dropping empty parts.
func splitTags(s string) []string {
	var out []string
	for _, p := range strings.Split(s, ",") {
		if p = strings.TrimSpace(p); p != "" {
			out = append(out, p)
		}
	}
	return out
}
