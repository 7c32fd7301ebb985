package hooks

import (
	"encoding/binary"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"math"
	"os"
	"slices"
	"strings"

	"github.com/valueexploration/valueexp/internal/atomicfile"
	"github.com/valueexploration/valueexp/weights/safetensors"
)

// ActProb counts, per tag and layer, how many tokens have activation > 0 for
// each neuron of one site, the statistic behind LAPE and VAPE. Register it
// with Observe (edited values) or ObserveRaw (values before edits at that
// site) on "blocks.*.<site>"; it applies only to its own site.
//
// A neuron counts as active when its value is strictly greater than zero as
// an IEEE comparison: +0, -0, negative values and NaN are not counted,
// positive subnormals and +Inf are. Rows whose tag is negative are skipped
// (that is how callers exclude template tokens); rows whose tag is ≥ Tags
// are skipped and counted in BadTags, which a caller should check is zero.
// The denominator Tokens is counted in the same call as the numerators, so
// the two stay consistent even when a run stops early. The engine must pass
// Rows with a Tag per row.
type ActProb struct {
	Site     Site
	Layers   int
	Dim      int
	Tags     int
	TagNames []string // optional, one per tag; saved in the file metadata
	Model    string   // optional model identity; saved in the file metadata
	Count    []uint64 // [tag][layer][dim], flat; [tag][layer][expert][dim] for experts
	Tokens   []uint64 // [tag][layer]; [tag][layer][expert] for experts
	BadTags  uint64   // rows skipped because their tag was ≥ Tags
	// Experts is the expert count of a counter at SiteExpertAct (see
	// NewExpertActProb), 0 otherwise. Such a counter keeps, per tag,
	// layer and expert, the count of each of the expert's neurons and the
	// number of tokens routed to the expert, so that ExpertProb is a
	// neuron's activation probability over the tokens its expert saw.
	Experts int
}

// experts returns the number of expert slots per layer (1 for a dense counter).
func (c *ActProb) experts() int { return max(c.Experts, 1) }

// slot returns the index of (tag, layer, expert) in Tokens.
func (c *ActProb) slot(tag, layer, expert int) int {
	return (tag*c.Layers+layer)*c.experts() + expert
}

// NewExpertActProb allocates a zeroed counter of the experts' neurons
// (SiteExpertAct) of a mixture-of-experts model with the given layers,
// experts per layer, neurons per expert (d_mlp) and tags. Register it on
// "blocks.*.mlp.experts.*.hook_act".
func NewExpertActProb(layers, experts, dim, tags int) (*ActProb, error) {
	if experts <= 0 || experts > maxExperts {
		return nil, fmt.Errorf("hooks: actprob: expert count %d out of range [1, %d]", experts, maxExperts)
	}
	if layers <= 0 || layers > maxStatElems {
		return nil, fmt.Errorf("hooks: actprob: layers (%d) must be positive", layers)
	}
	c, err := NewActProb(SiteExpertAct, layers*experts, dim, tags)
	if err != nil {
		return nil, err
	}
	c.Layers, c.Experts = layers, experts
	return c, nil
}

// maxExperts bounds the expert count of a counter (real models have at most
// a few hundred experts per layer).
const maxExperts = 1 << 16

// maxStatElems bounds the size of a statistics array so that a corrupt file
// or a wrong argument gives an error instead of an enormous allocation.
const maxStatElems = 1 << 32

// checkDims validates the shape shared by the statistics types.
func checkDims(what string, layers, dim, tags int) error {
	if layers <= 0 || dim <= 0 || tags <= 0 {
		return fmt.Errorf("hooks: %s: layers (%d), dim (%d) and tags (%d) must be positive", what, layers, dim, tags)
	}
	if uint64(layers)*uint64(dim) > maxStatElems/uint64(tags) {
		return fmt.Errorf("hooks: %s: %d×%d×%d elements is too large", what, tags, layers, dim)
	}
	return nil
}

// NewActProb allocates a zeroed counter for site with the given number of
// layers, neurons per layer and tags.
func NewActProb(site Site, layers, dim, tags int) (*ActProb, error) {
	if site >= NumSites || site.ModelLevel() {
		return nil, fmt.Errorf("hooks: actprob: site %v is not a block site", site)
	}
	if err := checkDims("actprob", layers, dim, tags); err != nil {
		return nil, err
	}
	return &ActProb{
		Site: site, Layers: layers, Dim: dim, Tags: tags,
		Count:  make([]uint64, tags*layers*dim),
		Tokens: make([]uint64, tags*layers),
	}, nil
}

// Applies reports whether p is c's site at a layer c counts.
func (c *ActProb) Applies(p Point) bool {
	if p.Site != c.Site || p.Layer < 0 || p.Layer >= c.Layers {
		return false
	}
	return c.Experts == 0 || p.Expert == AllExperts || (p.Expert >= 0 && p.Expert < c.Experts)
}

// Check reports a counter built for another model: more layers than s has,
// or a Dim that is not the width of its site.
func (c *ActProb) Check(p Point, s ModelShape) error {
	if c.Experts > 0 && s.Experts > 0 && c.Experts != s.Experts {
		return fmt.Errorf("actprob counts %d experts per layer, the model has %d", c.Experts, s.Experts)
	}
	return checkStat("actprob", c.Site, c.Layers, c.Dim, p, s)
}

// checkStat is the Check of the statistics types.
func checkStat(what string, site Site, layers, dim int, p Point, s ModelShape) error {
	if layers > s.Layers {
		return fmt.Errorf("%s has %d layers, the model %d", what, layers, s.Layers)
	}
	if w, ok := s.Width(site); ok && dim != w {
		return fmt.Errorf("%s at %v has %d neurons per layer, %v has %d columns", what, p, dim, site, w)
	}
	return nil
}

// Observe adds one call's rows to the counts. It allocates nothing. It
// panics when t.Cols differs from Dim, which means the counter was built
// for another model or site.
func (c *ActProb) Observe(p Point, t Tensor, rows *Rows) {
	if !c.Applies(p) {
		return
	}
	if t.Cols != c.Dim {
		panic(fmt.Sprintf("hooks: actprob at %v: tensor has %d columns, counter expects %d", p, t.Cols, c.Dim))
	}
	for r := 0; r < t.Rows; r++ {
		tag := int(rows.Tag[r])
		if tag < 0 {
			continue
		}
		if tag >= c.Tags {
			c.BadTags++
			continue
		}
		expert := 0
		if c.Experts > 0 {
			expert = p.Expert
		}
		tl := c.slot(tag, p.Layer, expert)
		countPositive(c.Count[tl*c.Dim:(tl+1)*c.Dim], t.Row(r))
		c.Tokens[tl]++
	}
}

// countPositive adds isPositive(x[j]) to cnt[j]. Activation signs are close
// to random, so a data-dependent branch would mispredict about half the
// time; the bit test in isPositive has no branch. Unrolling by eight halves
// the time per element on amd64 (BenchmarkActProbObserve), because the loop
// is otherwise dominated by its own bookkeeping.
func countPositive(cnt []uint64, x []float32) {
	cnt = cnt[:len(x)]
	j := 0
	for ; j+8 <= len(x); j += 8 {
		c, v := cnt[j:j+8:j+8], x[j:j+8:j+8]
		c[0] += isPositive(v[0])
		c[1] += isPositive(v[1])
		c[2] += isPositive(v[2])
		c[3] += isPositive(v[3])
		c[4] += isPositive(v[4])
		c[5] += isPositive(v[5])
		c[6] += isPositive(v[6])
		c[7] += isPositive(v[7])
	}
	for ; j < len(x); j++ {
		cnt[j] += isPositive(x[j])
	}
}

// isPositive returns 1 when v > 0 and 0 otherwise (NaN included). Positive
// floats from the smallest subnormal up to +Inf are exactly the bit patterns
// 0x00000001..0x7F800000, so bits-1 is below 0x7F800000 exactly for them;
// -0 and negative numbers wrap to large values, positive NaNs lie above.
func isPositive(v float32) uint64 {
	b := uint64(math.Float32bits(v) - 1)
	return (b - 0x7F800000) >> 63
}

// Prob returns the fraction of tag's tokens at layer on which neuron j was
// active, or 0 when no token was counted.
func (c *ActProb) Prob(tag, layer, j int) float64 {
	return c.ExpertProb(tag, layer, 0, j)
}

// ExpertProb returns, for a counter of the experts' neurons, the fraction of
// the tokens of tag that layer's router sent to expert on which the
// expert's neuron j was active, or 0 when the expert saw no such token.
// For a dense counter expert must be 0 (it is then Prob).
func (c *ActProb) ExpertProb(tag, layer, expert, j int) float64 {
	tl := c.slot(tag, layer, expert)
	n := c.Tokens[tl]
	if n == 0 {
		return 0
	}
	return float64(c.Count[tl*c.Dim+j]) / float64(n)
}

// Reset zeroes every count, keeping the shape and labels.
func (c *ActProb) Reset() {
	clear(c.Count)
	clear(c.Tokens)
	c.BadTags = 0
}

// Merge adds the counts of another shard (another process, another part of
// the corpus, a resumed run). The shapes, sites and labels must agree.
func (c *ActProb) Merge(o *ActProb) error {
	if o == nil {
		return fmt.Errorf("hooks: actprob merge: nil counter")
	}
	if o.Site != c.Site || o.Layers != c.Layers || o.Dim != c.Dim || o.Tags != c.Tags || o.Experts != c.Experts {
		return fmt.Errorf("hooks: actprob merge: shape mismatch: %v [%d,%d,%d] vs %v [%d,%d,%d]",
			c.Site, c.Tags, c.Layers, c.Dim, o.Site, o.Tags, o.Layers, o.Dim)
	}
	if len(c.TagNames) > 0 && len(o.TagNames) > 0 && !slices.Equal(c.TagNames, o.TagNames) {
		return fmt.Errorf("hooks: actprob merge: tag names differ: %q vs %q", c.TagNames, o.TagNames)
	}
	if c.Model != "" && o.Model != "" && c.Model != o.Model {
		return fmt.Errorf("hooks: actprob merge: models differ: %q vs %q", c.Model, o.Model)
	}
	// Every sum is checked before any is made, so a refused merge leaves c
	// as it was; the bound is the files' I64, which a uint64 sum would
	// otherwise pass silently or wrap around.
	for i, v := range o.Tokens {
		if v > math.MaxInt64-c.Tokens[i] {
			return fmt.Errorf("hooks: actprob merge: tokens[%d][%d] overflow: %d + %d exceeds the I64 counts", i/c.Layers, i%c.Layers, c.Tokens[i], v)
		}
	}
	for i, v := range o.Count {
		if v > math.MaxInt64-c.Count[i] {
			tl := i / c.Dim
			return fmt.Errorf("hooks: actprob merge: count[%d][%d][%d] overflow: %d + %d exceeds the I64 counts", tl/c.Layers, tl%c.Layers, i%c.Dim, c.Count[i], v)
		}
	}
	for i, v := range o.Count {
		c.Count[i] += v
	}
	for i, v := range o.Tokens {
		c.Tokens[i] += v
	}
	c.BadTags += o.BadTags
	if len(c.TagNames) == 0 {
		c.TagNames = slices.Clone(o.TagNames)
	}
	if c.Model == "" {
		c.Model = o.Model
	}
	return nil
}

// ActProb file identity, stored in the safetensors metadata.
const (
	actProbFormat  = "valueexp.actprob"
	actProbVersion = "1"
)

// WriteTo writes the counts as safetensors: tensors "count" (I64 [tags,
// layers, dim]) and "tokens" (I64 [tags, layers]), and metadata "format",
// "version", "site" (e.g. "mlp.hook_act"), "tags" (a JSON array of tag
// names) and "model". numpy and torch read the file directly.
func (c *ActProb) WriteTo(w io.Writer) (int64, error) {
	if len(c.TagNames) != 0 && len(c.TagNames) != c.Tags {
		return 0, fmt.Errorf("hooks: actprob: %d tag names for %d tags", len(c.TagNames), c.Tags)
	}
	for _, v := range c.Count {
		if v > math.MaxInt64 {
			return 0, fmt.Errorf("hooks: actprob: count %d does not fit I64", v)
		}
	}
	names := c.TagNames
	if names == nil {
		names = []string{}
	}
	tagJSON, err := json.Marshal(names)
	if err != nil {
		return 0, fmt.Errorf("hooks: actprob: tag names: %w", err)
	}
	meta := map[string]string{
		"format":  actProbFormat,
		"version": actProbVersion,
		"site":    c.Site.String(),
		"tags":    string(tagJSON),
		"model":   c.Model,
	}
	tensors := []safetensors.Tensor{
		{Name: "count", DType: "I64", Shape: []int{c.Tags, c.Layers, c.Dim}, Data: u64Bytes(c.Count)},
		{Name: "tokens", DType: "I64", Shape: []int{c.Tags, c.Layers}, Data: u64Bytes(c.Tokens)},
	}
	if c.Experts > 0 {
		// Counts of the experts' neurons have an expert axis after the layer.
		tensors[0].Shape = []int{c.Tags, c.Layers, c.Experts, c.Dim}
		tensors[1].Shape = []int{c.Tags, c.Layers, c.Experts}
	}
	cw := &countingWriter{w: w}
	if err := safetensors.Write(cw, tensors, meta); err != nil {
		return cw.n, fmt.Errorf("hooks: actprob: write: %w", err)
	}
	return cw.n, nil
}

// Save writes the counts to a safetensors file at path (see WriteTo),
// atomically: a failed or interrupted save leaves path as it was.
func (c *ActProb) Save(path string) error {
	if err := atomicfile.Write(path, func(w io.Writer) error { _, err := c.WriteTo(w); return err }); err != nil {
		return fmt.Errorf("hooks: actprob: %w", err)
	}
	return nil
}

// LoadActProb reads a counter written by Save.
func LoadActProb(path string) (*ActProb, error) {
	// The header says whether this is a counter at all; a model's
	// .safetensors given by mistake is then refused without being read
	// into memory whole.
	meta, err := safetensors.ReadMetadata(path)
	if err != nil {
		return nil, fmt.Errorf("hooks: actprob: %w", err)
	}
	if got := meta["format"]; got != actProbFormat {
		return nil, fmt.Errorf("hooks: actprob: %s: metadata format is %q, want %q", path, got, actProbFormat)
	}
	b, err := os.ReadFile(path)
	if err != nil {
		return nil, fmt.Errorf("hooks: actprob: %w", err)
	}
	c, err := ParseActProb(b)
	if err != nil {
		return nil, fmt.Errorf("%w (file %s)", err, path)
	}
	return c, nil
}

// ReadActProb reads a counter written by WriteTo from r.
func ReadActProb(r io.Reader) (*ActProb, error) {
	b, err := io.ReadAll(r)
	if err != nil {
		return nil, fmt.Errorf("hooks: actprob: read: %w", err)
	}
	return ParseActProb(b)
}

// ParseActProb decodes a counter from the bytes of a safetensors file
// written by WriteTo, checking identity, shapes and that no count exceeds
// its token total.
//
// Memory: the counts are allocated only after the file's tensors are found
// to hold exactly tags × layers × dim and tags × layers I64 values, so
// they take no more than the tensors' bytes in b, and tag names are
// decoded one by one up to the tensors' tag count. With the header's
// parsing (bounded by safetensors.MaxHeaderBytes) the peak heap stays
// under about len(b) + 4 × the header.
func ParseActProb(b []byte) (*ActProb, error) {
	f, err := safetensors.Parse(b)
	if err != nil {
		return nil, fmt.Errorf("hooks: actprob: %w", err)
	}
	if got := f.Metadata["format"]; got != actProbFormat {
		return nil, fmt.Errorf("hooks: actprob: metadata format is %q, want %q", got, actProbFormat)
	}
	if got := f.Metadata["version"]; got != actProbVersion {
		return nil, fmt.Errorf("hooks: actprob: unsupported version %q (want %s)", got, actProbVersion)
	}
	site, err := ParseSite(f.Metadata["site"])
	if err != nil {
		return nil, fmt.Errorf("hooks: actprob: metadata site: %w", err)
	}
	count, ok := f.Tensor("count")
	if !ok {
		return nil, fmt.Errorf("hooks: actprob: tensor %q missing", "count")
	}
	tokens, ok := f.Tensor("tokens")
	if !ok {
		return nil, fmt.Errorf("hooks: actprob: tensor %q missing", "tokens")
	}
	experts := 0
	switch {
	case count.DType == "I64" && len(count.Shape) == 4 && site == SiteExpertAct:
		// [tags, layers, experts, dim]: read as layers*experts slots.
		experts = count.Shape[2]
		if experts <= 0 || experts > maxExperts {
			return nil, fmt.Errorf("hooks: actprob: tensor %q: %d experts out of range [1, %d]", "count", experts, maxExperts)
		}
	case count.DType != "I64" || len(count.Shape) != 3:
		return nil, fmt.Errorf("hooks: actprob: tensor %q is %s %v, want I64 [tags, layers, dim] (or [tags, layers, experts, dim] at %v)", "count", count.DType, count.Shape, SiteExpertAct)
	}
	tags, layers, dim := count.Shape[0], count.Shape[1], count.Shape[len(count.Shape)-1]
	wantTokens := []int{tags, layers}
	if experts > 0 {
		wantTokens = []int{tags, layers, experts}
		if layers <= 0 || uint64(layers)*uint64(experts) > maxStatElems {
			return nil, fmt.Errorf("hooks: actprob: tensor %q: %d layers of %d experts out of range", "count", layers, experts)
		}
		layers *= experts // slots, until the counter is made
	}
	if tokens.DType != "I64" || !slices.Equal(tokens.Shape, wantTokens) {
		return nil, fmt.Errorf("hooks: actprob: tensor %q is %s %v, want I64 %v", "tokens", tokens.DType, tokens.Shape, wantTokens)
	}
	if err := checkDims("actprob", layers, dim, tags); err != nil {
		return nil, err
	}
	// The shape is checked against the bytes actually present before
	// anything is allocated from it (checkDims keeps the product far
	// from overflowing).
	if n := uint64(tags) * uint64(layers) * uint64(dim) * 8; uint64(len(count.Data)) != n {
		return nil, fmt.Errorf("hooks: actprob: tensor %q has %d bytes, its shape %v needs %d", "count", len(count.Data), count.Shape, n)
	}
	c, err := NewActProb(site, layers, dim, tags)
	if err != nil {
		return nil, err
	}
	if experts > 0 {
		c.Layers, c.Experts = layers/experts, experts
	}
	if err := readU64s(c.Count, count.Data, "count"); err != nil {
		return nil, err
	}
	if err := readU64s(c.Tokens, tokens.Data, "tokens"); err != nil {
		return nil, err
	}
	for i, v := range c.Count {
		if n := c.Tokens[i/dim]; v > n {
			tl := i / dim
			return nil, fmt.Errorf("hooks: actprob: count[%d][%d][%d] = %d exceeds tokens[%d][%d] = %d",
				tl/layers, tl%layers, i%dim, v, tl/layers, tl%layers, n)
		}
	}
	if s := f.Metadata["tags"]; s != "" {
		names, err := readTagNames(s, tags)
		if err != nil {
			return nil, fmt.Errorf("hooks: actprob: metadata tags: %w", err)
		}
		c.TagNames = names
	}
	c.Model = f.Metadata["model"]
	return c, nil
}

// readTagNames decodes the "tags" metadata, a JSON array of none or tags
// strings, one at a time, so that a list far longer than the counts it
// names is refused without being decoded whole.
func readTagNames(s string, tags int) ([]string, error) {
	dec := json.NewDecoder(strings.NewReader(s))
	if tok, err := dec.Token(); err != nil || tok != json.Delim('[') {
		return nil, fmt.Errorf("want a JSON array of strings (%v)", err)
	}
	var names []string
	for dec.More() {
		if len(names) == tags {
			return nil, fmt.Errorf("more tag names than the %d tags", tags)
		}
		var n string
		if err := dec.Decode(&n); err != nil {
			return nil, err
		}
		names = append(names, n)
	}
	if _, err := dec.Token(); err != nil {
		return nil, err
	}
	if _, err := dec.Token(); err != io.EOF {
		return nil, errors.New("data after the array")
	}
	if len(names) == 0 {
		return nil, nil
	}
	if len(names) != tags {
		return nil, fmt.Errorf("%d tag names for %d tags", len(names), tags)
	}
	return names, nil
}

// u64Bytes encodes counts as little-endian I64 bytes.
func u64Bytes(v []uint64) []byte {
	b := make([]byte, 8*len(v))
	for i, x := range v {
		binary.LittleEndian.PutUint64(b[8*i:], x)
	}
	return b
}

// readU64s decodes non-negative little-endian I64 values into dst.
func readU64s(dst []uint64, b []byte, name string) error {
	if len(b) != 8*len(dst) {
		return fmt.Errorf("hooks: actprob: tensor %q has %d bytes, want %d", name, len(b), 8*len(dst))
	}
	for i := range dst {
		v := binary.LittleEndian.Uint64(b[8*i:])
		if v > math.MaxInt64 {
			return fmt.Errorf("hooks: actprob: tensor %q element %d is negative", name, i)
		}
		dst[i] = v
	}
	return nil
}

// countingWriter counts the bytes written through it, for WriteTo.
type countingWriter struct {
	w io.Writer
	n int64
}

func (cw *countingWriter) Write(p []byte) (int, error) {
	n, err := cw.w.Write(p)
	cw.n += int64(n)
	return n, err
}
