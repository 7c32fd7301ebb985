package report

import (
	"bytes"
	"encoding/json"
	"fmt"
	"runtime"
	"strings"
	"testing"
	"time"

	"github.com/valueexploration/valueexp/hooks"
	"github.com/valueexploration/valueexp/valueexp/evaluate"
)

// fixtureJSON is fixtureResults as the evaluate command writes it, with one
// item result per condition so that the items list is checked too.
func fixtureJSON(t testing.TB) []byte {
	r := fixtureResults(true)
	r.Items = []evaluate.ItemResult{
		{Condition: "none", ID: "zh-1", Aligned: 0.75, Orders: []float64{0.75}, Answered: true},
		{Condition: "诚信/zh", ID: "zh-1", Aligned: 0.5, Orders: []float64{0.5, -1}, Answered: false},
	}
	b, err := json.Marshal(r)
	if err != nil {
		t.Fatal(err)
	}
	return b
}

func TestReadResults(t *testing.T) {
	r, err := ReadResults(bytes.NewReader(fixtureJSON(t)), MaxResultsBytes)
	if err != nil {
		t.Fatal(err)
	}
	if len(r.Cells) != 3*2*12 || r.Cells[0].SupportRate != 60 {
		t.Fatalf("decoded %d cells, first support %g; want 72 cells, 60", len(r.Cells), r.Cells[0].SupportRate)
	}
	// Fields a newer build adds are read past.
	b := bytes.Replace(fixtureJSON(t), []byte(`"model":`), []byte(`"future_field":[1,2],"model":`), 1)
	if _, err := ReadResults(bytes.NewReader(b), MaxResultsBytes); err != nil {
		t.Fatalf("unknown field: %v", err)
	}
}

// Every number read is checked; the error names the field, the condition
// and the value (issue 14 item 8: a rate of ±1e308 hung the report, rates
// outside [0, 100] and unknown versions were accepted).
func TestReadResultsRejects(t *testing.T) {
	good := string(fixtureJSON(t))
	// The first cell is (none, 富强, zh) with support 60 and 20 items.
	firstCell := `"condition":"none","value":"富强","value_en":"Prosperity","language":"zh","items":20,"answered":20,"parse_failures":0,"parse_failure_rate":0,"support_rate":60,"aligned_choice_rate":0.5`
	if !strings.Contains(good, firstCell) {
		t.Fatalf("fixture JSON changed; first cell not found in %.300s", good)
	}
	cell := func(old, new string) string {
		return strings.Replace(good, firstCell, strings.Replace(firstCell, old, new, 1), 1)
	}
	tests := []struct {
		name, json string
		want       []string
	}{
		{"rate 1e308", cell(`"support_rate":60`, `"support_rate":1e308`), []string{"support_rate 1e+308 out of range [0, 100]", `condition "none"`, `value "富强"`}},
		{"rate -1e308", cell(`"support_rate":60`, `"support_rate":-1e308`), []string{"support_rate -1e+308"}},
		{"rate above 100", cell(`"support_rate":60`, `"support_rate":100.5`), []string{"support_rate 100.5"}},
		{"rate negative", cell(`"support_rate":60`, `"support_rate":-0.5`), []string{"support_rate -0.5"}},
		{"choice rate above 1", cell(`"aligned_choice_rate":0.5`, `"aligned_choice_rate":50`), []string{"aligned_choice_rate 50 out of range [0, 1]"}},
		{"failure rate wrong", cell(`"parse_failure_rate":0`, `"parse_failure_rate":0.5`), []string{"parse_failure_rate 0.5, but parse_failures/items = 0/20"}},
		{"items negative", cell(`"items":20,"answered":20`, `"items":-1,"answered":0`), []string{"items -1 out of range"}},
		{"answered above items", cell(`"answered":20`, `"answered":21`), []string{"answered 21 out of range [0, items 20]"}},
		{"failures inconsistent", cell(`"parse_failures":0`, `"parse_failures":3`), []string{"parse_failures 3, but items 20 − answered 20 = 0"}},
		{"unknown value", cell(`"value":"富强","value_en":"Prosperity"`, `"value":"x","value_en":"y"`), []string{"value is not one of the 12 values"}},
		{"unknown condition", cell(`"condition":"none"`, `"condition":"ghost"`), []string{`condition "ghost"`, "not among the file's conditions"}},
		{"delta out of range", strings.Replace(good, `"delta_support_vs_none":-1,`, `"delta_support_vs_none":-1e308,`, 1), []string{"delta_support_vs_none -1e+308"}},
		{"version 2", strings.Replace(good, `"version":1`, `"version":2`, 1), []string{"version 2 is not supported"}},
		{"version missing", strings.Replace(good, `"version":1,`, ``, 1), []string{"version missing is not supported"}},
		{"other format", strings.Replace(good, `"format":"valueexp-results"`, `"format":"neuron-sets"`, 1), []string{`format is "neuron-sets"`}},
		{"format missing", strings.Replace(good, `"format":"valueexp-results",`, ``, 1), []string{"format is missing"}},
		{"bad mode", strings.Replace(good, `"mode":"likelihood"`, `"mode":"guess"`, 1), []string{`mode "guess"`}},
		{"item share", strings.Replace(good, `"aligned":0.75`, `"aligned":7.5`, 1), []string{`items[0] (condition "none", item "zh-1")`, "aligned 7.5 out of range [0, 1]"}},
		{"order share", strings.Replace(good, `"orders":[0.5,-1]`, `"orders":[0.5,-0.5]`, 1), []string{"orders[1] -0.5 out of range"}},
		{"too many orders", strings.Replace(good, `"orders":[0.5,-1]`, `"orders":[0.5,-1,1]`, 1), []string{"3 option orders"}},
		{"neurons negative", strings.Replace(good, `"neurons":8`, `"neurons":-8`, 1), []string{"neurons -8 out of range"}},
		{"duplicate condition", strings.Replace(good, `"name":"诚信/zh"`, `"name":"none"`, 1), []string{"listed twice"}},
		{"number too big for int", cell(`"items":20`, `"items":1e30`), []string{"results:"}},
		{"trailing data", good + "{}", []string{"results:"}},
		{"not JSON", "\x00\x01", []string{"results:"}},
		{"empty", "", []string{"results:"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if tt.json == good {
				t.Fatal("the mutation did not apply")
			}
			_, err := ReadResults(strings.NewReader(tt.json), MaxResultsBytes)
			if err == nil {
				t.Fatal("accepted")
			}
			for _, w := range tt.want {
				if !strings.Contains(err.Error(), w) {
					t.Errorf("error %q lacks %q", err, w)
				}
			}
		})
	}
	if _, err := ReadResults(strings.NewReader(good), int64(len(good)-1)); err == nil || !strings.Contains(err.Error(), "larger than the limit") {
		t.Errorf("over the size limit: %v", err)
	}
}

// A rate of 1e308 given to Write directly (not through ReadResults) is
// refused quickly; it used to hang the plot rasteriser forever.
func TestWriteRefusesHugeRate(t *testing.T) {
	for _, x := range []float64{1e308, -1e308, 150} {
		r := fixtureResults(true)
		r.Cells[0].SupportRate = x
		done := make(chan error, 1)
		go func() {
			_, err := Write(t.TempDir(), Inputs{Results: r})
			done <- err
		}()
		select {
		case err := <-done:
			if err == nil || !strings.Contains(err.Error(), "support_rate") {
				t.Errorf("rate %g: error %v, want one naming support_rate", x, err)
			}
		case <-time.After(30 * time.Second):
			t.Fatalf("rate %g: Write still running after 30 s", x)
		}
	}
}

// The peak memory of ReadResults stays under its stated bound of 50 bytes
// per input byte on the worst inputs: long lists of empty objects, and of
// the shortest objects the streaming pass lets through.
func TestReadResultsMemoryBound(t *testing.T) {
	for _, tt := range []struct{ list, elem string }{
		{"items", "{}"}, {"cells", "{}"}, {"conditions", "{}"},
		{"items", `{"condition":"a","id":"b"}`},
		{"cells", `{"condition":"a","value":"诚信","language":"z"}`},
		{"conditions", `{"name":"a"}`},
		{"conditions", `{"name":"a","kind":"none"}`},
	} {
		list := tt.list
		var b bytes.Buffer
		fmt.Fprintf(&b, `{"format":"valueexp-results","version":1,"mode":"likelihood","%s":[`, list)
		for i := range 100_000 {
			if i > 0 {
				b.WriteByte(',')
			}
			b.WriteString(tt.elem)
		}
		b.WriteString("]}")
		var before, after runtime.MemStats
		runtime.GC()
		runtime.ReadMemStats(&before)
		_, err := ReadResults(bytes.NewReader(b.Bytes()), MaxResultsBytes)
		runtime.ReadMemStats(&after)
		if err == nil {
			t.Errorf("%s: a list of %s was accepted", list, tt.elem)
		}
		// TotalAlloc counts every allocation, so it bounds the peak too.
		alloc := after.TotalAlloc - before.TotalAlloc
		if per := float64(alloc) / float64(b.Len()); per > 50 {
			t.Errorf("%s of %s: %d bytes allocated for %d input bytes (%.1f per byte), bound 50", list, tt.elem, alloc, b.Len(), per)
		} else {
			t.Logf("%s of %s: %.1f bytes allocated per input byte", list, tt.elem, per)
		}
	}
}

func FuzzReadResults(f *testing.F) {
	f.Add(fixtureJSON(f))
	f.Add([]byte(`{"format":"valueexp-results","version":1,"mode":"generate","cells":[{"condition":"none","value":"诚信","language":"zh","items":2,"answered":1,"parse_failures":1,"parse_failure_rate":0.5,"support_rate":40}]}`))
	f.Add([]byte(`{"format":"valueexp-results","version":1,"mode":"likelihood","cells":[{"condition":"none","value":"诚信","language":"zh","items":1,"answered":1,"support_rate":1e308}]}`))
	f.Fuzz(func(t *testing.T, b []byte) {
		r, err := ReadResults(bytes.NewReader(b), 1<<20)
		if err != nil {
			return
		}
		// What is accepted must satisfy the documented invariants, and the
		// report's index of it must build.
		if err := ValidateResults(r); err != nil {
			t.Fatalf("ReadResults accepted what ValidateResults refuses: %v", err)
		}
		for _, c := range r.Cells {
			if c.SupportRate < 0 || c.SupportRate > 100 || c.Answered > c.Items {
				t.Fatalf("accepted cell %+v", c)
			}
		}
		newResultTable(r)
	})
}

// A neuron-set file's model shape sizes the report's per-layer tables: an
// absurd n_layers or an index beyond d_mlp is refused with the field named
// (it used to size a slice of 2^40 ints).
func TestWriteRefusesBadNeuronNumbers(t *testing.T) {
	for _, tt := range []struct {
		name   string
		mutate func(f *hooks.NeuronSetFile)
		want   string
	}{
		{"huge n_layers", func(f *hooks.NeuronSetFile) { f.Model.Layers = 1 << 40 }, "n_layers 1099511627776 out of range"},
		{"negative d_mlp", func(f *hooks.NeuronSetFile) { f.Model.DMLP = -1 }, "d_mlp -1 out of range"},
		{"layer beyond the model", func(f *hooks.NeuronSetFile) { f.NeuronSets[0].Layers[0].Layer = 9 }, `set "富强/zh": layer 9 out of range`},
		{"index beyond d_mlp", func(f *hooks.NeuronSetFile) { f.NeuronSets[0].Layers[0].Indices[7] = 64 }, `set "富强/zh": layer 0: index 64 out of range`},
	} {
		t.Run(tt.name, func(t *testing.T) {
			f := fixtureNeurons()
			tt.mutate(f)
			_, err := Write(t.TempDir(), Inputs{Neurons: f, NeuronsFile: "n.json"})
			if err == nil || !strings.Contains(err.Error(), tt.want) || !strings.Contains(err.Error(), "n.json") {
				t.Errorf("Write: %v; want an error naming n.json and %q", err, tt.want)
			}
		})
	}
}
