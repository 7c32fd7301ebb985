package engine

import (
	"context"
	"math"
	"math/rand/v2"
	"testing"
)

func randTokens(seed uint64, n, vocab int) []int32 {
	rng := rand.New(rand.NewPCG(seed, 1))
	out := make([]int32, n)
	for i := range out {
		out[i] = int32(rng.IntN(vocab))
	}
	return out
}

func bitsEqual(t *testing.T, what string, got, want []float32) {
	t.Helper()
	if len(got) != len(want) {
		t.Fatalf("%s: %d values, want %d", what, len(got), len(want))
	}
	for i := range got {
		if math.Float32bits(got[i]) != math.Float32bits(want[i]) {
			t.Fatalf("%s: value %d is %g, want %g (bit-identical)", what, i, got[i], want[i])
		}
	}
}

func mustLoad(t *testing.T, path string, threads int) *Model {
	t.Helper()
	m, err := Load(path, Options{Threads: threads})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { m.Close() })
	return m
}

func prefill(t *testing.T, m *Model, toks []int32) []float32 {
	t.Helper()
	out, err := m.Forward(context.Background(), []Input{{Seq: m.NewSequence(), Tokens: toks, Logits: AllLogits}}, RunOptions{})
	if err != nil {
		t.Fatal(err)
	}
	return out[0]
}

// TestInvariants checks, for a random model of every architecture, that the
// numbers do not depend on how the work is cut: prefill equals token-by-token
// decoding, a packed batch equals each sequence alone, 1 thread equals 2, and
// the GGUF copy equals the safetensors copy.
func TestInvariants(t *testing.T) {
	ctx := context.Background()
	for _, spec := range randSpecs {
		t.Run(spec.Arch, func(t *testing.T) {
			ggufPath, hfDir := writeRandomModel(t, spec)
			m := mustLoad(t, hfDir, 2)
			V := m.Config.VocabSize
			toks := randTokens(spec.Seed, 12, V)
			full := prefill(t, m, toks)

			t.Run("prefill equals decode steps", func(t *testing.T) {
				s := m.NewSequence()
				var steps []float32
				for i, tok := range toks {
					out, err := m.Forward(ctx, []Input{{Seq: s, Tokens: []int32{tok}}}, RunOptions{})
					if err != nil {
						t.Fatal(err)
					}
					if s.Len() != i+1 {
						t.Fatalf("sequence length %d after %d steps", s.Len(), i+1)
					}
					steps = append(steps, out[0]...)
				}
				bitsEqual(t, "decode steps vs prefill", steps, full)
			})

			t.Run("packed batch equals sequences alone", func(t *testing.T) {
				seqs := [][]int32{randTokens(spec.Seed+10, 7, V), toks, randTokens(spec.Seed+11, 3, V)}
				var in []Input
				for _, sq := range seqs {
					in = append(in, Input{Seq: m.NewSequence(), Tokens: sq, Logits: AllLogits})
				}
				out, err := m.Forward(ctx, in, RunOptions{})
				if err != nil {
					t.Fatal(err)
				}
				for i, sq := range seqs {
					bitsEqual(t, "packed sequence", out[i], prefill(t, m, sq))
				}
				// Continue two of them together by one decode step each and
				// compare with a lone continuation.
				next := []Input{{Seq: in[0].Seq, Tokens: []int32{5}}, {Seq: in[2].Seq, Tokens: []int32{9}}}
				step, err := m.Forward(ctx, next, RunOptions{})
				if err != nil {
					t.Fatal(err)
				}
				alone := prefill(t, m, append(append([]int32(nil), seqs[2]...), 9))
				bitsEqual(t, "packed decode step", step[1], alone[len(alone)-V:])
			})

			t.Run("threads do not change results", func(t *testing.T) {
				one := mustLoad(t, hfDir, 1)
				bitsEqual(t, "1 thread vs 2", prefill(t, one, toks), full)
				three := mustLoad(t, hfDir, 3)
				bitsEqual(t, "3 threads vs 2", prefill(t, three, toks), full)
			})

			t.Run("GGUF equals safetensors", func(t *testing.T) {
				g := mustLoad(t, ggufPath, 2)
				if g.Config.SlidingWindow != m.Config.SlidingWindow {
					t.Fatalf("sliding window %d (GGUF) vs %d (HF)", g.Config.SlidingWindow, m.Config.SlidingWindow)
				}
				bitsEqual(t, "GGUF vs safetensors", prefill(t, g, toks), full)
			})
		})
	}
}

// TestSlidingWindow checks the window's semantics on the random mistral model:
// a position attends to itself and the window-1 positions before it. With a
// window as long as the sequence, nothing changes; with a shorter one, the
// first window positions are unchanged and later ones differ.
func TestSlidingWindow(t *testing.T) {
	spec := randSpecs[1]
	_, windowed := writeRandomModel(t, spec)
	spec.Window = 0
	_, full := writeRandomModel(t, spec)
	mw, mf := mustLoad(t, windowed, 2), mustLoad(t, full, 2)
	V := mw.Config.VocabSize
	toks := randTokens(99, 12, V)
	lw, lf := prefill(t, mw, toks), prefill(t, mf, toks)
	w := spec.Window
	if w == 0 {
		w = randSpecs[1].Window
	}
	bitsEqual(t, "positions inside the window", lw[:w*V], lf[:w*V])
	differs := 0
	for p := w; p < len(toks); p++ {
		if relErr(lw[p*V:(p+1)*V], lf[p*V:(p+1)*V]) > 1e-4 {
			differs++
		}
	}
	if differs != len(toks)-w {
		t.Errorf("%d of %d positions past the window differ; want all", differs, len(toks)-w)
	}
	// A window as long as the sequence is the same as none.
	spec.Window = len(toks)
	_, long := writeRandomModel(t, spec)
	bitsEqual(t, "window = sequence length", prefill(t, mustLoad(t, long, 2), toks), lf)
}

// TestCloneContinuesIndependently checks that a cloned sequence continues
// exactly as the original would, and that the two do not share state.
func TestCloneContinuesIndependently(t *testing.T) {
	_, hf := writeRandomModel(t, randSpecs[0])
	m := mustLoad(t, hf, 2)
	toks := randTokens(3, 10, m.Config.VocabSize)
	s := m.NewSequence()
	if _, err := m.Forward(context.Background(), []Input{{Seq: s, Tokens: toks[:6]}}, RunOptions{}); err != nil {
		t.Fatal(err)
	}
	c := s.Clone()
	a, err := m.Forward(context.Background(), []Input{{Seq: c, Tokens: toks[6:], Logits: AllLogits}}, RunOptions{})
	if err != nil {
		t.Fatal(err)
	}
	// The original continues differently; the clone's result must not move.
	if _, err := m.Forward(context.Background(), []Input{{Seq: s, Tokens: []int32{4, 4}}}, RunOptions{}); err != nil {
		t.Fatal(err)
	}
	full := prefill(t, m, toks)
	bitsEqual(t, "clone continuation", a[0], full[6*m.Config.VocabSize:])
}
