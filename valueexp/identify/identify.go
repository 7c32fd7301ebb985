// Package identify turns activation counts into neuron-set files: it reads
// counts (from valueexp record, or the authors' and LAPE's torch.save
// files), groups the tags (per language, or pooled over languages), runs a
// selection method from package selection on each group, optionally adds
// random same-size controls, and writes the result as a hooks.NeuronSetFile
// whose set names are the tags. It is the library behind "valueexp identify".
package identify

import (
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"math"
	"os"
	"path/filepath"
	"slices"
	"strconv"
	"strings"

	"github.com/valueexploration/valueexp/hooks"
	"github.com/valueexploration/valueexp/valueexp/record"
	"github.com/valueexploration/valueexp/valueexp/selection"
	"github.com/valueexploration/valueexp/valueexp/torchfile"
)

// Source describes where counts came from, for the output's provenance and
// model shape.
type Source struct {
	Files  []string          // the counts files, as given
	SHA256 []string          // their digests, in the same order
	Shape  *hooks.ModelShape // the model's shape, when the files record it
	// Incomplete is set when the counts cover only part of their job
	// (accepted only with RecordOptions.AllowIncomplete); it is written
	// into every set's provenance.
	Incomplete *Coverage
}

// Coverage says how many of a job's items some counts hold.
type Coverage struct {
	Items int `json:"items"` // items counted
	Of    int `json:"of"`    // items of the whole job
}

// ErrIncomplete is returned (wrapped) by LoadRecord for counts that cover
// only part of their job.
var ErrIncomplete = errors.New("identify: incomplete counts")

// RecordOptions configure LoadRecordWith.
type RecordOptions struct {
	// AllowIncomplete accepts counts that cover only some of their job's
	// items (a merge of some of the shards); the selection then rests on
	// part of the data, which the output's provenance records.
	AllowIncomplete bool
}

// FileSHA256 returns the hex SHA-256 of a file's bytes.
func FileSHA256(path string) (string, error) {
	f, err := os.Open(path)
	if err != nil {
		return "", fmt.Errorf("identify: %w", err)
	}
	defer f.Close()
	h := sha256.New()
	if _, err := io.Copy(h, f); err != nil {
		return "", fmt.Errorf("identify: %s: %w", path, err)
	}
	return hex.EncodeToString(h.Sum(nil)), nil
}

// FromRecord converts a record counts file into selection counts: one tag per
// counted tag, normalised by its token total (every layer counts the same
// tokens) or, in legacy mode, by its number of items.
//
// The counts of a mixture of experts' neurons come out with one layer per
// (layer, expert) pair, layer·experts + expert, each normalised by the
// tokens routed to that expert (selection.Counts.GroupTokens);
// NeuronSets turns such layers back into experts.
func FromRecord(c *record.Counts) (selection.Counts, error) {
	p := c.Prob
	if p.Experts > 0 {
		return fromExpertRecord(c)
	}
	out := selection.Counts{Tags: slices.Clone(p.TagNames), Layers: p.Layers, Dim: p.Dim}
	n := p.Layers * p.Dim
	for k := range p.Tags {
		oz := make([]int64, n)
		for i, v := range p.Count[k*n : (k+1)*n] {
			oz[i] = int64(v)
		}
		tok := p.Tokens[k*p.Layers]
		for l := 1; l < p.Layers; l++ {
			if p.Tokens[k*p.Layers+l] != tok {
				return selection.Counts{}, fmt.Errorf("identify: tag %q: layer %d counted %d tokens, layer 0 %d; the counts are inconsistent",
					p.TagNames[k], l, p.Tokens[k*p.Layers+l], tok)
			}
		}
		out.OverZero = append(out.OverZero, oz)
		out.Tokens = append(out.Tokens, float64(tok))
		out.Questions = append(out.Questions, c.Manifest.ItemsPerTag[k])
	}
	return out, nil
}

// LoadRecord reads a record counts file and converts it (FromRecord). It
// refuses counts that cover only part of their job (see LoadRecordWith).
func LoadRecord(path string) (selection.Counts, Source, error) {
	return LoadRecordWith(path, RecordOptions{})
}

// LoadRecordWith is LoadRecord with options.
func LoadRecordWith(path string, opt RecordOptions) (selection.Counts, Source, error) {
	c, err := record.Load(path)
	if err != nil {
		return selection.Counts{}, Source{}, err
	}
	if c.Manifest.Partial {
		return selection.Counts{}, Source{}, fmt.Errorf("identify: %s is an unfinished checkpoint of shard %v; finish the run first", path, c.Manifest.Shard)
	}
	var incomplete *Coverage
	if !c.Manifest.Complete {
		incomplete = &Coverage{Items: c.Manifest.Coverage.Items(), Of: c.Manifest.Items}
		if !opt.AllowIncomplete {
			return selection.Counts{}, Source{}, fmt.Errorf("%w: %s holds %d of the job's %d items (shard %v); merge the remaining shards into it, or allow incomplete counts explicitly",
				ErrIncomplete, path, incomplete.Items, incomplete.Of, c.Manifest.Shard)
		}
	}
	sc, err := FromRecord(c)
	if err != nil {
		return selection.Counts{}, Source{}, fmt.Errorf("%w (file %s)", err, path)
	}
	sum, err := FileSHA256(path)
	if err != nil {
		return selection.Counts{}, Source{}, err
	}
	shape := c.Manifest.Shape
	return sc, Source{Files: []string{path}, SHA256: []string{sum}, Shape: &shape, Incomplete: incomplete}, nil
}

// PTTag names the tag of a torch.save counts file after the file:
// ".../富强-support.pt" gives "富强-support".
func PTTag(path string) string {
	return strings.TrimSuffix(filepath.Base(path), ".pt")
}

// LoadPT reads the authors' or LAPE's torch.save count files, one tag per
// file in the order given: a dict with "over_zero" (int [layers, dim]),
// "token_num" and, for the authors' files, "question_num". All files must
// have the same shape and distinct names.
func LoadPT(paths ...string) (selection.Counts, Source, error) {
	var c selection.Counts
	var src Source
	if len(paths) == 0 {
		return c, src, fmt.Errorf("identify: no .pt files")
	}
	for _, path := range paths {
		tag := PTTag(path)
		if slices.Contains(c.Tags, tag) {
			return c, src, fmt.Errorf("identify: %s: tag %q given twice", path, tag)
		}
		v, err := torchfile.Load(path)
		if err != nil {
			return c, src, err
		}
		oz, layers, dim, tokens, questions, err := ptFields(v)
		if err != nil {
			return c, src, fmt.Errorf("identify: %s: %w", path, err)
		}
		if len(c.Tags) == 0 {
			c.Layers, c.Dim = layers, dim
		} else if layers != c.Layers || dim != c.Dim {
			return c, src, fmt.Errorf("identify: %s: over_zero is [%d, %d], %s is [%d, %d]", path, layers, dim, paths[0], c.Layers, c.Dim)
		}
		sum, err := FileSHA256(path)
		if err != nil {
			return c, src, err
		}
		c.Tags = append(c.Tags, tag)
		c.OverZero = append(c.OverZero, oz)
		c.Tokens = append(c.Tokens, tokens)
		c.Questions = append(c.Questions, questions)
		src.Files = append(src.Files, path)
		src.SHA256 = append(src.SHA256, sum)
	}
	return c, src, nil
}

// ptFields extracts the counts from an unpickled torch.save dict.
func ptFields(v any) (oz []int64, layers, dim int, tokens float64, questions int64, err error) {
	m, ok := v.(map[string]any)
	if !ok {
		return nil, 0, 0, 0, 0, fmt.Errorf("top level is %T, want a dict", v)
	}
	t, ok := m["over_zero"].(*torchfile.Tensor)
	if !ok {
		return nil, 0, 0, 0, 0, fmt.Errorf("key \"over_zero\" is missing or not a tensor")
	}
	if len(t.Shape) != 2 {
		return nil, 0, 0, 0, 0, fmt.Errorf("over_zero has shape %v, want [layers, dim]", t.Shape)
	}
	if oz, err = t.Int64s(); err != nil {
		return nil, 0, 0, 0, 0, fmt.Errorf("over_zero: %w", err)
	}
	switch x := m["token_num"].(type) {
	case float64:
		tokens = x
	case int64:
		tokens = float64(x)
	case *torchfile.Tensor:
		f, err := x.Float64s()
		if err != nil || len(f) != 1 {
			return nil, 0, 0, 0, 0, fmt.Errorf("token_num: want one number (%v)", err)
		}
		tokens = f[0]
	default:
		return nil, 0, 0, 0, 0, fmt.Errorf("key \"token_num\" is missing or %T", x)
	}
	switch x := m["question_num"].(type) {
	case nil:
	case int64:
		questions = x
	case float64:
		if x != math.Trunc(x) {
			return nil, 0, 0, 0, 0, fmt.Errorf("question_num %v is not an integer", x)
		}
		questions = int64(x)
	default:
		return nil, 0, 0, 0, 0, fmt.Errorf("question_num is %T", x)
	}
	// Every count is a number of tokens on which a neuron fired, so it
	// lies in [0, token_num]; a file that says otherwise would give
	// probabilities above 1.
	if !(tokens >= 0 && tokens <= 1<<53) {
		return nil, 0, 0, 0, 0, fmt.Errorf("token_num %v is not a token count", tokens)
	}
	if questions < 0 {
		return nil, 0, 0, 0, 0, fmt.Errorf("question_num %d is negative", questions)
	}
	for i, v := range oz {
		if v < 0 || float64(v) > tokens {
			return nil, 0, 0, 0, 0, fmt.Errorf("over_zero[%d][%d] = %d is outside [0, token_num = %v]", i/t.Shape[1], i%t.Shape[1], v, tokens)
		}
	}
	return oz, t.Shape[0], t.Shape[1], tokens, questions, nil
}

// Grouping says which tags compete in one selection.
type Grouping int

const (
	// PerLanguage runs one selection per language suffix ("诚信/zh" with
	// the other "/zh" tags), valueexp/METHOD.md §3.7; tags without a suffix form one
	// group.
	PerLanguage Grouping = iota
	// Pooled first sums each value's languages into one tag ("诚信"), then
	// runs one selection.
	Pooled
)

// Groups splits (PerLanguage) or pools (Pooled) c's tags.
func Groups(c selection.Counts, g Grouping) ([]selection.Counts, error) {
	switch g {
	case PerLanguage:
		var order []string
		idx := map[string][]int{}
		for k, tag := range c.Tags {
			_, lang := record.SplitTag(tag)
			if _, ok := idx[lang]; !ok {
				order = append(order, lang)
			}
			idx[lang] = append(idx[lang], k)
		}
		out := make([]selection.Counts, 0, len(order))
		for _, lang := range order {
			out = append(out, subset(c, idx[lang]))
		}
		return out, nil
	case Pooled:
		return []selection.Counts{pool(c)}, nil
	}
	return nil, fmt.Errorf("identify: unknown grouping %d", int(g))
}

// subset returns the tags idx of c.
func subset(c selection.Counts, idx []int) selection.Counts {
	s := selection.Counts{Layers: c.Layers, Dim: c.Dim}
	for _, k := range idx {
		s.Tags = append(s.Tags, c.Tags[k])
		s.OverZero = append(s.OverZero, c.OverZero[k])
		if k < len(c.Tokens) {
			s.Tokens = append(s.Tokens, c.Tokens[k])
		}
		if k < len(c.Questions) {
			s.Questions = append(s.Questions, c.Questions[k])
		}
		if c.GroupTokens != nil {
			s.GroupTokens = append(s.GroupTokens, c.GroupTokens[k])
		}
	}
	return s
}

// pool sums the tags that differ only in their language suffix.
func pool(c selection.Counts) selection.Counts {
	p := selection.Counts{Layers: c.Layers, Dim: c.Dim}
	at := map[string]int{}
	for k, tag := range c.Tags {
		v, _ := record.SplitTag(tag)
		i, ok := at[v]
		if !ok {
			i = len(p.Tags)
			at[v] = i
			p.Tags = append(p.Tags, v)
			p.OverZero = append(p.OverZero, make([]int64, c.Layers*c.Dim))
			p.Tokens = append(p.Tokens, 0)
			p.Questions = append(p.Questions, 0)
			if c.GroupTokens != nil {
				p.GroupTokens = append(p.GroupTokens, make([]float64, c.Layers))
			}
		}
		if c.GroupTokens != nil {
			for l, x := range c.GroupTokens[k] {
				p.GroupTokens[i][l] += x
			}
		}
		for j, x := range c.OverZero[k] {
			p.OverZero[i][j] += x
		}
		if k < len(c.Tokens) {
			p.Tokens[i] += c.Tokens[k]
		}
		if k < len(c.Questions) {
			p.Questions[i] += c.Questions[k]
		}
	}
	return p
}

// Method is a selection method.
type Method string

// The methods.
const (
	VAPE Method = "vape" // entropy over the group's tags (LAPE selection)
	Diff Method = "diff" // two-way activation difference
)

// Options configure Identify.
type Options struct {
	Method   Method
	Grouping Grouping
	// VAPE holds VAPE's rates and the normaliser of both methods.
	VAPE selection.VAPEParams
	// Diff holds the difference selection's TopN and MinDelta.
	Diff selection.DiffParams
	// Pos and Neg are the tag groups of a diff; when both are empty, each
	// tag of a group is set against the rest of its group.
	Pos, Neg []string
	// RandomControl adds, for every set, RandomDraws random sets with the
	// same per-layer sizes (ControlName names them), drawn uniformly from
	// the neurons in no set of the result, or from all neurons with
	// RandomFromAll. Draw 1 is seeded by Seed plus the group's index, as
	// before several draws existed; draw d by that plus (d−1)·drawStride.
	RandomControl bool
	Seed          uint64
	// RandomDraws is the number of control draws per set (0: DefaultRandomDraws).
	RandomDraws int
	// RandomFromAll draws controls from every neuron of the layer, the
	// earlier behaviour, so a control may share neurons with value sets.
	RandomFromAll bool
}

// DefaultRandomDraws is the number of random control draws per set: enough
// for the control to show its own spread.
const DefaultRandomDraws = 3

// drawStride separates the seeds of successive draws (the 64-bit golden
// ratio, so draws of neighbouring groups never share a seed in practice).
const drawStride = 0x9e3779b97f4a7c15

// RandomPrefix starts the name of a random control set.
const RandomPrefix = "random:"

// ControlName names draw (1-based) of the random control of set name:
// "random:NAME" for the first draw, the name files written before several
// draws existed use, and "random:NAME#d" for draw d ≥ 2.
func ControlName(name string, draw int) string {
	if draw <= 1 {
		return RandomPrefix + name
	}
	return fmt.Sprintf("%s%s#%d", RandomPrefix, name, draw)
}

// ParseControlName is the inverse of ControlName: the controlled set's name
// and the draw, or ok false for a name that is not a control's.
func ParseControlName(s string) (name string, draw int, ok bool) {
	rest, ok := strings.CutPrefix(s, RandomPrefix)
	if !ok || rest == "" {
		return "", 0, false
	}
	if i := strings.LastIndexByte(rest, '#'); i > 0 {
		if d, err := strconv.Atoi(rest[i+1:]); err == nil && d >= 2 && rest[i+1] != '0' {
			return rest[:i], d, true
		}
	}
	return rest, 1, true
}

// ControlsOf returns the random controls of set name in f, in draw order.
func ControlsOf(f *hooks.NeuronSetFile, name string) []*hooks.NeuronSet {
	type drawn struct {
		draw int
		set  *hooks.NeuronSet
	}
	var found []drawn
	for i := range f.NeuronSets {
		full := f.NeuronSets[i].Name
		if full == RandomPrefix+name {
			// Draw 1, even when name itself ends in "#d".
			found = append(found, drawn{1, &f.NeuronSets[i]})
		} else if n, d, ok := ParseControlName(full); ok && n == name && d > 1 {
			found = append(found, drawn{d, &f.NeuronSets[i]})
		}
	}
	slices.SortFunc(found, func(a, b drawn) int { return a.draw - b.draw })
	out := make([]*hooks.NeuronSet, len(found))
	for i, d := range found {
		out[i] = d.set
	}
	return out
}

// Control is one draw of the random control of one selection.
type Control struct {
	Of   int // index into Result.Sets
	Draw int // 1-based
	*selection.Selection
}

// Result is the neuron sets of one Identify call.
type Result struct {
	Sets    []*selection.Selection // one per group (per tag for one-vs-rest diffs)
	Randoms []Control              // random controls, if asked for: every draw of every set, draw-major
}

// Identify runs the method on c's groups.
func Identify(c selection.Counts, opt Options) (*Result, error) {
	groups, err := Groups(c, opt.Grouping)
	if err != nil {
		return nil, err
	}
	if opt.Method == Diff && (len(opt.Pos) > 0 || len(opt.Neg) > 0) {
		if len(opt.Pos) == 0 || len(opt.Neg) == 0 {
			return nil, fmt.Errorf("identify: diff needs both a positive and a negative tag group")
		}
		if opt.Grouping == Pooled {
			groups = groups[:1]
		} else {
			groups = []selection.Counts{c}
		}
	}
	res := &Result{}
	var groupOf []int // group index of each of res.Sets, for the control seeds
	for gi, g := range groups {
		var sels []*selection.Selection
		switch opt.Method {
		case VAPE:
			if err := nonEmpty(g, opt.VAPE.Normaliser); err != nil {
				return nil, err
			}
			s, err := selection.VAPE(g, opt.VAPE)
			if err != nil {
				return nil, fmt.Errorf("identify: group %q: %w", g.Tags, err)
			}
			sels = append(sels, s)
		case Diff:
			p := opt.Diff
			p.Normaliser = opt.VAPE.Normaliser
			if len(opt.Pos) > 0 {
				s, err := selection.Diff(g, opt.Pos, opt.Neg, p)
				if err != nil {
					return nil, fmt.Errorf("identify: %w", err)
				}
				sels = append(sels, s)
				break
			}
			if len(g.Tags) < 2 {
				return nil, fmt.Errorf("identify: diff: group %q has one tag; nothing to compare it with", g.Tags)
			}
			for k, tag := range g.Tags {
				rest := slices.Delete(slices.Clone(g.Tags), k, k+1)
				s, err := selection.Diff(g, []string{tag}, rest, p)
				if err != nil {
					return nil, fmt.Errorf("identify: diff %q vs the rest: %w", tag, err)
				}
				// Keep the tag's own side, named after the tag.
				s.Tags, s.Neurons = []string{tag}, s.Neurons[:1]
				sels = append(sels, s)
			}
		default:
			return nil, fmt.Errorf("identify: unknown method %q (want vape or diff)", opt.Method)
		}
		for _, s := range sels {
			if err := s.Validate(); err != nil {
				return nil, fmt.Errorf("identify: %w", err)
			}
			res.Sets = append(res.Sets, s)
			groupOf = append(groupOf, gi)
		}
	}
	if opt.RandomControl {
		if err := res.addControls(groupOf, c.Layers, c.Dim, opt); err != nil {
			return nil, err
		}
	}
	return res, nil
}

// addControls draws opt.RandomDraws random controls for every set, from
// the neurons in none of the result's sets unless opt.RandomFromAll.
func (res *Result) addControls(groupOf []int, layers, dim int, opt Options) error {
	draws := opt.RandomDraws
	if draws == 0 {
		draws = DefaultRandomDraws
	}
	if draws < 0 {
		return fmt.Errorf("identify: %d random draws", draws)
	}
	var exclude [][]int32
	if !opt.RandomFromAll {
		exclude = make([][]int32, layers)
		for _, s := range res.Sets {
			for _, tag := range s.Neurons {
				for l, ids := range tag {
					exclude[l] = append(exclude[l], ids...)
				}
			}
		}
	}
	for d := 1; d <= draws; d++ {
		for i, s := range res.Sets {
			seed := opt.Seed + uint64(groupOf[i]) + uint64(d-1)*drawStride
			var r *selection.Selection
			var err error
			if opt.RandomFromAll {
				r, err = selection.RandomControl(s, seed, dim)
			} else {
				r, err = selection.RandomControlOutside(s, seed, dim, exclude)
			}
			if err != nil {
				if !opt.RandomFromAll {
					err = fmt.Errorf("%w (draw from all neurons instead with --random-from all)", err)
				}
				return fmt.Errorf("identify: %w", err)
			}
			res.Randoms = append(res.Randoms, Control{Of: i, Draw: d, Selection: r})
		}
	}
	return nil
}

// nonEmpty names a tag with nothing to normalise by, which would otherwise
// surface as a bare "normaliser 0" from the selection.
func nonEmpty(g selection.Counts, n selection.Normaliser) error {
	for k, tag := range g.Tags {
		if n == selection.ByTokens && k < len(g.Tokens) && g.Tokens[k] == 0 {
			return fmt.Errorf("identify: tag %q has no counted tokens (no items of this value and language?)", tag)
		}
		if n == selection.ByQuestions && k < len(g.Questions) && g.Questions[k] == 0 {
			return fmt.Errorf("identify: tag %q has no questions to normalise by", tag)
		}
	}
	return nil
}

// The pools a random control is drawn from, as provenance records them.
const (
	poolOutside = "neurons in no value set"
	poolAll     = "all neurons"
)

// provenance is the JSON recorded with every set.
type provenance struct {
	Method             string   `json:"method"`
	Tags               []string `json:"tags"` // the tags the set competed with (its group)
	Normaliser         string   `json:"normaliser,omitempty"`
	TopRate            *float64 `json:"top_rate,omitempty"`
	FilterRate         *float64 `json:"filter_rate,omitempty"`
	ActivationBarRatio *float64 `json:"activation_bar_ratio,omitempty"`
	FilterThreshold    *float64 `json:"filter_threshold,omitempty"`
	ActivationBar      *float64 `json:"activation_bar,omitempty"`
	Candidates         *int     `json:"candidates,omitempty"`
	TopN               *int     `json:"top_n,omitempty"`
	MinDelta           *float64 `json:"min_delta,omitempty"`
	Positive           []string `json:"positive,omitempty"`
	Negative           []string `json:"negative,omitempty"`
	Seed               *uint64  `json:"seed,omitempty"`
	ControlFor         string   `json:"control_for,omitempty"`
	Draw               int      `json:"draw,omitempty"`  // which draw of the control (1-based)
	Draws              int      `json:"draws,omitempty"` // how many draws the set has
	Pool               string   `json:"pool,omitempty"`  // what the control was drawn from
	CountsFiles        []string `json:"counts_files"`
	CountsSHA256       []string `json:"counts_sha256"`
	// IncompleteCounts is set when the counts covered only part of their
	// job.
	IncompleteCounts *Coverage `json:"incomplete_counts,omitempty"`
}

// NeuronSets writes the result as a neuron-set file: one set per tag at
// mlp.hook_act, layers with no neurons left out, then the random controls.
func NeuronSets(r *Result, src Source, opt Options) (*hooks.NeuronSetFile, error) {
	f := &hooks.NeuronSetFile{
		Format: hooks.NeuronSetsFormat, Version: hooks.NeuronSetsVersion, Model: src.Shape,
		Conventions: map[string]string{
			"neuron":     "column of blocks.L.mlp.hook_act = act(gate_proj(x)); active when > 0",
			"layer":      "0-based decoder block",
			"set_names":  "the counts' tags",
			"random_set": RandomPrefix + "NAME (draw 1) and " + RandomPrefix + "NAME#d (draw d) have NAME's per-layer sizes, drawn uniformly (provenance \"pool\" says from which neurons)",
		},
	}
	draws := 0
	for _, r := range r.Randoms {
		draws = max(draws, r.Draw)
	}
	pool := poolOutside
	if opt.RandomFromAll {
		pool = poolAll
	}
	add := func(s *selection.Selection, draw int) error {
		for k, tag := range s.Tags {
			p := provenanceOf(s, opt, src)
			name := tag
			if draw > 0 {
				name = ControlName(tag, draw)
				p.ControlFor, p.Draw, p.Draws, p.Pool = tag, draw, draws, pool
			}
			pj, err := json.Marshal(p)
			if err != nil {
				return fmt.Errorf("identify: provenance: %w", err)
			}
			set := hooks.NeuronSet{Name: name, Site: hooks.SiteMLPAct.String(), Layers: []hooks.LayerIndices{}, Provenance: pj}
			E := 0
			if src.Shape != nil {
				E = src.Shape.Experts
			}
			if E > 0 {
				set.Site = hooks.SiteExpertAct.String()
			}
			for l, ids := range s.Neurons[k] {
				if len(ids) == 0 {
					continue
				}
				li := hooks.LayerIndices{Layer: l, Indices: slices.Clone(ids)}
				if E > 0 { // layer l of expert counts is (layer, expert)
					e := l % E
					li.Layer, li.Expert = l/E, &e
				}
				set.Layers = append(set.Layers, li)
			}
			f.NeuronSets = append(f.NeuronSets, set)
		}
		return nil
	}
	for _, s := range r.Sets {
		if err := add(s, 0); err != nil {
			return nil, err
		}
	}
	for _, c := range r.Randoms {
		if err := add(c.Selection, c.Draw); err != nil {
			return nil, err
		}
	}
	if src.Shape != nil {
		if err := f.Validate(*src.Shape); err != nil {
			return nil, fmt.Errorf("identify: %w", err)
		}
	}
	return f, nil
}

func provenanceOf(s *selection.Selection, opt Options, src Source) provenance {
	p := s.Params
	pr := provenance{Method: p.Method, Tags: s.Tags, CountsFiles: src.Files, CountsSHA256: src.SHA256, IncompleteCounts: src.Incomplete}
	switch p.Method {
	case "vape":
		pr.Normaliser = p.Normaliser.String()
		pr.TopRate, pr.FilterRate, pr.ActivationBarRatio = &p.TopRate, &p.FilterRate, &p.ActivationBarRatio
		pr.FilterThreshold, pr.ActivationBar, pr.Candidates = &p.FilterThreshold, &p.ActivationBar, &p.Candidates
	case "diff":
		pr.Normaliser = p.Normaliser.String()
		pr.TopN = &p.TopN
		if !math.IsInf(p.MinDelta, 0) {
			pr.MinDelta = &p.MinDelta
		}
		pr.Positive, pr.Negative = opt.Pos, opt.Neg
	case "random":
		pr.Seed = &p.Seed
	}
	return pr
}

// Summary writes, for every set, its size and its neurons per layer, then
// the per-layer totals over all non-random sets.
func Summary(w io.Writer, f *hooks.NeuronSetFile, layers int) {
	total := make([]int, layers)
	for i := range f.NeuronSets {
		s := &f.NeuronSets[i]
		per := make([]int, layers)
		for _, l := range s.Layers {
			if l.Layer < layers {
				per[l.Layer] = len(l.Indices)
			}
		}
		if !strings.HasPrefix(s.Name, RandomPrefix) {
			for l, n := range per {
				total[l] += n
			}
		}
		fmt.Fprintf(w, "%s %7d  %s\n", padName(s.Name, 24), s.Size(), joinInts(per))
	}
	fmt.Fprintf(w, "%s %7d  %s\n", padName("per-layer total", 24), sum(total), joinInts(total))
}

// padName pads s with spaces to width terminal columns, counting CJK and
// other wide characters as two, so that Chinese set names line up.
func padName(s string, width int) string {
	w := 0
	for _, r := range s {
		w++
		if r >= 0x1100 && (r <= 0x115F || r >= 0x2E80 && r <= 0xA4CF || r >= 0xAC00 && r <= 0xD7A3 ||
			r >= 0xF900 && r <= 0xFAFF || r >= 0xFE30 && r <= 0xFE4F || r >= 0xFF00 && r <= 0xFF60 || r >= 0xFFE0 && r <= 0xFFE6 ||
			r >= 0x20000 && r <= 0x3FFFD) {
			w++
		}
	}
	if w >= width {
		return s
	}
	return s + strings.Repeat(" ", width-w)
}

func joinInts(v []int) string {
	s := make([]string, len(v))
	for i, x := range v {
		s[i] = fmt.Sprint(x)
	}
	return strings.Join(s, ",")
}

func sum(v []int) int {
	n := 0
	for _, x := range v {
		n += x
	}
	return n
}

// fromExpertRecord is FromRecord for the counts of a mixture of experts'
// neurons: layer l·E+e of the result is expert e of layer l, normalised by
// the tokens routed to it.
func fromExpertRecord(c *record.Counts) (selection.Counts, error) {
	p := c.Prob
	E := p.Experts
	slots := p.Layers * E
	out := selection.Counts{Tags: slices.Clone(p.TagNames), Layers: slots, Dim: p.Dim}
	n := slots * p.Dim
	for k := range p.Tags {
		oz := make([]int64, n)
		for i, v := range p.Count[k*n : (k+1)*n] {
			oz[i] = int64(v)
		}
		g := make([]float64, slots)
		for s := range g {
			g[s] = float64(p.Tokens[k*slots+s])
		}
		// Every layer sees every token once per expert it is routed to,
		// so the layers' totals agree; the first is the tag's.
		var tok uint64
		for _, v := range p.Tokens[k*slots : k*slots+E] {
			tok += v
		}
		for l := 1; l < p.Layers; l++ {
			var t uint64
			for _, v := range p.Tokens[k*slots+l*E : k*slots+(l+1)*E] {
				t += v
			}
			if t != tok {
				return selection.Counts{}, fmt.Errorf("identify: tag %q: layer %d routed %d tokens to experts, layer 0 %d; the counts are inconsistent",
					p.TagNames[k], l, t, tok)
			}
		}
		out.OverZero = append(out.OverZero, oz)
		out.Tokens = append(out.Tokens, float64(tok))
		out.GroupTokens = append(out.GroupTokens, g)
		out.Questions = append(out.Questions, c.Manifest.ItemsPerTag[k])
	}
	return out, nil
}
