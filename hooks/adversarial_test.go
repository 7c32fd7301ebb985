package hooks

import (
	"bytes"
	"encoding/binary"
	"fmt"
	"strings"
	"testing"

	"github.com/valueexploration/valueexp/internal/memtest"
)

// TestReadNeuronSetsAdversarialMemory checks that hostile neuron-set files
// are refused with an error and a peak heap within the stated 10 × the
// file's size (plus a little).
func TestReadNeuronSetsAdversarialMemory(t *testing.T) {
	head := `{"format":"neuron-sets","version":1,"neuron_sets":[`
	set := func(layers string) string {
		return `{"name":"a","site":"mlp.hook_act","layers":[` + layers + `]}`
	}
	tests := []struct{ name, file, want string }{
		{"8 MB of repeated indices", head + set(`{"layer":0,"indices":[`+strings.Repeat("0,", 4<<20)+`0]}`) + `]}`, "strictly increasing"},
		{"deeply nested provenance", head + `{"name":"a","site":"mlp.hook_act","layers":[],"provenance":` + strings.Repeat("[", 4<<20) + `]}`, "neuron sets"},
		{"a million sets", head + strings.Repeat(set("")+",", 1<<17) + set("") + `]}`, "duplicate set name"},
		{"huge layer number", head + set(`{"layer":1e300,"indices":[]}`) + `]}`, "neuron sets"},
		{"huge index", head + set(`{"layer":0,"indices":[99999999999]}`) + `]}`, "neuron sets"},
		{"negative layer", head + set(`{"layer":-9223372036854775808,"indices":[]}`) + `]}`, "out of range"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			var err error
			u := memtest.Measure(func() { _, err = ReadNeuronSets(strings.NewReader(tc.file)) })
			if err == nil || !strings.Contains(err.Error(), tc.want) {
				t.Fatalf("err = %.200v, want one containing %q", err, tc.want)
			}
			if bound := uint64(10*len(tc.file) + 1<<20); u.Peak > bound {
				t.Errorf("peak heap %d bytes for a %d-byte file, bound %d", u.Peak, len(tc.file), bound)
			}
		})
	}
}

// rawST assembles a safetensors file by hand, so that its header can claim
// what no writer would: shapes far beyond its data, offsets that overflow.
func rawST(header string, data []byte) []byte {
	var b []byte
	b = binary.LittleEndian.AppendUint64(b, uint64(len(header)))
	b = append(b, header...)
	return append(b, data...)
}

// TestParseActProbAdversarialMemory checks that counts files whose header
// declares far more than they hold are refused before anything is
// allocated from the declaration.
func TestParseActProbAdversarialMemory(t *testing.T) {
	meta := `"__metadata__":{"format":"valueexp.actprob","version":"1","site":"mlp.hook_act","tags":"[]","model":"m"}`
	tensor := func(name string, shape string, lo, hi uint64) string {
		return fmt.Sprintf(`"%s":{"dtype":"I64","shape":%s,"data_offsets":[%d,%d]}`, name, shape, lo, hi)
	}
	tests := []struct {
		name   string
		header string
		data   []byte
	}{
		{"shape beyond the data", "{" + meta + "," + tensor("count", "[1024,1024,1024]", 0, 8) + "," + tensor("tokens", "[1024,1024]", 8, 16) + "}", make([]byte, 16)},
		{"shape product overflows", "{" + meta + "," + tensor("count", "[4294967296,4294967296,16]", 0, 8) + "," + tensor("tokens", "[4294967296,4294967296]", 8, 16) + "}", make([]byte, 16)},
		{"offsets overflow", "{" + meta + "," + tensor("count", "[1,1,1]", 18446744073709551608, 18446744073709551615) + "," + tensor("tokens", "[1,1]", 0, 8) + "}", make([]byte, 16)},
		{"huge tag list", `{"__metadata__":{"format":"valueexp.actprob","version":"1","site":"mlp.hook_act","model":"m","tags":"[` + strings.Repeat(`\"a\",`, 1<<20) + `\"a\"]"},` + tensor("count", "[1,1,1]", 0, 8) + "," + tensor("tokens", "[1,1]", 8, 16) + "}", make([]byte, 16)},
		{"deep header", "{" + strings.Repeat(`"a":{`, 1<<16) + strings.Repeat("}", 1<<16) + "}", nil},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			b := rawST(tc.header, tc.data)
			var err error
			u := memtest.Measure(func() { _, err = ParseActProb(b) })
			if err == nil || !strings.Contains(err.Error(), "actprob") {
				t.Fatalf("err = %.200v, want an actprob error", err)
			}
			if bound := uint64(len(b) + 4*len(tc.header) + 1<<20); u.Peak > bound {
				t.Errorf("peak heap %d bytes for a %d-byte file, bound %d", u.Peak, len(b), bound)
			}
			if !bytes.Contains(b, []byte("{")) {
				t.Fatal("bad test file")
			}
		})
	}
}
