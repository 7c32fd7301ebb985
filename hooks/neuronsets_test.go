package hooks

import (
	"bytes"
	"encoding/json"
	"path/filepath"
	"reflect"
	"slices"
	"strings"
	"testing"
)

// qwen05 is the shape of Qwen2.5-0.5B.
var qwen05 = ModelShape{Name: "Qwen/Qwen2.5-0.5B", Arch: "qwen2", Layers: 24, DModel: 896, DMLP: 4864, Heads: 14, KVHeads: 2, HeadDim: 64, Vocab: 151936}

const goodSets = `{
  "format": "neuron-sets",
  "version": 1,
  "model": {"name": "Qwen/Qwen2.5-0.5B", "arch": "qwen2", "n_layers": 24, "d_model": 896, "d_mlp": 4864},
  "conventions": {"layer_index": "0-based decoder block"},
  "neuron_sets": [
    {"name": "诚信", "site": "mlp.hook_act",
     "layers": [{"layer": 4, "indices": [17, 2048]}, {"layer": 23, "indices": [0, 4863]}],
     "provenance": {"method": "VAPE", "top_rate": 0.01}},
    {"name": "友善", "site": "mlp.hook_act", "layers": [{"layer": 4, "indices": [17, 18]}]},
    {"name": "resid", "site": "hook_resid_post", "description": "a few residual dims", "layers": [{"layer": 0, "indices": [895]}]},
    {"name": "empty", "site": "mlp.hook_post", "layers": []}
  ]
}`

func TestNeuronSetsLoad(t *testing.T) {
	f, err := ReadNeuronSets(strings.NewReader(goodSets))
	must(t, err)
	must(t, f.Validate(qwen05))
	s, ok := f.Find("诚信")
	if !ok {
		t.Fatal("Find(诚信) failed")
	}
	if s.Size() != 4 || s.Layers[1].Layer != 23 || !slices.Equal(s.Layers[1].Indices, []int32{0, 4863}) {
		t.Errorf("set 诚信 = %+v", s)
	}
	if site, err := s.ParsedSite(); err != nil || site != SiteMLPAct {
		t.Errorf("ParsedSite = %v, %v", site, err)
	}
	if !reflect.DeepEqual(s.Indices(), map[int][]int32{4: {17, 2048}, 23: {0, 4863}}) {
		t.Errorf("Indices() = %v", s.Indices())
	}
	if _, ok := f.Find("nope"); ok {
		t.Error("Find found a missing set")
	}
	// Provenance is kept verbatim.
	var prov map[string]any
	must(t, json.Unmarshal(s.Provenance, &prov))
	if prov["method"] != "VAPE" {
		t.Errorf("provenance = %v", prov)
	}

	// Save and load again: identical.
	path := filepath.Join(t.TempDir(), "sets.json")
	must(t, f.Save(path))
	g, err := LoadNeuronSets(path)
	must(t, err)
	for _, file := range []*NeuronSetFile{f, g} { // Save re-indents provenance
		for i := range file.NeuronSets {
			if p := file.NeuronSets[i].Provenance; p != nil {
				var c bytes.Buffer
				must(t, json.Compact(&c, p))
				file.NeuronSets[i].Provenance = c.Bytes()
			}
		}
	}
	if !reflect.DeepEqual(f, g) {
		t.Errorf("round trip changed the file:\n%+v\n%+v", f, g)
	}
	if _, err := LoadNeuronSets(filepath.Join(t.TempDir(), "missing.json")); err == nil {
		t.Error("missing file loaded")
	}
}

func TestNeuronSetsErrors(t *testing.T) {
	// Each case edits the good file; errHas is part of the expected message.
	for _, tc := range []struct {
		name   string
		json   string
		errHas string
	}{
		{"not JSON", `{"format":`, "unexpected EOF"},
		{"trailing data", goodSets + ` {}`, "after the JSON"},
		{"unknown top field", strings.Replace(goodSets, `"version": 1,`, `"version": 1, "extra": true,`, 1), "unknown field"},
		{"unknown set field", strings.Replace(goodSets, `"name": "友善",`, `"name": "友善", "size": 2,`, 1), "unknown field"},
		{"unknown layer field", strings.Replace(goodSets, `{"layer": 0, "indices"`, `{"layer": 0, "idx": [], "indices"`, 1), "unknown field"},
		{"wrong format", strings.Replace(goodSets, `"neuron-sets"`, `"neuron_sets"`, 1), "format"},
		{"missing version", strings.Replace(goodSets, `"version": 1,`, ``, 1), "version 0"},
		{"version 2", strings.Replace(goodSets, `"version": 1,`, `"version": 2,`, 1), "version 2"},
		{"fractional index", strings.Replace(goodSets, `[17, 2048]`, `[17.5, 2048]`, 1), "int32"},
		{"huge index", strings.Replace(goodSets, `[17, 2048]`, `[17, 99999999999]`, 1), "int32"},
		{"unnamed set", strings.Replace(goodSets, `"name": "友善"`, `"name": ""`, 1), "no name"},
		{"duplicate name", strings.Replace(goodSets, `"name": "友善"`, `"name": "诚信"`, 1), `duplicate set name "诚信"`},
		{"unknown site", strings.Replace(goodSets, `"site": "mlp.hook_post"`, `"site": "mlp.hook_gate"`, 1), `"empty"`},
		{"full point as site", strings.Replace(goodSets, `"site": "mlp.hook_post"`, `"site": "blocks.0.mlp.hook_post"`, 1), "unknown block site"},
		{"model-level site", strings.Replace(goodSets, `"site": "mlp.hook_post"`, `"site": "hook_logits"`, 1), "unknown block site"},
		{"negative layer", strings.Replace(goodSets, `{"layer": 0,`, `{"layer": -1,`, 1), `set "resid": layer -1 out of range`},
		{"layer beyond model", strings.Replace(goodSets, `{"layer": 23,`, `{"layer": 24,`, 1), `set "诚信": layer 24 out of range [0, 24)`},
		{"layers unsorted", strings.Replace(goodSets, `{"layer": 23,`, `{"layer": 3,`, 1), `set "诚信": layer 3 listed after layer 4`},
		{"layer repeated", strings.Replace(goodSets, `{"layer": 23,`, `{"layer": 4,`, 1), "layer 4 listed after layer 4"},
		{"index beyond d_mlp", strings.Replace(goodSets, `[0, 4863]`, `[0, 4864]`, 1), `set "诚信": layer 23: index 4864 out of range [0, 4864)`},
		{"index beyond d_model", strings.Replace(goodSets, `[895]`, `[896]`, 1), `set "resid": layer 0: index 896 out of range [0, 896)`},
		{"negative index", strings.Replace(goodSets, `[17, 18]`, `[-1, 18]`, 1), `set "友善": layer 4: index -1 out of range`},
		{"indices unsorted", strings.Replace(goodSets, `[17, 2048]`, `[2048, 17]`, 1), `set "诚信": layer 4: index 17 follows 2048`},
		{"duplicate index", strings.Replace(goodSets, `[17, 18]`, `[17, 17]`, 1), `set "友善": layer 4: index 17 follows 17`},
	} {
		_, err := ReadNeuronSets(strings.NewReader(tc.json))
		if err == nil || !strings.Contains(err.Error(), tc.errHas) {
			t.Errorf("%s: err = %v, want one containing %q", tc.name, err, tc.errHas)
		}
	}
}

func TestNeuronSetsValidateAgainstModel(t *testing.T) {
	noModel := strings.Replace(goodSets, `"model": {"name": "Qwen/Qwen2.5-0.5B", "arch": "qwen2", "n_layers": 24, "d_model": 896, "d_mlp": 4864},`, ``, 1)
	f, err := ReadNeuronSets(strings.NewReader(noModel))
	must(t, err)
	must(t, f.Validate(qwen05))
	small := ModelShape{Layers: 12, DModel: 896, DMLP: 4864}
	if err := f.Validate(small); err == nil || !strings.Contains(err.Error(), "layer 23 out of range [0, 12)") {
		t.Errorf("small model: %v", err)
	}
	narrow := ModelShape{Layers: 24, DModel: 896, DMLP: 2048}
	if err := f.Validate(narrow); err == nil || !strings.Contains(err.Error(), "index 2048 out of range [0, 2048)") {
		t.Errorf("narrow model: %v", err)
	}
	if err := f.Validate(ModelShape{}); err == nil {
		t.Error("empty model shape accepted")
	}

	g, err := ReadNeuronSets(strings.NewReader(goodSets))
	must(t, err)
	other := qwen05
	other.DMLP = 8960
	if err := g.Validate(other); err == nil || !strings.Contains(err.Error(), "d_mlp 4864") {
		t.Errorf("file for another model: %v", err)
	}
	other = qwen05
	other.Arch = "llama"
	if err := g.Validate(other); err == nil || !strings.Contains(err.Error(), "arch") {
		t.Errorf("file for another arch: %v", err)
	}
	other = qwen05
	other.Name = "a fine-tune"
	if err := g.Validate(other); err != nil {
		t.Errorf("name difference rejected: %v", err)
	}

	// An attention set needs the head fields.
	attn := &NeuronSetFile{Format: NeuronSetsFormat, Version: 1, NeuronSets: []NeuronSet{
		{Name: "heads", Site: "attn.hook_z", Layers: []LayerIndices{{Layer: 1, Indices: []int32{0, 895}}}},
	}}
	must(t, attn.Validate(qwen05))
	if err := attn.Validate(ModelShape{Layers: 24, DModel: 896, DMLP: 4864}); err == nil {
		t.Error("attention set validated without head dims")
	}
	attn.NeuronSets[0].Site = "attn.hook_k"
	if err := attn.Validate(qwen05); err == nil || !strings.Contains(err.Error(), "[0, 128)") {
		t.Errorf("k set wider than kv heads: %v", err)
	}
}

func TestWriteRejectsInvalid(t *testing.T) {
	f := &NeuronSetFile{Format: NeuronSetsFormat, Version: 1, NeuronSets: []NeuronSet{
		{Name: "x", Site: "mlp.hook_act", Layers: []LayerIndices{{Layer: 0, Indices: []int32{3, 1}}}},
	}}
	var buf bytes.Buffer
	if err := f.Write(&buf); err == nil {
		t.Error("unsorted indices written")
	}
	if buf.Len() != 0 {
		t.Error("partial output written for an invalid file")
	}
}

func TestZeroAndScaleSets(t *testing.T) {
	f, err := ReadNeuronSets(strings.NewReader(goodSets))
	must(t, err)
	const dim = 4864
	rows := &Rows{Seq: []int32{0, 0}, Pos: []int32{0, 1}, Tag: []int32{0, 0}, Phase: Prefill}
	ones := func() []float32 {
		x := make([]float32, 2*dim)
		for i := range x {
			x[i] = 1
		}
		return x
	}

	h := New(24)
	must(t, ZeroSets(h, f, []string{"诚信", "友善", "empty"}, When{MinPos: 1}))
	if got := h.Points(); !slices.Equal(got, []Point{{Layer: 4, Site: SiteMLPAct}, {Layer: 23, Site: SiteMLPAct}}) {
		t.Errorf("ZeroSets registered at %v", got)
	}
	x := ones()
	h.Dispatch(Point{Layer: 4, Site: SiteMLPAct}, Tensor{Data: x, Rows: 2, Cols: dim}, rows)
	for j := range dim {
		wantRow1 := float32(1)
		if j == 17 || j == 18 || j == 2048 {
			wantRow1 = 0
		}
		if x[j] != 1 || x[dim+j] != wantRow1 {
			t.Fatalf("column %d: rows (%v, %v), want (1, %v)", j, x[j], x[dim+j], wantRow1)
		}
	}

	h = New(24)
	must(t, ScaleSets(h, f, []string{"诚信", "友善"}, 3, When{}))
	x = ones()
	h.Dispatch(Point{Layer: 4, Site: SiteMLPAct}, Tensor{Data: x, Rows: 2, Cols: dim}, rows)
	for j, want := range map[int]float32{16: 1, 17: 9, 18: 3, 2048: 3} {
		if x[j] != want {
			t.Errorf("scaled column %d = %v, want %v (17 is in both sets)", j, x[j], want)
		}
	}

	h = New(24)
	must(t, ZeroSets(h, f, nil, When{}))
	if got := h.Points(); !slices.Equal(got, []Point{{Layer: 0, Site: SiteResidPost}, {Layer: 4, Site: SiteMLPAct}, {Layer: 23, Site: SiteMLPAct}}) {
		t.Errorf("ZeroSets(all) registered at %v", got)
	}
	if err := ZeroSets(New(24), f, []string{"missing"}, When{}); err == nil {
		t.Error("unknown set name accepted")
	}
	if err := ZeroSets(New(12), f, []string{"诚信"}, When{}); err == nil {
		t.Error("set with layers beyond the registry accepted")
	}
}

func FuzzReadNeuronSets(f *testing.F) {
	f.Add([]byte(goodSets))
	f.Add([]byte(`{"format":"neuron-sets","version":1,"neuron_sets":[]}`))
	f.Add([]byte(`{"format":"neuron-sets","version":1,"neuron_sets":[{"name":"a","site":"mlp.hook_act","layers":[{"layer":0,"indices":[1,2]}]}]}`))
	f.Add([]byte(`{}`))
	f.Fuzz(func(t *testing.T, b []byte) {
		sets, err := ReadNeuronSets(bytes.NewReader(b))
		if err != nil {
			return
		}
		var buf bytes.Buffer
		if err := sets.Write(&buf); err != nil {
			t.Fatalf("accepted file does not write: %v", err)
		}
		again, err := ReadNeuronSets(&buf)
		if err != nil {
			t.Fatalf("written file does not read: %v\n%s", err, buf.String())
		}
		if len(again.NeuronSets) != len(sets.NeuronSets) {
			t.Fatal("round trip changed the number of sets")
		}
		for i := range sets.NeuronSets {
			a, b := sets.NeuronSets[i], again.NeuronSets[i]
			if a.Name != b.Name || a.Site != b.Site || !reflect.DeepEqual(a.Layers, b.Layers) {
				t.Fatalf("round trip changed set %d: %+v vs %+v", i, a, b)
			}
		}
		// Compiling accepted sets must not panic.
		n := 1
		for _, s := range sets.NeuronSets {
			for _, l := range s.Layers {
				n = max(n, l.Layer+1)
			}
		}
		if n <= 4096 {
			_ = ZeroSets(New(n), sets, nil, When{})
		}
	})
}
