package engine

import (
	"strconv"
	"strings"
	"testing"
)

func TestCheckVocab(t *testing.T) {
	path, _ := writeRandomModel(t, randSpec{Arch: "llama", Layers: 1, Hidden: 32, FFN: 48, Heads: 2, KV: 1, HeadDim: 16, Vocab: 80, Seed: 7})
	m, err := Load(path, Options{Threads: 1})
	if err != nil {
		t.Fatal(err)
	}
	defer m.Close()
	if got := m.EmbeddingRows(); got != 80 {
		t.Fatalf("EmbeddingRows = %d, want 80", got)
	}
	for _, c := range []struct {
		vocab int
		ok    bool
	}{{80, true}, {79, true}, {1, true}, {81, false}, {151936, false}} {
		err := m.CheckVocab(c.vocab, "tok.json")
		if (err == nil) != c.ok {
			t.Errorf("vocab %d: err = %v, want ok=%v", c.vocab, err, c.ok)
			continue
		}
		if err != nil {
			for _, want := range []string{"tok.json", path, "80 rows", " " + strconv.Itoa(c.vocab) + " tokens"} {
				if !strings.Contains(err.Error(), want) {
					t.Errorf("vocab %d: error %q does not name %q", c.vocab, err, want)
				}
			}
		}
	}
}
