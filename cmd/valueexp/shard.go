package main

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"fmt"
	"io"
	"os"
	"os/signal"
	"strconv"
	"strings"
	"syscall"

	"github.com/valueexploration/valueexp/engine"
	"github.com/valueexploration/valueexp/internal/atomicfile"
	"github.com/valueexploration/valueexp/valueexp/evaluate"
	"github.com/valueexploration/valueexp/valueexp/record"
)

// evalRunFlags are evaluate's flags for long runs: shards, checkpoints and
// batch size.
type evalRunFlags struct {
	shard       string
	shards      int
	fresh       bool
	batchTokens int
}

func (f *evalRunFlags) registerRun(fs *flagSet) {
	fs.StringVar(&f.shard, "shard", "", "evaluate only shard `i/n` of the (condition, item) units (units i, i+n, ...); auto/n takes i from $JOB_COMPLETION_INDEX or $SLURM_ARRAY_TASK_ID")
	fs.IntVar(&f.shards, "shards", 0, "shorthand for --shard auto/`N`")
	fs.BoolVar(&f.fresh, "fresh", false, "ignore an existing checkpoint (OUT.partial) and start over")
	fs.IntVar(&f.batchTokens, "batch-tokens", 2048, "tokens packed into one forward pass")
}

// apply checks the flags and sets the options of a run writing out: the
// shard, the checkpoint OUT.partial and the job's identity.
func (f *evalRunFlags) apply(e *env, opt *evaluate.Options, out string, m *engine.Model, neurons string) error {
	if f.shards > 0 {
		if f.shard != "" {
			return usageErr("give --shard or --shards, not both")
		}
		f.shard = fmt.Sprintf("auto/%d", f.shards)
	}
	sh, err := record.ParseShard(f.shard, e.getenv)
	if err != nil {
		return usageErr("--shard: %v", err)
	}
	if f.batchTokens <= 0 {
		return usageErr("--batch-tokens must be positive")
	}
	opt.Shard, opt.Fresh, opt.BatchTokens = sh, f.fresh, f.batchTokens
	opt.Checkpoint = record.CheckpointPath(out)
	opt.ModelFingerprint = record.Fingerprint(m.Weights)
	if neurons != "" {
		if opt.NeuronsSHA256, err = fileSHA256(neurons); err != nil {
			return err
		}
	}
	return nil
}

// fileSHA256 returns the hex SHA-256 of a file's bytes.
func fileSHA256(path string) (string, error) {
	fh, err := os.Open(path)
	if err != nil {
		return "", err
	}
	defer fh.Close()
	h := sha256.New()
	if _, err := io.Copy(h, fh); err != nil {
		return "", fmt.Errorf("%s: %w", path, err)
	}
	return hex.EncodeToString(h.Sum(nil)), nil
}

// interruptible returns a context cancelled by the first SIGINT or SIGTERM
// (the run then saves its checkpoint and stops) and a function releasing
// the signal handler.
func interruptible(e *env, what string) (context.Context, func()) {
	ctx, cancel := context.WithCancel(context.Background())
	sig := make(chan os.Signal, 1)
	signal.Notify(sig, os.Interrupt, syscall.SIGTERM)
	done := make(chan struct{})
	go func() {
		select {
		case <-sig:
			fmt.Fprintf(e.stderr, "\nvalueexp %s: interrupted; saving a checkpoint\n", what)
			cancel()
		case <-done:
		}
	}()
	return ctx, func() { signal.Stop(sig); close(done); cancel() }
}

// writeResults writes results atomically and removes the checkpoint, and
// warns about NaN items.
func writeResults(e *env, res *evaluate.Results, out string) error {
	b, err := res.Marshal()
	if err != nil {
		return err
	}
	if err := atomicfile.WriteFile(out, b, 0o644); err != nil {
		return err
	}
	if err := os.Remove(record.CheckpointPath(out)); err != nil && !errors.Is(err, os.ErrNotExist) {
		return err
	}
	if n := len(res.NaN); n > 0 {
		fmt.Fprintf(e.stderr, "WARNING: the model's output was NaN for %d (condition, item) units; their cells have null rates and list them in nan_items:\n", n)
		for i, x := range res.NaN {
			if i == 10 {
				fmt.Fprintf(e.stderr, "  ... and %d more (see nan_items in %s)\n", n-10, out)
				break
			}
			fmt.Fprintf(e.stderr, "  condition %s, item %s, orders %v\n", x.Condition, x.ID, x.Orders)
		}
		if r := res.NaN[0].Reason; r != "" {
			fmt.Fprintf(e.stderr, "  first cause: %s\n", r)
		}
	}
	return nil
}

// isResultsFile reports whether path holds JSON (evaluation results) rather
// than a safetensors counts file.
func isResultsFile(path string) bool {
	if strings.HasSuffix(strings.ToLower(path), ".json") {
		return true
	}
	fh, err := os.Open(path)
	if err != nil {
		return false
	}
	defer fh.Close()
	var b [1]byte
	_, err = fh.Read(b[:])
	return err == nil && b[0] == '{'
}

// mergeResults joins the results files of a sharded evaluate job.
func mergeResults(e *env, out string, paths []string) error {
	var parts []*evaluate.Results
	for _, p := range paths {
		r, err := evaluate.LoadResults(p)
		if err != nil {
			return err
		}
		parts = append(parts, r)
	}
	m, err := evaluate.Merge(parts...)
	if err != nil {
		return err
	}
	b, err := m.Marshal()
	if err != nil {
		return err
	}
	if err := atomicfile.WriteFile(out, b, 0o644); err != nil {
		return err
	}
	fmt.Fprintf(e.stderr, "wrote %s: %d shard files, %d units, %d cells\n", out, len(parts), len(m.Items), len(m.Cells))
	return nil
}

// killPoint is a test hook: with $VALUEEXP_KILL_AT set to "STAGE:N", the
// N-th call for STAGE kills the process with SIGKILL, as a crash or an
// evicted pod would, so tests can stop a run at a chosen point.
func killPoint(e *env, counter map[string]int, stage string) {
	spec := e.getenv("VALUEEXP_KILL_AT")
	if spec == "" {
		return
	}
	s, n, ok := strings.Cut(spec, ":")
	if !ok || s != stage {
		return
	}
	counter[stage]++
	if want, err := strconv.Atoi(n); err == nil && counter[stage] == want {
		if p, err := os.FindProcess(os.Getpid()); err == nil {
			p.Kill() // SIGKILL on Unix: no deferred function, no flush
		}
	}
}
