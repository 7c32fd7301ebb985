package main

import (
	"strings"
	"testing"

	"github.com/valueexploration/valueexp/engine"
	"github.com/valueexploration/valueexp/internal/shareddata"
	"github.com/valueexploration/valueexp/tokenizer"
)

// streamAsGenerate feeds ids to a stopStreamer the way runGenerate does,
// with Completion.Text computed by Generate's rule (Decode of the tokens so
// far, cut at the earliest stop string, generation ending there).
func streamAsGenerate(tok *tokenizer.Tokenizer, ids []int32, stops []string) string {
	var out strings.Builder
	st := newStopStreamer(&out, tok, stops)
	var text string
	for k, id := range ids {
		st.token(id)
		text = tok.Decode(ids[:k+1])
		if cut, ok := engine.CutAtStop(text, stops); ok {
			text = cut
			break
		}
	}
	st.finish(text)
	return out.String()
}

// TestGenerateStreamNeverMatchingStop is the regression test for issue 14
// item 6: with output that holds ill-formed UTF-8, adding a --stop that
// never matches must not change the printed text, and the text must be
// Decode's.
func TestGenerateStreamNeverMatchingStop(t *testing.T) {
	tok, err := tokenizer.Load(shareddata.Path(t, "refdata", "models", "stories260K", "stories260K.gguf"))
	if err != nil {
		t.Fatal(err)
	}
	byteTok := func(s string) int32 {
		id, ok := tok.TokenID(s)
		if !ok {
			t.Fatalf("no token %q", s)
		}
		return id
	}
	var ids []int32
	ids = append(ids, tok.Encode("Once upon", tokenizer.EncodeOptions{})...)
	ids = append(ids, byteTok("<0xE4>"), byteTok("<0xBD>")) // 你 cut short
	ids = append(ids, tok.Encode(" a time", tokenizer.EncodeOptions{})...)
	ids = append(ids, byteTok("<0xFF>"), byteTok("<0x80>"), byteTok("<0xE4>"), byteTok("<0xBD>"), byteTok("<0xA0>"))
	ids = append(ids, tok.Encode(" there", tokenizer.EncodeOptions{})...)
	ids = append(ids, byteTok("<0xF0>"), byteTok("<0x9F>")) // emoji cut short at the end
	plain := streamAsGenerate(tok, ids, nil)
	for _, stops := range [][]string{{"NEVER MATCHES"}, {"zz", "a very long stop string that never appears"}} {
		if got := streamAsGenerate(tok, ids, stops); got != plain {
			t.Errorf("stops %q: printed %q, without stops %q", stops, got, plain)
		}
	}
	// Both are Decode's text, with each ill-formed part replaced once.
	want := "Once upon\uFFFD  a time\uFFFD\uFFFD你  there\uFFFD" // SPM puts a space before each encoded part
	if dec := tok.Decode(ids); dec != want {
		t.Errorf("Decode = %q, want %q", dec, want)
	}
	if plain != want {
		t.Errorf("printed %q, want %q", plain, want)
	}
	// A stop string that does match still cuts in the same representation.
	if got, want := streamAsGenerate(tok, ids, []string{"time"}), "Once upon\uFFFD  a "; got != want {
		t.Errorf("stop \"time\": printed %q, want %q", got, want)
	}
}
