package record

import (
	"bytes"
	"context"
	"errors"
	"math"
	"math/rand/v2"
	"os"
	"path/filepath"
	"runtime"
	"strings"
	"testing"
)

// countsWith returns the bytes of smallCounts with its manifest changed by
// edit. WriteTo does not validate the manifest, so any numbers can be
// written, as a hostile or corrupt file could hold them.
func countsWith(t testing.TB, edit func(*Manifest)) []byte {
	t.Helper()
	c, err := Parse(smallCounts(t))
	if err != nil {
		t.Fatal(err)
	}
	edit(&c.Manifest)
	var buf bytes.Buffer
	if _, err := c.WriteTo(&buf); err != nil {
		t.Fatal(err)
	}
	return buf.Bytes()
}

// heapGrowth returns how many bytes f allocated in total (TotalAlloc
// counts every allocation, freed or not, so a short-lived huge slice
// shows up even if the collector already took it back).
func heapGrowth(f func()) uint64 {
	var before, after runtime.MemStats
	runtime.GC()
	runtime.ReadMemStats(&before)
	f()
	runtime.ReadMemStats(&after)
	return after.TotalAlloc - before.TotalAlloc
}

// hostileManifests are the numbers issue 14 case 1 found (and their
// neighbours): each must give an error, not a panic or a huge allocation.
var hostileManifests = map[string]func(*Manifest){
	"items -1":       func(m *Manifest) { m.Items = -1 },
	"items 0":        func(m *Manifest) { m.Items = 0 },
	"items 1e12":     func(m *Manifest) { m.Items = 1e12 },
	"items 1e10":     func(m *Manifest) { m.Items = 1e10 },
	"items maxint":   func(m *Manifest) { m.Items = math.MaxInt },
	"step maxint":    func(m *Manifest) { m.Items = 1000; m.Coverage = Coverage{{Start: 100, Step: math.MaxInt, Count: 3}} },
	"start maxint":   func(m *Manifest) { m.Coverage = Coverage{{Start: math.MaxInt, Step: 1, Count: 1}} },
	"count maxint":   func(m *Manifest) { m.Coverage = Coverage{{Start: 1, Step: 1, Count: math.MaxInt}} },
	"count negative": func(m *Manifest) { m.Coverage = Coverage{{Start: 1, Step: 1, Count: -1}} },
	"step zero":      func(m *Manifest) { m.Coverage = Coverage{{Start: 1, Step: 0, Count: 1}} },
	"counts sum overflows": func(m *Manifest) {
		m.Items = 3
		m.Coverage = Coverage{{Start: 0, Step: 1, Count: math.MaxInt}, {Start: 0, Step: 1, Count: math.MaxInt}}
	},
	"overlap": func(m *Manifest) {
		m.Coverage = Coverage{{Start: 1, Step: 2, Count: 1}, {Start: 0, Step: 1, Count: 2}}
		m.ItemsPerTag = []int64{3, 0}
	},
	"items per tag negative":    func(m *Manifest) { m.ItemsPerTag = []int64{2, -1} },
	"items per tag maxint":      func(m *Manifest) { m.ItemsPerTag = []int64{math.MaxInt64, math.MaxInt64} },
	"items per tag vs coverage": func(m *Manifest) { m.ItemsPerTag = []int64{2, 0} },
	"items per tag vs tokens": func(m *Manifest) {
		// The tag counted 4 tokens; 5 texts of at least one token cannot
		// make 4.
		m.Items = 9
		m.Coverage = Coverage{{Start: 0, Step: 1, Count: 5}}
		m.Shard = Whole
		m.ItemsPerTag = []int64{5, 0}
	},
	"truncated negative":      func(m *Manifest) { m.Truncated = -1 },
	"truncated above items":   func(m *Manifest) { m.Truncated = 2 },
	"shard count above items": func(m *Manifest) { m.Shard = Shard{Index: 0, Count: math.MaxInt} },
	"max new tokens in text":  func(m *Manifest) { m.MaxNewTokens = -5 },
}

// TestParseRejectsHostileManifests is the regression test of issue 14
// case 1: every hostile manifest is refused with an error naming the
// manifest, and parsing allocates at most a small multiple of the file.
func TestParseRejectsHostileManifests(t *testing.T) {
	for name, edit := range hostileManifests {
		t.Run(name, func(t *testing.T) {
			b := countsWith(t, edit)
			var err error
			grew := heapGrowth(func() { _, err = Parse(b) })
			if err == nil || !strings.Contains(err.Error(), "manifest") {
				t.Fatalf("err = %v, want an error about the manifest", err)
			}
			if limit := uint64(64<<10 + 16*len(b)); grew > limit {
				t.Errorf("Parse allocated %d bytes for a %d-byte file (bound %d)", grew, len(b), limit)
			}
		})
	}
}

// TestParseAcceptsLargeValidCoverage checks the other side of the bound: a
// job of MaxItems items whose counts file covers one shard parses, within
// the stated memory (one bit per item plus the file).
func TestParseAcceptsLargeValidCoverage(t *testing.T) {
	b := countsWith(t, func(m *Manifest) {
		m.Items = MaxItems
		m.Shard = Shard{Index: 1, Count: MaxItems - 1}
		m.Coverage = Coverage{{Start: 1, Step: MaxItems - 1, Count: 1}}
	})
	var err error
	grew := heapGrowth(func() { _, err = Parse(b) })
	if err != nil {
		t.Fatal(err)
	}
	if limit := uint64(MaxItems/8 + 64<<10 + 16*len(b)); grew > limit {
		t.Errorf("Parse allocated %d bytes (bound %d)", grew, limit)
	}
}

// TestMergeRefusesHostileInputs feeds Merge counts whose manifests were
// changed after parsing (a library caller can build any Counts): it must
// check them as Parse does instead of panicking.
func TestMergeRefusesHostileInputs(t *testing.T) {
	for name, edit := range hostileManifests {
		t.Run(name, func(t *testing.T) {
			c, err := Parse(smallCounts(t))
			if err != nil {
				t.Fatal(err)
			}
			edit(&c.Manifest)
			if _, err := Merge(c); err == nil {
				t.Fatal("accepted")
			}
		})
	}
}

// TestResumeRefusesHostileCheckpoint writes a checkpoint with items -1 next
// to a job's output: the resuming run must say the checkpoint is bad.
func TestResumeRefusesHostileCheckpoint(t *testing.T) {
	m := loadModel(t, writeRandomLlama(t, 3))
	out := filepath.Join(t.TempDir(), "counts.safetensors")
	j := testJob(t, m, out, 9)
	j.MaxBatches = 1
	j.BatchTokens = 1
	if _, err := j.Run(context.Background()); !errors.Is(err, ErrInterrupted) {
		t.Fatalf("first run: %v, want interrupted", err)
	}
	partial := CheckpointPath(out)
	c, err := Load(partial)
	if err != nil {
		t.Fatal(err)
	}
	for name, edit := range map[string]func(*Manifest){
		"items -1":   func(m *Manifest) { m.Items = -1 },
		"items 1e12": func(m *Manifest) { m.Items = 1e12 },
		"step":       func(m *Manifest) { m.Coverage = Coverage{{Start: 100, Step: math.MaxInt, Count: 3}} },
	} {
		t.Run(name, func(t *testing.T) {
			bad := *c
			bad.Manifest.Coverage = append(Coverage(nil), c.Manifest.Coverage...)
			edit(&bad.Manifest)
			var buf bytes.Buffer
			if _, err := bad.WriteTo(&buf); err != nil {
				t.Fatal(err)
			}
			if err := os.WriteFile(partial, buf.Bytes(), 0o644); err != nil {
				t.Fatal(err)
			}
			_, err := testJob(t, m, out, 9).Run(context.Background())
			if err == nil || !strings.Contains(err.Error(), partial) {
				t.Fatalf("err = %v, want an error naming %s", err, partial)
			}
		})
	}
}

// TestItemSetRuns compares runs with a plain item-by-item scan on random
// sets, including runs that cross and fill 64-item words.
func TestItemSetRuns(t *testing.T) {
	rng := rand.New(rand.NewPCG(1, 2))
	for trial := range 300 {
		total := 1 + rng.IntN(300)
		s := itemSet{bits: make([]uint64, (total+63)/64), total: total}
		in := make([]bool, total)
		density := rng.Float64()
		for i := range total {
			if rng.Float64() < density {
				in[i] = true
				s.bits[i/64] |= 1 << (i % 64)
			}
		}
		var want Coverage = Coverage{}
		for i := 0; i < total; {
			if !in[i] {
				i++
				continue
			}
			j := i
			for j < total && in[j] {
				j++
			}
			want = append(want, Stride{Start: i, Step: 1, Count: j - i})
			i = j
		}
		if got := s.runs(); !got.equal(want) {
			t.Fatalf("trial %d (total %d): runs %v, want %v", trial, total, got, want)
		}
	}
}
