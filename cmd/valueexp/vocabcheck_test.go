package main

import (
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/valueexploration/valueexp/internal/testmodel"
)

// TestGenerateRefusesTokenizerLargerThanEmbedding is the regression test for
// issue 14's last small item: a tokenizer.json with 100 tokens next to a
// model whose embedding has 80 rows is refused when they are loaded, with
// both sizes in the message, instead of failing at the first forward pass
// that meets a large id.
func TestGenerateRefusesTokenizerLargerThanEmbedding(t *testing.T) {
	_, dir := testmodel.Write(t, testmodel.Spec{Arch: "llama", Layers: 1, Hidden: 32, FFN: 48, Heads: 2, KV: 1, HeadDim: 16, Vocab: 80, Seed: 7})
	var vocab []string
	for i := 0; i < 99; i++ {
		vocab = append(vocab, fmt.Sprintf("%q:%d", fmt.Sprintf("t%d", i), i))
	}
	vocab = append(vocab, `"z":99`) // the prompt "z" is id 99, past the embedding
	js := `{"model":{"type":"BPE","vocab":{` + strings.Join(vocab, ",") + `},"merges":[]}}`
	if err := os.WriteFile(filepath.Join(dir, "tokenizer.json"), []byte(js), 0o644); err != nil {
		t.Fatal(err)
	}
	code, _, stderr := runCLI(t, "", "generate", "--model", dir, "--prompt", "z", "-n", "1")
	if code == 0 {
		t.Fatal("generate accepted a tokenizer larger than the embedding")
	}
	for _, want := range []string{"100 tokens", "80 rows"} {
		if !strings.Contains(stderr, want) {
			t.Errorf("error %q does not say %q", stderr, want)
		}
	}
}
