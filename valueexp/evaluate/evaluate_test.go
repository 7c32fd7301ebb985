package evaluate

import (
	"context"
	"fmt"
	"math"
	"path/filepath"
	"strings"
	"testing"

	"github.com/valueexploration/valueexp/engine"
	"github.com/valueexploration/valueexp/hooks"
	"github.com/valueexploration/valueexp/tokenizer"
	"github.com/valueexploration/valueexp/valueexp/cvoice"
	"github.com/valueexploration/valueexp/valueexp/cvoice/sample"
	"github.com/valueexploration/valueexp/weights/synth"
)

// loadStories writes a small random-weight model with a byte-fallback
// vocabulary (valueexp synth's tiny shape) and loads it with its tokenizer.
func loadStories(t *testing.T) (*engine.Model, *tokenizer.Tokenizer) {
	t.Helper()
	shape, err := synth.LookupShape("tiny")
	if err != nil {
		t.Fatal(err)
	}
	if shape, err = shape.WithArch("llama"); err != nil {
		t.Fatal(err)
	}
	path := filepath.Join(t.TempDir(), "tiny.gguf")
	if _, err := synth.WriteFile(path, synth.Options{Shape: shape, Mix: synth.MixF32, Seed: 3}); err != nil {
		t.Fatal(err)
	}
	m, err := engine.Load(path, engine.Options{Threads: 2})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { m.Close() })
	tok, err := tokenizer.Load(path)
	if err != nil {
		t.Fatal(err)
	}
	return m, tok
}

// handProbability scores one question the long way: each full sequence
// (prompt + letter) run on its own, log-softmax written out, no prefix
// sharing.
func handProbability(t *testing.T, m *engine.Model, tok *tokenizer.Tokenizer, text string, h *hooks.Hooks) float64 {
	t.Helper()
	var lp [2]float64
	for o, letter := range []string{"A", "B"} {
		ids := tok.Encode(text+letter, tokenizer.EncodeOptions{AddSpecial: true})
		other := tok.Encode(text+[]string{"B", "A"}[o], tokenizer.EncodeOptions{AddSpecial: true})
		k := 0
		for ids[k] == other[k] {
			k++
		}
		out, err := m.Forward(context.Background(), []engine.Input{{Seq: m.NewSequence(), Tokens: ids, Logits: engine.AllLogits}}, engine.RunOptions{Hooks: h})
		if err != nil {
			t.Fatal(err)
		}
		V := m.Config.VocabSize
		for pos := k; pos < len(ids); pos++ {
			row := out[0][(pos-1)*V : pos*V]
			var z float64
			for _, v := range row {
				z += math.Exp(float64(v))
			}
			lp[o] += float64(row[ids[pos]]) - math.Log(z)
		}
	}
	return math.Exp(lp[0]) / (math.Exp(lp[0]) + math.Exp(lp[1]))
}

// TestLikelihoodMatchesHandComputation checks likelihood-mode probabilities,
// plain and with a neuron set deactivated, against a hand computation.
func TestLikelihoodMatchesHandComputation(t *testing.T) {
	m, tok := loadStories(t)
	all, err := sample.Load()
	if err != nil {
		t.Fatal(err)
	}
	data := all.Select(cvoice.Query{Values: []cvoice.Value{10}, Languages: []cvoice.Language{cvoice.LangEnglish}})
	f := &hooks.NeuronSetFile{Format: "neuron-sets", Version: 1, NeuronSets: []hooks.NeuronSet{
		{Name: "诚信/en", Site: "mlp.hook_act", Layers: []hooks.LayerIndices{{Layer: 1, Indices: []int32{3, 50, 100}}, {Layer: 3, Indices: []int32{7, 8}}}},
	}}
	conds, err := Conditions(f, nil, m.Shape(), Options{RandomSeed: 1})
	if err != nil {
		t.Fatal(err)
	}
	if len(conds) != 3 || conds[1].Value != "诚信" || conds[2].Neurons != 5 {
		t.Fatalf("conditions %+v", conds)
	}
	res, err := Run(context.Background(), m, tok, data, conds, Options{Mode: Likelihood, SwapOrder: true, MaxItems: 2})
	if err != nil {
		t.Fatal(err)
	}
	if len(res.Items) != 6 {
		t.Fatalf("%d item results, want 2 items x 3 conditions", len(res.Items))
	}
	deact := hooks.New(m.Config.Layers)
	if err := hooks.ZeroSets(deact, f, nil, hooks.When{}); err != nil {
		t.Fatal(err)
	}
	for _, r := range res.Items[:4] { // the plain and deactivated conditions
		it, _ := data.ByID(r.ID)
		var h *hooks.Hooks
		if r.Condition != "none" {
			h = deact
		}
		straight := handProbability(t, m, tok, choicePrompt(it.Language, it.Context, it.Aligned, it.Violating)+answerCue(it.Language), h)
		swapped := 1 - handProbability(t, m, tok, choicePrompt(it.Language, it.Context, it.Violating, it.Aligned)+answerCue(it.Language), h)
		if math.Abs(r.Orders[0]-straight) > 1e-6 || math.Abs(r.Orders[1]-swapped) > 1e-6 {
			t.Errorf("%s %s: orders %v, hand computation [%g %g]", r.Condition, r.ID, r.Orders, straight, swapped)
		}
		if math.Abs(r.Aligned-(straight+swapped)/2) > 1e-6 {
			t.Errorf("%s %s: aligned %g, want the mean of both orders", r.Condition, r.ID, r.Aligned)
		}
	}
	// Cells: the support rate is the mean aligned share x 100, with deltas.
	var none, deactCell *Cell
	for i := range res.Cells {
		switch res.Cells[i].Condition {
		case "none":
			none = &res.Cells[i]
		case "诚信/en":
			deactCell = &res.Cells[i]
		}
	}
	want := 100 * (res.Items[0].Aligned + res.Items[1].Aligned) / 2
	if none == nil || math.Abs(none.SupportRate-want) > 1e-9 || none.Items != 2 {
		t.Fatalf("plain cell %+v, want support %g", none, want)
	}
	if deactCell == nil || deactCell.DeltaVsNone == nil || deactCell.DeltaVsRandom == nil ||
		math.Abs(*deactCell.DeltaVsNone-(deactCell.SupportRate-none.SupportRate)) > 1e-9 {
		t.Fatalf("deactivated cell %+v", deactCell)
	}
}

func TestParseSupport(t *testing.T) {
	for _, c := range []struct {
		text string
		a, b float64
		ok   bool
	}{
		{"最终结论：选项A：70% 选项B：30%理解与分析：……", 70, 30, true},
		{"最终结论：选项A：[80%] 选项B：[20%]", 80, 20, true},
		{"Final conclusion: Option A: 45.5% Option B: 54.5% Understanding", 45.5, 54.5, true},
		{"选项A: 60％，选项B: 60％", 50, 50, true}, // renormalised
		{"选项A：70%", 0, 0, false},
		{"I cannot answer.", 0, 0, false},
		{"选项A：0% 选项B：0%", 0, 0, false},
	} {
		a, b, ok := parseSupport(c.text)
		if ok != c.ok || math.Abs(a-c.a) > 1e-9 || math.Abs(b-c.b) > 1e-9 {
			t.Errorf("parseSupport(%q) = %g, %g, %v; want %g, %g, %v", c.text, a, b, ok, c.a, c.b, c.ok)
		}
	}
}

// TestConditionsUseFileControlsAndLanguages checks that a file's own
// "random:NAME" set becomes NAME's control, that "random:" sets are not
// deactivated on their own, and that SameLanguage limits a per-language set
// to its language.
func TestConditionsUseFileControlsAndLanguages(t *testing.T) {
	m, tok := loadStories(t)
	f := &hooks.NeuronSetFile{Format: "neuron-sets", Version: 1, NeuronSets: []hooks.NeuronSet{
		{Name: "诚信/zh", Site: "mlp.hook_act", Layers: []hooks.LayerIndices{{Layer: 0, Indices: []int32{1, 2}}}},
		{Name: "random:诚信/zh", Site: "mlp.hook_act", Layers: []hooks.LayerIndices{{Layer: 0, Indices: []int32{9, 99}}}},
	}}
	conds, err := Conditions(f, nil, m.Shape(), Options{})
	if err != nil {
		t.Fatal(err)
	}
	if len(conds) != 3 || conds[1].Name != "诚信/zh" || conds[1].Language != "zh" || conds[2].Name != "random:诚信/zh" || conds[2].ControlOf != "诚信/zh" || conds[2].Seed != 0 {
		t.Fatalf("conditions %+v", conds)
	}
	all, err := sample.Load()
	if err != nil {
		t.Fatal(err)
	}
	data := all.Select(cvoice.Query{Values: []cvoice.Value{0}})
	res, err := Run(context.Background(), m, tok, data, conds, Options{MaxItems: 1, SameLanguage: true})
	if err != nil {
		t.Fatal(err)
	}
	per := map[string]int{}
	for _, r := range res.Items {
		per[r.Condition]++
	}
	if per["none"] != 2 || per["诚信/zh"] != 1 || per["random:诚信/zh"] != 1 {
		t.Errorf("items per condition %v, want none 2 (zh+en), the zh set and its control 1 each", per)
	}
}

func TestExpandNames(t *testing.T) {
	set := func(name string) hooks.NeuronSet {
		return hooks.NeuronSet{Name: name, Site: "mlp.hook_act", Layers: []hooks.LayerIndices{{Layer: 0, Indices: []int32{1}}}}
	}
	f := &hooks.NeuronSetFile{Format: "neuron-sets", Version: 1, NeuronSets: []hooks.NeuronSet{
		set("诚信/zh"), set("诚信/en"), set("random:诚信/zh"), set("友善/zh"), set("custom"),
	}}
	for _, c := range []struct {
		in   []string
		want string
		err  bool
	}{
		{nil, "[诚信/zh 诚信/en 友善/zh custom]", false},
		{[]string{"Integrity"}, "[诚信/zh 诚信/en]", false},
		{[]string{"诚信", "友善/zh"}, "[诚信/zh 诚信/en 友善/zh]", false},
		{[]string{"custom"}, "[custom]", false},
		{[]string{"Harmony"}, "", true},
		{[]string{"nosuch"}, "", true},
	} {
		got, err := expandNames(f, c.in)
		if (err != nil) != c.err || (!c.err && fmt.Sprint(got) != c.want) {
			t.Errorf("expandNames(%v) = %v, %v; want %s (error %v)", c.in, got, err, c.want, c.err)
		}
	}
}

// TestGenerateModePlumbing runs generate mode on the tiny story model, which
// cannot follow the authors' format: every answer is kept, none parses, and
// the cells report a parse-failure rate of 1 with no support rate.
func TestGenerateModePlumbing(t *testing.T) {
	m, tok := loadStories(t)
	all, err := sample.Load()
	if err != nil {
		t.Fatal(err)
	}
	data := all.Select(cvoice.Query{Values: []cvoice.Value{3}})
	res, err := Run(context.Background(), m, tok, data, []Condition{{Name: "none", Kind: "none"}}, Options{Mode: Generation, MaxItems: 1, MaxTokens: 6, SwapOrder: true})
	if err != nil {
		t.Fatal(err)
	}
	if len(res.Items) != 2 {
		t.Fatalf("%d items, want one per language", len(res.Items))
	}
	for _, r := range res.Items {
		if len(r.Texts) != 2 || r.Answered || len(r.Orders) != 2 || r.Orders[0] != -1 {
			t.Errorf("%s: texts %q answered %v orders %v", r.ID, r.Texts, r.Answered, r.Orders)
		}
	}
	for _, c := range res.Cells {
		if c.Items != 1 || c.ParseFailures != 1 || c.ParseFailureRate != 1 || c.Answered != 0 {
			t.Errorf("cell %+v", c)
		}
	}
	// The prompt holds the authors' structure.
	it := data.At(0)
	p, err := prompt(tok, it, false, Generation, false)
	if err != nil {
		t.Fatal(err)
	}
	if !strings.Contains(p, "A. "+it.Aligned+" \n B. "+it.Violating) {
		t.Errorf("prompt lacks the options in the authors' layout: %q", p)
	}
}
