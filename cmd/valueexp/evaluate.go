package main

import (
	"fmt"
	"github.com/valueexploration/valueexp/engine"
	"strings"

	"github.com/valueexploration/valueexp/hooks"
	"github.com/valueexploration/valueexp/internal/outlock"
	"github.com/valueexploration/valueexp/valueexp/cvoice"
	"github.com/valueexploration/valueexp/valueexp/evaluate"
)

func runEvaluate(e *env, args []string) error {
	fs := newFlags(e, "evaluate", "--model PATH [--data FILE.jsonl,...] [--neurons NEURONS.json [--deactivate all|NAME,...]] [--mode likelihood|generate] [--swap-order] [--lang zh|en|both] [--max-items N] [--max-tokens 250] [--chat auto|on|off] [--seed 1] [--no-random-control] [--same-language] [--threads N] [--no-mmap] [--shard i/n|auto/n] [--shards N] [--fresh] [--batch-tokens 2048] --out RESULTS.json")
	model := fs.String("model", "", "model `PATH`: a .gguf file, a .safetensors file or a Hugging Face folder")
	data := fs.String("data", "", "C-voice JSONL `FILES`, comma-separated (default: the embedded sample)")
	neurons := fs.String("neurons", "", "neuron-set `FILE` from identify (omit to evaluate the plain model only)")
	deactivate := fs.String("deactivate", "all", "neuron sets to switch off, one at a time: all, or comma-separated `NAMES` (set names, or values in Chinese or English with or without /zh or /en)")
	mode := fs.String("mode", "likelihood", "`likelihood|generate`: forced A/B probabilities, or the authors' prompt with parsed percentages")
	swap := fs.Bool("swap-order", false, "also ask every item with the aligned option second")
	lang := fs.String("lang", "both", "languages to evaluate: `zh|en|both`")
	maxItems := fs.Int("max-items", 0, "items per value and language (0: all; the authors used the first 100)")
	maxTokens := fs.Int("max-tokens", 250, "generation budget per answer in generate mode")
	chat := fs.String("chat", "auto", "wrap prompts in the model's chat template: `auto|on|off` (auto: if it has one)")
	seed := fs.Uint64("seed", 1, "seed of the random control sets")
	noRandom := fs.Bool("no-random-control", false, "skip the random same-size control sets")
	sameLang := fs.Bool("same-language", false, "evaluate a per-language set (诚信/zh) only on its own language (default: on both)")
	out := fs.String("out", "", "results `FILE` (JSON)")
	threads := fs.Int("threads", 0, "worker threads (0: all cores)")
	noMmap := fs.Bool("no-mmap", false, noMmapUsage)
	fs.alias("n", "max-tokens")
	fs.alias("t", "threads")
	var runFlags evalRunFlags
	runFlags.registerRun(fs)
	if err := parseFlags(fs, args, false); err != nil {
		return err
	}
	if *model == "" || *out == "" {
		return usageErr("--model and --out are required")
	}
	if *maxTokens <= 0 {
		return usageErr("--max-tokens (-n) must be positive, got %d", *maxTokens)
	}
	if *maxItems < 0 {
		return usageErr("--max-items must not be negative, got %d", *maxItems)
	}
	langs, err := parseLanguages(*lang)
	if err != nil {
		return err
	}
	if *mode != string(evaluate.Likelihood) && *mode != string(evaluate.Generation) {
		return usageErr("--mode %q: want likelihood or generate", *mode)
	}
	// Two live runs writing one --out would overwrite each other's
	// checkpoint and results; the lock refuses the second.
	lock, note, err := outlock.Acquire(*out)
	if err != nil {
		return fmt.Errorf("--out %s: %w", *out, err)
	}
	defer lock.Release()
	if note != "" {
		fmt.Fprintf(e.stderr, "evaluate: note: %s\n", note)
	}
	ds, dataName, err := loadData(*data)
	if err != nil {
		return err
	}
	ds = ds.Select(cvoice.Query{Languages: langs})
	m, tok, err := loadModelAndTokenizerOpts(*model, engine.Options{Threads: *threads, InMemory: *noMmap})
	if err != nil {
		return err
	}
	defer m.Close()
	useChat := false
	switch *chat {
	case "auto":
		useChat = tok.ChatTemplate() != ""
	case "on":
		useChat = true
	case "off":
	default:
		return usageErr("--chat %q: want auto, on or off", *chat)
	}
	opt := evaluate.Options{Mode: evaluate.Mode(*mode), SwapOrder: *swap, MaxItems: *maxItems, MaxTokens: *maxTokens,
		Chat: useChat, RandomSeed: *seed, NoRandomControl: *noRandom, SameLanguage: *sameLang}
	if err := runFlags.apply(e, &opt, *out, m, *neurons); err != nil {
		return err
	}
	var sets *hooks.NeuronSetFile
	var names []string
	if *neurons != "" {
		if sets, err = hooks.LoadNeuronSets(*neurons); err != nil {
			return err
		}
		if *deactivate != "all" {
			if names, err = resolveSetNames(sets, *neurons, "--deactivate", strings.Split(*deactivate, ",")); err != nil {
				return err
			}
		}
	}
	conds, err := evaluate.Conditions(sets, names, m.Shape(), opt)
	if err != nil {
		if *neurons != "" {
			return fmt.Errorf("%s: %w", *neurons, err)
		}
		return err
	}
	prog := newProgress(e, "evaluate")
	kills := map[string]int{}
	opt.Progress = func(done, total int) { prog.update(done, total, 0); killPoint(e, kills, "evaluate") }
	opt.Work = &evaluate.Work{}
	ctx, stop := interruptible(e, "evaluate")
	defer stop()
	res, err := evaluate.Run(ctx, m, tok, ds, conds, opt)
	prog.finish()
	if err != nil {
		return err
	}
	res.Model, res.Data, res.Neurons = *model, dataName, *neurons
	if err := writeResults(e, res, *out); err != nil {
		return err
	}
	for _, c := range res.Cells {
		if c.Condition == "none" {
			fmt.Fprintf(e.stderr, "plain model  %-14s %s: support %5.1f  aligned choices %4.0f%%  (%d items, %d unparsed)\n",
				c.ValueEnglish, c.Language, c.SupportRate, 100*c.AlignedChoiceRate, c.Items, c.ParseFailures)
		}
	}
	printLargestEffects(e.stderr, res, 8)
	w := opt.Work.Total()
	fmt.Fprintf(e.stderr, "evaluate: this run fed %d tokens through %d forward passes (%d without prefix sharing)\n", w.Tokens, w.Passes, w.Unshared)
	fmt.Fprintf(e.stderr, "wrote %s: %d conditions x %d cells\n", *out, len(res.Conditions), len(res.Cells))
	return nil
}
