package report

import (
	"github.com/valueexploration/valueexp/hooks"
	"github.com/valueexploration/valueexp/valueexp/cvoice"
	"github.com/valueexploration/valueexp/valueexp/evaluate"
)

// Test fixtures with overlaps and effects that are easy to work out by hand:
//
// Neuron sets (4 layers, d_mlp 64):
//   - "v/zh": layer 0, indices [4v, 4v+8): 8 neurons. Neighbouring values
//     share 4 neurons (Jaccard 4/12), values further apart share none.
//   - "v/en": layer 0, indices [4v, 4v+2) and layer 1, indices [4v, 4v+8):
//     10 neurons. zh and en of one value share the 2 layer-0 neurons:
//     Jaccard 2/(8+10-2) = 0.125.
//
// Results: the plain model supports value v with 60+v % in zh and 50+v % in
// en; switching off 诚信/zh lowers Integrity by 10 points and every other
// value by 1; its random control lowers everything by 2.

func fixtureNeurons() *hooks.NeuronSetFile {
	f := &hooks.NeuronSetFile{
		Format: hooks.NeuronSetsFormat, Version: hooks.NeuronSetsVersion,
		Model: &hooks.ModelShape{Name: "fixture-model", Layers: 4, DModel: 16, DMLP: 64},
	}
	span := func(lo, n int) []int32 {
		out := make([]int32, n)
		for i := range out {
			out[i] = int32(lo + i)
		}
		return out
	}
	for _, lang := range []string{"zh", "en"} {
		for v := range cvoice.NumValues {
			s := hooks.NeuronSet{Name: cvoice.Value(v).Chinese() + "/" + lang, Site: "mlp.hook_act",
				Provenance: []byte(`{"method":"vape","top_rate":0.01,"filter_rate":0.95}`)}
			if lang == "zh" {
				s.Layers = []hooks.LayerIndices{{Layer: 0, Indices: span(4*v, 8)}}
			} else {
				s.Layers = []hooks.LayerIndices{{Layer: 0, Indices: span(4*v, 2)}, {Layer: 1, Indices: span(4*v, 8)}}
			}
			f.NeuronSets = append(f.NeuronSets, s)
		}
	}
	f.NeuronSets = append(f.NeuronSets, hooks.NeuronSet{Name: "random:诚信/zh", Site: "mlp.hook_act",
		Layers: []hooks.LayerIndices{{Layer: 3, Indices: span(50, 8)}}})
	return f
}

func ptr(x float64) *float64 { return &x }

// fixtureResults builds results as evaluate would; withDeltas false leaves
// the delta fields empty, as an older or hand-made file might.
func fixtureResults(withDeltas bool) *evaluate.Results {
	r := &evaluate.Results{Format: "valueexp-results", Version: 1, Model: "fixture-model", Mode: evaluate.Likelihood, Data: "fixture data"}
	r.Conditions = []evaluate.Condition{
		{Name: "none", Kind: "none"},
		{Name: "诚信/zh", Kind: "deactivate", Set: "诚信/zh", Value: "诚信", Neurons: 8},
		{Name: "random:诚信/zh", Kind: "random", Set: "诚信/zh", Value: "诚信", Neurons: 8, ControlOf: "诚信/zh"},
	}
	for _, c := range r.Conditions {
		for _, lang := range []string{"zh", "en"} {
			for v := range cvoice.Value(cvoice.NumValues) {
				base := 60 + float64(v)
				if lang == "en" {
					base = 50 + float64(v)
				}
				cell := evaluate.Cell{Condition: c.Name, Value: v.Chinese(), ValueEnglish: v.English(), Language: lang, Items: 20, Answered: 20, AlignedChoiceRate: 0.5}
				switch c.Kind {
				case "none":
					cell.SupportRate = base
				case "deactivate":
					d := -1.0
					if v == cvoice.Integrity {
						d = -10
					}
					cell.SupportRate = base + d
					if withDeltas {
						cell.DeltaVsNone, cell.DeltaVsRandom = ptr(d), ptr(d+2)
					}
				case "random":
					cell.SupportRate = base - 2
					if withDeltas {
						cell.DeltaVsNone = ptr(-2)
					}
				}
				if lang == "en" && v == cvoice.Freedom {
					cell.Answered, cell.ParseFailures, cell.ParseFailureRate = 18, 2, 0.1
				}
				r.Cells = append(r.Cells, cell)
			}
		}
	}
	return r
}

// fixtureCounts has 24 tags (12 values × zh, en), 2 layers of 32 neurons and
// 10 tokens per tag and layer. Neuron j < 12 fires on every token of value
// j and on 1 of 10 tokens of the other values; neurons j ≥ 12 never fire.
// So of the 768 probabilities of a language, 480 are 0, 264 are 0.1 and 24
// are 1: the 730th smallest (95 %) is 0.1, the 24 neurons j < 12 pass the
// filter, the 40 neurons j ≥ 12 are never active, and LAPE keeps
// round(0.01·64) = 1 neuron.
func fixtureCounts() *hooks.ActProb {
	c, err := hooks.NewActProb(hooks.SiteMLPAct, 2, 32, 24)
	if err != nil {
		panic(err)
	}
	c.Model = "fixture-model"
	for k := range 24 {
		lang := "zh"
		if k >= 12 {
			lang = "en"
		}
		v := k % 12
		c.TagNames = append(c.TagNames, cvoice.Value(v).Chinese()+"/"+lang)
		for l := range 2 {
			c.Tokens[k*2+l] = 10
			for j := range 12 {
				n := uint64(1)
				if j == v {
					n = 10
				}
				c.Count[(k*2+l)*32+j] = n
			}
		}
	}
	return c
}
