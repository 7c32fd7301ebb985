package identify

import (
	"encoding/json"
	"errors"
	"math"
	"path/filepath"
	"strings"
	"testing"

	"github.com/valueexploration/valueexp/hooks"
	"github.com/valueexploration/valueexp/valueexp/record"
	"github.com/valueexploration/valueexp/valueexp/selection"
)

// writeCounts saves a record counts file of 2 tags × 2 layers × 4 neurons
// over a job of items items, of which the first covered are counted (one
// token each), with the manifest then changed by edit, and returns its path.
func writeCounts(t *testing.T, items, covered int, edit func(*record.Manifest)) string {
	t.Helper()
	p, err := hooks.NewActProb(hooks.SiteMLPAct, 2, 4, 2)
	if err != nil {
		t.Fatal(err)
	}
	p.TagNames = []string{"诚信/zh", "友善/zh"}
	perTag := []int64{int64(covered - covered/2), int64(covered / 2)}
	for k, n := range perTag {
		for l := range 2 {
			p.Tokens[k*2+l] = uint64(n)
			for d := range 4 {
				p.Count[(k*2+l)*4+d] = uint64(n) * uint64((d+k)%2) // tag k fires on neurons of parity k
			}
		}
	}
	c := &record.Counts{Prob: p, Manifest: record.Manifest{
		Version: 1, Model: "m.gguf", Fingerprint: "f", Shape: hooks.ModelShape{Layers: 2, DModel: 8, DMLP: 4},
		DataDigest: "d", Items: items, Mode: record.ModeText, Format: record.TextFormat, Langs: []string{"zh"},
		Shard: record.Whole, Coverage: record.Coverage{{Start: 0, Step: 1, Count: covered}}, ItemsPerTag: perTag,
		Complete: covered == items,
	}}
	if covered < items {
		c.Manifest.Shard = record.Shard{}
	}
	if edit != nil {
		edit(&c.Manifest)
	}
	path := filepath.Join(t.TempDir(), "counts.safetensors")
	if err := c.Save(path); err != nil {
		t.Fatal(err)
	}
	return path
}

// TestLoadRecordRefusesHostileManifest is issue 14 case 1 as identify saw
// it: items -1 and an overflowing coverage stride panicked.
func TestLoadRecordRefusesHostileManifest(t *testing.T) {
	for name, edit := range map[string]func(*record.Manifest){
		"items -1":   func(m *record.Manifest) { m.Items = -1 },
		"items 1e12": func(m *record.Manifest) { m.Items = 1e12 },
		"stride":     func(m *record.Manifest) { m.Coverage = record.Coverage{{Start: 100, Step: math.MaxInt, Count: 3}} },
	} {
		t.Run(name, func(t *testing.T) {
			path := writeCounts(t, 4, 4, edit)
			if _, _, err := LoadRecord(path); err == nil || !strings.Contains(err.Error(), path) {
				t.Fatalf("err = %v, want an error naming %s", err, path)
			}
		})
	}
}

// TestIncompleteCounts is issue 14 case 11b: a merge of 96 of 288 items is
// refused, and with AllowIncomplete the output's provenance says so.
func TestIncompleteCounts(t *testing.T) {
	path := writeCounts(t, 288, 96, nil)
	_, _, err := LoadRecord(path)
	if !errors.Is(err, ErrIncomplete) || !strings.Contains(err.Error(), "96 of the job's 288 items") {
		t.Fatalf("err = %v, want a refusal naming 96 of 288 items", err)
	}
	c, src, err := LoadRecordWith(path, RecordOptions{AllowIncomplete: true})
	if err != nil {
		t.Fatal(err)
	}
	opt := Options{Method: VAPE, VAPE: selection.VAPEParams{TopRate: 0.5, FilterRate: 0.5, ActivationBarRatio: 0.5}}
	res, err := Identify(c, opt)
	if err != nil {
		t.Fatal(err)
	}
	f, err := NeuronSets(res, src, opt)
	if err != nil {
		t.Fatal(err)
	}
	if len(f.NeuronSets) == 0 {
		t.Fatal("no sets")
	}
	for _, s := range f.NeuronSets {
		var p struct {
			Incomplete *Coverage `json:"incomplete_counts"`
		}
		if err := json.Unmarshal(s.Provenance, &p); err != nil {
			t.Fatal(err)
		}
		if p.Incomplete == nil || *p.Incomplete != (Coverage{Items: 96, Of: 288}) {
			t.Errorf("set %s: provenance %s does not record 96 of 288 items", s.Name, s.Provenance)
		}
	}

	// Complete counts carry no such note.
	c, src, err = LoadRecord(writeCounts(t, 96, 96, nil))
	if err != nil {
		t.Fatal(err)
	}
	if res, err = Identify(c, opt); err != nil {
		t.Fatal(err)
	}
	if f, err = NeuronSets(res, src, opt); err != nil {
		t.Fatal(err)
	}
	if strings.Contains(string(f.NeuronSets[0].Provenance), "incomplete") {
		t.Errorf("complete counts: provenance %s mentions incompleteness", f.NeuronSets[0].Provenance)
	}
}
