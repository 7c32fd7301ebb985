package engine

import (
	"context"
	"errors"
	"fmt"
	"strings"
	"sync"
	"testing"

	"github.com/valueexploration/valueexp/hooks"
)

// TestConcurrentSessionsShareOneModel runs several generations at once on one
// Model, each with its own sequences, and checks each result equals the same
// generation run alone. (Run with -race to check for shared mutable state.)
func TestConcurrentSessionsShareOneModel(t *testing.T) {
	_, hf := writeRandomModel(t, randSpecs[2])
	m := mustLoad(t, hf, 2)
	V := m.Config.VocabSize
	opts := func(i int) GenerateOptions {
		return GenerateOptions{MaxTokens: 12, StopTokens: []int32{}, Sampling: Sampling{Temperature: 0.8, TopK: 20, Seed: uint64(i)}}
	}
	const workers = 6
	want := make([]string, workers)
	for i := range want {
		out, err := m.Generate(context.Background(), []Prompt{{Tokens: randTokens(uint64(i), 5+i, V)}}, opts(i))
		if err != nil {
			t.Fatal(err)
		}
		want[i] = fmt.Sprint(out[0].Tokens)
	}
	got := make([]string, workers)
	var wg sync.WaitGroup
	errs := make(chan error, workers)
	for i := 0; i < workers; i++ {
		wg.Add(1)
		go func(i int) {
			defer wg.Done()
			for rep := 0; rep < 3; rep++ {
				out, err := m.Generate(context.Background(), []Prompt{{Tokens: randTokens(uint64(i), 5+i, V)}}, opts(i))
				if err != nil {
					errs <- err
					return
				}
				got[i] = fmt.Sprint(out[0].Tokens)
			}
		}(i)
	}
	wg.Wait()
	close(errs)
	for err := range errs {
		t.Fatal(err)
	}
	for i := range want {
		if got[i] != want[i] {
			t.Errorf("session %d: concurrent %s, alone %s", i, got[i], want[i])
		}
	}
}

// TestContextCancellation checks that a cancelled context stops a forward
// pass with the context's error.
func TestContextCancellation(t *testing.T) {
	_, hf := writeRandomModel(t, randSpecs[0])
	m := mustLoad(t, hf, 2)
	ctx, cancel := context.WithCancel(context.Background())
	calls := 0
	h := hooks.New(m.Config.Layers)
	// Cancel from inside the first layer: the pass must stop at the next check.
	if err := h.Observe("blocks.0.hook_resid_post", hooks.ObserverFunc(func(hooks.Point, hooks.Tensor, *hooks.Rows) {
		calls++
		cancel()
	})); err != nil {
		t.Fatal(err)
	}
	_, err := m.Generate(ctx, []Prompt{{Tokens: []int32{1, 2, 3}}}, GenerateOptions{MaxTokens: 50, StopTokens: []int32{}, Hooks: h})
	if !errors.Is(err, context.Canceled) {
		t.Fatalf("error %v, want context.Canceled", err)
	}
	if calls != 1 {
		t.Errorf("layer 0 ran %d times after cancellation, want 1", calls)
	}
}

// TestForwardRejectsBadInput checks clear errors for bad batches.
func TestForwardRejectsBadInput(t *testing.T) {
	_, hf := writeRandomModel(t, randSpecs[0])
	m := mustLoad(t, hf, 1)
	s := m.NewSequence()
	for _, c := range []struct {
		in   []Input
		want string
	}{
		{[]Input{{Seq: s, Tokens: []int32{1, 80}}}, "outside the vocabulary"},
		{[]Input{{Seq: s, Tokens: []int32{-1}}}, "outside the vocabulary"},
		{[]Input{{Seq: s, Tokens: []int32{1}}, {Seq: s, Tokens: []int32{2}}}, "only once"},
		{[]Input{{Tokens: []int32{1}}}, "no sequence"},
	} {
		_, err := m.Forward(context.Background(), c.in, RunOptions{})
		if err == nil || !contains(err.Error(), c.want) {
			t.Errorf("error %v, want one mentioning %q", err, c.want)
		}
	}
	if _, err := m.Generate(context.Background(), []Prompt{{Tokens: make([]int32, 256)}}, GenerateOptions{MaxTokens: 1}); err == nil || !contains(err.Error(), "context length") {
		t.Errorf("over-long prompt: error %v", err)
	}
	if _, err := m.Generate(context.Background(), []Prompt{{Tokens: []int32{1}}}, GenerateOptions{MaxTokens: 1, Sampling: Sampling{TopP: 2}}); err == nil || !contains(err.Error(), "top-p") {
		t.Errorf("bad sampling: error %v", err)
	}
}

func contains(s, sub string) bool { return strings.Contains(s, sub) }
