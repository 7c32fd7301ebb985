// Package evaluate measures a model's value-driven decisions on C-voice
// evaluation dilemmas, plainly and with neuron sets switched off, and
// compares every deactivated set with a random set of the same per-layer
// sizes (valueexp/METHOD.md §4.5, §5.2).
//
// Two modes:
//
//   - likelihood: the dilemma is posed as a forced choice between A and B and
//     the model's own probability of the value-aligned letter is read from
//     its next-token distribution, P(aligned) = p(aligned letter) /
//     (p(A) + p(B)). No text is generated and nothing needs parsing.
//   - generate: the authors' prompt (two support percentages, then an
//     analysis) is answered greedily and the percentages are parsed; answers
//     without both percentages are counted as parse failures and left out.
//
// Metrics per (condition, evaluated value, language): the support rate, the
// mean share given to the aligned option ×100; the aligned-choice rate, the
// fraction of items where the aligned option gets more than half (ties
// count 0.5); and their changes against the plain model and against the
// random control. With SwapOrder every item is also asked with the options in
// the other order, and the two answers are averaged.
//
// # Long runs
//
// The work is a list of (condition, item) units, condition by condition.
// Run can take one shard of it (unit k goes to shard k mod n), saves the
// finished units to a checkpoint after every pass and resumes from it, and
// Merge joins the shards into the results one run would have written, byte
// for byte. A Job (model fingerprint, data digest, neuron file, settings)
// identifies what may be resumed or merged. Prompt prefixes shared by every
// question of a language, and by the two option orders of an item, run once
// and are cloned (see scorer); the numbers do not change.
package evaluate

import (
	"context"
	"errors"
	"fmt"
	"math"
	"strings"

	"github.com/valueexploration/valueexp/engine"
	"github.com/valueexploration/valueexp/hooks"
	"github.com/valueexploration/valueexp/tokenizer"
	"github.com/valueexploration/valueexp/valueexp/cvoice"
	"github.com/valueexploration/valueexp/valueexp/identify"
	"github.com/valueexploration/valueexp/valueexp/record"
	"github.com/valueexploration/valueexp/valueexp/selection"
)

// Mode is how a decision is read from the model.
type Mode string

// The evaluation modes.
const (
	Likelihood Mode = "likelihood"
	Generation Mode = "generate"
)

// Options control Run.
type Options struct {
	Mode Mode
	// SwapOrder also asks every item with the aligned option second.
	SwapOrder bool
	// MaxItems caps the items per value and language (0: all), taking the
	// first ones in data order, as the authors' scripts took the first 100.
	MaxItems int
	// MaxTokens is the generation budget in generate mode (default 250).
	MaxTokens int
	// Chat wraps prompts in the model's chat template; it must have one.
	Chat bool
	// RandomSeed seeds the random control sets.
	RandomSeed uint64
	// NoRandomControl skips the random control conditions.
	NoRandomControl bool
	// SameLanguage evaluates a per-language set ("诚信/zh") and its control
	// only on items of that language; by default every set is evaluated on
	// every language (the 2×2 design of valueexp/METHOD.md §3.7).
	SameLanguage bool
	// Progress, if set, is called after each batch with the (condition,
	// item) units of this shard done, resumed ones included, and in all.
	Progress func(done, total int)

	// Job identity, stored in the results and compared when resuming and
	// merging: the model's fingerprint (record.Fingerprint) and the neuron
	// file's SHA-256, as the caller computed them.
	ModelFingerprint string
	NeuronsSHA256    string
	// Shard is the part of the job to run (zero value: the whole job); the
	// (condition, item) units are dealt out in turn, unit k to shard k mod n.
	Shard record.Shard
	// Checkpoint, if set, is a file the run saves its finished units to
	// (atomically, after every pass) and resumes from when started again on
	// the same job and shard; Fresh ignores an existing one.
	Checkpoint string
	Fresh      bool
	// BatchTokens bounds the tokens of one forward pass (default 2048).
	BatchTokens int
	// Work, if set, receives the forward-pass tokens and passes per
	// condition of this run.
	Work *Work
}

// Condition is one way of running the model: plain, with a neuron set
// zeroed at mlp.hook_act, or with a random control set of the same sizes.
type Condition struct {
	Name      string `json:"name"`
	Kind      string `json:"kind"` // "none", "deactivate" or "random"
	Set       string `json:"set,omitempty"`
	Value     string `json:"value,omitempty"`    // the value the set belongs to, if its name says
	Language  string `json:"language,omitempty"` // the set's language, if its name says ("诚信/zh")
	Neurons   int    `json:"neurons"`
	ControlOf string `json:"control_of,omitempty"`
	Seed      uint64 `json:"seed,omitempty"`
	hooks     *hooks.Hooks
}

// Cell is the result for one condition, evaluated value and language.
type Cell struct {
	Condition         string   `json:"condition"`
	Value             string   `json:"value"`
	ValueEnglish      string   `json:"value_en"`
	Language          string   `json:"language"`
	Items             int      `json:"items"`
	Answered          int      `json:"answered"`
	ParseFailures     int      `json:"parse_failures"`
	ParseFailureRate  float64  `json:"parse_failure_rate"`
	SupportRate       float64  `json:"support_rate"`
	AlignedChoiceRate float64  `json:"aligned_choice_rate"`
	DeltaVsNone       *float64 `json:"delta_support_vs_none,omitempty"`
	DeltaVsRandom     *float64 `json:"delta_support_vs_random,omitempty"`
	// NaNItems lists the items whose model output was NaN. Such a cell's
	// rates are NaN in memory and null in JSON, and it has no deltas.
	NaNItems []string `json:"nan_items,omitempty"`
}

// ItemResult is one item's answer under one condition.
type ItemResult struct {
	Condition string `json:"condition"`
	ID        string `json:"id"`
	// Value (Chinese name) and Language of the item, so that per-item
	// results can be paired and grouped without the data file.
	Value    string `json:"value,omitempty"`
	Language string `json:"language,omitempty"`
	// Aligned is the share of support for the aligned option in [0, 1],
	// averaged over the option orders asked; NaN-free: unanswered items
	// have Answered false.
	Aligned  float64   `json:"aligned"`
	Orders   []float64 `json:"orders"` // per order asked: aligned share (-1: not parsed)
	Answered bool      `json:"answered"`
	Texts    []string  `json:"texts,omitempty"` // generate mode: the answers
	// NaN marks an item whose model output was NaN in some order (those
	// orders hold -1); it is not answered.
	NaN bool `json:"nan,omitempty"`
	// Reason says why the output was NaN: the engine's message naming the
	// layer (and the broken weights, when there are some).
	Reason string `json:"reason,omitempty"`
}

// Results is what Run returns and what `valueexp evaluate` writes as JSON.
type Results struct {
	Format    string `json:"format"`
	Version   int    `json:"version"`
	Model     string `json:"model"`
	Mode      Mode   `json:"mode"`
	SwapOrder bool   `json:"swap_order"`
	Chat      bool   `json:"chat"`
	MaxItems  int    `json:"max_items"`
	// SameLanguage: per-language sets were evaluated only in their language.
	SameLanguage bool         `json:"same_language"`
	Data         string       `json:"data"`
	Neurons      string       `json:"neurons,omitempty"`
	Conditions   []Condition  `json:"conditions"`
	Cells        []Cell       `json:"cells"`
	Items        []ItemResult `json:"items"`
	// Job identifies the evaluation job (model, data, neurons, settings);
	// resuming and merging compare it.
	Job *Job `json:"job,omitempty"`
	// Shard is set on the results of one shard of a job (Cells are then
	// empty until `valueexp merge` joins the shards); Partial marks a
	// checkpoint of an unfinished run.
	Shard   *record.Shard `json:"shard,omitempty"`
	Partial bool          `json:"partial,omitempty"`
	// NaN lists every (condition, item) whose model output was NaN.
	NaN []NaNItem `json:"nan_items,omitempty"`
}

// Conditions builds the conditions to run: the plain model, each named set
// of f zeroed at every position, and (unless disabled) for each such set a
// random set with the same per-layer sizes: the file's own controls when it
// has them, one condition per draw ("random:NAME", "random:NAME#2", ..., as
// `valueexp identify --random-control --random-draws K` writes), else one
// drawn here. names nil means every set except the "random:" ones. A name
// may also be a value, in Chinese or English ("诚信", "Integrity"): it
// stands for every set of that value ("诚信/zh", "诚信/en").
func Conditions(f *hooks.NeuronSetFile, names []string, shape hooks.ModelShape, opt Options) ([]Condition, error) {
	conds := []Condition{{Name: "none", Kind: "none"}}
	if f == nil {
		return conds, nil
	}
	if err := f.Validate(shape); err != nil {
		return nil, err
	}
	names, err := expandNames(f, names)
	if err != nil {
		return nil, err
	}
	for i, name := range names {
		set, ok := f.Find(name)
		if !ok {
			return nil, fmt.Errorf("neuron set %q not found in the file", name)
		}
		site, err := set.ParsedSite()
		if err != nil {
			return nil, err
		}
		if site != hooks.SiteMLPAct && !(site == hooks.SiteExpertAct && shape.Experts > 0) {
			return nil, fmt.Errorf("neuron set %q is at %s; deactivation uses mlp.hook_act (mlp.experts.hook_act for a mixture of experts)", name, set.Site)
		}
		value, lang := "", ""
		base, suffix, _ := strings.Cut(name, "/")
		if v, ok := cvoice.LookupValue(base); ok {
			value = v.Chinese()
		}
		if suffix == string(cvoice.LangChinese) || suffix == string(cvoice.LangEnglish) {
			lang = suffix
		}
		h := hooks.New(shape.Layers)
		if err := hooks.ZeroSets(h, f, []string{name}, hooks.When{}); err != nil {
			return nil, err
		}
		conds = append(conds, Condition{Name: name, Kind: "deactivate", Set: name, Value: value, Language: lang, Neurons: set.Size(), hooks: h})
		if opt.NoRandomControl {
			continue
		}
		if owns := identify.ControlsOf(f, name); len(owns) > 0 {
			// One condition per draw ("random:NAME", "random:NAME#2", ...),
			// so the control has its own spread.
			for _, own := range owns {
				rh := hooks.New(shape.Layers)
				if err := hooks.ZeroSets(rh, f, []string{own.Name}, hooks.When{}); err != nil {
					return nil, err
				}
				conds = append(conds, Condition{Name: own.Name, Kind: "random", Set: own.Name, Value: value, Language: lang, Neurons: own.Size(), ControlOf: name, hooks: rh})
			}
			continue
		}
		if site == hooks.SiteExpertAct {
			c, err := expertControl(f, set, shape, opt.RandomSeed+uint64(i))
			if err != nil {
				return nil, err
			}
			c.Value, c.Language = value, lang
			conds = append(conds, c)
			continue
		}
		sel := &selection.Selection{Tags: []string{name}, Layers: shape.Layers, Dim: shape.DMLP, Neurons: [][][]int32{make([][]int32, shape.Layers)}}
		for _, l := range set.Layers {
			sel.Neurons[0][l.Layer] = l.Indices
		}
		seed := opt.RandomSeed + uint64(i)
		rnd, err := selection.RandomControl(sel, seed, shape.DMLP)
		if err != nil {
			return nil, err
		}
		rh := hooks.New(shape.Layers)
		idx := map[int][]int32{}
		for l, ids := range rnd.Neurons[0] {
			if len(ids) > 0 {
				idx[l] = ids
			}
		}
		if len(idx) > 0 {
			edit, err := hooks.NewNeuronEdit(hooks.OpZero, 0, idx, hooks.When{})
			if err != nil {
				return nil, err
			}
			if err := rh.Edit("blocks.*.mlp.hook_act", edit); err != nil {
				return nil, err
			}
		}
		conds = append(conds, Condition{Name: "random:" + name, Kind: "random", Set: name, Value: value, Language: lang, Neurons: rnd.Size(0), ControlOf: name, Seed: seed, hooks: rh})
	}
	return conds, nil
}

// expandNames resolves set names: nil means every set but the random
// controls; a value name means every set of that value.
func expandNames(f *hooks.NeuronSetFile, names []string) ([]string, error) {
	var out []string
	if names == nil {
		for _, s := range f.NeuronSets {
			if !strings.HasPrefix(s.Name, "random:") {
				out = append(out, s.Name)
			}
		}
		return out, nil
	}
	for _, n := range names {
		n = strings.TrimSpace(n)
		if _, ok := f.Find(n); ok {
			out = append(out, n)
			continue
		}
		v, ok := cvoice.LookupValue(n)
		if !ok {
			return nil, fmt.Errorf("neuron set %q not found in the file, and it is not a value name", n)
		}
		found := false
		for _, s := range f.NeuronSets {
			base, _, _ := strings.Cut(s.Name, "/")
			if sv, ok := cvoice.LookupValue(base); ok && sv == v && !strings.HasPrefix(s.Name, "random:") {
				out = append(out, s.Name)
				found = true
			}
		}
		if !found {
			return nil, fmt.Errorf("no neuron set of value %s in the file", v.Chinese())
		}
	}
	return out, nil
}

// evaluationItems returns the evaluation items, at most max per value and
// language, in data order.
func evaluationItems(data *cvoice.Dataset, max int) []cvoice.Item {
	seen := map[string]int{}
	var out []cvoice.Item
	for it := range data.OfSplit(cvoice.Evaluation).All() {
		key := fmt.Sprint(it.Value, it.Language)
		if max > 0 && seen[key] >= max {
			continue
		}
		seen[key]++
		out = append(out, it)
	}
	return out
}

// prompt renders the question for one item, with the aligned option first
// (swapped false) or second.
func prompt(tok *tokenizer.Tokenizer, it cvoice.Item, swapped bool, mode Mode, chat bool) (string, error) {
	a, b := it.Aligned, it.Violating
	if swapped {
		a, b = b, a
	}
	switch mode {
	case Generation:
		user := authorsUserMessage(it.Language, it.Context, a, b)
		system := systemEN
		if it.Language == cvoice.LangChinese {
			system = systemZH
		}
		if !chat {
			return system + "\n\n" + user, nil
		}
		return tok.RenderChat([]tokenizer.Message{{Role: "system", Content: system}, {Role: "user", Content: user}}, true)
	default:
		q := choicePrompt(it.Language, it.Context, a, b)
		if !chat {
			return q + answerCue(it.Language), nil
		}
		return tok.RenderChat([]tokenizer.Message{{Role: "user", Content: q}}, true)
	}
}

func encode(tok *tokenizer.Tokenizer, text string, chat bool) []int32 {
	// A rendered template carries its own special tokens; plain text gets the
	// model's BOS rule.
	return tok.Encode(text, tokenizer.EncodeOptions{AddSpecial: !chat, ParseSpecial: chat})
}

// splitOptions tokenizes prompt+"A" and prompt+"B" and splits both into the
// longest common prefix and the two continuations, so that tokenizers that
// merge the letter with the text before it are scored correctly.
func splitOptions(tok *tokenizer.Tokenizer, text string, chat bool) ([]int32, [2][]int32, error) {
	ia, ib := encode(tok, text+"A", chat), encode(tok, text+"B", chat)
	k := 0
	for k < len(ia) && k < len(ib) && ia[k] == ib[k] {
		k++
	}
	if k == 0 || k == len(ia) || k == len(ib) {
		return nil, [2][]int32{}, fmt.Errorf("cannot separate the answers A and B after the prompt")
	}
	return ia[:k], [2][]int32{ia[k:], ib[k:]}, nil
}

// generate answers the authors' prompt for items, eight prompts per
// Generate call, and emits each item's result, in order, once all its
// orders are answered. Dry, it counts the prompt tokens and the most
// decode steps instead.
func generate(ctx context.Context, m *engine.Model, tok *tokenizer.Tokenizer, items []cvoice.Item, orders []bool, c Condition, opt Options, dry bool, work *CondWork, emit func(ItemResult) error, passDone func() error) error {
	const batch = 8
	type job struct {
		item    int
		swapped bool
	}
	var jobs []job
	for i := range items {
		for _, s := range orders {
			jobs = append(jobs, job{i, s})
		}
	}
	// Tokenize every prompt first: the system prompt and template head
	// every prompt of a language starts with are run once and cloned.
	toks := make([][]int32, len(jobs))
	heads := map[cvoice.Language][]int32{}
	var langs []cvoice.Language
	for k, j := range jobs {
		text, err := prompt(tok, items[j.item], j.swapped, Generation, opt.Chat)
		if err != nil {
			return fmt.Errorf("item %s: %w", items[j.item].ID, err)
		}
		toks[k] = encode(tok, text, opt.Chat)
		if len(toks[k]) == 0 {
			return fmt.Errorf("item %s: empty prompt", items[j.item].ID)
		}
		l := items[j.item].Language
		h, ok := heads[l]
		if !ok {
			heads[l] = toks[k][:len(toks[k])-1]
			langs = append(langs, l)
			continue
		}
		heads[l] = h[:commonPrefix(h, toks[k][:len(toks[k])-1])]
	}
	headSeqs := map[cvoice.Language]*engine.Sequence{}
	var in []engine.Input
	for _, l := range langs {
		if len(heads[l]) == 0 {
			continue
		}
		if !dry {
			headSeqs[l] = m.NewSequence()
		}
		in = append(in, engine.Input{Seq: headSeqs[l], Tokens: heads[l], Tag: -1, Logits: engine.NoLogits})
		work.Tokens += int64(len(heads[l]))
	}
	if len(in) > 0 {
		work.Passes++
		if !dry {
			if _, err := m.Forward(ctx, in, engine.RunOptions{Hooks: c.hooks}); err != nil {
				var nf *engine.NonFiniteError
				if !errors.As(err, &nf) {
					return err
				}
				// A broken head: run every prompt in full, so that the
				// prompts that are fine alone still get their answers.
				headSeqs = map[cvoice.Language]*engine.Sequence{}
				heads = map[cvoice.Language][]int32{}
			}
		}
	}
	cur := ItemResult{}
	for lo := 0; lo < len(jobs); lo += batch {
		hi := min(lo+batch, len(jobs))
		var prompts []engine.Prompt
		for k, j := range jobs[lo:hi] {
			p := engine.Prompt{Tokens: toks[lo+k], Tag: -1}
			l := items[j.item].Language
			if hs := headSeqs[l]; hs != nil {
				p.Seq = hs.Clone()
			}
			prompts = append(prompts, p)
			work.Tokens += int64(len(p.Tokens) - len(heads[l]))
			work.Unshared += int64(len(p.Tokens))
		}
		work.Passes++
		if dry {
			work.MaxDecodeTokens += int64(len(prompts) * opt.MaxTokens)
			for k, j := range jobs[lo:hi] {
				if lo+k == len(jobs)-1 || jobs[lo+k+1].item != j.item {
					if err := emit(ItemResult{}); err != nil {
						return err
					}
				}
			}
			continue
		}
		gopt := engine.GenerateOptions{MaxTokens: opt.MaxTokens, StopTokens: tok.EOS(), Decoder: tok, Hooks: c.hooks}
		comps, err := m.Generate(ctx, prompts, gopt)
		var reasons []string // per prompt of the batch: why it was NaN
		var nf *engine.NonFiniteError
		if err != nil && errors.As(err, &nf) {
			// Run the batch's prompts one at a time: only those that fail
			// alone are NaN, the others get the answer they would get in
			// any batch.
			comps, reasons = make([]engine.Completion, len(prompts)), make([]string, len(prompts))
			for k, j := range jobs[lo:hi] {
				p := engine.Prompt{Tokens: toks[lo+k], Tag: -1}
				if hs := headSeqs[items[j.item].Language]; hs != nil {
					p.Seq = hs.Clone()
				}
				one, err := m.Generate(ctx, []engine.Prompt{p}, gopt)
				switch {
				case err == nil:
					comps[k] = one[0]
				case errors.As(err, &nf):
					reasons[k] = nf.Error()
				default:
					return err
				}
			}
			err = nil
		}
		if err != nil {
			return err
		}
		for k, j := range jobs[lo:hi] {
			work.DecodeTokens += int64(len(comps[k].Tokens))
			if cur.ID == "" {
				cur = ItemResult{Condition: c.Name, ID: items[j.item].ID}
			}
			cur.Texts = append(cur.Texts, comps[k].Text)
			a, b, ok := parseSupport(comps[k].Text)
			share := -1.0
			switch {
			case reasons != nil && reasons[k] != "":
				// markNaN (in emit) turns the NaN into a marked order.
				share = math.NaN()
				if cur.Reason == "" {
					cur.Reason = reasons[k]
				}
			case ok:
				share = a / (a + b)
				if j.swapped {
					share = b / (a + b)
				}
			}
			cur.Orders = append(cur.Orders, share)
			if lo+k < len(jobs)-1 && jobs[lo+k+1].item == j.item {
				continue
			}
			var ok2 []float64
			for _, s := range cur.Orders {
				if s >= 0 {
					ok2 = append(ok2, s)
				}
			}
			// An item counts as answered only when every order it was asked in parsed.
			cur.Answered = len(ok2) == len(cur.Orders)
			if cur.Answered {
				cur.Aligned = mean(ok2)
			}
			if err := emit(cur); err != nil {
				return err
			}
			cur = ItemResult{}
		}
		if err := passDone(); err != nil {
			return err
		}
	}
	return nil
}

func logProb(logits []float32, tok int32) float64 {
	maxv := math.Inf(-1)
	for _, v := range logits {
		maxv = math.Max(maxv, float64(v))
	}
	var sum float64
	for _, v := range logits {
		sum += math.Exp(float64(v) - maxv)
	}
	return float64(logits[tok]) - maxv - math.Log(sum)
}

func mean(x []float64) float64 {
	if len(x) == 0 {
		return 0
	}
	var s float64
	for _, v := range x {
		s += v
	}
	return s / float64(len(x))
}

// expertControl draws the random control of a set of expert neurons: as
// many neurons in each (layer, expert) as the set has there, drawn outside
// the set within that expert (selection.RandomControl over the experts as
// layers of their own).
func expertControl(f *hooks.NeuronSetFile, set *hooks.NeuronSet, shape hooks.ModelShape, seed uint64) (Condition, error) {
	E := shape.Experts
	sel := &selection.Selection{Tags: []string{set.Name}, Layers: shape.Layers * E, Dim: shape.DMLP, Neurons: [][][]int32{make([][]int32, shape.Layers*E)}}
	for _, l := range set.Layers {
		if l.Expert == nil || *l.Expert < 0 || *l.Expert >= E || l.Layer < 0 || l.Layer >= shape.Layers {
			return Condition{}, fmt.Errorf("neuron set %q: layer %d has no expert in range [0, %d)", set.Name, l.Layer, E)
		}
		sel.Neurons[0][l.Layer*E+*l.Expert] = l.Indices
	}
	rnd, err := selection.RandomControl(sel, seed, shape.DMLP)
	if err != nil {
		return Condition{}, err
	}
	ctl := hooks.NeuronSet{Name: "random:" + set.Name, Site: set.Site}
	for v, ids := range rnd.Neurons[0] {
		if len(ids) > 0 {
			e := v % E
			ctl.Layers = append(ctl.Layers, hooks.LayerIndices{Layer: v / E, Expert: &e, Indices: ids})
		}
	}
	rh := hooks.New(shape.Layers)
	cf := &hooks.NeuronSetFile{Format: f.Format, Version: f.Version, NeuronSets: []hooks.NeuronSet{ctl}}
	if err := hooks.ZeroSets(rh, cf, nil, hooks.When{}); err != nil {
		return Condition{}, err
	}
	return Condition{Name: ctl.Name, Kind: "random", Set: set.Name, Neurons: rnd.Size(0), ControlOf: set.Name, Seed: seed, hooks: rh}, nil
}
