package report

import (
	"bytes"
	"encoding/csv"
	"encoding/json"
	"errors"
	"fmt"
	"image/color"
	"math"
	"os"
	"path/filepath"
	"sort"
	"strconv"
	"strings"

	"github.com/valueexploration/valueexp/hooks"
	"github.com/valueexploration/valueexp/valueexp/cvoice"
	"github.com/valueexploration/valueexp/valueexp/evaluate"
	"github.com/valueexploration/valueexp/valueexp/record"
	"github.com/valueexploration/valueexp/valueexp/stats"
)

// Inputs are the files a report is made from; any of Counts, Neurons and
// Results may be nil, but not all three.
type Inputs struct {
	// Counts are activation counts from "valueexp record" (hooks.LoadActProb).
	Counts *hooks.ActProb
	// CountsMeta is the counts file's safetensors metadata; its "record"
	// entry (the record manifest) supplies data digest, counting mode and
	// items per tag. May be nil.
	CountsMeta map[string]string
	// CountsFile, NeuronsFile and ResultsFile name the inputs in the header.
	CountsFile, NeuronsFile, ResultsFile string
	// Neurons are the sets from "valueexp identify" (hooks.LoadNeuronSets).
	Neurons *hooks.NeuronSetFile
	// Results are from "valueexp evaluate".
	Results *evaluate.Results
	// Title heads the report (default "ValueExploration report").
	Title string
	// Demo marks a run on a random-weight model: the report then opens with
	// a notice that it demonstrates the pipeline and shows no finding. Model
	// names that say "random weights" or "synthetic" set it too.
	Demo bool
	// DemoReason, if set with Demo, says in the notice how the random
	// weights were recognised.
	DemoReason string
	// Data is the evaluation data the results were computed on. It gives
	// each per-item outcome its value and language, for the intervals and
	// tests of package stats, when the results' items do not carry them
	// (files written before they did); without either the report has no
	// intervals and says so. Given with items that carry them, it must
	// agree.
	Data *cvoice.Dataset
	// Stats configures the intervals and tests (seed, correction, level).
	Stats stats.Options
	// NeuronsSHA256 is the hex SHA-256 of the neuron file given. Results
	// whose job names another neuron file (job.neurons_sha256) make Write
	// refuse (see Force); results without it are compared by set names and
	// sizes.
	NeuronsSHA256 string
	// CountsSHA256 is the hex SHA-256 of the counts file given. Neuron sets
	// whose provenance names other counts make Write refuse (see Force).
	CountsSHA256 string
	// Force writes a report from inputs that do not belong together (see
	// CountsSHA256; results computed with other neuron sets; per-item
	// outcomes the data does not match), with a warning at the top.
	Force bool
}

// ReportFile is the name of the Markdown file Write creates.
const ReportFile = "report.md"

// Write renders the report into dir (created if needed): report.md, one PNG
// per figure and cells.csv with every evaluation cell when there are
// results. It returns the paths of the files written.
func Write(dir string, in Inputs) (files []string, err error) {
	if in.Counts == nil && in.Neurons == nil && in.Results == nil {
		return nil, errors.New("report: no inputs: give counts, neuron sets or results")
	}
	// Every number is checked before any is used: a rate of 1e308 once
	// hung the plot rasteriser, and a corrupt layer count sized a table.
	if in.Results != nil {
		if err := ValidateResults(in.Results); err != nil {
			return nil, fmt.Errorf("report: %s%w", fileNote(in.ResultsFile), err)
		}
	}
	if in.Neurons != nil {
		if err := validateNeurons(in.Neurons); err != nil {
			return nil, fmt.Errorf("report: %s%w", fileNote(in.NeuronsFile), err)
		}
	}
	if err := os.MkdirAll(dir, 0o755); err != nil {
		return nil, fmt.Errorf("report: %w", err)
	}
	w := &writer{dir: dir, in: in}
	if in.Neurons != nil {
		w.inv = inventory(in.Neurons)
	}
	if in.Results != nil {
		w.res = newResultTable(in.Results)
	}
	if m, ok := parseManifest(in.CountsMeta); ok {
		w.manifest = m
	}
	if in.Results != nil && len(in.Results.Items) > 0 && (in.Data != nil || ItemsCarryGroups(in.Results)) {
		si, err := StatsInput(in.Results, in.Data)
		if err == nil {
			w.an, err = stats.Analyze(si, in.Stats)
		}
		if err != nil {
			w.statsErr = fmt.Errorf("the per-item outcomes do not match the evaluation data given: %w", err)
		}
	}
	w.mismatch = w.mismatches()
	if len(w.mismatch) > 0 && !in.Force {
		return nil, fmt.Errorf("report: the inputs do not belong together: %s (use --force to write the report anyway, with a warning)", strings.Join(w.mismatch, "; "))
	}
	if err := w.render(); err != nil {
		return w.files, err
	}
	path := filepath.Join(dir, ReportFile)
	if err := os.WriteFile(path, []byte(w.md.String()), 0o644); err != nil {
		return w.files, fmt.Errorf("report: %w", err)
	}
	return append(w.files, path), nil
}

// writer holds the state of one report being written.
type writer struct {
	dir      string
	in       Inputs
	inv      *neuronInventory
	res      *resultTable
	manifest *record.Manifest
	an       *stats.Analysis // nil without per-item outcomes and data
	statsErr error           // why the outcomes could not be analysed
	mismatch []string        // inputs that do not belong together (written only with Force)
	md       doc
	files    []string
	section  int
}

// heading starts a numbered section.
func (w *writer) heading(title string) {
	w.section++
	w.md.p("## %d. %s", w.section, title)
}

// savePNG renders f as name in the report folder and links it.
func (w *writer) savePNG(f *figure, name, alt string) error {
	path := filepath.Join(w.dir, name)
	if err := f.save(path); err != nil {
		return err
	}
	w.files = append(w.files, path)
	w.md.image(name, alt)
	return nil
}

func (w *writer) render() error {
	title := w.in.Title
	if title == "" {
		title = "ValueExploration report"
	}
	w.md.p("# %s", title)
	if len(w.mismatch) > 0 {
		w.md.line("> **WARNING — THE INPUTS DO NOT BELONG TOGETHER; THIS REPORT WAS FORCED (--force).**")
		for _, m := range w.mismatch {
			w.md.line("> - %s.", m)
		}
		w.md.p("> Numbers below mix runs that do not match; do not read them as one experiment.")
	}
	demo, why := w.isDemo()
	if demo {
		w.md.p("> **DEMONSTRATION OF THE PIPELINE — random weights, not a finding.**\n> %s Every number and figure below shows only that the pipeline runs end to end; none of it says anything about values in a language model.", why)
	}
	w.header()
	w.caveats(demo)
	steps := []func() error{w.layerSection, w.overlapSection, w.zhEnOverlapSection, w.effectSection, w.supportSection, w.countsSection}
	for _, step := range steps {
		if err := step(); err != nil {
			return err
		}
	}
	return nil
}

// models lists the distinct model names the inputs give.
func (w *writer) models() []string {
	var out []string
	// A model named by its path in one file and by its file name in
	// another is one model.
	add := func(s string) {
		s = strings.TrimSpace(s)
		if s == "" {
			return
		}
		for i, o := range out {
			if filepath.Base(o) == filepath.Base(s) {
				if len(s) > len(o) {
					out[i] = s
				}
				return
			}
		}
		out = append(out, s)
	}
	if w.in.Results != nil {
		add(w.in.Results.Model)
	}
	if w.in.Counts != nil {
		add(w.in.Counts.Model)
	}
	if w.manifest != nil {
		add(w.manifest.Model)
	}
	if w.in.Neurons != nil && w.in.Neurons.Model != nil {
		add(w.in.Neurons.Model.Name)
	}
	return out
}

// isDemo reports whether the report must carry the demonstration notice,
// and why.
func (w *writer) isDemo() (bool, string) {
	if w.in.Demo {
		if w.in.DemoReason != "" {
			return true, w.in.DemoReason
		}
		return true, "This report was made with --demo: the model has random weights."
	}
	for _, m := range w.models() {
		if looksSynthetic(m) {
			return true, fmt.Sprintf("The model %q is a random-weight synthetic model.", m)
		}
	}
	return false, ""
}

// looksSynthetic recognises the names "valueexp synth" gives its models
// ("... (random weights)") and other explicit markers.
func looksSynthetic(name string) bool {
	n := strings.ToLower(name)
	for _, s := range []string{"random weights", "random-weight", "random weight", "synthetic", "valueexp synth"} {
		if strings.Contains(n, s) {
			return true
		}
	}
	return false
}

// header writes the table of what went in.
func (w *writer) header() {
	var rows [][]string
	add := func(k, v string) {
		if v != "" {
			rows = append(rows, []string{k, v})
		}
	}
	add("Model", strings.Join(w.models(), "; "))
	if ns := w.in.Neurons; ns != nil && ns.Model != nil {
		m := ns.Model
		shape := fmt.Sprintf("%d layers, d_model %d, d_mlp %d", m.Layers, m.DModel, m.DMLP)
		if m.Arch != "" {
			shape += ", arch " + m.Arch
		}
		add("Model shape", shape)
	}
	if c := w.in.Counts; c != nil {
		src := fileNote(w.in.CountsFile)
		add("Activation counts", fmt.Sprintf("%s%d tags × %d layers × %d neurons at %s", src, c.Tags, c.Layers, c.Dim, c.Site))
		if m := w.manifest; m != nil {
			add("Counting", fmt.Sprintf("mode %s, format %s, %d items, languages %s, data digest %s", orDash(string(m.Mode)), orDash(m.Format), m.Items, orDash(strings.Join(m.Langs, ", ")), short(m.DataDigest)))
			if m.Mode == record.ModeGenerated {
				add("Generation (counting)", fmt.Sprintf("max new tokens %d, repetition penalty %g", m.MaxNewTokens, m.RepetitionPenalty))
			}
		}
	}
	if ns := w.in.Neurons; ns != nil {
		add("Neuron sets", fmt.Sprintf("%s%s (%s, %s, %d other)", fileNote(w.in.NeuronsFile), plural(len(ns.NeuronSets), "set"), plural(w.valueSetCount(), "value set"), plural(len(w.inv.Controls), "random control"), len(w.inv.Other)))
		add("Selection", w.provenance())
	}
	if r := w.in.Results; r != nil {
		add("Evaluation", fmt.Sprintf("%smode %s; option order swapped too: %s; chat template: %s; items per value and language: %s", fileNote(w.in.ResultsFile), orDash(string(r.Mode)), yesNo(r.SwapOrder), yesNo(r.Chat), capText(r.MaxItems)))
		add("Evaluation data", r.Data)
		add("Conditions", fmt.Sprintf("%d (plain model, %s, %s)", len(w.res.conds), plural(w.countKind("deactivate"), "deactivated set"), plural(w.countKind("random"), "random control")))
	}
	w.md.table([]string{"input", "value"}, rows)
	w.md.p("Value order everywhere: the 12 Core Socialist Values in the order of valueexp/METHOD.md §1 (富强 Prosperity … 友善 Friendliness). Figures use the English names, tables both.")
}

func (w *writer) valueSetCount() int {
	n := 0
	for _, g := range w.inv.Groups {
		n += g.count()
	}
	return n
}

func (w *writer) countKind(kind string) int {
	n := 0
	for _, c := range w.res.conds {
		if c.Kind == kind {
			n++
		}
	}
	return n
}

// provenance summarises how each language group's sets were selected,
// from the provenance of the group's first set that has one.
func (w *writer) provenance() string {
	var parts []string
	for _, g := range w.inv.Groups {
		for _, s := range g.Sets {
			if s != nil && len(s.Provenance) > 0 {
				p := summariseJSON(s.Provenance)
				if len(w.inv.Groups) > 1 {
					p = langTitle(g.Lang) + ": " + p
				}
				parts = append(parts, p)
				break
			}
		}
	}
	return strings.Join(parts, " — ")
}

// summariseJSON renders a provenance object as "key value; ..." with
// numbers to four significant digits and long lists as their length.
func summariseJSON(raw json.RawMessage) string {
	var obj map[string]any
	if err := json.Unmarshal(raw, &obj); err != nil {
		return clip(string(raw), 300)
	}
	keys := make([]string, 0, len(obj))
	for k := range obj {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	var parts []string
	for _, k := range keys {
		parts = append(parts, k+" "+summariseValue(obj[k]))
	}
	return clip(strings.Join(parts, "; "), 800)
}

func summariseValue(v any) string {
	switch x := v.(type) {
	case string:
		return clip(x, 80)
	case float64:
		return strconv.FormatFloat(x, 'g', 4, 64)
	case []any:
		if len(x) > 3 {
			return fmt.Sprintf("[%d items]", len(x))
		}
		items := make([]string, len(x))
		for i, e := range x {
			items[i] = summariseValue(e)
		}
		return "[" + strings.Join(items, ", ") + "]"
	case map[string]any:
		b, _ := json.Marshal(x)
		return clip(string(b), 120)
	case nil:
		return "null"
	}
	return fmt.Sprint(v)
}

// caveats writes the list of warnings the inputs call for.
func (w *writer) caveats(demo bool) {
	var cs []string
	if demo {
		cs = append(cs, "**Random weights.** The model was never trained; overlaps, layer profiles and effects reflect random structure only.")
	}
	if r := w.in.Results; r != nil {
		if r.Mode == evaluate.Likelihood {
			cs = append(cs, "**Likelihood mode.** Support rate here is the model's probability of the aligned letter, P(aligned)/(P(A)+P(B)), not the percentages the authors' prompt asks the model to write; the two can differ.")
		}
		if !r.SwapOrder {
			cs = append(cs, "**Fixed option order.** The aligned option was always shown first (option A), as in the released data, so a preference for the first option cannot be told apart from a preference for the value.")
		}
		if minItems := w.minItems(); minItems > 0 {
			cs = append(cs, fmt.Sprintf("**Sample size.** The smallest cell has %d answered items; a support rate from n items has a standard error of at most 50/√n = %.1f points, so differences of a few points are noise.", minItems, 50/math.Sqrt(float64(minItems))))
		}
		if rate := w.parseFailureRate(); rate > 0.05 {
			cs = append(cs, fmt.Sprintf("**Parse failures.** %.1f%% of answers did not give both percentages and are left out of the rates; if failures differ between conditions, so does the set of items compared.", 100*rate))
		}
		if w.countKind("deactivate") > 0 && w.countKind("random") == 0 {
			cs = append(cs, "**No random controls.** Without same-size random sets, a change cannot be told apart from the generic damage of switching off that many neurons.")
		}
		if empty := w.emptySets(); len(empty) > 0 {
			cs = append(cs, fmt.Sprintf("**Empty sets switched off:** %s. These sets hold no neurons, so their rows are the plain model run again: any change there is noise.", strings.Join(empty, ", ")))
		}
		if len(w.res.conds) > 0 && w.res.conds[0].Kind != "none" {
			cs = append(cs, "**No plain-model condition.** Deltas against the plain model are unavailable.")
		}
	}
	if w.inv != nil {
		if len(w.inv.Dup) > 0 {
			cs = append(cs, fmt.Sprintf("**Duplicate value sets** (only the first is used): %s.", strings.Join(w.inv.Dup, ", ")))
		}
		for _, g := range w.inv.Groups {
			var empty, missing []string
			for v, s := range g.Sets {
				switch {
				case s == nil:
					missing = append(missing, cvoice.Value(v).Chinese())
				case s.Size() == 0:
					empty = append(empty, cvoice.Value(v).Chinese())
				}
			}
			if len(missing) > 0 {
				cs = append(cs, fmt.Sprintf("**Missing value sets (%s):** %s.", langTitle(g.Lang), strings.Join(missing, " ")))
			}
			if len(empty) > 0 {
				cs = append(cs, fmt.Sprintf("**Empty value sets (%s):** %s; their overlaps are undefined (n/a) and switching them off changes nothing.", langTitle(g.Lang), strings.Join(empty, " ")))
			}
		}
		cs = append(cs, "**Shared neurons.** VAPE (as LAPE) puts a neuron in every value whose activation probability passes the bar, so one neuron can belong to several values' sets; per-layer totals count it once per value.")
	}
	if c := w.in.Counts; c != nil {
		var lo, hi uint64 = math.MaxUint64, 0
		for k := range c.Tags {
			n := tokensPerTag(c, k)
			lo, hi = min(lo, n), max(hi, n)
		}
		if lo == 0 {
			cs = append(cs, "**Tags without tokens.** Some tags counted no tokens; their activation probabilities are 0 and VAPE treats them as never active.")
		} else if hi > 2*lo {
			cs = append(cs, fmt.Sprintf("**Unequal token totals.** Tags range from %d to %d tokens; rarer tags give noisier activation probabilities.", lo, hi))
		}
		if len(c.TagNames) == 0 {
			cs = append(cs, "**Unnamed tags.** The counts file has no tag names, so tags cannot be matched to values; only totals are shown.")
		}
		if c.BadTags > 0 {
			cs = append(cs, fmt.Sprintf("**Rows with invalid tags** were skipped while counting: %d.", c.BadTags))
		}
		if m := w.manifest; m != nil && (m.Partial || !m.Complete) {
			cs = append(cs, "**Incomplete counts.** The counts file is a checkpoint or a subset of shards, not the whole job.")
		}
	}
	if len(cs) == 0 {
		return
	}
	w.md.p("### Caveats")
	for _, c := range cs {
		w.md.line("- %s", c)
	}
	w.md.WriteString("\n")
}

func (w *writer) minItems() int {
	lo := 0
	for _, c := range w.in.Results.Cells {
		if c.Answered > 0 && (lo == 0 || c.Answered < lo) {
			lo = c.Answered
		}
	}
	return lo
}

func (w *writer) parseFailureRate() float64 {
	items, fails := 0, 0
	for _, c := range w.in.Results.Cells {
		items += c.Items
		fails += c.ParseFailures
	}
	if items == 0 {
		return 0
	}
	return float64(fails) / float64(items)
}

// ---- 1. neurons per layer -------------------------------------------------

func (w *writer) layerSection() error {
	if w.inv == nil || len(w.inv.Groups) == 0 {
		return nil
	}
	w.heading("Value neurons per layer")
	w.md.p("**What this shows.** For each layer (x), how many FFN neurons (at mlp.hook_act) each value's set holds, stacked so that the height of a bar is the total over the 12 values. LAPE-style selection tends to concentrate in the bottom and top layers; valueexp/METHOD.md §6 lists the per-layer totals of the authors' released masks for scale. **Caveats:** a neuron in several values' sets is counted once for each; the totals depend directly on the selection's top rate (1 %% of all neurons by default).")
	layers := max(w.inv.Layers, 1)
	for _, g := range w.inv.Groups {
		var counts [cvoice.NumValues][]int
		for v, s := range g.Sets {
			counts[v] = perLayer(s, layers)
		}
		f, err := layerFigure(counts, layers, "Value-specific neurons per layer, "+asciiLang(g.Lang))
		if err != nil {
			return err
		}
		w.md.p("### %s", langTitle(g.Lang))
		if err := w.savePNG(f, "layers_"+langFile(g.Lang)+".png", "neurons per layer, "+langTitle(g.Lang)); err != nil {
			return err
		}
		header := []string{"layer"}
		for _, v := range allValues() {
			header = append(header, v.Chinese()+" "+v.English())
		}
		header = append(header, "total")
		var rows [][]string
		for l := range layers {
			row := []string{strconv.Itoa(l)}
			total := 0
			for v := range cvoice.NumValues {
				n := counts[v][l]
				total += n
				row = append(row, strconv.Itoa(n))
			}
			rows = append(rows, append(row, strconv.Itoa(total)))
		}
		w.md.p("<details><summary>Neurons per layer and value (%s)</summary>", langTitle(g.Lang))
		w.md.table(header, rows)
		w.md.p("</details>")
	}
	// Set sizes per value and language.
	header := []string{"value"}
	for _, g := range w.inv.Groups {
		header = append(header, "neurons, "+langTitle(g.Lang))
	}
	var rows [][]string
	for _, v := range allValues() {
		row := []string{v.Chinese() + " " + v.English()}
		for _, g := range w.inv.Groups {
			if s := g.Sets[v]; s != nil {
				row = append(row, strconv.Itoa(s.Size()))
			} else {
				row = append(row, "—")
			}
		}
		rows = append(rows, row)
	}
	total := []string{"**total**"}
	for _, g := range w.inv.Groups {
		n := 0
		for _, s := range g.Sets {
			if s != nil {
				n += s.Size()
			}
		}
		total = append(total, strconv.Itoa(n))
	}
	rows = append(rows, total)
	w.md.p("### Set sizes")
	w.md.table(header, rows)
	if len(w.inv.Controls)+len(w.inv.Other) > 0 {
		var rows [][]string
		for _, s := range w.inv.Controls {
			rows = append(rows, []string{s.Name, "random control", strconv.Itoa(s.Size())})
		}
		for _, s := range w.inv.Other {
			rows = append(rows, []string{s.Name, "other", strconv.Itoa(s.Size())})
		}
		w.md.p("Other sets in the file (not plotted):")
		w.md.table([]string{"set", "kind", "neurons"}, rows)
	}
	return nil
}

// asciiLang names a language group inside a figure.
func asciiLang(lang string) string {
	switch lang {
	case "zh":
		return "Chinese (zh)"
	case "en":
		return "English (en)"
	case "":
		return "pooled languages"
	}
	return asciiLabel(lang)
}

// ---- 2. cross-value overlap ----------------------------------------------

func (w *writer) overlapSection() error {
	if w.inv == nil || len(w.inv.Groups) == 0 {
		return nil
	}
	w.heading("Overlap between values' neuron sets")
	w.md.p("**What this shows.** Jaccard overlap |N_u ∩ N_v| / |N_u ∪ N_v| between the neuron sets of every pair of values (neurons identified by layer and index); the diagonal is 1. Low off-diagonal values mean the values recruit different neurons. For scale, the authors' released masks have a mean pairwise Jaccard of 0.07–0.16 (valueexp/METHOD.md §6). **Caveats:** Jaccard ignores set size, so two sets of very different sizes overlap little even when the small one lies inside the big one; the intersection counts are in the table. n/a marks pairs where both sets are empty or missing.")
	names := englishNames(allValues())
	for _, g := range w.inv.Groups {
		jac, inter := overlapMatrix(g)
		f := matrixFigure(jac, names, names, &ramp{min: 0, max: 1, stops: sequentialStops}, fmt.Sprintf("%%.%df", jaccardDecimals),
			"Jaccard overlap of value neuron sets, "+asciiLang(g.Lang), "value", "value", "Jaccard", nil, nil)
		w.md.p("### %s", langTitle(g.Lang))
		if err := w.savePNG(f, "overlap_"+langFile(g.Lang)+".png", "overlap between values, "+langTitle(g.Lang)); err != nil {
			return err
		}
		mean, lo, hi, n := pairwiseJaccardStats(jac)
		w.md.p("Mean pairwise Jaccard %s (min %s, max %s, over %d pairs); neurons shared by all 12 sets: %d.", num(mean, jaccardDecimals), num(lo, jaccardDecimals), num(hi, jaccardDecimals), n, sharedByAll(g))
		header := []string{"Jaccard (∩)"}
		for _, v := range allValues() {
			header = append(header, v.Chinese())
		}
		var rows [][]string
		for u := range cvoice.NumValues {
			row := []string{cvoice.Value(u).Chinese() + " " + cvoice.Value(u).English()}
			for v := range cvoice.NumValues {
				cell := num(jac[u][v], jaccardDecimals)
				if !math.IsNaN(jac[u][v]) {
					cell += fmt.Sprintf(" (%d)", inter[u][v])
				}
				row = append(row, cell)
			}
			rows = append(rows, row)
		}
		w.md.table(header, rows)
	}
	return nil
}

// ---- 3. zh vs en overlap -------------------------------------------------

func (w *writer) zhEnOverlapSection() error {
	if w.inv == nil {
		return nil
	}
	zh, en := w.inv.group("zh"), w.inv.group("en")
	if zh == nil || en == nil {
		return nil
	}
	w.heading("Chinese vs English neuron sets per value")
	w.md.p("**What this shows.** For each value, the Jaccard overlap between the neurons selected on Chinese texts (\"v/zh\") and on English texts (\"v/en\"). High overlap means the value is carried by the same neurons in both languages; low overlap means language-specific value neurons. **Caveats:** VAPE was run separately per language, so the two sets compete with different other values' probabilities; a random pair of sets of these sizes would overlap by about |zh|·|en|/(layers·d_mlp) neurons, shown as \"chance ∩\" when the model shape is known.")
	jac := make([]float64, cvoice.NumValues)
	var rows [][]string
	cells := 0
	if m := w.in.Neurons.Model; m != nil {
		cells = m.Layers * m.DMLP
	}
	for v := range cvoice.NumValues {
		a, b := neuronKeys(zh.Sets[v]), neuronKeys(en.Sets[v])
		var in int
		jac[v], in = jaccard(a, b)
		if zh.Sets[v] == nil || en.Sets[v] == nil {
			jac[v] = math.NaN()
		}
		chance := "—"
		if cells > 0 {
			chance = num(float64(len(a))*float64(len(b))/float64(cells), 1)
		}
		rows = append(rows, []string{cvoice.Value(v).Chinese() + " " + cvoice.Value(v).English(), strconv.Itoa(len(a)), strconv.Itoa(len(b)), strconv.Itoa(in), chance, num(jac[v], jaccardDecimals)})
	}
	f, err := valueBarsFigure(jac, "Overlap of zh and en neuron sets per value", "Jaccard(v/zh, v/en)", 1.05, fmt.Sprintf("%%.%df", jaccardDecimals), color.RGBA{0x31, 0x82, 0xbd, 0xff})
	if err != nil {
		return err
	}
	if err := w.savePNG(f, "overlap_zh_en.png", "zh vs en overlap per value"); err != nil {
		return err
	}
	w.md.table([]string{"value", "|zh|", "|en|", "∩", "chance ∩", "Jaccard"}, rows)
	return nil
}

// ---- 4. deactivation effects ----------------------------------------------

func (w *writer) effectSection() error {
	if w.res == nil || len(w.res.langs) == 0 {
		return nil
	}
	if err := w.writeCellsCSV(); err != nil {
		return err
	}
	w.heading("Effect of deactivating neuron sets")
	w.md.p("**What this shows.** Rows are conditions: the plain model, each neuron set switched off (zeroed at mlp.hook_act at every position) and each set's random controls of the same per-layer sizes. Columns are the evaluated values. A cell is the change in support rate (percentage points) against the plain model: red means the model supports the value-aligned option less, blue more. Outlined cells are a set's own value: value-specific neurons should show their largest fall there, and more than their random control. Every cell is in cells.csv.")
	w.statsNote()
	for _, lang := range w.res.langs {
		vals := w.res.valuesIn(lang)
		if len(vals) == 0 {
			continue
		}
		var rowNames []string
		var mat [][]float64
		var conds []condition
		for _, c := range w.res.conds {
			row := make([]float64, len(vals))
			any := false
			for i, v := range vals {
				row[i] = w.res.deltaVsNone(c.Name, v, lang)
				// The paired change, as in the tables, when there is one.
				if s := w.stat(c.Name, v, lang); s != nil && s.VsNone != nil {
					row[i] = s.VsNone.Mean
				}
				any = any || w.res.cell(c.Name, v, lang) != nil
			}
			if !any {
				continue
			}
			conds = append(conds, c)
			rowNames = append(rowNames, c.label())
			mat = append(mat, row)
		}
		m := 0.0
		for _, row := range mat {
			for _, x := range row {
				if !math.IsNaN(x) {
					m = math.Max(m, math.Abs(x))
				}
			}
		}
		if m == 0 {
			m = 1
		}
		var breaks []int
		for r := 1; r < len(conds); r++ {
			if conds[r].Kind != conds[r-1].Kind {
				breaks = append(breaks, r)
			}
		}
		highlight := func(r, c int) bool {
			return conds[r].Kind != "none" && conds[r].HasOwn && conds[r].Own == vals[c]
		}
		mark := func(r, c int) bool {
			s := w.stat(conds[r].Name, vals[c], lang)
			return s != nil && s.VsNone != nil && s.VsNone.Significant
		}
		title := "Change in support rate vs plain model, evaluated in " + asciiLang(lang)
		if w.an != nil {
			title += " (* survives " + asciiCorrection(w.an.Options.Correction) + ")"
		}
		f := matrixFigure(mat, rowNames, englishNames(vals), &ramp{min: -m, max: m, stops: divergingStops}, pointFormat,
			title, "evaluated value", "", "delta support rate (points)", highlight, breaks)
		f.grid.mark = mark
		w.md.p("### Evaluated in %s", langTitle(lang))
		if err := w.savePNG(f, "effect_"+langFile(lang)+".png", "deactivation effects, "+langTitle(lang)); err != nil {
			return err
		}
		w.effectWords(lang)
		if err := w.effectCIFigure(lang); err != nil {
			return err
		}
		w.specificityTable(lang)
		w.conditionMatrix(lang, vals, conds, "Δ support rate vs plain model (points; * survives the correction; [95 % interval])", func(c condition, v cvoice.Value) string {
			var d *stats.Delta
			if s := w.stat(c.Name, v, lang); s != nil {
				d = s.VsNone
			}
			return deltaText(w.res.deltaVsNone(c.Name, v, lang), d)
		})
		if w.countKind("random") > 0 {
			var sets []condition
			for _, c := range conds {
				if c.Kind == "deactivate" {
					sets = append(sets, c)
				}
			}
			w.conditionMatrix(lang, vals, sets, "Δ support rate vs the set's random controls (points; * survives the correction; [95 % interval])", func(c condition, v cvoice.Value) string {
				var d *stats.Delta
				if s := w.stat(c.Name, v, lang); s != nil {
					d = s.VsRandom
				}
				return deltaText(w.res.deltaVsRandom(c, v, lang), d)
			})
		}
		w.conditionMatrix(lang, vals, conds, "Support rate (%, [95 % interval])", func(c condition, v cvoice.Value) string {
			cell := w.res.cell(c.Name, v, lang)
			s := supportText(cell, w.res.support(c.Name, v, lang))
			if st := w.stat(c.Name, v, lang); st != nil && cell != nil && cell.Answered > 0 {
				if iv := interval(st.SupportCI); iv != "" {
					s += " " + iv
				}
			}
			return s
		})
		w.conditionMatrix(lang, vals, conds, "Aligned-choice rate ([95 % Clopper–Pearson interval])", func(c condition, v cvoice.Value) string {
			cell := w.res.cell(c.Name, v, lang)
			if cell == nil {
				return "—"
			}
			if cell.Answered == 0 {
				return fmt.Sprintf("n/a (%d/%d unparsed)", cell.ParseFailures, cell.Items)
			}
			s := num(cell.AlignedChoiceRate, choiceDecimals)
			if st := w.stat(c.Name, v, lang); st != nil && !math.IsNaN(st.ChoiceCI.Lo) {
				s += fmt.Sprintf(" [%s, %s]", num(st.ChoiceCI.Lo, choiceDecimals), num(st.ChoiceCI.Hi, choiceDecimals))
			}
			return s
		})
		w.conditionMatrix(lang, vals, conds, "Parse failures / items", func(c condition, v cvoice.Value) string {
			cell := w.res.cell(c.Name, v, lang)
			if cell == nil {
				return "—"
			}
			return fmt.Sprintf("%d/%d", cell.ParseFailures, cell.Items)
		})
	}
	return nil
}

// statsNote says how the intervals and tests were made, or why there are
// none.
func (w *writer) statsNote() {
	if w.an == nil {
		why := "the results carry no per-item outcomes"
		switch {
		case w.statsErr != nil:
			why = "the per-item outcomes do not match the evaluation data (see the warning at the top)"
		case len(w.in.Results.Items) > 0:
			why = "the evaluation data the results were computed on was not given (--data)"
		}
		w.md.p("**No confidence intervals:** %s. With 20–100 items per cell a change of a few points can be noise; see the sample-size caveat above.", why)
		return
	}
	o := w.an.Options
	w.md.p("**Uncertainty.** Intervals are %g %%: for support rates and their changes a percentile bootstrap over items (%d resamples, seed %d), for aligned-choice rates the exact Clopper–Pearson interval. A change is paired over the items answered under both conditions; against random controls the baseline of an item is its mean over the control draws. p-values: paired permutation test (exact up to %d items, else %d sampled sign patterns) for support, exact sign test for choices. The p-values of each language's deactivated sets × evaluated values are corrected together (%s); **\\*** marks a change that survives at α = %g. See valueexp/METHOD.md §5.2 and §7.",
		100*o.Level, o.BootstrapReps, o.Seed, stats.ExactPermutationMax, o.PermutationReps, o.Correction, o.Alpha)
}

// effectWords says in words how many effects the statistics can tell apart
// from the plain model and from the random controls.
func (w *writer) effectWords(lang string) {
	if w.an == nil {
		return
	}
	sigN, testedN := w.an.Count("deactivate", "none", lang)
	sigR, testedR := w.an.Count("deactivate", "random", lang)
	var parts []string
	parts = append(parts, fmt.Sprintf("Of %d cells (deactivated sets × evaluated values) in %s, **%d %s from the plain model**", testedN, langTitle(lang), sigN, verb(sigN, "differs", "differ")))
	if testedR > 0 {
		parts = append(parts, fmt.Sprintf("**%d of %d %s distinguishable from their random controls**", sigR, testedR, verb(sigR, "is", "are")))
		own, ownSig := 0, 0
		for _, c := range w.res.conds {
			if c.Kind != "deactivate" || !c.HasOwn {
				continue
			}
			if s := w.stat(c.Name, c.Own, lang); s != nil && s.VsRandom != nil {
				own++
				if s.VsRandom.Significant {
					ownSig++
				}
			}
		}
		if own > 0 {
			parts = append(parts, fmt.Sprintf("on their own value, %d of %d sets %s from their random controls", ownSig, own, verb(ownSig, "differs", "differ")))
		}
	} else {
		parts = append(parts, "there are no random controls to compare with")
	}
	r, rt := w.an.Count("random", "none", lang)
	if rt > 0 {
		parts = append(parts, fmt.Sprintf("for scale, %d of %d random-control cells %s from the plain model (the generic damage of switching off that many neurons)", r, rt, verb(r, "differs", "differ")))
	}
	text := fmt.Sprintf("%s, after %s correction at α = %g.", strings.Join(parts, "; "), w.an.Options.Correction, w.an.Options.Alpha)
	// With few items the tests cannot reach significance at all; a reader
	// must not take "0 differ" for "no effect".
	if best := w.maxPairs(lang); testedN > 0 && float64(testedN)*stats.MinPermutationP(best, w.an.Options.PermutationReps) > w.an.Options.Alpha {
		text += fmt.Sprintf(" **With at most %d paired items per cell, no cell could survive the correction over %d cells whatever the data** (the smallest possible p is %s): these counts say nothing about whether the sets matter; evaluate more items.",
			best, testedN, pText(stats.MinPermutationP(best, w.an.Options.PermutationReps)))
	}
	w.md.p("%s", text)
}

// maxPairs is the largest number of paired items of any deactivated set's
// change against the plain model in lang.
func (w *writer) maxPairs(lang string) int {
	n := 0
	for _, c := range w.an.Cells {
		if c.Kind == "deactivate" && c.Language == lang && c.VsNone != nil {
			n = max(n, c.VsNone.Pairs)
		}
	}
	return n
}

// verb picks the singular or plural form for a count.
func verb(n int, one, many string) string {
	if n == 1 {
		return one
	}
	return many
}

// effectCIFigure draws, per deactivated set, the change on its own value
// against the plain model and against its random controls with their 95 %
// intervals as error bars, and each control draw's own change as a dot.
func (w *writer) effectCIFigure(lang string) error {
	if w.an == nil {
		return nil
	}
	var names []string
	var vsNone, vsRandom []errPoint
	var draws [][]float64
	for _, c := range w.res.conds {
		if c.Kind != "deactivate" || !c.HasOwn {
			continue
		}
		s := w.stat(c.Name, c.Own, lang)
		if s == nil {
			continue
		}
		names = append(names, asciiLabel(c.Name))
		vsNone = append(vsNone, pointOf(s.VsNone))
		vsRandom = append(vsRandom, pointOf(s.VsRandom))
		var dm []float64
		if s.VsRandom != nil {
			dm = s.VsRandom.DrawMeans
		}
		draws = append(draws, dm)
	}
	if len(names) == 0 {
		return nil
	}
	f, err := errorBarFigure(names, []string{"vs plain model", "vs random controls (mean of draws)"}, [][]errPoint{vsNone, vsRandom}, draws,
		"Own-value change with 95% intervals, evaluated in "+asciiLang(lang)+" (* survives "+asciiCorrection(w.an.Options.Correction)+")", "delta support rate on own value (points)")
	if err != nil {
		return err
	}
	return w.savePNG(f, "effect_ci_"+langFile(lang)+".png", "own-value changes with 95% intervals, "+langTitle(lang))
}

// pointOf turns a paired change into a point with an error bar.
func pointOf(d *stats.Delta) errPoint {
	if d == nil {
		return errPoint{Y: math.NaN(), Lo: math.NaN(), Hi: math.NaN()}
	}
	return errPoint{Y: d.Mean, Lo: d.CI.Lo, Hi: d.CI.Hi, Mark: d.Significant}
}

// asciiCorrection names a correction in ASCII for figures.
func asciiCorrection(c stats.Correction) string {
	if c == stats.BenjaminiHochberg {
		return "Benjamini-Hochberg"
	}
	return "Holm-Bonferroni"
}

// specificityTable summarises each deactivated set on lang.
func (w *writer) specificityTable(lang string) {
	sp := w.res.specificity(lang)
	if len(sp) == 0 {
		return
	}
	var rows [][]string
	for _, s := range sp {
		var dn, dr *stats.Delta
		if st := w.stat(s.Cond.Name, s.Cond.Own, lang); st != nil {
			dn, dr = st.VsNone, st.VsRandom
		}
		row := []string{s.Cond.Name, strconv.Itoa(s.Cond.Neurons), s.Cond.Own.Chinese() + " " + s.Cond.Own.English(),
			deltaText(s.Own, dn), signed(s.Others, pointDecimals), signed(s.Own-s.Others, pointDecimals), deltaText(s.OwnVR, dr)}
		if w.an != nil {
			row = append(row, adjusted(dn), adjusted(dr), drawRange(dr))
		}
		rows = append(rows, row)
	}
	w.md.p("Own value vs the others (points): Δ own is the change on the set's own value, Δ others the mean change on the other values; specificity = Δ own − Δ others.")
	header := []string{"deactivated set", "neurons", "own value", "Δ own", "Δ others", "specificity", "Δ own vs random"}
	if w.an != nil {
		header = append(header, "p adj. vs plain", "p adj. vs random", "Δ own vs each random draw")
	}
	w.md.table(header, rows)
}

// adjusted writes a change's corrected p-value.
func adjusted(d *stats.Delta) string {
	if d == nil {
		return "n/a"
	}
	return pText(d.Adjusted)
}

// drawRange lists the change against each random draw alone.
func drawRange(d *stats.Delta) string {
	if d == nil || len(d.DrawMeans) == 0 {
		return "—"
	}
	parts := make([]string, len(d.DrawMeans))
	for i, x := range d.DrawMeans {
		parts[i] = signed(x, pointDecimals)
	}
	return strings.Join(parts, ", ")
}

// conditionMatrix writes a conditions × values table inside a collapsed block.
func (w *writer) conditionMatrix(lang string, vals []cvoice.Value, conds []condition, title string, cell func(condition, cvoice.Value) string) {
	header := []string{"condition"}
	for _, v := range vals {
		header = append(header, v.Chinese())
	}
	var rows [][]string
	for _, c := range conds {
		row := []string{c.Name}
		for _, v := range vals {
			row = append(row, cell(c, v))
		}
		rows = append(rows, row)
	}
	w.md.p("<details><summary>%s, %s</summary>", title, langTitle(lang))
	w.md.table(header, rows)
	w.md.p("</details>")
}

// writeCellsCSV writes every evaluation cell to cells.csv. Rates of a
// cell with no parsed answer are "n/a", never 0, and every row has the
// parse-failure rate; interval, p-value and significance columns are "n/a"
// without statistics.
func (w *writer) writeCellsCSV() error {
	var buf bytes.Buffer
	cw := csv.NewWriter(&buf)
	cw.Write([]string{"condition", "kind", "value", "value_en", "language", "items", "answered", "parse_failures", "support_rate", "aligned_choice_rate", "delta_support_vs_none", "delta_support_vs_random",
		"parse_failure_rate", "support_ci_lo", "support_ci_hi", "aligned_choice_ci_lo", "aligned_choice_ci_hi",
		"delta_vs_none_paired", "delta_vs_none_ci_lo", "delta_vs_none_ci_hi", "p_vs_none", "p_adjusted_vs_none", "significant_vs_none",
		"delta_vs_random_paired", "delta_vs_random_ci_lo", "delta_vs_random_ci_hi", "p_vs_random", "p_adjusted_vs_random", "significant_vs_random"})
	for _, c := range w.res.conds {
		for _, lang := range w.res.langs {
			for v := range cvoice.Value(cvoice.NumValues) {
				cell := w.res.cell(c.Name, v, lang)
				if cell == nil {
					continue
				}
				choice := math.NaN()
				if cell.Answered > 0 {
					choice = cell.AlignedChoiceRate
				}
				row := []string{c.Name, c.Kind, v.Chinese(), v.English(), lang, strconv.Itoa(cell.Items), strconv.Itoa(cell.Answered), strconv.Itoa(cell.ParseFailures),
					csvNum(w.res.support(c.Name, v, lang)), csvNum(choice), csvNum(w.res.deltaVsNone(c.Name, v, lang)), csvNum(w.res.deltaVsRandom(c, v, lang)),
					csvNum(cell.ParseFailureRate)}
				st := w.stat(c.Name, v, lang)
				if st == nil {
					st = &stats.Cell{SupportCI: stats.Interval{Lo: math.NaN(), Hi: math.NaN()}, ChoiceCI: stats.Interval{Lo: math.NaN(), Hi: math.NaN()}}
				}
				row = append(row, csvNum(st.SupportCI.Lo), csvNum(st.SupportCI.Hi), csvNum(st.ChoiceCI.Lo), csvNum(st.ChoiceCI.Hi))
				row = append(row, csvDelta(st.VsNone)...)
				row = append(row, csvDelta(st.VsRandom)...)
				cw.Write(row)
			}
		}
	}
	cw.Flush()
	if err := cw.Error(); err != nil {
		return fmt.Errorf("report: cells.csv: %w", err)
	}
	path := filepath.Join(w.dir, "cells.csv")
	if err := os.WriteFile(path, buf.Bytes(), 0o644); err != nil {
		return fmt.Errorf("report: %w", err)
	}
	w.files = append(w.files, path)
	return nil
}

// csvDelta writes a paired change, its interval, p, adjusted p and
// significance.
func csvDelta(d *stats.Delta) []string {
	if d == nil {
		return []string{"n/a", "n/a", "n/a", "n/a", "n/a", "n/a"}
	}
	sig := "no"
	if d.Significant {
		sig = "yes"
	}
	if math.IsNaN(d.Adjusted) {
		sig = "n/a"
	}
	return []string{csvNum(d.Mean), csvNum(d.CI.Lo), csvNum(d.CI.Hi), csvNum(d.P), csvNum(d.Adjusted), sig}
}

// csvNum writes a number in full precision, "n/a" when undefined.
func csvNum(x float64) string {
	if math.IsNaN(x) || math.IsInf(x, 0) {
		return "n/a"
	}
	return strconv.FormatFloat(x, 'g', 10, 64)
}

// ---- 5. zh vs en support of the plain model ----------------------------

func (w *writer) supportSection() error {
	if w.res == nil || len(w.res.langs) == 0 {
		return nil
	}
	hasNone := false
	for _, c := range w.res.conds {
		hasNone = hasNone || c.Kind == "none"
	}
	if !hasNone {
		return nil
	}
	langs := w.res.langs
	w.heading("Support rates of the plain model by language")
	w.md.p("**What this shows.** The plain model's support rate per value: the mean share (in %%) it gives to the value-aligned option, per evaluation language. 50 means indifference between the options; the gap between the bars of one value is the language effect the paper reports (\"language context modulates value alignment\"). **Caveats:** the Chinese and English items are translations or separate item sets, not the same measurement twice; see the caveats on option order and sample size above.")
	series := make([][]float64, len(langs))
	names := make([]string, len(langs))
	colors := make([]color.Color, len(langs))
	for i, lang := range langs {
		series[i] = make([]float64, cvoice.NumValues)
		for v := range cvoice.Value(cvoice.NumValues) {
			series[i][v] = w.res.support("none", v, lang)
		}
		names[i] = asciiLang(lang)
		switch lang {
		case "zh":
			colors[i] = zhColor
		case "en":
			colors[i] = enColor
		default:
			colors[i] = valueColors[(i+7)%12]
		}
	}
	// 95 % intervals of the plain model's support rates, as error bars.
	var errs [][]stats.Interval
	if w.an != nil {
		errs = make([][]stats.Interval, len(langs))
		for i, lang := range langs {
			errs[i] = make([]stats.Interval, cvoice.NumValues)
			for v := range cvoice.Value(cvoice.NumValues) {
				errs[i][v] = stats.Interval{Lo: math.NaN(), Hi: math.NaN()}
				if st := w.stat("none", v, lang); st != nil {
					errs[i][v] = st.SupportCI
				}
			}
		}
	}
	title := "Support for the value-aligned option, plain model"
	if errs != nil {
		title += " (95% intervals)"
	}
	f, err := groupedBarsFigure(series, names, colors, title, "support rate (%)", 105, 50, errs)
	if err != nil {
		return err
	}
	if err := w.savePNG(f, "support_by_language.png", "support rate of the plain model by language"); err != nil {
		return err
	}
	header := []string{"value"}
	for _, lang := range langs {
		header = append(header, "support "+lang, "aligned choice "+lang, "parse failures "+lang)
		if w.an != nil {
			header = append(header, "95 % interval "+lang)
		}
	}
	if len(langs) == 2 {
		header = append(header, fmt.Sprintf("%s − %s", langs[0], langs[1]))
	}
	var rows [][]string
	for v := range cvoice.Value(cvoice.NumValues) {
		row := []string{v.Chinese() + " " + v.English()}
		for _, lang := range langs {
			cell := w.res.cell("none", v, lang)
			if cell == nil {
				row = append(row, "—", "—", "—")
				if w.an != nil {
					row = append(row, "—")
				}
				continue
			}
			acr := "n/a"
			if cell.Answered > 0 {
				acr = num(cell.AlignedChoiceRate, choiceDecimals)
			}
			row = append(row, supportText(cell, w.res.support("none", v, lang)), acr, fmt.Sprintf("%d/%d", cell.ParseFailures, cell.Items))
			if w.an != nil {
				iv := ""
				if st := w.stat("none", v, lang); st != nil && cell.Answered > 0 {
					iv = interval(st.SupportCI)
				}
				row = append(row, orDash(iv))
			}
		}
		if len(langs) == 2 {
			row = append(row, signed(w.res.support("none", v, langs[0])-w.res.support("none", v, langs[1]), pointDecimals))
		}
		rows = append(rows, row)
	}
	w.md.table(header, rows)
	return nil
}

// ---- 6. counts: activation probability and VAPE ------------------------

func (w *writer) countsSection() error {
	c := w.in.Counts
	if c == nil {
		return nil
	}
	w.heading("Activation probabilities and VAPE")
	var rows [][]string
	for k := range c.Tags {
		name := fmt.Sprintf("#%d", k)
		if k < len(c.TagNames) {
			name = c.TagNames[k]
		}
		items := "—"
		if m := w.manifest; m != nil && k < len(m.ItemsPerTag) {
			items = strconv.FormatInt(m.ItemsPerTag[k], 10)
		}
		value := "—"
		if t, ok := ParseTag(name); ok {
			value = t.Value.English()
		}
		rows = append(rows, []string{name, value, items, strconv.FormatUint(tokensPerTag(c, k), 10), num(meanProb(c, k), 4)})
	}
	w.md.p("Tokens counted per tag (the denominators T of the activation probabilities):")
	w.md.table([]string{"tag", "value", "items", "tokens", "mean activation probability"}, rows)
	groups := countGroups(c)
	if len(groups) == 0 {
		return nil
	}
	const filterRate, topRate = 0.95, 0.01
	w.md.p("**What this shows.** The first figure is the distribution of activation probabilities p (the fraction of a value's tokens on which a neuron's SiLU(gate) > 0) over all neurons, layers and values of one language, with the 95th percentile that LAPE uses both as filter and as assignment bar. The second is the distribution of VAPE, the entropy of a neuron's normalised probabilities over the values (0 = fires for one value only, ln K = evenly for all), for all neurons that fire at all and for the candidates passing the filter, with the cut-off below which the lowest 1 %% of all neurons would be kept. These are recomputed here with LAPE's default rates (filter 0.95, top 1 %%), which may differ from the rates the neuron sets were selected with. **Caveats:** with few tokens per value, p is coarse and many neurons tie, so the histograms look spiky.")
	for _, g := range groups {
		st := computeVAPE(c, g, filterRate, topRate)
		w.md.p("### %s", langTitle(g.Lang))
		pf, err := histogramFigure([][]float64{st.Probs}, []string{"p over values, layers, neurons"}, []color.Color{color.RGBA{0x31, 0x82, 0xbd, 0xff}}, 50, 0, 1,
			[]float64{st.Threshold}, []string{fmt.Sprintf("95th percentile = %.3f", st.Threshold)}, "Activation probability, "+asciiLang(g.Lang), "activation probability p", true)
		if err != nil {
			return err
		}
		if err := w.savePNG(pf, "actprob_"+langFile(g.Lang)+".png", "activation probability distribution, "+langTitle(g.Lang)); err != nil {
			return err
		}
		hmax := math.Log(float64(max(st.Values, 2)))
		// Zoom in on the occupied range: in small or random models every
		// entropy sits just below ln K.
		hmin := hmax
		for _, h := range st.Entropy {
			hmin = math.Min(hmin, h)
		}
		hmin = math.Max(0, math.Floor(hmin*10-1)/10)
		vf, err := histogramFigure([][]float64{st.Entropy, st.Candidates}, []string{"all active neurons", "candidates (pass filter)"}, []color.Color{color.Gray{0xb0}, color.RGBA{0x31, 0x82, 0xbd, 0xff}}, 50, hmin, hmax*1.0001,
			[]float64{st.Cutoff}, []string{fmt.Sprintf("1%% cut-off = %.3f", st.Cutoff)}, "VAPE (entropy over values), "+asciiLang(g.Lang), fmt.Sprintf("VAPE (nats; max ln %d = %.2f)", st.Values, hmax), true)
		if err != nil {
			return err
		}
		if err := w.savePNG(vf, "vape_"+langFile(g.Lang)+".png", "VAPE distribution, "+langTitle(g.Lang)); err != nil {
			return err
		}
		w.md.table([]string{"quantity", "value"}, [][]string{
			{"values (tags) in the group", strconv.Itoa(st.Values)},
			{"95th percentile of p (filter and bar)", num(st.Threshold, 4)},
			{"neurons never active", strconv.Itoa(st.ZeroNeurons)},
			{"candidates passing the filter", strconv.Itoa(len(st.Candidates))},
			{"neurons LAPE would keep (1 %)", strconv.Itoa(st.Selected)},
			{"VAPE cut-off", num(st.Cutoff, 4)},
		})
	}
	return nil
}

// ---- small helpers --------------------------------------------------------

func orDash(s string) string {
	if s == "" {
		return "—"
	}
	return s
}

func yesNo(b bool) string {
	if b {
		return "yes"
	}
	return "no"
}

func capText(n int) string {
	if n <= 0 {
		return "all"
	}
	return "first " + strconv.Itoa(n)
}

func fileNote(path string) string {
	if path == "" {
		return ""
	}
	return "`" + filepath.Base(path) + "`: "
}

func short(s string) string {
	if len(s) > 16 {
		return s[:16] + "…"
	}
	return orDash(s)
}

func clip(s string, n int) string {
	if len(s) <= n {
		return s
	}
	// Cut on a rune boundary.
	for n > 0 && n < len(s) && s[n]&0xC0 == 0x80 {
		n--
	}
	return s[:n] + "…"
}
