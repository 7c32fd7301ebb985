package hooks

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"os"
	"sort"

	"github.com/valueexploration/valueexp/internal/atomicfile"
)

// Neuron-set file identity.
const (
	NeuronSetsFormat  = "neuron-sets"
	NeuronSetsVersion = 1
)

// maxNeuronSetsBytes bounds what ReadNeuronSets reads, so a wrong path (a
// weights file, say) fails quickly instead of exhausting memory. Real files
// are kilobytes to a few megabytes: even every neuron of a 70B model's FFN
// in one set is about 20 MB.
const maxNeuronSetsBytes = 256 << 20

// ModelShape describes the model a neuron-set file refers to. Layers, DModel
// and DMLP are required to validate against; the head and vocabulary fields
// are needed only for sets on attention sites or hook_logits.
type ModelShape struct {
	Name    string `json:"name,omitempty"`
	Arch    string `json:"arch,omitempty"`
	Layers  int    `json:"n_layers"`
	DModel  int    `json:"d_model"`
	DMLP    int    `json:"d_mlp"`
	Heads   int    `json:"n_heads,omitempty"`
	KVHeads int    `json:"n_kv_heads,omitempty"`
	HeadDim int    `json:"d_head,omitempty"`
	Vocab   int    `json:"vocab,omitempty"`
	// Experts is the number of experts of a mixture-of-experts model (0:
	// dense); DMLP is then the width of one expert's FFN.
	Experts       int    `json:"n_experts,omitempty"`
	WeightsSHA256 string `json:"weights_sha256,omitempty"`
}

// expertCount returns the model's expert count, 0 for a nil shape.
func (m *ModelShape) expertCount() int {
	if m == nil {
		return 0
	}
	return m.Experts
}

// Width returns the number of columns of site in this model, or ok false
// when the shape lacks the field it depends on.
func (m ModelShape) Width(site Site) (width int, ok bool) {
	switch site {
	case SiteMLPPre, SiteMLPPreLinear, SiteMLPAct, SiteMLPPost, SiteExpertAct:
		width = m.DMLP
	case SiteRouterLogits:
		width = m.Experts
	case SiteAttnQ, SiteAttnRotQ, SiteAttnZ:
		width = m.Heads * m.HeadDim
	case SiteAttnK, SiteAttnV, SiteAttnRotK:
		width = m.KVHeads * m.HeadDim
	case SiteLogits:
		width = m.Vocab
	case SiteEmbed, SiteResidPre, SiteAttnOut, SiteResidMid, SiteMLPOut, SiteResidPost, SiteFinalNorm:
		width = m.DModel
	}
	return width, width > 0
}

// NeuronSetFile is the versioned JSON file of named neuron sets, for example
// the neurons VAPE finds for each of the 12 values:
//
//	{"format": "neuron-sets", "version": 1,
//	 "model": {"name": "Qwen/Qwen2.5-0.5B", "n_layers": 24, "d_model": 896, "d_mlp": 4864},
//	 "neuron_sets": [{"name": "诚信", "site": "mlp.hook_act",
//	                  "layers": [{"layer": 4, "indices": [17, 2048]}]}]}
//
// Layers are 0-based decoder blocks listed in increasing order; indices are
// columns of the named site, strictly increasing. Unknown fields are errors.
type NeuronSetFile struct {
	Format      string            `json:"format"`
	Version     int               `json:"version"`
	Model       *ModelShape       `json:"model,omitempty"`
	Conventions map[string]string `json:"conventions,omitempty"`
	NeuronSets  []NeuronSet       `json:"neuron_sets"`
}

// NeuronSet is one named set of neurons at one block site.
type NeuronSet struct {
	Name        string          `json:"name"`
	Site        string          `json:"site"` // block site suffix, e.g. "mlp.hook_act"
	Description string          `json:"description,omitempty"`
	Layers      []LayerIndices  `json:"layers"`
	Provenance  json.RawMessage `json:"provenance,omitempty"` // method, parameters, source; kept as given (Save re-indents it)
}

// LayerIndices lists the neurons of a set in one layer. In a set at the
// experts' site (site "mlp.experts.hook_act", a mixture-of-experts model)
// each entry also names its expert, {"layer": 4, "expert": 17, "indices":
// [...]}, entries are ordered by layer and then expert, and the indices are
// columns of that expert's hook_act; other sets have no "expert", so files
// written before experts existed read as before.
type LayerIndices struct {
	Layer   int     `json:"layer"`
	Expert  *int    `json:"expert,omitempty"`
	Indices []int32 `json:"indices"`
}

// ExpertIndices returns a set at the experts' site as an expert → layer →
// indices map, the form RegisterNeuronEdit takes for each expert. The
// slices alias the set.
func (s *NeuronSet) ExpertIndices() map[int]map[int][]int32 {
	m := map[int]map[int][]int32{}
	for _, l := range s.Layers {
		if l.Expert == nil {
			continue
		}
		if m[*l.Expert] == nil {
			m[*l.Expert] = map[int][]int32{}
		}
		m[*l.Expert][l.Layer] = l.Indices
	}
	return m
}

// Size returns the number of neurons in the set over all layers.
func (s *NeuronSet) Size() int {
	n := 0
	for _, l := range s.Layers {
		n += len(l.Indices)
	}
	return n
}

// ParsedSite returns the set's site.
func (s *NeuronSet) ParsedSite() (Site, error) {
	if s.Site == SiteExpertAct.String() {
		return SiteExpertAct, nil
	}
	site, err := blockSite(s.Site)
	if err != nil {
		return 0, fmt.Errorf("hooks: neuron set %q: %w", s.Name, err)
	}
	return site, nil
}

// Indices returns the set as a layer → indices map, the form NewNeuronEdit
// takes. The slices alias the set.
func (s *NeuronSet) Indices() map[int][]int32 {
	m := make(map[int][]int32, len(s.Layers))
	for _, l := range s.Layers {
		m[l.Layer] = l.Indices
	}
	return m
}

// Find returns the set named name.
func (f *NeuronSetFile) Find(name string) (*NeuronSet, bool) {
	for i := range f.NeuronSets {
		if f.NeuronSets[i].Name == name {
			return &f.NeuronSets[i], true
		}
	}
	return nil, false
}

// ReadNeuronSets decodes a neuron-set file strictly (unknown fields,
// trailing data and a missing or unknown version are errors) and checks its
// structure, and its ranges against its own "model" when present.
//
// Memory: it reads at most maxNeuronSetsBytes (256 MiB); encoding/json
// buffers the file (a buffer that grows by doubling, up to 2 × the file)
// and decodes it into at most a few times its size (an index of two bytes,
// "1,", becomes four bytes of int32 in a slice that grows by doubling);
// nesting is bounded by encoding/json. Measured on adversarial files the
// peak heap stays under 10 × the file's size.
func ReadNeuronSets(r io.Reader) (*NeuronSetFile, error) {
	lr := &io.LimitedReader{R: r, N: maxNeuronSetsBytes + 1}
	dec := json.NewDecoder(lr)
	dec.DisallowUnknownFields()
	var f NeuronSetFile
	if err := dec.Decode(&f); err != nil {
		if lr.N <= 0 {
			return nil, fmt.Errorf("hooks: neuron sets: file longer than %d bytes", int64(maxNeuronSetsBytes))
		}
		return nil, fmt.Errorf("hooks: neuron sets: %w", err)
	}
	if _, err := dec.Token(); !errors.Is(err, io.EOF) {
		return nil, fmt.Errorf("hooks: neuron sets: unexpected data after the JSON object")
	}
	if err := f.check(f.Model); err != nil {
		return nil, err
	}
	return &f, nil
}

// LoadNeuronSets reads and checks the neuron-set file at path.
func LoadNeuronSets(path string) (*NeuronSetFile, error) {
	fh, err := os.Open(path)
	if err != nil {
		return nil, fmt.Errorf("hooks: neuron sets: %w", err)
	}
	defer fh.Close()
	f, err := ReadNeuronSets(fh)
	if err != nil {
		return nil, fmt.Errorf("%w (file %s)", err, path)
	}
	return f, nil
}

// Write checks f and writes it as indented JSON.
func (f *NeuronSetFile) Write(w io.Writer) error {
	if err := f.check(f.Model); err != nil {
		return err
	}
	var buf bytes.Buffer
	enc := json.NewEncoder(&buf)
	enc.SetEscapeHTML(false)
	enc.SetIndent("", "  ")
	if err := enc.Encode(f); err != nil {
		return fmt.Errorf("hooks: neuron sets: encode: %w", err)
	}
	if _, err := w.Write(buf.Bytes()); err != nil {
		return fmt.Errorf("hooks: neuron sets: write: %w", err)
	}
	return nil
}

// Save checks f and writes it to path.
func (f *NeuronSetFile) Save(path string) error {
	var buf bytes.Buffer
	if err := f.Write(&buf); err != nil {
		return err
	}
	if err := atomicfile.Write(path, func(w io.Writer) error { _, err := w.Write(buf.Bytes()); return err }); err != nil {
		return fmt.Errorf("hooks: neuron sets: %w", err)
	}
	return nil
}

// Validate checks f's structure and that every layer and index is in range
// for model. If the file names its own model, its sizes (and arch, when both
// give one) must match; names are not compared, since one model has many.
func (f *NeuronSetFile) Validate(model ModelShape) error {
	if model.Layers <= 0 || model.DModel <= 0 || model.DMLP <= 0 {
		return fmt.Errorf("hooks: neuron sets: model shape needs positive n_layers, d_model and d_mlp (got %d, %d, %d)",
			model.Layers, model.DModel, model.DMLP)
	}
	if fm := f.Model; fm != nil {
		if fm.Layers != model.Layers || fm.DModel != model.DModel || fm.DMLP != model.DMLP {
			return fmt.Errorf("hooks: neuron sets: file is for a model with n_layers %d, d_model %d, d_mlp %d; this model has %d, %d, %d",
				fm.Layers, fm.DModel, fm.DMLP, model.Layers, model.DModel, model.DMLP)
		}
		if fm.Arch != "" && model.Arch != "" && fm.Arch != model.Arch {
			return fmt.Errorf("hooks: neuron sets: file is for arch %q, this model is %q", fm.Arch, model.Arch)
		}
	}
	return f.checkStrict(&model)
}

// check validates structure, and ranges where model knows the widths.
func (f *NeuronSetFile) check(model *ModelShape) error {
	return f.validate(model, false)
}

// checkStrict validates structure and requires every range to be known.
func (f *NeuronSetFile) checkStrict(model *ModelShape) error {
	return f.validate(model, true)
}

func (f *NeuronSetFile) validate(model *ModelShape, strict bool) error {
	if f.Format != NeuronSetsFormat {
		return fmt.Errorf("hooks: neuron sets: format is %q, want %q", f.Format, NeuronSetsFormat)
	}
	if f.Version != NeuronSetsVersion {
		return fmt.Errorf("hooks: neuron sets: version %d is not supported (want %d; a missing version reads as 0)", f.Version, NeuronSetsVersion)
	}
	seen := make(map[string]bool, len(f.NeuronSets))
	for i := range f.NeuronSets {
		s := &f.NeuronSets[i]
		if s.Name == "" {
			return fmt.Errorf("hooks: neuron sets: set #%d has no name", i)
		}
		if seen[s.Name] {
			return fmt.Errorf("hooks: neuron sets: duplicate set name %q", s.Name)
		}
		seen[s.Name] = true
		if err := s.validate(model, strict); err != nil {
			return err
		}
	}
	return nil
}

// validate checks one set.
func (s *NeuronSet) validate(model *ModelShape, strict bool) error {
	site, err := s.ParsedSite()
	if err != nil {
		return err
	}
	width, known := 0, false
	if model != nil {
		width, known = model.Width(site)
		if !known && strict {
			return fmt.Errorf("hooks: neuron set %q: the model shape does not give the width of site %s", s.Name, s.Site)
		}
	}
	prev, prevExpert := -1, -1
	for _, l := range s.Layers {
		if l.Layer < 0 || (model != nil && l.Layer >= model.Layers) {
			limit := "∞"
			if model != nil {
				limit = fmt.Sprint(model.Layers)
			}
			return fmt.Errorf("hooks: neuron set %q: layer %d out of range [0, %s)", s.Name, l.Layer, limit)
		}
		if site == SiteExpertAct {
			if l.Expert == nil {
				return fmt.Errorf("hooks: neuron set %q: layer %d: a set at %s names the expert of each entry (\"expert\": E)", s.Name, l.Layer, s.Site)
			}
			e := *l.Expert
			if e < 0 || (model != nil && model.Experts > 0 && e >= model.Experts) || (strict && model != nil && model.Experts == 0) {
				return fmt.Errorf("hooks: neuron set %q: layer %d: expert %d out of range for a model with %d experts", s.Name, l.Layer, e, model.expertCount())
			}
			if l.Layer < prev || (l.Layer == prev && e <= prevExpert) {
				return fmt.Errorf("hooks: neuron set %q: layer %d expert %d listed after layer %d expert %d (entries must be ordered by layer, then expert)",
					s.Name, l.Layer, e, prev, prevExpert)
			}
			prev, prevExpert = l.Layer, e
		} else {
			if l.Expert != nil {
				return fmt.Errorf("hooks: neuron set %q: layer %d names expert %d, but only sets at %s address experts", s.Name, l.Layer, *l.Expert, SiteExpertAct)
			}
			if l.Layer <= prev {
				return fmt.Errorf("hooks: neuron set %q: layer %d listed after layer %d (layers must be strictly increasing)", s.Name, l.Layer, prev)
			}
			prev = l.Layer
		}
		for k, j := range l.Indices {
			if j < 0 || (known && int(j) >= width) {
				return fmt.Errorf("hooks: neuron set %q: layer %d: index %d out of range [0, %d)", s.Name, l.Layer, j, width)
			}
			if k > 0 && j <= l.Indices[k-1] {
				return fmt.Errorf("hooks: neuron set %q: layer %d: index %d follows %d (indices must be strictly increasing)",
					s.Name, l.Layer, j, l.Indices[k-1])
			}
		}
	}
	return nil
}

// ZeroSets registers editors that zero the named sets (all sets when names
// is nil) at their sites, in every layer they list, in the rows when
// selects. Sets at the same site are merged into one editor, since zeroing
// is idempotent. Validate the file against the model first
// (NeuronSetFile.Validate); otherwise an index beyond a site's width is
// reported only when the engine checks the hooks before a run.
func ZeroSets(h *Hooks, f *NeuronSetFile, names []string, when When) error {
	sets, err := f.pick(names)
	if err != nil {
		return err
	}
	union := make(map[Site]map[int][]int32)
	experts := map[int]map[int][]int32{} // expert -> layer -> indices
	var order []Site
	for _, s := range sets {
		site, err := s.ParsedSite()
		if err != nil {
			return err
		}
		if site == SiteExpertAct {
			for e, layers := range s.ExpertIndices() {
				if experts[e] == nil {
					experts[e] = map[int][]int32{}
				}
				for l, idx := range layers {
					experts[e][l] = append(experts[e][l], idx...)
				}
			}
			continue
		}
		if union[site] == nil {
			union[site] = make(map[int][]int32)
			order = append(order, site)
		}
		for _, l := range s.Layers {
			union[site][l.Layer] = append(union[site][l.Layer], l.Indices...)
		}
	}
	for _, site := range order {
		if err := registerNeuronEdit(h, site, OpZero, 0, union[site], when); err != nil {
			return err
		}
	}
	return registerExpertEdits(h, OpZero, 0, experts, when)
}

// registerExpertEdits registers one NeuronEdit per expert (expert → layer
// → indices) at that expert's hook_act, in expert order.
func registerExpertEdits(h *Hooks, op NeuronOp, value float32, experts map[int]map[int][]int32, when When) error {
	es := make([]int, 0, len(experts))
	for e := range experts {
		es = append(es, e)
	}
	sort.Ints(es)
	for _, e := range es {
		if err := registerNeuronEditAt(h, fmt.Sprintf("blocks.*.mlp.experts.%d.hook_act", e), SiteExpertAct, op, value, experts[e], when); err != nil {
			return err
		}
	}
	return nil
}

// ScaleSets registers one editor per named set (all sets when names is nil)
// multiplying its neurons by factor in the rows when selects. Sets are
// registered in the order named, so a neuron in two sets is scaled twice.
func ScaleSets(h *Hooks, f *NeuronSetFile, names []string, factor float32, when When) error {
	sets, err := f.pick(names)
	if err != nil {
		return err
	}
	for _, s := range sets {
		site, err := s.ParsedSite()
		if err != nil {
			return err
		}
		if site == SiteExpertAct {
			if err := registerExpertEdits(h, OpScale, factor, s.ExpertIndices(), when); err != nil {
				return fmt.Errorf("%w (set %q)", err, s.Name)
			}
			continue
		}
		if err := registerNeuronEdit(h, site, OpScale, factor, s.Indices(), when); err != nil {
			return fmt.Errorf("%w (set %q)", err, s.Name)
		}
	}
	return nil
}

// pick returns the named sets, or all of them for nil names.
func (f *NeuronSetFile) pick(names []string) ([]*NeuronSet, error) {
	if f == nil {
		return nil, fmt.Errorf("hooks: neuron sets: nil file")
	}
	if names == nil {
		sets := make([]*NeuronSet, len(f.NeuronSets))
		for i := range f.NeuronSets {
			sets[i] = &f.NeuronSets[i]
		}
		return sets, nil
	}
	sets := make([]*NeuronSet, 0, len(names))
	for _, name := range names {
		s, ok := f.Find(name)
		if !ok {
			return nil, fmt.Errorf("hooks: neuron sets: no set named %q", name)
		}
		sets = append(sets, s)
	}
	return sets, nil
}

// registerNeuronEdit builds a NeuronEdit and registers it on every layer of
// site it has indices for; an empty selection registers nothing.
func registerNeuronEdit(h *Hooks, site Site, op NeuronOp, value float32, idx map[int][]int32, when When) error {
	return registerNeuronEditAt(h, "blocks.*."+site.String(), site, op, value, idx, when)
}

// registerNeuronEditAt is registerNeuronEdit at the points of pattern.
func registerNeuronEditAt(h *Hooks, pattern string, site Site, op NeuronOp, value float32, idx map[int][]int32, when When) error {
	if h == nil {
		return fmt.Errorf("hooks: neuron edit at %s: nil *Hooks", site)
	}
	empty := true
	for l, v := range idx {
		if len(v) == 0 {
			continue
		}
		empty = false
		if l < 0 || l >= h.Layers() {
			return fmt.Errorf("hooks: neuron edit at %s: layer %d out of range for a model with %d layers", site, l, h.Layers())
		}
	}
	if empty {
		return nil
	}
	e, err := NewNeuronEdit(op, value, idx, when)
	if err != nil {
		return err
	}
	return h.Edit(pattern, e)
}
