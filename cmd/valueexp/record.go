package main

import (
	"context"
	"errors"
	"fmt"
	"github.com/valueexploration/valueexp/engine"
	"io"
	"os"
	"os/signal"
	"path/filepath"
	"strings"
	"syscall"
	"time"

	"github.com/valueexploration/valueexp/tokenizer"
	"github.com/valueexploration/valueexp/valueexp/cvoice"
	"github.com/valueexploration/valueexp/valueexp/cvoice/sample"
	"github.com/valueexploration/valueexp/valueexp/record"
)

// runRecord counts, per (value, language) tag, how often each FFN neuron
// fires while the model reads (or answers) the C-voice activation items.
func runRecord(e *env, args []string) error {
	fs := newFlags(e, "record", "--model PATH [--data FILE.jsonl,...] [--lang zh|en|both] [--count text|generated] [--max-tokens N] [--shard i/n|auto/n | --shards N] [--fresh] [--threads N] [--no-mmap] --out COUNTS.safetensors")
	model := fs.String("model", "", "model `PATH`: a .gguf file, a .safetensors file or a Hugging Face folder")
	data := fs.String("data", "", "C-voice JSONL `FILES`, comma-separated (default: the embedded sample)")
	lang := fs.String("lang", "both", "languages to count: `zh|en|both` (tags zh first)")
	count := fs.String("count", "text", "which tokens to count: `text|generated`: text (story, choices and rationale as plain text, every token) or generated (the authors' variant: only tokens the model generates answering a role-play prompt)")
	maxNew := fs.Int("max-tokens", record.DefaultMaxNewTokens, "answer length for --count generated")
	batchTokens := fs.Int("batch-tokens", record.DefaultBatchTokens, "tokens packed into one forward pass (--count text)")
	genBatch := fs.Int("gen-batch", record.DefaultGenBatch, "prompts answered together (--count generated)")
	shard := fs.String("shard", "", "count only shard `i/n` (items i, i+n, ...); auto/n takes i from $JOB_COMPLETION_INDEX or $SLURM_ARRAY_TASK_ID")
	shards := fs.Int("shards", 0, "shorthand for --shard auto/`N`")
	every := fs.Int("checkpoint-every", 50, "save a checkpoint (OUT.partial) every `N` batches; 0: only on interrupt")
	fresh := fs.Bool("fresh", false, "ignore an existing checkpoint or output and start over")
	overwrite := fs.Bool("overwrite", false, "replace --out even when it holds another shard's finished counts")
	resume := fs.Bool("resume", true, "resume from OUT.partial when it belongs to the same job (--resume=false is --fresh)")
	out := fs.String("out", "", "output counts `FILE` (safetensors, readable by hooks.LoadActProb, numpy and torch)")
	threads := fs.Int("threads", 0, "worker threads (0: all cores)")
	noMmap := fs.Bool("no-mmap", false, noMmapUsage)
	chat := fs.String("chat", "auto", "--count generated: wrap the prompt as a user turn of the model's chat template: `auto|on|off` (auto: when the model has one)")
	fs.alias("n", "max-tokens")
	fs.alias("t", "threads")
	fs.deprecate("max-new-tokens", "max-tokens")
	if err := parseFlags(fs, args, false); err != nil {
		return err
	}
	if *model == "" || *out == "" {
		return usageErr("--model and --out are required")
	}
	if *shards > 0 {
		if *shard != "" {
			return usageErr("give --shard or --shards, not both")
		}
		*shard = fmt.Sprintf("auto/%d", *shards)
	}
	sh, err := record.ParseShard(*shard, e.getenv)
	if err != nil {
		return usageErr("--shard: %v", err)
	}
	langs, err := record.ParseLangs(*lang)
	if err != nil {
		return usageErr("--lang: %v", err)
	}
	mode := record.Mode(*count)
	if mode != record.ModeText && mode != record.ModeGenerated {
		return usageErr("--count %q: want text or generated", *count)
	}
	if *chat != "auto" && *chat != "on" && *chat != "off" {
		return usageErr("--chat %q: want auto, on or off", *chat)
	}
	if *batchTokens <= 0 || *genBatch <= 0 || *maxNew <= 0 || *every < 0 {
		return usageErr("--batch-tokens, --gen-batch and --max-tokens must be positive, --checkpoint-every ≥ 0")
	}

	if err := checkOutNotInput(*out, append(strings.Split(*data, ","), *model)...); err != nil {
		return err
	}
	items, err := loadRecordItems(*data)
	if err != nil {
		return err
	}
	if err := checkRecordData(items, langs); err != nil {
		return err
	}
	units, tags, err := record.Units(items, langs, mode)
	if err != nil {
		return err
	}
	m, tok, err := loadModelAndTokenizerOpts(*model, engine.Options{Threads: *threads, InMemory: *noMmap})
	if err != nil {
		return err
	}
	defer m.Close()
	encode := func(s string) []int32 { return tok.Encode(s, tokenizer.EncodeOptions{AddSpecial: true}) }
	template := ""
	if mode == record.ModeGenerated && *chat != "off" {
		if _, err := tok.RenderChat([]tokenizer.Message{{Role: "user", Content: units[0].Text}}, true); err == nil {
			if template = tokenizer.TemplateFamily(tok.ChatTemplate()); template == "" {
				template = "model"
			}
			// A rendered template carries its own special tokens.
			encode = func(s string) []int32 {
				text, err := tok.RenderChat([]tokenizer.Message{{Role: "user", Content: s}}, true)
				if err != nil { // cannot happen: the same template rendered above
					text = s
				}
				return tok.Encode(text, tokenizer.EncodeOptions{ParseSpecial: true})
			}
		} else if *chat == "on" || !errors.Is(err, tokenizer.ErrNoTemplate) {
			return fmt.Errorf("--chat %s: %w (use --chat off for plain-text prompts)", *chat, err)
		}
	}
	langNames := make([]string, len(langs))
	for i, l := range langs {
		langNames[i] = string(l)
	}

	// The first SIGINT/SIGTERM lets the current batch finish and saves a
	// checkpoint; a second one aborts at once.
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	interrupt := make(chan struct{})
	sig := make(chan os.Signal, 2)
	signal.Notify(sig, os.Interrupt, syscall.SIGTERM)
	defer func() { signal.Stop(sig); close(sig) }() // ends the goroutine below
	go func() {
		n := 0
		for range sig {
			if n++; n == 1 {
				fmt.Fprintln(e.stderr, "\nvalueexp record: interrupted; finishing the current batch and saving a checkpoint (interrupt again to abort)")
				close(interrupt)
			} else {
				cancel()
				return
			}
		}
	}()

	prog := newRecordProgress(e.stderr, writerIsTerminal(e.stderr))
	kills := map[string]int{}
	job := &record.Job{
		Model: m, Encode: encode, Template: template,
		ModelName: filepath.Base(filepath.Clean(*model)), Fingerprint: record.Fingerprint(m.Weights),
		Units: units, Tags: tags, Langs: langNames, Mode: mode, Shard: sh,
		BatchTokens: *batchTokens, GenBatch: *genBatch, MaxNewTokens: *maxNew,
		Out: *out, CheckpointEvery: *every, Fresh: *fresh || !*resume, Interrupt: interrupt,
		Progress:  func(p record.Progress) { prog.update(p); killPoint(e, kills, "record") },
		Overwrite: *overwrite,
		Note:      func(s string) { fmt.Fprintf(e.stderr, "record: note: %s\n", s) },
	}
	fmt.Fprintf(e.stderr, "record: %s, %d items (%s, shard %v: %d items), %d tags, counting %s tokens\n",
		job.ModelName, len(units), *lang, sh, sh.Size(len(units)), len(tags), mode)
	if template != "" {
		fmt.Fprintf(e.stderr, "record: prompts use the model's chat template (%s)\n", template)
	}
	reportCheckpoint(e, *out, sh, len(units), job.Fresh)
	res, err := job.Run(ctx)
	prog.finish()
	if err != nil {
		if errors.Is(err, record.ErrInterrupted) {
			return err
		}
		if errors.Is(err, context.Canceled) {
			return fmt.Errorf("aborted; the last periodic checkpoint (if any) is %s", record.CheckpointPath(*out))
		}
		return err
	}
	c := res.Counts
	switch {
	case res.AlreadyDone:
		fmt.Fprintf(e.stderr, "record: %s already holds this job's shard %v; nothing to do (--fresh recounts)\n", *out, sh)
	case res.Resumed > 0:
		fmt.Fprintf(e.stderr, "record: resumed from %s after %d items; counted the other %d in this run\n",
			record.CheckpointPath(*out), res.Resumed, sh.Size(len(units))-res.Resumed)
	}
	if c.Manifest.Truncated > 0 {
		fmt.Fprintf(e.stderr, "record: %d texts were cut at the context length of %d tokens\n", c.Manifest.Truncated, m.Config.ContextLength)
	}
	var tokens uint64
	for k := range c.Prob.Tags {
		tokens += c.Prob.Tokens[k*c.Prob.Layers]
	}
	fmt.Fprintf(e.stderr, "wrote %s: %d items, %d counted tokens, %d tags × %d layers × %d neurons",
		*out, c.Manifest.Coverage.Items(), tokens, c.Prob.Tags, c.Prob.Layers, c.Prob.Dim)
	if !c.Manifest.Complete {
		fmt.Fprintf(e.stderr, " (shard %v; combine the shards with valueexp merge)", sh)
	}
	fmt.Fprintln(e.stderr)
	return nil
}

// reportCheckpoint says, before the run starts, that an earlier run's
// checkpoint exists and how far it got; Run then resumes from it (or says
// why it cannot), unless fresh, when it is ignored and overwritten.
func reportCheckpoint(e *env, out string, sh record.Shard, units int, fresh bool) {
	path := record.CheckpointPath(out)
	st, err := os.Stat(path)
	if err != nil {
		return
	}
	c, err := record.Load(path)
	if err != nil {
		return // Run reports what is wrong with it
	}
	if fresh {
		fmt.Fprintf(e.stderr, "record: --fresh: ignoring checkpoint %s (%d items counted, saved %s); starting over\n",
			path, c.Manifest.Coverage.Items(), st.ModTime().Format("2006-01-02 15:04:05"))
		return
	}
	fmt.Fprintf(e.stderr, "record: resuming from checkpoint %s (saved %s): %d of %d items of shard %v already counted (--fresh starts over)\n",
		path, st.ModTime().Format("2006-01-02 15:04:05"), c.Manifest.Coverage.Items(), sh.Size(units), sh)
}

// loadRecordItems reads comma-separated JSONL files, or the embedded sample.
func loadRecordItems(data string) ([]cvoice.Item, error) {
	if data == "" {
		d, err := sample.Load()
		if err != nil {
			return nil, err
		}
		return d.Items(), nil
	}
	var paths []string
	for _, p := range strings.Split(data, ",") {
		if p = strings.TrimSpace(p); p != "" {
			paths = append(paths, p)
		}
	}
	d, err := cvoice.LoadJSONL(paths...)
	if err != nil {
		return nil, err
	}
	return d.Items(), nil
}

// writerIsTerminal reports whether w is a character device (an interactive
// terminal), where a redrawn progress bar makes sense.
func writerIsTerminal(w io.Writer) bool {
	f, ok := w.(*os.File)
	if !ok {
		return false
	}
	st, err := f.Stat()
	return err == nil && st.Mode()&os.ModeCharDevice != 0
}

// recordProgress draws a one-line bar redrawn with \r on a terminal, and a plain
// line about every 10 seconds otherwise (logs of batch jobs).
type recordProgress struct {
	w        io.Writer
	terminal bool
	every    time.Duration
	last     time.Time
	drawn    bool
	now      func() time.Time
}

func newRecordProgress(w io.Writer, terminal bool) *recordProgress {
	return &recordProgress{w: w, terminal: terminal, every: 10 * time.Second, now: time.Now}
}

func (p *recordProgress) update(s record.Progress) {
	now := p.now()
	done := s.Items >= s.ItemsTotal
	if p.terminal {
		if !done && now.Sub(p.last) < 100*time.Millisecond {
			return
		}
	} else if !done && now.Sub(p.last) < p.every {
		return
	}
	p.last = now
	line := progressLine(s)
	if p.terminal {
		fmt.Fprintf(p.w, "\r%s\x1b[K", line)
		p.drawn = true
	} else {
		fmt.Fprintln(p.w, line)
	}
}

func (p *recordProgress) finish() {
	if p.drawn {
		fmt.Fprintln(p.w)
		p.drawn = false
	}
}

// progressLine renders items done, a bar, tokens/s and the ETA. Rates count
// only this process's work, so a resumed run's ETA is not skewed.
func progressLine(s record.Progress) string {
	const width = 24
	frac := 0.0
	if s.ItemsTotal > 0 {
		frac = float64(s.Items) / float64(s.ItemsTotal)
	}
	filled := int(frac * width)
	bar := strings.Repeat("#", filled) + strings.Repeat(".", width-filled)
	secs := s.Elapsed.Seconds()
	rate, eta := 0.0, "?"
	if secs > 0 {
		rate = float64(s.Tokens) / secs
		if doneHere := s.Items - s.Resumed; doneHere > 0 {
			left := time.Duration(float64(s.ItemsTotal-s.Items) / float64(doneHere) * secs * float64(time.Second))
			eta = left.Round(time.Second).String()
		}
	}
	return fmt.Sprintf("[%s] %d/%d items %5.1f%%  %.0f tok/s  ETA %s", bar, s.Items, s.ItemsTotal, 100*frac, rate, eta)
}
