package engine

import (
	"context"
	"slices"
	"testing"
)

// TestClonedHeadContinuesBitIdentically prefills a shared head once, clones
// it for several continuations run together in one packed batch next to an
// unrelated sequence, and checks every continuation's logits are
// bit-identical to the whole sequence run alone; then generates from clones
// (Prompt.Seq) and checks the tokens equal generating from scratch.
func TestClonedHeadContinuesBitIdentically(t *testing.T) {
	ctx := context.Background()
	_, hf := writeRandomModel(t, randSpecs[0])
	m := mustLoad(t, hf, 2)
	V := m.Config.VocabSize
	head := randTokens(21, 7, V)
	tails := [][]int32{randTokens(22, 5, V), randTokens(23, 1, V), randTokens(24, 9, V)}
	hs := m.NewSequence()
	if _, err := m.Forward(ctx, []Input{{Seq: hs, Tokens: head, Logits: NoLogits}}, RunOptions{}); err != nil {
		t.Fatal(err)
	}
	in := []Input{{Seq: m.NewSequence(), Tokens: randTokens(25, 6, V), Logits: AllLogits}}
	for _, tail := range tails {
		in = append(in, Input{Seq: hs.Clone(), Tokens: tail, Logits: AllLogits})
	}
	out, err := m.Forward(ctx, in, RunOptions{})
	if err != nil {
		t.Fatal(err)
	}
	for k, tail := range tails {
		full := prefill(t, m, slices.Concat(head, tail))
		bitsEqual(t, "cloned continuation", out[k+1], full[len(head)*V:])
	}
	if hs.Len() != len(head) {
		t.Fatalf("the head sequence grew to %d tokens; clones must not share it", hs.Len())
	}

	var shared, alone []Prompt
	for _, tail := range tails {
		p := slices.Concat(head, tail)
		shared = append(shared, Prompt{Tokens: p, Tag: -1, Seq: hs.Clone()})
		alone = append(alone, Prompt{Tokens: p, Tag: -1})
	}
	opt := GenerateOptions{MaxTokens: 6, StopTokens: []int32{}}
	a, err := m.Generate(ctx, shared, opt)
	if err != nil {
		t.Fatal(err)
	}
	b, err := m.Generate(ctx, alone, opt)
	if err != nil {
		t.Fatal(err)
	}
	for i := range a {
		if !slices.Equal(a[i].Tokens, b[i].Tokens) {
			t.Fatalf("prompt %d: from a cloned head %v, from scratch %v", i, a[i].Tokens, b[i].Tokens)
		}
	}
	if _, err := m.Generate(ctx, []Prompt{{Tokens: head, Seq: hs.Clone()}}, opt); err == nil {
		t.Fatal("a prompt with nothing left to feed was accepted")
	}
}
