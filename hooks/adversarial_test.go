package hooks

import (
	"bytes"
	"encoding/binary"
	"fmt"
	"math"
	"os"
	"path/filepath"
	"runtime"
	"strings"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

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

// TestActProbMergeOverflow merges counters whose totals do not fit in the
// files' I64: three shards of 2^62+2^61 tokens wrap a uint64 sum to a small
// number, which Prob would then divide by. The merge must be refused, and
// the receiving counter left as it was.
func TestActProbMergeOverflow(t *testing.T) {
	const big = 1<<62 + 1<<61
	mk := func() *ActProb {
		c, err := NewActProb(SiteMLPAct, 1, 2, 1)
		if err != nil {
			t.Fatal(err)
		}
		c.Tokens[0] = big
		c.Count[0], c.Count[1] = big, 1
		return c
	}
	a := mk()
	if err := a.Merge(mk()); err == nil {
		t.Fatalf("merge of two %d-token counters accepted: tokens %d", uint64(big), a.Tokens[0])
	} else if !strings.Contains(err.Error(), "overflow") {
		t.Errorf("error %q does not say overflow", err)
	}
	if a.Tokens[0] != big || a.Count[0] != big || a.Count[1] != 1 {
		t.Errorf("failed merge changed the counter: tokens %d, count %v", a.Tokens[0], a.Count)
	}
}

// TestSavesDoNotRewriteInPlace checks that ActProb.Save and
// NeuronSetFile.Save replace their file whole (temporary file + rename):
// a hard link to the previous file must still show the previous content,
// which it would not if the file were truncated and rewritten (a crash
// or full disk in between then left a half-written output).
func TestSavesDoNotRewriteInPlace(t *testing.T) {
	c, err := NewActProb(SiteMLPAct, 1, 2, 1)
	require.NoError(t, err)
	sets := &NeuronSetFile{Format: NeuronSetsFormat, Version: NeuronSetsVersion,
		NeuronSets: []NeuronSet{{Name: "a", Site: "mlp.hook_act", Layers: []LayerIndices{{Layer: 0, Indices: []int32{1}}}}}}
	for name, save := range map[string]func(string) error{"actprob": c.Save, "neuron sets": sets.Save} {
		t.Run(name, func(t *testing.T) {
			dir := t.TempDir()
			path := filepath.Join(dir, "out")
			require.NoError(t, os.WriteFile(path, []byte("previous"), 0o644))
			require.NoError(t, os.Link(path, filepath.Join(dir, "link")))
			require.NoError(t, save(path))
			old, err := os.ReadFile(filepath.Join(dir, "link"))
			require.NoError(t, err)
			assert.Equal(t, "previous", string(old), "the previous file was rewritten in place")
			st, err := os.Stat(path)
			require.NoError(t, err)
			assert.Equal(t, os.FileMode(0o644), st.Mode().Perm())
		})
	}
}

// TestNeuronEditRefusesNonFiniteValue: a scale or set value of NaN or ±Inf
// (valueexp generate --scale NAME=NaN parses as a float) turned every
// edited activation, and from there the logits, into NaN, so generation
// printed <unk> without a word. Such an editor must not be built.
func TestNeuronEditRefusesNonFiniteValue(t *testing.T) {
	idx := map[int][]int32{0: {1, 2}}
	for _, op := range []NeuronOp{OpScale, OpSet} {
		for _, v := range []float32{float32(math.NaN()), float32(math.Inf(1)), float32(math.Inf(-1))} {
			if _, err := NewNeuronEdit(op, v, idx, When{}); err == nil || !strings.Contains(err.Error(), "finite") {
				t.Errorf("NewNeuronEdit(%v, %v) error = %v, want one saying the value must be finite", op, v, err)
			}
		}
	}
	if _, err := NewNeuronEdit(OpZero, float32(math.NaN()), idx, When{}); err != nil {
		t.Errorf("OpZero ignores its value, yet NaN was refused: %v", err)
	}
}

// TestLoadActProbRefusesAModelWithoutReadingIt: a model's .safetensors (a
// 512 MiB sparse file, no counter metadata) given to LoadActProb was read
// whole before its metadata was checked.
func TestLoadActProbRefusesAModelWithoutReadingIt(t *testing.T) {
	const size = 512 << 20
	hdr := []byte(fmt.Sprintf(`{"__metadata__":{"format":"pt"},"w":{"dtype":"F32","shape":[%d],"data_offsets":[0,%d]}}`, size/4, size))
	path := filepath.Join(t.TempDir(), "model.safetensors")
	f, err := os.Create(path)
	require.NoError(t, err)
	var nb [8]byte
	binary.LittleEndian.PutUint64(nb[:], uint64(len(hdr)))
	_, err = f.Write(append(nb[:], hdr...))
	require.NoError(t, err)
	require.NoError(t, f.Truncate(int64(8+len(hdr)+size))) // sparse
	f.Close()
	var before, after runtime.MemStats
	runtime.ReadMemStats(&before)
	_, err = LoadActProb(path)
	runtime.ReadMemStats(&after)
	assert.ErrorContains(t, err, `metadata format is "pt"`)
	assert.Less(t, after.TotalAlloc-before.TotalAlloc, uint64(1<<20), "bytes allocated to refuse a model file")
}
