package record

import (
	"bytes"
	"crypto/sha256"
	"encoding/binary"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"io"
	"math"
	"os"
	"slices"
	"sort"

	"github.com/valueexploration/valueexp/hooks"
	"github.com/valueexploration/valueexp/internal/atomicfile"
	"github.com/valueexploration/valueexp/weights"
	"github.com/valueexploration/valueexp/weights/safetensors"
)

// Mode says which tokens are counted.
type Mode string

// The counting modes (see the package documentation).
const (
	ModeText      Mode = "text"      // every token of the activation text
	ModeGenerated Mode = "generated" // only tokens the model generates
)

func (m Mode) valid() error {
	if m != ModeText && m != ModeGenerated {
		return fmt.Errorf("record: unknown counting mode %q (want %q or %q)", string(m), ModeText, ModeGenerated)
	}
	return nil
}

// ManifestKey is the safetensors metadata key holding the Manifest.
const ManifestKey = "record"

// manifestVersion changes when the meaning of a field changes.
const manifestVersion = 1

// Manifest describes what a counts file counted, so that resuming, merging
// and identify can check they continue or combine the same job.
type Manifest struct {
	Version int `json:"version"`
	// Model is the model's file name (informative), Fingerprint identifies
	// its weights (see Fingerprint) and Shape its sizes.
	Model       string           `json:"model"`
	Fingerprint string           `json:"fingerprint"`
	Shape       hooks.ModelShape `json:"shape"`
	// DataDigest identifies the whole job's ordered units (ids, tags,
	// texts); Items is their number.
	DataDigest string `json:"data_digest"`
	Items      int    `json:"items"`
	Mode       Mode   `json:"mode"`
	// Format is TextFormat or PromptFormat, by mode.
	Format string   `json:"format"`
	Langs  []string `json:"langs"`
	// MaxNewTokens and RepetitionPenalty are the generation settings of
	// ModeGenerated (zero in ModeText).
	MaxNewTokens      int     `json:"max_new_tokens,omitempty"`
	RepetitionPenalty float32 `json:"repetition_penalty,omitempty"`
	// Shard is the part of the job this run was asked for: 0/1 for a
	// single run and for a merge covering the whole job, 0/0 for a merge
	// of only some shards. Coverage lists the items counted. Partial marks
	// a checkpoint of a run that has not finished its shard; Complete
	// means Coverage holds every item of the job.
	Shard    Shard    `json:"shard"`
	Coverage Coverage `json:"coverage"`
	Partial  bool     `json:"partial"`
	Complete bool     `json:"complete"`
	// ItemsPerTag counts the items counted per tag (the authors'
	// question_num); Truncated counts texts cut at the context length.
	ItemsPerTag []int64 `json:"items_per_tag"`
	Truncated   int     `json:"truncated"`
}

// sameJob reports the first difference that makes o a different job from m.
func (m *Manifest) sameJob(o *Manifest) error {
	type field struct {
		name string
		a, b any
	}
	for _, f := range []field{
		{"version", m.Version, o.Version},
		{"model fingerprint", m.Fingerprint, o.Fingerprint},
		{"model shape", m.Shape.Layers*1_000_000 + m.Shape.DMLP, o.Shape.Layers*1_000_000 + o.Shape.DMLP},
		{"counting mode", m.Mode, o.Mode},
		{"languages", fmt.Sprint(m.Langs), fmt.Sprint(o.Langs)},
		{"text format", m.Format, o.Format},
		{"item count", m.Items, o.Items},
		{"data digest", m.DataDigest, o.DataDigest},
		{"max new tokens", m.MaxNewTokens, o.MaxNewTokens},
		{"repetition penalty", m.RepetitionPenalty, o.RepetitionPenalty},
	} {
		if f.a != f.b {
			return fmt.Errorf("%s differs: %v vs %v", f.name, f.a, f.b)
		}
	}
	return nil
}

// Counts is a counts file: activation counts per tag plus their Manifest.
type Counts struct {
	Prob     *hooks.ActProb
	Manifest Manifest
}

// WriteTo writes c as a hooks.ActProb safetensors file with the manifest
// added to its metadata.
func (c *Counts) WriteTo(w io.Writer) (int64, error) {
	var buf bytes.Buffer
	if _, err := c.Prob.WriteTo(&buf); err != nil {
		return 0, err
	}
	f, err := safetensors.Parse(buf.Bytes())
	if err != nil {
		return 0, fmt.Errorf("record: re-reading counts: %w", err)
	}
	mj, err := json.Marshal(c.Manifest)
	if err != nil {
		return 0, fmt.Errorf("record: manifest: %w", err)
	}
	meta := f.Metadata
	meta[ManifestKey] = string(mj)
	ts := make([]safetensors.Tensor, len(f.Tensors))
	for i, t := range f.Tensors {
		ts[i] = safetensors.Tensor{Name: t.Name, DType: t.DType, Shape: t.Shape, Data: t.Data}
	}
	var out bytes.Buffer
	if err := safetensors.Write(&out, ts, meta); err != nil {
		return 0, fmt.Errorf("record: %w", err)
	}
	return out.WriteTo(w)
}

// Save writes c to path atomically: a temporary file in the same folder is
// renamed over path once complete, so an interrupted save never leaves a
// truncated file behind.
func (c *Counts) Save(path string) error {
	err := atomicfile.Write(path, func(w io.Writer) error {
		_, err := c.WriteTo(w)
		return err
	})
	if err != nil {
		return fmt.Errorf("record: %w", err)
	}
	return nil
}

// Load reads a counts file written by Save.
func Load(path string) (*Counts, error) {
	if err := checkCountsHeader(path); err != nil {
		return nil, fmt.Errorf("record: %s: %w", path, err)
	}
	b, err := os.ReadFile(path)
	if err != nil {
		return nil, fmt.Errorf("record: %w", err)
	}
	c, err := Parse(b)
	if err != nil {
		return nil, fmt.Errorf("record: %s: %w", path, err)
	}
	return c, nil
}

// checkCountsHeader reads only the safetensors header of path and refuses a
// file whose metadata has no manifest, before Load reads the whole file: a
// model's .safetensors given to merge or identify by mistake would
// otherwise be read into memory whole (gigabytes) just to be refused.
func checkCountsHeader(path string) error {
	meta, err := safetensors.ReadMetadata(path)
	if err != nil {
		return fmt.Errorf("not a counts file: %w", err)
	}
	if _, ok := meta[ManifestKey]; !ok {
		return fmt.Errorf("not a counts file: its metadata has no %q manifest (is it a model or another safetensors file?)", ManifestKey)
	}
	return nil
}

// Parse decodes a counts file, checking that the manifest agrees with the
// counts it describes.
//
// Memory: the counts take what hooks.ParseActProb takes (about the file's
// size); the manifest's numbers are checked before they size anything, and
// checking its coverage takes one bit per item of the job (at most MaxItems
// bits, 2 MiB). So the peak heap stays under about 2 × len(b) + 2 MiB.
func Parse(b []byte) (*Counts, error) {
	p, err := hooks.ParseActProb(b)
	if err != nil {
		return nil, err
	}
	f, err := safetensors.Parse(b)
	if err != nil {
		return nil, err
	}
	s, ok := f.Metadata[ManifestKey]
	if !ok {
		return nil, fmt.Errorf("metadata has no %q manifest: not written by valueexp record", ManifestKey)
	}
	c := &Counts{Prob: p}
	dec := json.NewDecoder(bytes.NewReader([]byte(s)))
	dec.DisallowUnknownFields()
	if err := dec.Decode(&c.Manifest); err != nil {
		return nil, fmt.Errorf("metadata %q: %w", ManifestKey, err)
	}
	if err := c.check(); err != nil {
		return nil, err
	}
	return c, nil
}

// MaxItems bounds the number of items of one job. A counts file is checked
// against it before anything is allocated from its manifest's numbers:
// checking a coverage takes one bit per item of the job (2 MiB at most)
// and time linear in the items covered.
const MaxItems = 1 << 24

// check validates every number of the manifest against the counts it
// describes and against the other numbers of the manifest, before any of
// them is used to size an allocation: the item count lies in [1,
// MaxItems]; the coverage's ranges lie inside the job, do not overlap and
// hold as many items as items_per_tag adds up to; in text mode each tag
// has at least one counted token per item; truncated texts are at most the
// items counted.
func (c *Counts) check() error {
	m := &c.Manifest
	switch {
	case m.Version != manifestVersion:
		return fmt.Errorf("manifest version %d is not supported (want %d)", m.Version, manifestVersion)
	case m.Mode.valid() != nil:
		return fmt.Errorf("manifest: %w", m.Mode.valid())
	case m.Items < 1 || m.Items > MaxItems:
		return fmt.Errorf("manifest: items %d is outside [1, %d]", m.Items, MaxItems)
	case !m.Shard.Valid() && m.Shard != (Shard{}):
		return fmt.Errorf("manifest: bad shard %v", m.Shard)
	case m.Shard.Count > MaxItems:
		return fmt.Errorf("manifest: shard %v has more parts than a job can have items (%d)", m.Shard, MaxItems)
	case c.Prob == nil:
		return fmt.Errorf("manifest: no counts")
	case m.Shape.Layers != c.Prob.Layers || m.Shape.DMLP != c.Prob.Dim:
		return fmt.Errorf("manifest: model shape %d×%d does not match counts %d×%d", m.Shape.Layers, m.Shape.DMLP, c.Prob.Layers, c.Prob.Dim)
	case len(c.Prob.TagNames) != c.Prob.Tags:
		return fmt.Errorf("counts have %d tag names for %d tags", len(c.Prob.TagNames), c.Prob.Tags)
	case len(m.ItemsPerTag) != c.Prob.Tags:
		return fmt.Errorf("manifest: %d items_per_tag entries for %d tags", len(m.ItemsPerTag), c.Prob.Tags)
	case c.Prob.Site != hooks.SiteMLPAct && !(c.Prob.Site == hooks.SiteExpertAct && c.Prob.Experts > 0):
		return fmt.Errorf("counts are at %v, want %v (or %v, for a mixture of experts)", c.Prob.Site, hooks.SiteMLPAct, hooks.SiteExpertAct)
	case m.Shape.Experts != c.Prob.Experts:
		return fmt.Errorf("manifest: the model has %d experts, the counts %d", m.Shape.Experts, c.Prob.Experts)
	case len(c.Prob.Tokens) != c.Prob.Tags*c.Prob.Layers*max(c.Prob.Experts, 1):
		return fmt.Errorf("counts have %d token totals for %d tags × %d layers", len(c.Prob.Tokens), c.Prob.Tags, c.Prob.Layers)
	}
	switch m.Mode {
	case ModeText:
		if m.MaxNewTokens != 0 || m.RepetitionPenalty != 0 {
			return fmt.Errorf("manifest: text mode with generation settings (max_new_tokens %d, repetition_penalty %v)", m.MaxNewTokens, m.RepetitionPenalty)
		}
	case ModeGenerated:
		if m.MaxNewTokens < 1 || !(m.RepetitionPenalty > 0 && m.RepetitionPenalty <= math.MaxFloat32) {
			return fmt.Errorf("manifest: generated mode needs max_new_tokens ≥ 1 and a positive repetition_penalty, has %d and %v", m.MaxNewTokens, m.RepetitionPenalty)
		}
	}
	covered, err := m.Coverage.count(m.Items)
	if err != nil {
		return fmt.Errorf("manifest coverage: %w", err)
	}
	var perTag int64
	for k, n := range m.ItemsPerTag {
		if n < 0 || n > int64(m.Items) {
			return fmt.Errorf("manifest: items_per_tag[%d] (%s) = %d is outside [0, %d]", k, c.Prob.TagNames[k], n, m.Items)
		}
		// Every text (ModeText) is at least one token, counted at
		// every layer; generated answers can be empty.
		if tok := layerTokens(c.Prob, k, 0); m.Mode == ModeText && uint64(n) > tok {
			return fmt.Errorf("manifest: items_per_tag[%d] (%s) = %d, but the tag counted only %d tokens", k, c.Prob.TagNames[k], n, tok)
		}
		perTag += n // at most Tags × MaxItems < 2^56: no overflow
	}
	if perTag != int64(covered) {
		return fmt.Errorf("manifest: items_per_tag adds up to %d, coverage holds %d items", perTag, covered)
	}
	if m.Truncated < 0 || m.Truncated > covered {
		return fmt.Errorf("manifest: truncated %d is outside [0, %d items counted]", m.Truncated, covered)
	}
	if m.Complete != (covered == m.Items) {
		return fmt.Errorf("manifest: complete is %v, but coverage holds %d of %d items", m.Complete, covered, m.Items)
	}
	if _, err := m.Coverage.set(m.Items); err != nil {
		return fmt.Errorf("manifest coverage: %w", err)
	}
	return nil
}

// Merge sums shards of one job into a new Counts. The shards must come from
// the same model, data, mode and settings, hold the same tags, and cover
// disjoint items; partial checkpoints are refused. When the union covers the
// whole job the result reads as a complete single run (shard 0/1, one item
// range), so it equals an uninterrupted single-process run. The model is
// matched by its fingerprint, not its file name; the result keeps the first
// input's name.
func Merge(parts ...*Counts) (*Counts, error) {
	if len(parts) == 0 {
		return nil, fmt.Errorf("record: merge: no inputs")
	}
	first := parts[0]
	var cover Coverage
	for i, p := range parts {
		if err := p.check(); err != nil {
			return nil, fmt.Errorf("record: merge: input %d: %w", i+1, err)
		}
		if p.Manifest.Partial {
			return nil, fmt.Errorf("record: merge: input %d (shard %v) is an unfinished checkpoint; finish it first", i+1, p.Manifest.Shard)
		}
		if i > 0 {
			if err := first.Manifest.sameJob(&p.Manifest); err != nil {
				return nil, fmt.Errorf("record: merge: input %d is not from the same job as input 1: %w", i+1, err)
			}
			if !slices.Equal(first.Prob.TagNames, p.Prob.TagNames) {
				return nil, fmt.Errorf("record: merge: input %d has tags %q, input 1 has %q", i+1, p.Prob.TagNames, first.Prob.TagNames)
			}
		}
		cover = append(cover, p.Manifest.Coverage...)
	}
	m := first.Manifest.Items
	if _, err := cover.count(m); err != nil {
		return nil, fmt.Errorf("record: merge: the inputs overlap: %w", err)
	}
	set, err := cover.set(m)
	if err != nil {
		return nil, fmt.Errorf("record: merge: the inputs overlap: %w", err)
	}
	sum, err := newActProbLike(first.Prob)
	if err != nil {
		return nil, err
	}
	sum.TagNames = slices.Clone(first.Prob.TagNames)
	sum.Model = first.Prob.Model
	man := first.Manifest
	man.ItemsPerTag = make([]int64, first.Prob.Tags)
	man.Truncated = 0
	for i, p := range parts {
		// The model's file name is informative: the manifests' fingerprints
		// (compared by sameJob) say whether the weights are the same, so
		// shards read from another mount or a snapshot folder merge.
		prob := *p.Prob
		prob.Model = sum.Model
		if err := sum.Merge(&prob); err != nil {
			return nil, fmt.Errorf("record: merge: input %d: %w", i+1, err)
		}
		for k, n := range p.Manifest.ItemsPerTag {
			man.ItemsPerTag[k] += n
		}
		man.Truncated += p.Manifest.Truncated
	}
	man.Coverage = set.runs()
	man.Complete = man.Coverage.Items() == m
	man.Shard = Whole
	if !man.Complete {
		man.Shard = Shard{} // a union of some shards is no single shard
	}
	return &Counts{Prob: sum, Manifest: man}, nil
}

// Fingerprint identifies a model's weights without reading all of them: a
// SHA-256 over the configuration, every tensor's name, dtype and shape, and
// the first and last 64 KiB of its bytes. Two copies of one file agree on
// every machine; a different checkpoint or quantization disagrees.
func Fingerprint(w *weights.Model) string {
	h := sha256.New()
	cfg, _ := json.Marshal(w.Config)
	h.Write(cfg)
	names := make([]string, 0, len(w.Tensors))
	for n := range w.Tensors {
		names = append(names, n)
	}
	sort.Strings(names)
	const edge = 64 << 10
	for _, n := range names {
		t := w.Tensors[n]
		fmt.Fprintf(h, "\x00%s\x00%v\x00%v\x00%d\x00", n, t.DType, t.Shape, len(t.Data))
		if len(t.Data) <= 2*edge {
			h.Write(t.Data)
		} else {
			h.Write(t.Data[:edge])
			h.Write(t.Data[len(t.Data)-edge:])
		}
	}
	return hex.EncodeToString(h.Sum(nil))
}

// DataDigest identifies a job's units: a SHA-256 over every unit's id, tag
// name and text, in order.
func DataDigest(units []Unit, tags []string) string {
	h := sha256.New()
	var n [8]byte
	put := func(s string) {
		binary.LittleEndian.PutUint64(n[:], uint64(len(s)))
		h.Write(n[:])
		io.WriteString(h, s)
	}
	for _, u := range units {
		put(u.ID)
		tag := ""
		if u.Tag >= 0 && int(u.Tag) < len(tags) {
			tag = tags[u.Tag]
		}
		put(tag)
		put(u.Text)
	}
	return hex.EncodeToString(h.Sum(nil))
}

// layerTokens returns the tokens of tag counted at layer: for the counts
// of a mixture of experts' neurons, the sum over the layer's experts,
// which counts each token once per expert it was routed to.
func layerTokens(p *hooks.ActProb, tag, layer int) uint64 {
	e := max(p.Experts, 1)
	var n uint64
	for _, v := range p.Tokens[(tag*p.Layers+layer)*e : (tag*p.Layers+layer+1)*e] {
		n += v
	}
	return n
}

// newActProbLike returns an empty counter of p's shape.
func newActProbLike(p *hooks.ActProb) (*hooks.ActProb, error) {
	if p.Experts > 0 {
		return hooks.NewExpertActProb(p.Layers, p.Experts, p.Dim, p.Tags)
	}
	return hooks.NewActProb(p.Site, p.Layers, p.Dim, p.Tags)
}
