package main

import (
	"context"
	"errors"
	"fmt"
	"os"
	"os/signal"
	"path/filepath"
	"strings"
	"time"

	"github.com/valueexploration/valueexp/weights/hub"
)

// globList collects repeated --include patterns.
type globList []string

func (g *globList) String() string { return strings.Join(*g, ",") }

func (g *globList) Set(v string) error {
	if v == "" {
		return errors.New("empty pattern")
	}
	*g = append(*g, v)
	return nil
}

func runPull(e *env, args []string) error {
	fs := newFlags(e, "pull", "ORG/NAME[@REVISION] [--include GLOB]... [--gguf FILE] [--quiet]\n\n"+
		"Downloads a Hugging Face model into the Hugging Face cache ($HF_HUB_CACHE, else $HF_HOME/hub,\n"+
		"default ~/.cache/huggingface/hub), shared with Python tools. Without --include: config,\n"+
		"tokenizer files, chat template and the *.safetensors weights (with their index).\n"+
		"Environment: HF_TOKEN for gated models, HF_ENDPOINT for a mirror. Then use --model hf:ORG/NAME.")
	var include globList
	fs.Var(&include, "include", "download the files whose name matches `GLOB` instead (repeatable; '*' stops at '/')")
	gguf := fs.String("gguf", "", "download this one GGUF `FILE` of a GGUF repository")
	quiet := fs.Bool("quiet", false, "no progress bar")
	if err := parseFlags(fs, args, true); err != nil {
		return err
	}
	if fs.NArg() != 1 {
		return usageErr("want one repository, ORG/NAME[@REVISION] (got %d arguments)", fs.NArg())
	}
	ref, err := hub.ParseRef(strings.TrimPrefix(fs.Arg(0), "hf:"))
	if err != nil {
		return fmt.Errorf("%w: %v", errUsage, err)
	}
	c, err := hub.NewClient(e.getenv)
	if err != nil {
		return err
	}
	bar := newByteBar(e, ref.String(), *quiet)
	c.Progress = bar.update
	c.Waiting = func(file string) {
		fmt.Fprintf(e.stderr, "\nwaiting for another download of %s (another process holds its lock)\n", file)
	}
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt)
	defer stop()
	res, err := c.Pull(ctx, ref, hub.PullOptions{Include: include, GGUF: *gguf})
	bar.finish()
	if err != nil {
		var nw *hub.NoWeightsError
		if errors.As(err, &nw) && len(nw.GGUF) > 0 {
			return fmt.Errorf("%w\n  run: valueexp pull %s --gguf %s", err, ref, nw.GGUF[0])
		}
		if errors.Is(err, context.Canceled) {
			return fmt.Errorf("interrupted; run the same command again to resume: %w", err)
		}
		return err
	}
	path := res.Dir
	if *gguf != "" {
		path = filepath.Join(res.Dir, filepath.FromSlash(*gguf))
	}
	fmt.Fprintf(e.stdout, "%s at %s: %d files, %d downloaded (%s), %d already in the cache\n",
		ref.Repo, res.Commit, len(res.Files), res.Downloaded, byteSize(res.Transferred), res.Reused)
	fmt.Fprintf(e.stdout, "%s\n", path)
	fmt.Fprintf(e.stdout, "use it with: --model hf:%s\n", ref)
	return nil
}

// byteBar draws a download progress bar with rate and ETA on a terminal's
// stderr; it stays silent when stderr is not a terminal or with --quiet.
type byteBar struct {
	e     *env
	label string
	on    bool
	start time.Time
	last  time.Time
	drawn bool
}

func newByteBar(e *env, label string, quiet bool) *byteBar {
	b := &byteBar{e: e, label: label, start: time.Now()}
	if f, ok := e.stderr.(*os.File); ok && !quiet {
		if st, err := f.Stat(); err == nil && st.Mode()&os.ModeCharDevice != 0 {
			b.on = true
		}
	}
	return b
}

func (b *byteBar) update(p hub.Progress) {
	if !b.on {
		return
	}
	now := time.Now()
	if now.Sub(b.last) < 200*time.Millisecond && p.Done < p.Total {
		return
	}
	b.last = now
	// \x1b[K clears what a longer previous line left on the right.
	fmt.Fprintf(b.e.stderr, "\r%s\x1b[K", barLine(b.label, p, now.Sub(b.start)))
	b.drawn = true
}

func (b *byteBar) finish() {
	if b.drawn {
		fmt.Fprintln(b.e.stderr)
	}
}

// barLine renders one state of the bar: the rate counts only bytes received
// in this run (not those resumed from disk), the ETA divides what is left by
// that rate, once a second has passed (before, the rate means little).
func barLine(label string, p hub.Progress, elapsed time.Duration) string {
	const width = 24
	fill := 0
	if p.Total > 0 {
		fill = int(int64(width) * p.Done / p.Total)
	}
	bar := strings.Repeat("#", fill) + strings.Repeat(".", width-fill)
	rate := 0.0
	if s := elapsed.Seconds(); s > 0 {
		rate = float64(p.Transferred) / s
	}
	eta := "?"
	if rate > 0 && elapsed >= time.Second {
		eta = (time.Duration(float64(p.Total-p.Done) / rate * float64(time.Second))).Round(time.Second).String()
	}
	file := p.File
	if len(file) > 28 {
		file = "..." + file[len(file)-25:]
	}
	return fmt.Sprintf("%s [%s] %s/%s  %s/s  ETA %s  %d/%d %s",
		label, bar, byteSize(p.Done), byteSize(p.Total), byteSize(int64(rate)), eta, p.Files, p.FilesTotal, file)
}

// byteSize formats a byte count with a binary unit.
func byteSize(n int64) string {
	switch {
	case n >= 1<<30:
		return fmt.Sprintf("%.2f GiB", float64(n)/(1<<30))
	case n >= 1<<20:
		return fmt.Sprintf("%.1f MiB", float64(n)/(1<<20))
	case n >= 1<<10:
		return fmt.Sprintf("%.1f KiB", float64(n)/(1<<10))
	}
	return fmt.Sprintf("%d B", n)
}
