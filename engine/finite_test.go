package engine

import (
	"bytes"
	"context"
	"encoding/binary"
	"errors"
	"math"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/valueexploration/valueexp/hooks"
	"github.com/valueexploration/valueexp/weights"
	"github.com/valueexploration/valueexp/weights/synth"
)

// poisonedModel writes a synthetic tiny llama (two layers) in mix and lets
// poison change the bytes of one tensor, located by parsing the file.
func poisonedModel(t *testing.T, mix synth.Mix, tensor string, poison func(data []byte, cols int)) string {
	t.Helper()
	s, err := synth.LookupShape("tiny")
	if err != nil {
		t.Fatal(err)
	}
	if s, err = s.WithArch("qwen2"); err != nil {
		t.Fatal(err)
	}
	var buf bytes.Buffer
	if _, err := synth.Write(&buf, synth.Options{Shape: s, Mix: mix, Layers: 2, Seed: 7, Threads: 1}); err != nil {
		t.Fatal(err)
	}
	b := buf.Bytes()
	if tensor != "" {
		g, err := weights.ParseGGUF(b, "synth")
		if err != nil {
			t.Fatal(err)
		}
		x, ok := g.Tensor(tensor)
		if !ok {
			t.Fatalf("no tensor %q", tensor)
		}
		poison(x.Data, x.Cols()) // aliases b
	}
	path := filepath.Join(t.TempDir(), "poisoned.gguf")
	if err := os.WriteFile(path, b, 0o644); err != nil {
		t.Fatal(err)
	}
	return path
}

// setF32 writes v at (row, col) of an F32 matrix's bytes.
func setF32(row, col int, v float32) func([]byte, int) {
	return func(d []byte, cols int) { binary.LittleEndian.PutUint32(d[4*(row*cols+col):], math.Float32bits(v)) }
}

func forward(t *testing.T, path string, toks []int32, h *hooks.Hooks) error {
	t.Helper()
	m, err := Load(path, Options{Threads: 2})
	if err != nil {
		t.Fatal(err)
	}
	defer m.Close()
	_, err = m.Forward(context.Background(), []Input{
		{Seq: m.NewSequence(), Tokens: []int32{5, 6}, Logits: LastLogits},
		{Seq: m.NewSequence(), Tokens: toks, Logits: AllLogits},
	}, RunOptions{Hooks: h})
	return err
}

// TestNonFiniteWeights poisons one tensor of a synthetic model and checks
// that Forward (or Load, for the vectors converted at load) fails with an
// error naming the tensor and its first bad element, instead of returning
// NaN logits that sampling turns into token 0.
func TestNonFiniteWeights(t *testing.T) {
	nan, inf := float32(math.NaN()), float32(math.Inf(1))
	toks := []int32{10, 11, 12, 13}
	for _, c := range []struct {
		name, tensor string
		mix          synth.Mix
		poison       func([]byte, int)
		layer        int // of the NonFiniteError; -2: Load fails
		want         []string
	}{
		{"NaN in ffn_up", "blk.1.ffn_up.weight", synth.MixF32, setF32(40, 17, nan), 1,
			[]string{"at layer 1 hook_resid_post", `tensor "blk.1.ffn_up.weight" holds 1 NaN and 0 Inf values (first at row 40, column 17)`}},
		{"Inf in attn_v", "blk.0.attn_v.weight", synth.MixF32, setF32(3, 100, inf), 0,
			[]string{"at layer 0", `tensor "blk.0.attn_v.weight" holds 0 NaN and 1 Inf values (first at row 3, column 100)`}},
		{"NaN in the embedding row of a used token", "token_embd.weight", synth.MixF32, setF32(12, 5, nan), -1,
			[]string{"in the token embeddings (input 1, position 2)", `tensor "token_embd.weight" holds 1 NaN and 0 Inf values (first at row 12, column 5)`}},
		// The tiny shape ties its embeddings: a bad row of a token not in
		// the input reaches only the logits.
		{"NaN in the output head", "token_embd.weight", synth.MixF32, setF32(200, 0, nan), 2,
			[]string{"in the logits (input 0, position 1)", `tensor "token_embd.weight" holds 1 NaN and 0 Inf values (first at row 200, column 0)`}},
		// Q8_0 blocks start with their f16 scale: a NaN scale makes the
		// whole 32-element block NaN.
		{"NaN scale of a Q8_0 block", "blk.0.ffn_down.weight", synth.MixQ8_0, func(d []byte, cols int) {
			rowBytes := cols / 32 * 34
			binary.LittleEndian.PutUint16(d[5*rowBytes+34:], 0x7e00)
		}, 0, []string{`tensor "blk.0.ffn_down.weight" holds 32 NaN and 0 Inf values (first at row 5, column 32)`}},
		{"NaN in a norm", "blk.1.ffn_norm.weight", synth.MixF32, setF32(0, 9, nan), -2,
			[]string{`tensor "blk.1.ffn_norm.weight" holds 1 NaN and 0 Inf values (first at row 0, column 9)`}},
		{"Inf in a bias", "blk.0.attn_k.bias", synth.MixF32, setF32(0, 1, float32(math.Inf(-1))), -2,
			[]string{`tensor "blk.0.attn_k.bias" holds 0 NaN and 1 Inf values`}},
	} {
		t.Run(c.name, func(t *testing.T) {
			path := poisonedModel(t, c.mix, c.tensor, c.poison)
			if c.layer == -2 {
				m, err := Load(path, Options{Threads: 1})
				if err == nil {
					m.Close()
					t.Fatal("loaded a model with a non-finite norm or bias")
				}
				for _, w := range append(c.want, path, "the model file is broken") {
					if !strings.Contains(err.Error(), w) {
						t.Errorf("error %q does not contain %q", err, w)
					}
				}
				return
			}
			err := forward(t, path, toks, nil)
			var nf *NonFiniteError
			if !errors.As(err, &nf) {
				t.Fatalf("error %v, want a NonFiniteError", err)
			}
			if nf.Layer != c.layer || len(nf.Tensors) != 1 || nf.Tensors[0].Tensor != c.tensor {
				t.Errorf("layer %d, tensors %v; want layer %d and %q", nf.Layer, nf.Tensors, c.layer, c.tensor)
			}
			for _, w := range append(c.want, path) {
				if !strings.Contains(err.Error(), w) {
					t.Errorf("error %q does not contain %q", err, w)
				}
			}
		})
	}
	t.Run("a clean model passes", func(t *testing.T) {
		if err := forward(t, poisonedModel(t, synth.MixF32, "", nil), toks, nil); err != nil {
			t.Fatal(err)
		}
	})
	t.Run("a pass stopped at mlp.hook_act", func(t *testing.T) {
		// Statistics runs stop after the activations they count: a NaN
		// there must fail the run, not count as "not positive".
		path := poisonedModel(t, synth.MixF32, "blk.0.ffn_gate.weight", setF32(7, 2, nan))
		m, err := Load(path, Options{Threads: 2})
		if err != nil {
			t.Fatal(err)
		}
		defer m.Close()
		_, err = m.Forward(context.Background(), []Input{{Seq: m.NewSequence(), Tokens: toks, Logits: NoLogits}},
			RunOptions{StopAfter: &hooks.Point{Layer: 0, Site: hooks.SiteMLPAct}})
		var nf *NonFiniteError
		if !errors.As(err, &nf) || nf.Layer != 0 || nf.Site != "mlp.hook_act" || len(nf.Tensors) != 1 || nf.Tensors[0].Tensor != "blk.0.ffn_gate.weight" {
			t.Fatalf("error %v, want layer 0 mlp.hook_act naming blk.0.ffn_gate.weight", err)
		}
	})
	t.Run("a hook that writes NaN", func(t *testing.T) {
		path := poisonedModel(t, synth.MixF32, "", nil)
		h := hooks.New(2)
		if err := h.Edit("blocks.1.mlp.hook_post", hooks.EditorFunc(func(_ hooks.Point, x hooks.Tensor, _ *hooks.Rows) {
			x.Data[len(x.Data)-1] = nan
		})); err != nil {
			t.Fatal(err)
		}
		err := forward(t, path, toks, h)
		var nf *NonFiniteError
		if !errors.As(err, &nf) || nf.Layer != 1 || len(nf.Tensors) != 0 || nf.Input != 1 || nf.Pos != 3 {
			t.Fatalf("error %v (%+v), want layer 1, input 1, position 3, no tensor", err, nf)
		}
		if !strings.Contains(err.Error(), "every weight read there is finite") {
			t.Errorf("error %q does not say the weights are finite", err)
		}
	})
}

func TestFirstNonFinite(t *testing.T) {
	for _, c := range []struct {
		x    []float32
		want int
	}{
		{nil, -1},
		{[]float32{1, -2, math.MaxFloat32, -math.MaxFloat32, math.SmallestNonzeroFloat32}, -1},
		{[]float32{0, 0, float32(math.NaN())}, 2},
		{[]float32{float32(math.Inf(-1)), 1}, 0},
		{[]float32{1, float32(math.Inf(1)), float32(math.NaN())}, 1},
	} {
		if got := firstNonFinite(c.x); got != c.want {
			t.Errorf("firstNonFinite(%v) = %d, want %d", c.x, got, c.want)
		}
	}
}

func BenchmarkFirstNonFinite(b *testing.B) {
	x := make([]float32, 896)
	for i := range x {
		x[i] = float32(i) - 400
	}
	b.SetBytes(4 * int64(len(x)))
	for i := 0; i < b.N; i++ {
		if firstNonFinite(x) >= 0 {
			b.Fatal("finite input reported")
		}
	}
}
