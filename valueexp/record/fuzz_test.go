package record

import (
	"bytes"
	"testing"

	"github.com/valueexploration/valueexp/hooks"
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
