package synth

import (
	"runtime"
	"strings"
	"testing"
)

// TestHugeOverridesRefused feeds --layers and --vocab values no model has:
// the plan must be refused before its tensor list or vocabulary is built
// (1<<40 tokens or layers would exhaust memory).
func TestHugeOverridesRefused(t *testing.T) {
	tiny, err := LookupShape("tiny")
	if err != nil {
		t.Fatal(err)
	}
	tiny, err = tiny.WithArch("")
	if err != nil {
		t.Fatal(err)
	}
	for _, tc := range []struct {
		name string
		opt  Options
		want string
	}{
		{"layers", Options{Shape: tiny, Mix: MixF32, Layers: 1 << 40}, "layers"},
		{"vocab", Options{Shape: tiny, Mix: MixF32, Vocab: 1 << 40}, "vocabulary"},
		{"layers just over", Options{Shape: tiny, Mix: MixF32, Layers: MaxLayers + 1}, "layers"},
		{"vocab just over", Options{Shape: tiny, Mix: MixF32, Vocab: MaxVocab + 1}, "vocabulary"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			var before, after runtime.MemStats
			runtime.ReadMemStats(&before)
			_, err := NewPlan(tc.opt)
			runtime.ReadMemStats(&after)
			if err == nil || !strings.Contains(err.Error(), tc.want) {
				t.Fatalf("NewPlan: err = %v, want an error naming %q", err, tc.want)
			}
			if got := after.TotalAlloc - before.TotalAlloc; got > 1<<20 {
				t.Errorf("allocated %d bytes before refusing", got)
			}
		})
	}
}
