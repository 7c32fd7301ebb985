package report

import (
	"encoding/csv"
	"fmt"
	"image/png"
	"math"
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"testing"

	"github.com/valueexploration/valueexp/hooks"
	"github.com/valueexploration/valueexp/valueexp/evaluate"
)

// writeReport runs Write into a temporary folder and returns the folder,
// the Markdown and the files written; it checks every image the Markdown
// links exists and decodes as a PNG of a sensible size.
func writeReport(t *testing.T, in Inputs) (string, string, []string) {
	t.Helper()
	dir := t.TempDir()
	files, err := Write(dir, in)
	if err != nil {
		t.Fatalf("Write: %v", err)
	}
	for _, f := range files {
		if _, err := os.Stat(f); err != nil {
			t.Errorf("listed file missing: %v", err)
		}
	}
	b, err := os.ReadFile(filepath.Join(dir, ReportFile))
	if err != nil {
		t.Fatal(err)
	}
	md := string(b)
	for _, m := range regexp.MustCompile(`!\[[^\]]*\]\(([^)]+)\)`).FindAllStringSubmatch(md, -1) {
		checkPNG(t, filepath.Join(dir, m[1]))
	}
	return dir, md, files
}

func checkPNG(t *testing.T, path string) {
	t.Helper()
	f, err := os.Open(path)
	if err != nil {
		t.Errorf("linked image: %v", err)
		return
	}
	defer f.Close()
	img, err := png.Decode(f)
	if err != nil {
		t.Errorf("%s: %v", filepath.Base(path), err)
		return
	}
	b := img.Bounds()
	if b.Dx() < 400 || b.Dy() < 300 || b.Dx() > 4000 || b.Dy() > 6000 {
		t.Errorf("%s: size %dx%d is not a sensible figure size", filepath.Base(path), b.Dx(), b.Dy())
	}
}

func mustContain(t *testing.T, md string, wants ...string) {
	t.Helper()
	for _, w := range wants {
		if !strings.Contains(md, w) {
			t.Errorf("report lacks %q", w)
		}
	}
}

// handVAPE is the entropy of a neuron with probability 1 for one value and
// 0.1 for eleven others (see fixtureCounts), worked out directly.
func handVAPE() float64 {
	sum := 1 + 11*0.1
	a, b := 1/sum, 0.1/sum
	return -(a*math.Log(a) + 11*b*math.Log(b))
}

func TestWriteAllSections(t *testing.T) {
	dir, md, files := writeReport(t, Inputs{Counts: fixtureCounts(), Neurons: fixtureNeurons(), Results: fixtureResults(true), Demo: true, Title: "Fixture run"})
	mustContain(t, md,
		"# Fixture run",
		"DEMONSTRATION OF THE PIPELINE — random weights, not a finding",
		// Set sizes: 8 per zh set, 10 per en set.
		"| 诚信 Integrity | 8 | 10 |",
		"| **total** | 96 | 120 |",
		// Layer table, zh: layer 0 holds all 12×8 neurons.
		"| 0 | 8 | 8 | 8 | 8 | 8 | 8 | 8 | 8 | 8 | 8 | 8 | 8 | 96 |",
		// Neighbouring zh values share 4 of 12 neurons; values two apart none.
		"| 富强 Prosperity | 1.000 (8) | 0.333 (4) | 0.000 (0) |",
		// en: 4 shared of 16.
		"| 富强 Prosperity | 1.000 (10) | 0.250 (4) | 0.000 (0) |",
		// 11 neighbouring pairs of 66: mean 11·(1/3)/66 and 11·(1/4)/66.
		fmt.Sprintf("Mean pairwise Jaccard %.3f (min 0.000, max 0.333, over 66 pairs)", 11.0/3/66),
		fmt.Sprintf("Mean pairwise Jaccard %.3f (min 0.000, max 0.250, over 66 pairs)", 11.0/4/66),
		// zh vs en: 2 shared neurons, Jaccard 2/16; chance 8·10/(4·64).
		fmt.Sprintf("| 诚信 Integrity | 8 | 10 | 2 | %.1f | 0.125 |", 80.0/256),
		// Deactivating 诚信/zh: −10 on Integrity, −1 elsewhere, random −2.
		"| 诚信/zh | 8 | 诚信 Integrity | -10.0 | -1.0 | -9.0 | -8.0 |",
		"| 诚信/zh | -1.0 | -1.0 | -1.0 | -1.0 | -1.0 | -1.0 | -1.0 | -1.0 | -1.0 | -1.0 | -10.0 | -1.0 |",
		"| random:诚信/zh | -2.0 |",
		"| 诚信/zh | +1.0 | +1.0 |",
		// Plain model zh 60+v, en 50+v; en Freedom lost 2 of 20 answers.
		"| 诚信 Integrity | 70.0 | 0.500 | 0/20 | 60.0 | 0.500 | 0/20 | +10.0 |",
		"| 自由 Freedom | 64.0 | 0.500 | 0/20 | 54.0 | 0.500 | 2/20 | +10.0 |",
		// Counts: 95th percentile 0.1, 40 silent neurons, 24 candidates.
		"| 95th percentile of p (filter and bar) | 0.1000 |",
		"| neurons never active | 40 |",
		"| candidates passing the filter | 24 |",
		"| neurons LAPE would keep (1 %) | 1 |",
		fmt.Sprintf("| VAPE cut-off | %.4f |", handVAPE()),
		"| 诚信/zh | Integrity | — | 10 | ",
		// Caveats derived from the inputs.
		"**Likelihood mode.**", "**Fixed option order.**",
		fmt.Sprintf("smallest cell has 18 answered items; a support rate from n items has a standard error of at most 50/√n = %.1f points", 50/math.Sqrt(18)),
	)
	for _, name := range []string{"layers_zh.png", "layers_en.png", "overlap_zh.png", "overlap_en.png", "overlap_zh_en.png", "effect_zh.png", "effect_en.png", "support_by_language.png", "actprob_zh.png", "vape_zh.png", "actprob_en.png", "vape_en.png", "cells.csv", "report.md"} {
		path := filepath.Join(dir, name)
		found := false
		for _, f := range files {
			found = found || f == path
		}
		if !found {
			t.Errorf("Write did not list %s", name)
		}
		if strings.HasSuffix(name, ".png") && !strings.Contains(md, "]("+name+")") {
			t.Errorf("report does not link %s", name)
		}
	}
}

func TestCellsCSV(t *testing.T) {
	dir, _, _ := writeReport(t, Inputs{Results: fixtureResults(true)})
	f, err := os.Open(filepath.Join(dir, "cells.csv"))
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	recs, err := csv.NewReader(f).ReadAll()
	if err != nil {
		t.Fatal(err)
	}
	if got, want := len(recs), 1+3*2*12; got != want {
		t.Fatalf("cells.csv has %d records, want %d", got, want)
	}
	// Without per-item outcomes the interval and test columns are n/a.
	want := []string{"诚信/zh", "deactivate", "诚信", "Integrity", "zh", "20", "20", "0", "60", "0.5", "-10", "-8", "0",
		"n/a", "n/a", "n/a", "n/a", "n/a", "n/a", "n/a", "n/a", "n/a", "n/a", "n/a", "n/a", "n/a", "n/a", "n/a", "n/a"}
	for _, r := range recs {
		if r[0] == "诚信/zh" && r[2] == "诚信" && r[4] == "zh" {
			if strings.Join(r, ",") != strings.Join(want, ",") {
				t.Errorf("row %q, want %q", r, want)
			}
			return
		}
	}
	t.Errorf("no row for 诚信/zh on 诚信 zh")
}

// Results without recorded deltas get them from the support rates.
func TestDeltasFromSupportRates(t *testing.T) {
	_, md, _ := writeReport(t, Inputs{Results: fixtureResults(false)})
	mustContain(t, md,
		"| 诚信/zh | 8 | 诚信 Integrity | -10.0 | -1.0 | -9.0 | -8.0 |",
		"| random:诚信/zh | -2.0 |",
	)
}

func TestSectionsFollowInputs(t *testing.T) {
	tests := []struct {
		name      string
		in        Inputs
		want, not []string
	}{
		{"neurons only", Inputs{Neurons: fixtureNeurons()},
			[]string{"Value neurons per layer", "Overlap between values", "Chinese vs English neuron sets"},
			[]string{"Effect of deactivating", "Support rates of the plain model", "Activation probabilities", "cells.csv", "DEMONSTRATION"}},
		{"results only", Inputs{Results: fixtureResults(true)},
			[]string{"Effect of deactivating", "Support rates of the plain model"},
			[]string{"Value neurons per layer", "Activation probabilities"}},
		{"counts only", Inputs{Counts: fixtureCounts()},
			[]string{"Activation probabilities and VAPE"},
			[]string{"Value neurons per layer", "Effect of deactivating"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			_, md, _ := writeReport(t, tt.in)
			mustContain(t, md, tt.want...)
			for _, s := range tt.not {
				if strings.Contains(md, s) {
					t.Errorf("report has %q", s)
				}
			}
		})
	}
}

func TestNoInputs(t *testing.T) {
	if _, err := Write(t.TempDir(), Inputs{}); err == nil {
		t.Fatal("Write with no inputs succeeded")
	}
}

func TestDemoNoticeFromModelName(t *testing.T) {
	for _, tt := range []struct {
		model string
		demo  bool
	}{
		{"valueexp synth qwen2.5-0.5b q8_0 (random weights)", true},
		{"some synthetic model", true},
		{"Qwen/Qwen2.5-7B-Instruct", false},
	} {
		r := fixtureResults(true)
		r.Model = tt.model
		_, md, _ := writeReport(t, Inputs{Results: r})
		if got := strings.Contains(md, "DEMONSTRATION OF THE PIPELINE"); got != tt.demo {
			t.Errorf("model %q: notice %v, want %v", tt.model, got, tt.demo)
		}
	}
}

func TestDemoReason(t *testing.T) {
	_, md, _ := writeReport(t, Inputs{Results: fixtureResults(true), Demo: true, DemoReason: "The model file m.gguf says so."})
	mustContain(t, md, "**DEMONSTRATION OF THE PIPELINE — random weights, not a finding.**\n> The model file m.gguf says so.")
}

// Degenerate inputs: empty and missing sets, a one-layer model, cells with
// no answers, NaN rates, no plain model, tags without tokens or names.
func TestDegenerateInputs(t *testing.T) {
	for _, in := range degenerateInputs(t) {
		_, md, _ := writeReport(t, in)
		if in.Results != nil && len(in.Results.Cells) > 0 {
			mustContain(t, md, "**Parse failures.**", "**No plain-model condition.**")
		}
	}
}

func degenerateInputs(t *testing.T) []Inputs {
	nf := &hooks.NeuronSetFile{Format: hooks.NeuronSetsFormat, Version: hooks.NeuronSetsVersion,
		NeuronSets: []hooks.NeuronSet{
			{Name: "诚信", Site: "mlp.hook_act"},
			{Name: "Rule of Law", Site: "mlp.hook_act", Layers: []hooks.LayerIndices{{Layer: 0, Indices: []int32{1}}}},
			{Name: "诚信/zh", Site: "mlp.hook_act"},
			{Name: "weird ✓ set", Site: "mlp.hook_act"},
		}}
	// NaN rates and unknown values are refused now (TestWriteRefusesBadNumbers).
	res := &evaluate.Results{Format: ResultsFormat, Version: 1, Model: "m", Mode: evaluate.Generation, Cells: []evaluate.Cell{
		{Condition: "诚信", Value: "诚信", Language: "zh", Items: 3, Answered: 0, ParseFailures: 3, ParseFailureRate: 1},
		{Condition: "诚信", Value: "公正", Language: "zh", Items: 3, Answered: 3},
		{Condition: "random:诚信", Value: "公正", Language: "fr", Items: 3, Answered: 3, SupportRate: 40},
	}}
	zero, err := hooks.NewActProb(hooks.SiteMLPAct, 1, 4, 2)
	if err != nil {
		t.Fatal(err)
	}
	named, _ := hooks.NewActProb(hooks.SiteMLPAct, 1, 4, 2)
	named.TagNames = []string{"诚信/zh", "友善/zh"}
	return []Inputs{
		{Neurons: nf, Results: res, Counts: zero},
		{Counts: named},
		{Neurons: &hooks.NeuronSetFile{Format: hooks.NeuronSetsFormat, Version: 1}},
	}
}

// The record manifest in the counts metadata feeds the header, the tag table
// and the caveats.
func TestCountsManifest(t *testing.T) {
	c := fixtureCounts()
	c.Tokens[0], c.Tokens[1] = 2, 2 // 富强/zh: far fewer tokens than the rest
	for i := range 32 {
		c.Count[i] = min(c.Count[i], 2)
		c.Count[32+i] = min(c.Count[32+i], 2)
	}
	perTag := make([]string, 24)
	for i := range perTag {
		perTag[i] = fmt.Sprint(100 + i)
	}
	meta := map[string]string{"record": `{"version":1,"model":"tiny.gguf","mode":"text","format":"ctx-aligned-violating-rationale","langs":["zh","en"],"items":2424,"data_digest":"0123456789abcdef0123","partial":true,"complete":false,"items_per_tag":[` + strings.Join(perTag, ",") + `],"future_field":1}`}
	_, md, _ := writeReport(t, Inputs{Counts: c, CountsMeta: meta, CountsFile: "/x/counts.safetensors"})
	mustContain(t, md,
		"`counts.safetensors`: 24 tags × 2 layers × 32 neurons at mlp.hook_act",
		"mode text, format ctx-aligned-violating-rationale, 2424 items, languages zh, en, data digest 0123456789abcdef…",
		"| Model | fixture-model; tiny.gguf |",
		"| 富强/zh | Prosperity | 100 | 2 |",
		"| 友善/en | Friendliness | 123 | 10 |",
		"**Incomplete counts.**",
		"**Unequal token totals.** Tags range from 2 to 10 tokens",
	)
}
