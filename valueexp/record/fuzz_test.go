package record

import (
	"bytes"
	"encoding/json"
	"math"
	"testing"

	"github.com/valueexploration/valueexp/hooks"
	"github.com/valueexploration/valueexp/weights/safetensors"
)

// smallCounts returns a valid counts file's bytes.
func smallCounts(t testing.TB) []byte {
	p, err := hooks.NewActProb(hooks.SiteMLPAct, 2, 3, 2)
	if err != nil {
		t.Fatal(err)
	}
	p.TagNames = []string{"诚信/zh", "诚信/en"}
	p.Count[1], p.Tokens[0], p.Tokens[1] = 1, 4, 4
	c := &Counts{Prob: p, Manifest: Manifest{
		Version: manifestVersion, Model: "m", Fingerprint: "f", Shape: hooks.ModelShape{Layers: 2, DModel: 4, DMLP: 3},
		DataDigest: "d", Items: 3, Mode: ModeText, Format: TextFormat, Langs: []string{"zh", "en"},
		Shard: Shard{1, 2}, Coverage: Coverage{{Start: 1, Step: 2, Count: 1}}, ItemsPerTag: []int64{1, 0},
	}}
	var buf bytes.Buffer
	if _, err := c.WriteTo(&buf); err != nil {
		t.Fatal(err)
	}
	return buf.Bytes()
}

func TestParseRejects(t *testing.T) {
	good := smallCounts(t)
	if _, err := Parse(good); err != nil {
		t.Fatalf("valid file: %v", err)
	}
	for name, mutate := range map[string]func([]byte) []byte{
		"truncated":   func(b []byte) []byte { return b[:len(b)/2] },
		"no manifest": func(b []byte) []byte { return bytes.Replace(b, []byte(`"record"`), []byte(`"recorx"`), 1) },
		"bad mode": func(b []byte) []byte {
			return bytes.Replace(b, []byte(`\"mode\":\"text\"`), []byte(`\"mode\":\"toks\"`), 1)
		},
		"coverage overrun": func(b []byte) []byte { return bytes.Replace(b, []byte(`\"items\":3`), []byte(`\"items\":1`), 1) },
		"unknown field":    func(b []byte) []byte { return bytes.Replace(b, []byte(`\"truncated\"`), []byte(`\"truncates\"`), 1) },
	} {
		b := mutate(bytes.Clone(good))
		if bytes.Equal(b, good) {
			t.Fatalf("%s: mutation did not apply", name)
		}
		if _, err := Parse(b); err == nil {
			t.Errorf("%s: accepted", name)
		}
	}
}

// FuzzParse checks that no input makes Parse panic, and that whatever it
// accepts writes back to a file it reads the same way.
func FuzzParse(f *testing.F) {
	good := smallCounts(f)
	f.Add(good)
	f.Add(good[:40])
	f.Add([]byte{})
	f.Fuzz(func(t *testing.T, b []byte) {
		c, err := Parse(b)
		if err != nil {
			return
		}
		var buf bytes.Buffer
		if _, err := c.WriteTo(&buf); err != nil {
			t.Fatalf("accepted file does not write back: %v", err)
		}
		if _, err := Parse(buf.Bytes()); err != nil {
			t.Fatalf("written file does not parse: %v", err)
		}
	})
}

// withManifestJSON returns good with its manifest metadata replaced by
// manifest, which need not be valid JSON.
func withManifestJSON(t testing.TB, good, manifest []byte) []byte {
	f, err := safetensors.Parse(good)
	if err != nil {
		t.Fatal(err)
	}
	meta := f.Metadata
	meta[ManifestKey] = string(manifest)
	ts := make([]safetensors.Tensor, len(f.Tensors))
	for i, x := range f.Tensors {
		ts[i] = safetensors.Tensor{Name: x.Name, DType: x.DType, Shape: x.Shape, Data: x.Data}
	}
	var buf bytes.Buffer
	if err := safetensors.Write(&buf, ts, meta); err != nil {
		t.Fatal(err)
	}
	return buf.Bytes()
}

// checkAccepted asserts what every accepted counts file must satisfy: its
// numbers are in range and it merges with itself alone and writes back.
func checkAccepted(t *testing.T, c *Counts) {
	m := &c.Manifest
	n, err := m.Coverage.count(m.Items)
	if err != nil || m.Items < 1 || m.Items > MaxItems {
		t.Fatalf("accepted manifest with items %d, coverage %v: %v", m.Items, m.Coverage, err)
	}
	if m.Partial {
		return
	}
	mg, err := Merge(c)
	if err != nil {
		t.Fatalf("accepted file does not merge alone: %v", err)
	}
	if mg.Manifest.Coverage.Items() != n {
		t.Fatalf("merge holds %d items, the file %d", mg.Manifest.Coverage.Items(), n)
	}
	var buf bytes.Buffer
	if _, err := mg.WriteTo(&buf); err != nil {
		t.Fatalf("merged file does not write: %v", err)
	}
	if _, err := Parse(buf.Bytes()); err != nil {
		t.Fatalf("merged file does not parse: %v", err)
	}
}

// FuzzManifest mutates the manifest JSON of a valid counts file, where
// FuzzParse's byte mutations of the whole file rarely reach: the numbers
// of issue 14 case 1 (items -1, huge strides) sit there. Whatever Parse
// accepts must satisfy checkAccepted.
func FuzzManifest(f *testing.F) {
	good := smallCounts(f)
	c, err := Parse(good)
	if err != nil {
		f.Fatal(err)
	}
	mj, err := json.Marshal(c.Manifest)
	if err != nil {
		f.Fatal(err)
	}
	f.Add(mj)
	f.Add(bytes.Replace(mj, []byte(`"items":3`), []byte(`"items":-1`), 1))
	f.Add(bytes.Replace(mj, []byte(`"step":2`), []byte(`"step":9223372036854775807`), 1))
	f.Add([]byte(`{}`))
	f.Fuzz(func(t *testing.T, manifest []byte) {
		c, err := Parse(withManifestJSON(t, good, manifest))
		if err != nil {
			return
		}
		checkAccepted(t, c)
	})
}

// FuzzCoverage builds manifests from numbers directly, so the fuzzer
// searches the item count, one coverage range, the shard and the items per
// tag without having to produce JSON.
func FuzzCoverage(f *testing.F) {
	good := smallCounts(f)
	f.Add(3, 1, 2, 1, 1, 2, int64(1), int64(0), false)
	f.Add(3, 0, 1, 3, 0, 1, int64(2), int64(1), true)
	f.Add(-1, 1, 2, 1, 1, 2, int64(1), int64(0), false)
	f.Add(1000, 100, math.MaxInt, 3, 0, 1, int64(3), int64(0), false)
	f.Add(int(1e12), 0, 1, int(1e12), 0, 1, int64(1e12), int64(0), true)
	f.Fuzz(func(t *testing.T, items, start, step, count, shardIndex, shardCount int, perTag0, perTag1 int64, complete bool) {
		c, err := Parse(good)
		if err != nil {
			t.Fatal(err)
		}
		m := &c.Manifest
		m.Items, m.Coverage, m.Shard = items, Coverage{{Start: start, Step: step, Count: count}}, Shard{Index: shardIndex, Count: shardCount}
		m.ItemsPerTag, m.Complete = []int64{perTag0, perTag1}, complete
		c.Prob.Tokens = []uint64{uint64(max(perTag0, 0)), uint64(max(perTag0, 0)), uint64(max(perTag1, 0)), uint64(max(perTag1, 0))}
		var buf bytes.Buffer
		if _, err := c.WriteTo(&buf); err != nil {
			t.Fatal(err)
		}
		c, err = Parse(buf.Bytes())
		if err != nil {
			return
		}
		checkAccepted(t, c)
	})
}
