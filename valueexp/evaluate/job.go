package evaluate

import (
	"bytes"
	"context"
	"crypto/sha256"
	"encoding/binary"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"math"
	"os"
	"time"

	"github.com/valueexploration/valueexp/engine"
	"github.com/valueexploration/valueexp/internal/atomicfile"
	"github.com/valueexploration/valueexp/tokenizer"
	"github.com/valueexploration/valueexp/valueexp/cvoice"
	"github.com/valueexploration/valueexp/valueexp/record"
)

// ErrInterrupted is returned (wrapped) when a run stops before its shard
// is done; with Options.Checkpoint set, the finished units are saved there.
var ErrInterrupted = errors.New("evaluate: interrupted")

// Job identifies an evaluation job: two results files of the same Job hold
// the same numbers for the same units, so their shards can be merged and a
// checkpoint can be resumed.
type Job struct {
	ModelFingerprint string `json:"model_fingerprint"`
	// DataDigest is a SHA-256 over the evaluation items (id, value,
	// language and texts, in order) after --lang and --max-items.
	DataDigest    string `json:"data_digest"`
	NeuronsSHA256 string `json:"neurons_sha256,omitempty"`
	// Settings are the options that change results, in one line.
	Settings string `json:"settings"`
	// Units is the number of (condition, item) units of the whole job.
	Units int `json:"units"`
	// Digest is a SHA-256 over all of the above and the conditions.
	Digest string `json:"digest"`
}

// NaNItem is one (condition, item) whose model output was NaN.
type NaNItem struct {
	Condition string `json:"condition"`
	ID        string `json:"id"`
	// Orders are the option orders (0: aligned first) that were NaN.
	Orders []int `json:"orders"`
	// Reason is the engine's message for the first order that failed
	// (where the activations became NaN/Inf), when it gave one.
	Reason string `json:"reason,omitempty"`
}

// CondWork is the work one condition took.
type CondWork struct {
	Condition string
	Units     int   // (condition, item) units run
	Tokens    int64 // tokens fed through forward passes (prefill)
	Passes    int   // forward passes (Generate calls in generate mode)
	// Unshared is the prefill tokens without prefix sharing: every
	// question's prompt in full, as evaluate ran before sharing.
	Unshared int64
	// DecodeTokens are the tokens generated (generate mode);
	// MaxDecodeTokens the most a dry run expects.
	DecodeTokens, MaxDecodeTokens int64
}

// Work is the work of a run, or of a Plan, per condition in job order.
type Work struct {
	Conditions []CondWork
}

// Total sums the work over the conditions.
func (w *Work) Total() CondWork {
	var t CondWork
	for _, c := range w.Conditions {
		t.Units += c.Units
		t.Tokens += c.Tokens
		t.Passes += c.Passes
		t.Unshared += c.Unshared
		t.DecodeTokens += c.DecodeTokens
		t.MaxDecodeTokens += c.MaxDecodeTokens
	}
	return t
}

func (w *Work) cond(name string) *CondWork {
	if n := len(w.Conditions); n > 0 && w.Conditions[n-1].Condition == name {
		return &w.Conditions[n-1]
	}
	w.Conditions = append(w.Conditions, CondWork{Condition: name})
	return &w.Conditions[len(w.Conditions)-1]
}

// unit is one (condition, item) of a job.
type unit struct{ cond, item int }

// setup is what Run and Plan share: checked options, the items and the
// job's units.
type setup struct {
	opt    Options
	items  []cvoice.Item
	units  []unit
	orders []bool
	job    *Job
	shard  record.Shard
	conds  []Condition
}

func newSetup(tok *tokenizer.Tokenizer, data *cvoice.Dataset, conds []Condition, opt Options) (*setup, error) {
	if opt.Mode == "" {
		opt.Mode = Likelihood
	}
	if opt.Mode != Likelihood && opt.Mode != Generation {
		return nil, fmt.Errorf("evaluate: unknown mode %q (want likelihood or generate)", opt.Mode)
	}
	if opt.MaxTokens <= 0 {
		opt.MaxTokens = 250
	}
	if opt.BatchTokens <= 0 {
		opt.BatchTokens = 2048
	}
	if opt.Chat && tok.ChatTemplate() == "" {
		return nil, fmt.Errorf("evaluate: chat prompts asked for, but the tokenizer has no chat template")
	}
	st := &setup{opt: opt, shard: opt.Shard, conds: conds}
	if st.shard == (record.Shard{}) {
		st.shard = record.Whole
	}
	if !st.shard.Valid() {
		return nil, fmt.Errorf("evaluate: bad shard %v", st.shard)
	}
	st.items = evaluationItems(data, opt.MaxItems)
	if len(st.items) == 0 {
		return nil, fmt.Errorf("evaluate: the data holds no evaluation items")
	}
	st.orders = []bool{false}
	if opt.SwapOrder {
		st.orders = append(st.orders, true)
	}
	for ci, c := range conds {
		for ii, it := range st.items {
			if opt.SameLanguage && c.Language != "" && string(it.Language) != c.Language {
				continue
			}
			st.units = append(st.units, unit{ci, ii})
		}
	}
	st.job = jobOf(tok, st.items, conds, opt, len(st.units))
	return st, nil
}

// jobOf computes the job's identity.
func jobOf(tok *tokenizer.Tokenizer, items []cvoice.Item, conds []Condition, opt Options, units int) *Job {
	h := sha256.New()
	var n [8]byte
	put := func(s string) {
		binary.LittleEndian.PutUint64(n[:], uint64(len(s)))
		h.Write(n[:])
		io.WriteString(h, s)
	}
	for _, it := range items {
		for _, s := range []string{it.ID, it.Value.Chinese(), string(it.Language), it.Context, it.Aligned, it.Violating} {
			put(s)
		}
	}
	j := &Job{ModelFingerprint: opt.ModelFingerprint, DataDigest: hex.EncodeToString(h.Sum(nil)), NeuronsSHA256: opt.NeuronsSHA256, Units: units}
	template := ""
	if opt.Chat {
		sum := sha256.Sum256([]byte(tok.ChatTemplate()))
		template = hex.EncodeToString(sum[:8])
	}
	maxTokens := 0
	if opt.Mode == Generation {
		maxTokens = opt.MaxTokens
	}
	j.Settings = fmt.Sprintf("mode=%s swap_order=%t max_items=%d max_tokens=%d chat=%t template=%s same_language=%t",
		opt.Mode, opt.SwapOrder, opt.MaxItems, maxTokens, opt.Chat, template, opt.SameLanguage)
	d := sha256.New()
	cj, _ := json.Marshal(conds) // plain strings and numbers: cannot fail
	for _, s := range []string{j.ModelFingerprint, j.DataDigest, j.NeuronsSHA256, j.Settings, fmt.Sprint(units), string(cj)} {
		binary.LittleEndian.PutUint64(n[:], uint64(len(s)))
		d.Write(n[:])
		io.WriteString(d, s)
	}
	j.Digest = hex.EncodeToString(d.Sum(nil))
	return j
}

// Run evaluates every condition on the evaluation items of data: the
// shard's (condition, item) units in job order (condition by condition,
// items in data order), resuming from opt.Checkpoint when it holds a
// prefix of them. It returns the results of one complete run (Cells
// filled) or, for a shard, the shard's Items for Merge. Interrupted (ctx
// cancelled), it saves the checkpoint and returns an error wrapping
// ErrInterrupted.
func Run(ctx context.Context, m *engine.Model, tok *tokenizer.Tokenizer, data *cvoice.Dataset, conds []Condition, opt Options) (*Results, error) {
	st, err := newSetup(tok, data, conds, opt)
	if err != nil {
		return nil, err
	}
	return st.run(ctx, m, tok, conds, false)
}

// Plan counts, without running the model, the work Run would do from
// scratch: per condition, the forward-pass tokens and passes (in generate
// mode the prompt tokens and the most decode tokens). Likelihood-mode
// counts are exact: Plan schedules the passes with the same code as Run.
func Plan(m *engine.Model, tok *tokenizer.Tokenizer, data *cvoice.Dataset, conds []Condition, opt Options) (*Work, error) {
	st, err := newSetup(tok, data, conds, opt)
	if err != nil {
		return nil, err
	}
	st.opt.Checkpoint = ""
	w := &Work{}
	st.opt.Work = w
	if _, err := st.run(context.Background(), m, tok, conds, true); err != nil {
		return nil, err
	}
	return w, nil
}

func (st *setup) header(conds []Condition) *Results {
	o := st.opt
	res := &Results{Format: "valueexp-results", Version: 1, Mode: o.Mode, SwapOrder: o.SwapOrder, Chat: o.Chat,
		MaxItems: o.MaxItems, SameLanguage: o.SameLanguage, Conditions: conds, Job: st.job}
	if st.shard != record.Whole {
		sh := st.shard
		res.Shard = &sh
	}
	return res
}

func (st *setup) run(ctx context.Context, m *engine.Model, tok *tokenizer.Tokenizer, conds []Condition, dry bool) (*Results, error) {
	o := st.opt
	res := st.header(conds)
	size := st.shard.Size(len(st.units))
	if o.Checkpoint != "" && !o.Fresh {
		done, err := st.resume(o.Checkpoint)
		if err != nil {
			return nil, err
		}
		res.Items = done
	}
	save := func() error {
		if o.Checkpoint == "" || dry {
			return nil
		}
		cp := *res
		cp.Partial = true
		b, err := json.MarshalIndent(&cp, "", " ")
		if err != nil {
			return fmt.Errorf("evaluate: checkpoint: %w", err)
		}
		return atomicfile.WriteFile(o.Checkpoint, append(b, '\n'), 0o644)
	}
	work := o.Work
	if work == nil {
		work = &Work{}
	}
	prepCache := map[int]*prepared{}
	lastSave := time.Now()
	for k := len(res.Items); k < size; {
		// A segment: the next units of one condition.
		c := st.units[st.shard.Item(k)].cond
		end := k
		for end < size && st.units[st.shard.Item(end)].cond == c {
			end++
		}
		cond := conds[c]
		cw := work.cond(cond.Name)
		var segItems []cvoice.Item
		for j := k; j < end; j++ {
			segItems = append(segItems, st.items[st.units[st.shard.Item(j)].item])
		}
		next := k
		emit := func(r ItemResult) error {
			it := st.items[st.units[st.shard.Item(next)].item]
			r.Condition, r.ID, r.Value, r.Language = cond.Name, it.ID, it.Value.Chinese(), string(it.Language)
			markNaN(&r)
			res.Items = append(res.Items, r)
			next++
			cw.Units++
			if o.Progress != nil {
				o.Progress(next, size)
			}
			return nil
		}
		passDone := func() error {
			if time.Since(lastSave) < time.Second && next < end {
				return nil
			}
			lastSave = time.Now()
			return save()
		}
		var err error
		switch o.Mode {
		case Likelihood:
			var ps []*prepared
			for j := k; j < end; j++ {
				ii := st.units[st.shard.Item(j)].item
				p := prepCache[ii]
				if p == nil {
					if p, err = prepareLikelihood(tok, st.items[ii], st.orders, o.Chat, m.Config.ContextLength); err != nil {
						return nil, fmt.Errorf("evaluate: %w", err)
					}
					prepCache[ii] = p
				}
				ps = append(ps, p)
				cw.Unshared += unsharedTokens(p)
			}
			sc := &scorer{ctx: ctx, m: m, hooks: cond.hooks, batchTokens: o.BatchTokens, dry: dry, work: cw}
			err = sc.runRobust(ps, func(shares []float64, reason string) error {
				r := ItemResult{Orders: shares, Answered: true, Aligned: mean(shares), Reason: reason}
				return emit(r)
			}, passDone)
		case Generation:
			err = generate(ctx, m, tok, segItems, st.orders, cond, o, dry, cw, emit, passDone)
		}
		if err != nil {
			if ctx.Err() != nil {
				if serr := save(); serr != nil {
					return nil, fmt.Errorf("evaluate: interrupted, and the checkpoint could not be saved: %w", serr)
				}
				where := ""
				if o.Checkpoint != "" {
					where = "; checkpoint saved to " + o.Checkpoint + ", run the same command again to resume"
				}
				return nil, fmt.Errorf("%w after %d of %d units of shard %v%s: %v", ErrInterrupted, len(res.Items), size, st.shard, where, ctx.Err())
			}
			if serr := save(); serr != nil {
				err = fmt.Errorf("%w (and the checkpoint could not be saved: %v)", err, serr)
			}
			return nil, fmt.Errorf("evaluate: condition %s: %w", cond.Name, err)
		}
		k = end
	}
	if dry {
		return res, nil
	}
	st.finish(res)
	return res, nil
}

// finish fills the cells (for a whole job) and the NaN list.
func (st *setup) finish(res *Results) {
	if res.Shard == nil {
		res.Cells = summarize(res.Conditions, res.Items)
	}
	res.NaN = nanItems(res.Items)
}

// resume returns the finished units of a checkpoint of this job and shard,
// none when there is no checkpoint.
func (st *setup) resume(path string) ([]ItemResult, error) {
	b, err := os.ReadFile(path)
	if errors.Is(err, os.ErrNotExist) {
		return nil, nil
	}
	if err != nil {
		return nil, fmt.Errorf("evaluate: %w", err)
	}
	var old Results
	if err := json.Unmarshal(b, &old); err != nil {
		return nil, fmt.Errorf("evaluate: checkpoint %s: %w; delete it or use --fresh to start over", path, err)
	}
	fail := func(why string) error {
		return fmt.Errorf("evaluate: checkpoint %s cannot be resumed: %s; delete it or use --fresh to start over", path, why)
	}
	if !old.Partial {
		return nil, fail("it is not marked as a checkpoint")
	}
	if old.Job == nil {
		return nil, fail("it has no job description")
	}
	if err := sameJob(st.job, old.Job); err != nil {
		return nil, fail(err.Error())
	}
	oldShard := record.Whole
	if old.Shard != nil {
		oldShard = *old.Shard
	}
	if oldShard != st.shard {
		return nil, fail(fmt.Sprintf("it is shard %v, this run is shard %v", oldShard, st.shard))
	}
	size := st.shard.Size(len(st.units))
	if len(old.Items) > size {
		return nil, fail(fmt.Sprintf("it holds %d units, more than the shard's %d", len(old.Items), size))
	}
	for k, r := range old.Items {
		u := st.units[st.shard.Item(k)]
		if r.Condition != st.conds[u.cond].Name || r.ID != st.items[u.item].ID {
			return nil, fail(fmt.Sprintf("its unit %d is (%s, %s), this job's is (%s, %s)", k, r.Condition, r.ID, st.conds[u.cond].Name, st.items[u.item].ID))
		}
	}
	return old.Items, nil
}

// sameJob reports the first difference between two jobs.
func sameJob(a, b *Job) error {
	for _, f := range []struct{ name, x, y string }{
		{"model fingerprint", a.ModelFingerprint, b.ModelFingerprint},
		{"data", a.DataDigest, b.DataDigest},
		{"neuron file sha256", a.NeuronsSHA256, b.NeuronsSHA256},
		{"settings", a.Settings, b.Settings},
		{"units", fmt.Sprint(a.Units), fmt.Sprint(b.Units)},
		{"conditions", a.Digest, b.Digest},
	} {
		if f.x != f.y {
			return fmt.Errorf("%s differs: %q vs %q", f.name, f.x, f.y)
		}
	}
	return nil
}

// Merge joins the results of every shard of one job into the results one
// run would have written: the same conditions, items in job order and
// cells. It refuses shards of different jobs, checkpoints, and a set of
// shards that is incomplete or holds one twice.
func Merge(parts ...*Results) (*Results, error) {
	if len(parts) == 0 {
		return nil, errors.New("evaluate: merge: no inputs")
	}
	first := parts[0]
	if first.Job == nil {
		return nil, errors.New("evaluate: merge: input 1 has no job description (written before sharding existed?)")
	}
	n := 0
	for i, p := range parts {
		switch {
		case p.Job == nil:
			return nil, fmt.Errorf("evaluate: merge: input %d has no job description", i+1)
		case p.Partial:
			return nil, fmt.Errorf("evaluate: merge: input %d is an unfinished checkpoint; finish it first", i+1)
		case p.Shard == nil:
			return nil, fmt.Errorf("evaluate: merge: input %d is a whole run, not a shard", i+1)
		}
		if err := sameJob(first.Job, p.Job); err != nil {
			return nil, fmt.Errorf("evaluate: merge: input %d is not from the same job as input 1: %w", i+1, err)
		}
		if i == 0 {
			n = p.Shard.Count
		}
		if p.Shard.Count != n || !p.Shard.Valid() {
			return nil, fmt.Errorf("evaluate: merge: input %d is shard %v, input 1 is of %d shards", i+1, *p.Shard, n)
		}
	}
	units := first.Job.Units
	if units < 0 {
		return nil, fmt.Errorf("evaluate: merge: input 1 declares %d units", units)
	}
	// Duplicates and gaps are found with a map of the given indices, never
	// by allocating n: a file may claim any shard count.
	given := map[int]int{}
	for i, p := range parts {
		if j, dup := given[p.Shard.Index]; dup {
			return nil, fmt.Errorf("evaluate: merge: shard %v is given twice (inputs %d and %d)", *p.Shard, j+1, i+1)
		}
		given[p.Shard.Index] = i
	}
	if n != len(parts) {
		for i := 0; ; i++ {
			if _, ok := given[i]; !ok {
				return nil, fmt.Errorf("evaluate: merge: shard %d/%d is missing", i, n)
			}
		}
	}
	byIndex := make([]*Results, n)
	for _, p := range parts {
		byIndex[p.Shard.Index] = p
	}
	for i, p := range byIndex {
		if p == nil {
			return nil, fmt.Errorf("evaluate: merge: shard %d/%d is missing", i, n)
		}
		if want := p.Shard.Size(units); len(p.Items) != want {
			return nil, fmt.Errorf("evaluate: merge: shard %v holds %d units, want %d", *p.Shard, len(p.Items), want)
		}
	}
	condAt := map[string]int{}
	for i, c := range first.Conditions {
		condAt[c.Name] = i
	}
	out := *first
	out.Shard, out.Partial, out.Cells, out.NaN = nil, false, nil, nil
	out.Items = make([]ItemResult, units)
	last := 0
	for k := range out.Items {
		r := byIndex[k%n].Items[k/n]
		c, ok := condAt[r.Condition]
		if !ok || c < last {
			return nil, fmt.Errorf("evaluate: merge: unit %d (condition %q, item %s) is out of the job's order", k, r.Condition, r.ID)
		}
		last = c
		out.Items[k] = r
	}
	(&setup{}).finish(&out)
	return &out, nil
}

// LoadResults reads a results file (whole run, shard or checkpoint).
func LoadResults(path string) (*Results, error) {
	b, err := os.ReadFile(path)
	if err != nil {
		return nil, err
	}
	var r Results
	if err := json.Unmarshal(b, &r); err != nil {
		return nil, fmt.Errorf("%s: %w", path, err)
	}
	if r.Format != "valueexp-results" {
		return nil, fmt.Errorf("%s: format %q is not valueexp-results", path, r.Format)
	}
	if r.Version != 1 {
		return nil, fmt.Errorf("%s: results version %d is not supported (want 1)", path, r.Version)
	}
	return &r, nil
}

// Marshal renders results as `valueexp evaluate` writes them.
func (r *Results) Marshal() ([]byte, error) {
	var buf bytes.Buffer
	b, err := json.MarshalIndent(r, "", " ")
	if err != nil {
		return nil, err
	}
	buf.Write(b)
	buf.WriteByte('\n')
	return buf.Bytes(), nil
}

// markNaN turns NaN shares into a marked, unanswered item: the orders that
// were NaN hold -1.
func markNaN(r *ItemResult) {
	for i, s := range r.Orders {
		if math.IsNaN(s) || math.IsInf(s, 0) {
			r.Orders[i] = -1
			r.NaN = true
		}
	}
	if r.NaN || math.IsNaN(r.Aligned) {
		r.NaN, r.Answered, r.Aligned = true, false, 0
	}
}

func nanItems(items []ItemResult) []NaNItem {
	var out []NaNItem
	for _, r := range items {
		if !r.NaN {
			continue
		}
		n := NaNItem{Condition: r.Condition, ID: r.ID, Orders: []int{}, Reason: r.Reason}
		for o, s := range r.Orders {
			if s == -1 {
				n.Orders = append(n.Orders, o)
			}
		}
		out = append(out, n)
	}
	return out
}
