package evaluate

import (
	"encoding/json"
	"testing"
)

// FuzzMergeResults feeds arbitrary results files to the reader and to Merge
// (the file alone, and two copies of it): whatever the numbers it declares
// (units, shard counts, rates), the result is an error or a merge whose
// items are exactly the units declared, never a panic or an allocation
// the input does not justify.
func FuzzMergeResults(f *testing.F) {
	f.Add([]byte(`{"format":"valueexp-results","version":1,"conditions":[{"name":"none","kind":"none","neurons":0}],"job":{"model_fingerprint":"m","data_digest":"d","settings":"s","units":2,"digest":"x"},"shard":{"index":0,"count":1},"items":[{"condition":"none","id":"a","value":"诚信","language":"en","aligned":0.5,"orders":[0.5],"answered":true},{"condition":"none","id":"b","value":"诚信","language":"zh","aligned":0.1,"orders":[0.1],"answered":true}]}`))
	f.Add([]byte(`{"job":{"units":-1},"shard":{"index":0,"count":1}}`))
	f.Add([]byte(`{"job":{"units":1000000000000},"shard":{"index":0,"count":1000000000000}}`))
	f.Add([]byte(`{"cells":[{"support_rate":null,"aligned_choice_rate":1e308}],"nan_items":[{"condition":"x","id":"y","orders":[0]}]}`))
	f.Fuzz(func(t *testing.T, b []byte) {
		var r Results
		if err := json.Unmarshal(b, &r); err != nil {
			return
		}
		for _, parts := range [][]*Results{{&r}, {&r, &r}} {
			m, err := Merge(parts...)
			if err != nil {
				continue
			}
			if len(m.Items) != m.Job.Units {
				t.Fatalf("merged %d items for %d units", len(m.Items), m.Job.Units)
			}
			if _, err := m.Marshal(); err != nil {
				t.Fatalf("a merged result does not marshal: %v", err)
			}
		}
	})
}
