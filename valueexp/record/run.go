package record

import (
	"context"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"time"

	"github.com/valueexploration/valueexp/engine"
	"github.com/valueexploration/valueexp/hooks"
	"github.com/valueexploration/valueexp/internal/outlock"
)

// Defaults for Job's batch settings.
const (
	DefaultBatchTokens  = 2048
	DefaultGenBatch     = 32
	DefaultMaxNewTokens = 500
	// GenRepetitionPenalty is the authors' generation setting (valueexp/METHOD.md §2.4).
	GenRepetitionPenalty = 1.1
)

// ErrInterrupted is returned (wrapped) when a run stops before its shard is
// done and has saved a checkpoint to resume from.
var ErrInterrupted = errors.New("record: interrupted")

// Job is one recording run: a model, the whole job's units, and which shard
// of them this process counts.
type Job struct {
	Model *engine.Model
	// Encode tokenizes a unit's text with the model's special-token rule
	// (for a tokenizer.Tokenizer: Encode(text, EncodeOptions{AddSpecial: true})).
	Encode func(text string) []int32
	// ModelName (informative) and Fingerprint (compared) identify the model.
	ModelName   string
	Fingerprint string
	Units       []Unit   // the whole job, in order (see Units)
	Tags        []string // the tag names units index
	Langs       []string // informative, stored in the manifest
	Mode        Mode
	// Template names the chat template Encode wraps prompts in, "" for
	// plain text; it is stored with the format so runs with and without a
	// template never mix.
	Template string
	Shard    Shard // zero value: the whole job
	// BatchTokens bounds the tokens of one packed forward pass in ModeText
	// (a longer text runs alone). GenBatch is the number of prompts per
	// Generate call and MaxNewTokens the answer length in ModeGenerated.
	BatchTokens  int
	GenBatch     int
	MaxNewTokens int
	// Out is the counts file to write; its checkpoint is Out + ".partial".
	Out string
	// CheckpointEvery saves the checkpoint after this many batches (0:
	// only when interrupted).
	CheckpointEvery int
	// Fresh ignores an existing checkpoint or finished output, except a
	// finished output of another shard, which only Overwrite replaces
	// (so that two shards given the same Out never lose one).
	Fresh     bool
	Overwrite bool
	// Note, if set, receives remarks that are not errors (a stale lock
	// taken over).
	Note func(string)
	// Interrupt, when closed, makes the run finish its current batch, save
	// the checkpoint and return ErrInterrupted.
	Interrupt <-chan struct{}
	// MaxBatches makes the run stop as if interrupted after this many
	// batches (0: no limit); tests use it to simulate a killed run.
	MaxBatches int
	// Progress, if set, is called after every batch.
	Progress func(Progress)
}

// Progress reports how far a run has come.
type Progress struct {
	Items, ItemsTotal int   // items of the shard done (resumed ones included) and in all
	Resumed           int   // items that were already done when the run started
	Tokens            int64 // tokens counted by this process so far
	Batches           int   // batches run by this process so far
	Elapsed           time.Duration
}

// Result is what Run did.
type Result struct {
	Counts      *Counts
	Resumed     int  // items taken from a checkpoint
	AlreadyDone bool // Out already held this job's finished counts
}

// CheckpointPath returns the checkpoint file of an output path.
func CheckpointPath(out string) string { return out + ".partial" }

// manifest returns the job's manifest with nothing counted yet.
func (j *Job) manifest() Manifest {
	m := Manifest{
		Version: manifestVersion, Model: j.ModelName, Fingerprint: j.Fingerprint, Shape: j.Model.Shape(),
		DataDigest: DataDigest(j.Units, j.Tags), Items: len(j.Units), Mode: j.Mode, Format: TextFormat,
		Langs: j.Langs, Shard: j.Shard, Coverage: Coverage{}, ItemsPerTag: make([]int64, len(j.Tags)),
	}
	m.Shape.Name = j.ModelName
	if j.Mode == ModeGenerated {
		m.Format, m.MaxNewTokens, m.RepetitionPenalty = PromptFormat, j.MaxNewTokens, GenRepetitionPenalty
	}
	if j.Template != "" {
		m.Format += "+template:" + j.Template
	}
	return m
}

func (j *Job) setDefaults() error {
	if j.Model == nil || j.Encode == nil {
		return errors.New("record: job needs a model and an encoder")
	}
	if j.Out == "" {
		return errors.New("record: job needs an output path")
	}
	if err := j.Mode.valid(); err != nil {
		return err
	}
	if j.Shard == (Shard{}) {
		j.Shard = Whole
	}
	if !j.Shard.Valid() {
		return fmt.Errorf("record: bad shard %v", j.Shard)
	}
	if len(j.Units) == 0 || len(j.Tags) == 0 {
		return errors.New("record: nothing to count")
	}
	if len(j.Units) > MaxItems {
		return fmt.Errorf("record: %d units is more than a job can hold (%d)", len(j.Units), MaxItems)
	}
	for _, u := range j.Units {
		if u.Tag < 0 || int(u.Tag) >= len(j.Tags) {
			return fmt.Errorf("record: unit %s: tag %d outside the %d tags", u.ID, u.Tag, len(j.Tags))
		}
	}
	if j.BatchTokens <= 0 {
		j.BatchTokens = DefaultBatchTokens
	}
	if j.GenBatch <= 0 {
		j.GenBatch = DefaultGenBatch
	}
	if j.MaxNewTokens <= 0 {
		j.MaxNewTokens = DefaultMaxNewTokens
	}
	// Prompts are cut to the context length less the answer length; an
	// answer as long as the context would leave them one token, and the
	// counts would be of answers to nothing.
	if cl := j.Model.Config.ContextLength; j.Mode == ModeGenerated && cl > 0 && j.MaxNewTokens >= cl {
		return fmt.Errorf("record: max new tokens %d leaves no room for the prompt in the model's context length %d", j.MaxNewTokens, cl)
	}
	return nil
}

// Run counts the job's shard, resuming from Out's checkpoint when one from
// the same job exists (unless Fresh), and writes Out. When interrupted it
// saves the checkpoint and returns an error wrapping ErrInterrupted.
//
// For the whole run it holds the lock Out + ".lock" (package outlock): a
// second run on the same Out, of any shard, is refused while this one is
// alive, so that neither overwrites the other's checkpoint or output.
func (j *Job) Run(ctx context.Context) (res *Result, err error) {
	if err := j.setDefaults(); err != nil {
		return nil, err
	}
	if err := os.MkdirAll(filepath.Dir(j.Out), 0o755); err != nil {
		return nil, fmt.Errorf("record: %w", err)
	}
	lock, note, err := outlock.Acquire(j.Out)
	if err != nil {
		return nil, fmt.Errorf("record: %w", err)
	}
	defer func() {
		if rerr := lock.Release(); rerr != nil && err == nil {
			err = fmt.Errorf("record: %w", rerr)
		}
	}()
	if note != "" && j.Note != nil {
		j.Note(note)
	}
	return j.run(ctx)
}

func (j *Job) run(ctx context.Context) (*Result, error) {
	base := j.manifest()
	partial := CheckpointPath(j.Out)
	if done, err := j.finished(&base); err != nil || done != nil {
		return done, err
	}
	c, err := j.start(&base, partial)
	if err != nil {
		return nil, err
	}
	resumed := c.Manifest.Coverage.Items()
	res := &Result{Counts: c, Resumed: resumed}

	h := hooks.New(j.Model.Config.Layers)
	var obs hooks.Observer = c.Prob
	if j.Mode == ModeGenerated {
		obs = decodeOnly{c.Prob}
	}
	pattern := "blocks.*." + siteName(hooks.SiteMLPAct)
	if c.Prob.Experts > 0 {
		pattern = "blocks.*.mlp.experts.*.hook_act" // a mixture of experts' neurons
	}
	if err := h.Observe(pattern, obs); err != nil {
		return nil, fmt.Errorf("record: %w", err)
	}

	r := runner{job: j, counts: c, hooks: h, next: resumed, size: j.Shard.Size(len(j.Units)), start: time.Now(), resumed: resumed}
	for r.next < r.size {
		if err := ctx.Err(); err != nil {
			return nil, err
		}
		if err := r.batch(ctx); err != nil {
			return nil, err
		}
		r.batches++
		c.Manifest.Coverage = shardCoverage(j.Shard, r.next)
		if j.Progress != nil {
			j.Progress(Progress{Items: r.next, ItemsTotal: r.size, Resumed: resumed, Tokens: r.tokens, Batches: r.batches, Elapsed: time.Since(r.start)})
		}
		if r.next >= r.size {
			break
		}
		stop := j.MaxBatches > 0 && r.batches >= j.MaxBatches
		select {
		case <-j.Interrupt:
			stop = true
		default:
		}
		if stop {
			if err := c.Save(partial); err != nil {
				return nil, err
			}
			return res, fmt.Errorf("%w after %d of %d items of shard %v; checkpoint saved to %s, run the same command again to resume",
				ErrInterrupted, r.next, r.size, j.Shard, partial)
		}
		if j.CheckpointEvery > 0 && r.batches%j.CheckpointEvery == 0 {
			if err := c.Save(partial); err != nil {
				return nil, err
			}
		}
	}
	c.Manifest.Partial = false
	c.Manifest.Coverage = shardCoverage(j.Shard, r.size)
	c.Manifest.Complete = c.Manifest.Coverage.Items() == len(j.Units)
	if c.Manifest.Complete {
		c.Manifest.Coverage = Coverage{{Start: 0, Step: 1, Count: len(j.Units)}}
	}
	if err := c.Save(j.Out); err != nil {
		return nil, err
	}
	if err := os.Remove(partial); err != nil && !errors.Is(err, os.ErrNotExist) {
		return nil, fmt.Errorf("record: removing checkpoint: %w", err)
	}
	return res, nil
}

// finished returns the existing output when it already holds this job's
// shard (unless Fresh), and an error when it holds something else: with
// Fresh, only another shard's finished output of the same job is still
// refused (unless Overwrite), as replacing it would lose that shard.
func (j *Job) finished(base *Manifest) (*Result, error) {
	if j.Overwrite {
		return nil, nil
	}
	if _, err := os.Stat(j.Out); err != nil {
		return nil, nil
	}
	old, err := Load(j.Out)
	if err != nil {
		if j.Fresh {
			return nil, nil
		}
		return nil, fmt.Errorf("%w; use --fresh to overwrite it", err)
	}
	if err := base.sameJob(&old.Manifest); err != nil {
		if j.Fresh {
			return nil, nil
		}
		return nil, fmt.Errorf("record: %s exists and holds another job (%v); use --fresh to overwrite it", j.Out, err)
	}
	if old.Manifest.Shard != j.Shard && !old.Manifest.Partial {
		return nil, fmt.Errorf("record: %s already holds the finished counts of shard %v (%d items); give shard %v another --out, or use --overwrite to replace them",
			j.Out, old.Manifest.Shard, old.Manifest.Coverage.Items(), j.Shard)
	}
	if j.Fresh {
		return nil, nil
	}
	if old.Manifest.Partial {
		return nil, fmt.Errorf("record: %s exists and holds an unfinished checkpoint of shard %v; use --fresh to overwrite it", j.Out, old.Manifest.Shard)
	}
	return &Result{Counts: old, AlreadyDone: true}, nil
}

// start returns the counts to continue: the checkpoint's, or empty ones.
func (j *Job) start(base *Manifest, partial string) (*Counts, error) {
	if !j.Fresh {
		if _, err := os.Stat(partial); err == nil {
			old, err := Load(partial)
			if err != nil {
				return nil, fmt.Errorf("%w; delete it or use --fresh to start over", err)
			}
			if err := j.resumable(base, old); err != nil {
				return nil, fmt.Errorf("record: checkpoint %s cannot be resumed: %v; delete it or use --fresh to start over", partial, err)
			}
			return old, nil
		}
	}
	L, D := j.Model.Config.Layers, j.Model.Config.FFNSize
	var p *hooks.ActProb
	var err error
	if moe := j.Model.Config.MoE; moe != nil {
		p, err = hooks.NewExpertActProb(L, moe.Experts, D, len(j.Tags))
	} else {
		p, err = hooks.NewActProb(hooks.SiteMLPAct, L, D, len(j.Tags))
	}
	if err != nil {
		return nil, fmt.Errorf("record: %w", err)
	}
	p.TagNames = append([]string(nil), j.Tags...)
	p.Model = j.ModelName
	m := *base
	m.Partial = true
	if err := os.MkdirAll(filepath.Dir(j.Out), 0o755); err != nil {
		return nil, fmt.Errorf("record: %w", err)
	}
	return &Counts{Prob: p, Manifest: m}, nil
}

// resumable checks that a checkpoint continues this very job and shard.
func (j *Job) resumable(base *Manifest, old *Counts) error {
	if err := base.sameJob(&old.Manifest); err != nil {
		return err
	}
	if old.Manifest.Shard != j.Shard {
		return fmt.Errorf("it is shard %v, this run is shard %v", old.Manifest.Shard, j.Shard)
	}
	if !old.Manifest.Partial {
		return errors.New("it is not marked as a checkpoint")
	}
	done := old.Manifest.Coverage.Items()
	if !old.Manifest.Coverage.equal(shardCoverage(j.Shard, done)) {
		return fmt.Errorf("its items %v are not a prefix of shard %v", old.Manifest.Coverage, j.Shard)
	}
	if done > j.Shard.Size(len(j.Units)) {
		return fmt.Errorf("it holds %d items, more than the shard's %d", done, j.Shard.Size(len(j.Units)))
	}
	if old.Prob.Layers != j.Model.Config.Layers || old.Prob.Dim != j.Model.Config.FFNSize || old.Prob.Tags != len(j.Tags) ||
		old.Prob.Experts != j.Model.Shape().Experts {
		return errors.New("its counts have another shape")
	}
	for k, name := range old.Prob.TagNames {
		if name != j.Tags[k] {
			return fmt.Errorf("its tag %d is %q, this run's is %q", k, name, j.Tags[k])
		}
	}
	return nil
}

// runner is the state of one Run's batch loop.
type runner struct {
	job     *Job
	counts  *Counts
	hooks   *hooks.Hooks
	next    int // shard position of the next item
	size    int
	resumed int
	batches int
	tokens  int64
	start   time.Time
	seqs    []*engine.Sequence
	inputs  []engine.Input
	// ahead holds the tokens of shard item aheadAt, tokenized while
	// filling a batch it did not fit into.
	ahead    []int32
	aheadAt  int
	aheadCut bool
}

// batch counts the next batch of items and advances next.
func (r *runner) batch(ctx context.Context) error {
	if r.job.Mode == ModeGenerated {
		return r.generate(ctx)
	}
	return r.prefill(ctx)
}

// sequence returns the i-th reusable sequence, reset.
func (r *runner) sequence(i int) *engine.Sequence {
	for len(r.seqs) <= i {
		r.seqs = append(r.seqs, r.job.Model.NewSequence())
	}
	r.seqs[i].Reset()
	return r.seqs[i]
}

// unitTokens returns the unit's tokens, cut to at most limit (0: no
// limit) from the start or, with keepEnd, from the end, and whether it cut.
func (r *runner) unitTokens(u Unit, limit int, keepEnd bool) ([]int32, bool) {
	ids := r.job.Encode(u.Text)
	if limit > 0 && len(ids) > limit {
		if keepEnd {
			return ids[len(ids)-limit:], true
		}
		return ids[:limit], true
	}
	return ids, false
}

// prefill packs texts up to BatchTokens into one forward pass that stops
// after the last layer's hook_act.
func (r *runner) prefill(ctx context.Context) error {
	j := r.job
	stop, _ := r.hooks.LastPoint()
	r.inputs = r.inputs[:0]
	n := 0
	for r.next+len(r.inputs) < r.size {
		k := r.next + len(r.inputs)
		if r.ahead == nil || r.aheadAt != k {
			r.ahead, r.aheadCut = r.unitTokens(j.Units[j.Shard.Item(k)], j.Model.Config.ContextLength, false)
			r.aheadAt = k
		}
		if len(r.inputs) > 0 && n+len(r.ahead) > j.BatchTokens {
			break // the next batch starts with it, already tokenized
		}
		u := j.Units[j.Shard.Item(k)]
		r.inputs = append(r.inputs, engine.Input{Seq: r.sequence(len(r.inputs)), Tokens: r.ahead, Tag: u.Tag, Logits: engine.NoLogits})
		if r.aheadCut {
			r.counts.Manifest.Truncated++
		}
		n += len(r.ahead)
		r.ahead = nil
	}
	if _, err := j.Model.Forward(ctx, r.inputs, engine.RunOptions{Hooks: r.hooks, StopAfter: &stop}); err != nil {
		return fmt.Errorf("record: batch at item %d: %w", j.Shard.Item(r.next), err)
	}
	for _, in := range r.inputs {
		r.counts.Manifest.ItemsPerTag[in.Tag]++
	}
	r.next += len(r.inputs)
	r.tokens += int64(n)
	return nil
}

// generate answers up to GenBatch prompts and counts the decode rows.
func (r *runner) generate(ctx context.Context) error {
	j := r.job
	limit := 0
	if cl := j.Model.Config.ContextLength; cl > 0 {
		limit = max(cl-j.MaxNewTokens, 1)
	}
	var prompts []engine.Prompt
	for r.next+len(prompts) < r.size && len(prompts) < j.GenBatch {
		u := j.Units[j.Shard.Item(r.next+len(prompts))]
		ids, cut := r.unitTokens(u, limit, true)
		if cut {
			r.counts.Manifest.Truncated++
		}
		if len(ids) == 0 {
			return fmt.Errorf("record: unit %s: empty prompt", u.ID)
		}
		prompts = append(prompts, engine.Prompt{Tokens: ids, Tag: u.Tag})
	}
	out, err := j.Model.Generate(ctx, prompts, engine.GenerateOptions{
		MaxTokens: j.MaxNewTokens,
		Sampling:  engine.Sampling{RepetitionPenalty: GenRepetitionPenalty},
		Hooks:     r.hooks,
	})
	if err != nil {
		return fmt.Errorf("record: generating at item %d: %w", j.Shard.Item(r.next), err)
	}
	for i, p := range prompts {
		r.counts.Manifest.ItemsPerTag[p.Tag]++
		r.tokens += int64(len(out[i].Tokens))
	}
	r.next += len(prompts)
	return nil
}

// decodeOnly passes only decode-step rows (generated tokens fed back) to
// the counter, as the authors' recording did.
type decodeOnly struct{ p *hooks.ActProb }

func (d decodeOnly) Observe(p hooks.Point, t hooks.Tensor, rows *hooks.Rows) {
	if rows.Phase == hooks.Decode {
		d.p.Observe(p, t, rows)
	}
}

func (d decodeOnly) Applies(p hooks.Point) bool { return d.p.Applies(p) }

// Check is the counter's.
func (d decodeOnly) Check(p hooks.Point, s hooks.ModelShape) error { return d.p.Check(p, s) }

// siteName returns the block-site suffix of s, e.g. "mlp.hook_act".
func siteName(s hooks.Site) string { return s.String() }
