package engine

import (
	"context"
	"fmt"
	"math"
	"strings"
	"testing"

	"github.com/valueexploration/valueexp/hooks"
	"github.com/valueexploration/valueexp/weights"
)

// letters decodes token t as the letter 'a'+t%26, so stop strings can be
// tested without a tokenizer.
type letters struct{}

func (letters) Decode(ids []int32) string {
	var b strings.Builder
	for _, t := range ids {
		b.WriteByte(byte('a' + t%26))
	}
	return b.String()
}

func TestGenerateStops(t *testing.T) {
	_, hf := writeRandomModel(t, randSpecs[0])
	m := mustLoad(t, hf, 2)
	prompt := []Prompt{{Tokens: []int32{1, 7, 3}}}
	// The free-running greedy continuation, to pick stop conditions from.
	free, err := m.Generate(context.Background(), prompt, GenerateOptions{MaxTokens: 12, StopTokens: []int32{}, Decoder: letters{}})
	if err != nil {
		t.Fatal(err)
	}
	toks, text := free[0].Tokens, free[0].Text
	if len(toks) != 12 || free[0].Finish != FinishLength {
		t.Fatalf("free run: %d tokens, finish %s", len(toks), free[0].Finish)
	}

	t.Run("stop token", func(t *testing.T) {
		out, err := m.Generate(context.Background(), prompt, GenerateOptions{MaxTokens: 12, StopTokens: []int32{toks[5]}})
		if err != nil {
			t.Fatal(err)
		}
		first := 0
		for first < len(toks) && toks[first] != toks[5] {
			first++
		}
		if fmt.Sprint(out[0].Tokens) != fmt.Sprint(toks[:first]) || out[0].Finish != FinishStop {
			t.Errorf("tokens %v finish %s, want %v stop", out[0].Tokens, out[0].Finish, toks[:first])
		}
	})
	t.Run("stop string and OnToken", func(t *testing.T) {
		stop := text[6:8]
		var seen []int32
		out, err := m.Generate(context.Background(), prompt, GenerateOptions{MaxTokens: 12, StopTokens: []int32{}, Decoder: letters{}, StopStrings: []string{"zzzz", stop},
			OnToken: func(seq int, tok int32) error { seen = append(seen, tok); return nil }})
		if err != nil {
			t.Fatal(err)
		}
		cut := strings.Index(text, stop)
		if out[0].Text != text[:cut] || out[0].Finish != FinishStop {
			t.Errorf("text %q finish %s, want %q stop", out[0].Text, out[0].Finish, text[:cut])
		}
		if fmt.Sprint(seen) != fmt.Sprint(out[0].Tokens) {
			t.Errorf("OnToken saw %v, completion has %v", seen, out[0].Tokens)
		}
	})
	t.Run("context limit", func(t *testing.T) {
		out, err := m.Generate(context.Background(), prompt, GenerateOptions{MaxTokens: 50, StopTokens: []int32{}, MaxContext: 8})
		if err != nil {
			t.Fatal(err)
		}
		if out[0].Finish != FinishContext || len(out[0].Tokens) != 5 || fmt.Sprint(out[0].Tokens) != fmt.Sprint(toks[:5]) {
			t.Errorf("tokens %v finish %s, want the first 5 greedy tokens and finish context", out[0].Tokens, out[0].Finish)
		}
	})
	t.Run("OnToken error stops", func(t *testing.T) {
		_, err := m.Generate(context.Background(), prompt, GenerateOptions{MaxTokens: 12, OnToken: func(int, int32) error { return fmt.Errorf("enough") }})
		if err == nil || err.Error() != "enough" {
			t.Errorf("error %v", err)
		}
	})
}

// TestStopAfterSkipsTheRest checks that a statistics pass stops where asked:
// no hook after the stop point fires, no logits are computed, and the
// sequence refuses to continue.
func TestStopAfterSkipsTheRest(t *testing.T) {
	_, hf := writeRandomModel(t, randSpecs[2])
	m := mustLoad(t, hf, 2)
	var fired []string
	h := hooks.New(m.Config.Layers)
	for _, pat := range []string{"blocks.*.mlp.hook_act", "blocks.*.mlp.hook_post", "blocks.*.hook_resid_post", "ln_final.hook_normalized", "hook_logits"} {
		if err := h.Observe(pat, hooks.ObserverFunc(func(p hooks.Point, _ hooks.Tensor, _ *hooks.Rows) { fired = append(fired, p.String()) })); err != nil {
			t.Fatal(err)
		}
	}
	stop := hooks.Point{Layer: 1, Site: hooks.SiteMLPAct}
	s := m.NewSequence()
	out, err := m.Forward(context.Background(), []Input{{Seq: s, Tokens: []int32{1, 2, 3}, Logits: AllLogits}}, RunOptions{Hooks: h, StopAfter: &stop})
	if err != nil {
		t.Fatal(err)
	}
	want := "[blocks.0.mlp.hook_act blocks.0.mlp.hook_post blocks.0.hook_resid_post blocks.1.mlp.hook_act]"
	if fmt.Sprint(fired) != want {
		t.Errorf("hooks fired %v, want %s", fired, want)
	}
	if out[0] != nil {
		t.Error("logits were returned after StopAfter")
	}
	if _, err := m.Forward(context.Background(), []Input{{Seq: s, Tokens: []int32{4}}}, RunOptions{}); err != ErrIncomplete {
		t.Errorf("continuing a stopped sequence: error %v, want ErrIncomplete", err)
	}
}

// TestRopeScaling checks the rotary frequencies against their definitions:
// linear scaling divides every frequency; llama3 scaling (Llama 3.1's
// settings) keeps wavelengths under original/high_freq_factor, divides those
// over original/low_freq_factor by the factor, and blends in between.
func TestRopeScaling(t *testing.T) {
	base := weights.Config{RopeTheta: 500000, RopeDim: 128, HeadDim: 128}
	plain, err := ropeInvFreq(base, &weights.Model{Tensors: map[string]*weights.Tensor{}})
	if err != nil {
		t.Fatal(err)
	}
	for j, f := range plain {
		if want := math.Pow(500000, -float64(2*j)/128); math.Abs(f-want) > 1e-15*want {
			t.Fatalf("pair %d: %g, want theta^(-2j/d) = %g", j, f, want)
		}
	}
	lin := base
	lin.RopeScaling = weights.RopeScaling{Type: "linear", Factor: 4}
	got, _ := ropeInvFreq(lin, &weights.Model{Tensors: map[string]*weights.Tensor{}})
	for j := range got {
		if math.Abs(got[j]-plain[j]/4) > 1e-18 {
			t.Fatalf("linear pair %d: %g, want %g", j, got[j], plain[j]/4)
		}
	}
	l3 := base
	l3.RopeScaling = weights.RopeScaling{Type: "llama3", Factor: 8, LowFreqFactor: 1, HighFreqFactor: 4, OriginalMaxPositions: 8192}
	got, err = ropeInvFreq(l3, &weights.Model{Tensors: map[string]*weights.Tensor{}})
	if err != nil {
		t.Fatal(err)
	}
	kept, divided, blended := 0, 0, 0
	for j, f := range plain {
		wavelen := 2 * math.Pi / f
		switch {
		case wavelen < 8192/4.0:
			kept++
			if got[j] != f {
				t.Errorf("pair %d (wavelength %.0f): %g, want unchanged %g", j, wavelen, got[j], f)
			}
		case wavelen > 8192/1.0:
			divided++
			if math.Abs(got[j]-f/8) > 1e-18 {
				t.Errorf("pair %d (wavelength %.0f): %g, want %g/8", j, wavelen, got[j], f)
			}
		default:
			blended++
			// smooth = (8192/wavelen - 1)/(4 - 1); f' = (1-smooth) f/8 + smooth f.
			smooth := (8192/wavelen - 1) / 3
			if want := (1-smooth)*f/8 + smooth*f; math.Abs(got[j]-want) > 1e-15*want || got[j] > f || got[j] < f/8 {
				t.Errorf("pair %d (wavelength %.0f): %g, want %g", j, wavelen, got[j], want)
			}
		}
	}
	if kept == 0 || divided == 0 || blended == 0 {
		t.Errorf("kept %d, divided %d, blended %d: every band should be exercised", kept, divided, blended)
	}
}

func TestStopAfterRejectsUnsupportedPoints(t *testing.T) {
	_, hf := writeRandomModel(t, randSpecs[0])
	m := mustLoad(t, hf, 1)
	for _, p := range []hooks.Point{{Layer: 0, Site: hooks.SiteAttnQ}, {Layer: 2, Site: hooks.SiteMLPAct}, {Layer: -1, Site: hooks.SiteLogits}} {
		_, err := m.Forward(context.Background(), []Input{{Seq: m.NewSequence(), Tokens: []int32{1}}}, RunOptions{StopAfter: &p})
		if err == nil || !strings.Contains(err.Error(), "StopAfter") {
			t.Errorf("StopAfter %v: error %v", p, err)
		}
	}
}
