package record

import (
	"context"
	"path/filepath"
	"slices"
	"testing"

	"github.com/valueexploration/valueexp/engine"
	"github.com/valueexploration/valueexp/hooks"
	"github.com/valueexploration/valueexp/valueexp/cvoice"
)

// TestGeneratedCountsOnlyAnswerTokens checks ModeGenerated against a
// reference built another way: generate each answer alone without hooks,
// then run prompt + answer through the full model in one prefill and count
// hook_act > 0 on exactly the answer tokens that were fed back (all of them
// when the answer ended on a stop token, all but the last otherwise).
func TestGeneratedCountsOnlyAnswerTokens(t *testing.T) {
	m := loadModel(t, writeRandomLlama(t, 6))
	units, tags, err := Units(sampleItems(t), []cvoice.Language{cvoice.LangEnglish}, ModeGenerated)
	if err != nil {
		t.Fatal(err)
	}
	var sub []Unit
	for i := 0; i < len(units); i += 16 {
		sub = append(sub, units[i])
	}
	const maxNew = 6
	j := &Job{
		Model: m, Encode: byteEncode, ModelName: "rand", Fingerprint: Fingerprint(m.Weights),
		Units: sub, Tags: tags, Langs: []string{"en"}, Mode: ModeGenerated, MaxNewTokens: maxNew, GenBatch: 4,
		Out: filepath.Join(t.TempDir(), "gen.safetensors"),
	}
	res := runJob(t, j)

	L, D := m.Config.Layers, m.Config.FFNSize
	wantCount := make([]uint64, len(tags)*L*D)
	wantTokens := make([]uint64, len(tags)*L)
	var acts [][]float32
	h := hooks.New(L)
	if err := h.Observe("blocks.*.mlp.hook_act", hooks.ObserverFunc(func(p hooks.Point, t hooks.Tensor, _ *hooks.Rows) {
		acts[p.Layer] = append([]float32(nil), t.Data[:t.Rows*t.Cols]...)
	})); err != nil {
		t.Fatal(err)
	}
	limit := m.Config.ContextLength - maxNew
	for _, u := range sub {
		prompt := byteEncode(u.Text)
		if len(prompt) > limit {
			prompt = prompt[len(prompt)-limit:]
		}
		out, err := m.Generate(context.Background(), []engine.Prompt{{Tokens: prompt, Tag: -1}},
			engine.GenerateOptions{MaxTokens: maxNew, Sampling: engine.Sampling{RepetitionPenalty: GenRepetitionPenalty}})
		if err != nil {
			t.Fatal(err)
		}
		fed := len(out[0].Tokens)
		if out[0].Finish != engine.FinishStop {
			fed--
		}
		if fed <= 0 {
			continue
		}
		all := append(slices.Clone(prompt), out[0].Tokens[:fed]...)
		acts = make([][]float32, L)
		if _, err := m.Forward(context.Background(), []engine.Input{{Seq: m.NewSequence(), Tokens: all, Tag: -1, Logits: engine.NoLogits}}, engine.RunOptions{Hooks: h}); err != nil {
			t.Fatal(err)
		}
		for l := range L {
			for r := len(prompt); r < len(all); r++ {
				for d := range D {
					if acts[l][r*D+d] > 0 {
						wantCount[(int(u.Tag)*L+l)*D+d]++
					}
				}
				wantTokens[int(u.Tag)*L+l]++
			}
		}
	}
	if slices.Max(wantTokens) == 0 {
		t.Fatal("no answer token was fed back; the test checks nothing")
	}
	if !slices.Equal(res.Counts.Prob.Tokens, wantTokens) {
		t.Errorf("token totals: got %v, want %v", res.Counts.Prob.Tokens, wantTokens)
	}
	if !slices.Equal(res.Counts.Prob.Count, wantCount) {
		t.Error("counts differ from the prompt+answer prefill reference")
	}
	if res.Counts.Manifest.Mode != ModeGenerated || res.Counts.Manifest.MaxNewTokens != maxNew || res.Counts.Manifest.Format != PromptFormat {
		t.Errorf("manifest: %+v", res.Counts.Manifest)
	}
}
