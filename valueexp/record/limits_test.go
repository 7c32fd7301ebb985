package record

import (
	"context"
	"path/filepath"
	"strings"
	"testing"

	"github.com/valueexploration/valueexp/valueexp/cvoice"
)

// TestMaxNewTokensMustLeaveRoomForThePrompt: with --max-tokens at or above
// the context length, every prompt was cut to one token (the limit is
// max(context - max_new, 1)) and the run went on generating answers to
// nothing, counted as if they were answers to the stories.
func TestMaxNewTokensMustLeaveRoomForThePrompt(t *testing.T) {
	m := loadModel(t, writeRandomLlama(t, 6))
	units, tags, err := Units(sampleItems(t), []cvoice.Language{cvoice.LangEnglish}, ModeGenerated)
	if err != nil {
		t.Fatal(err)
	}
	out := filepath.Join(t.TempDir(), "gen.safetensors")
	j := &Job{
		Model: m, Encode: byteEncode, ModelName: "rand", Fingerprint: Fingerprint(m.Weights),
		Units: units[:2], Tags: tags, Langs: []string{"en"}, Mode: ModeGenerated,
		MaxNewTokens: m.Config.ContextLength, GenBatch: 2, Out: out,
	}
	_, err = j.Run(context.Background())
	if err == nil || !strings.Contains(err.Error(), "context length") {
		t.Fatalf("Run with max new tokens = context length %d: err = %v, want a refusal naming the context length", m.Config.ContextLength, err)
	}
}
