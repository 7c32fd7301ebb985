package engine

import (
	"os"
	"path/filepath"
	"testing"

	"github.com/valueexploration/valueexp/internal/testmodel"
	"github.com/valueexploration/valueexp/weights"
)

// TestEveryWeightDTypeRuns quantizes the matrices of a random model to each
// dtype the engine multiplies, and runs it against a twin whose weights are
// the same quantized values dequantized to F32. The twins differ only by the
// rounding of activations to 8-bit blocks (Q8_0, Q8_1 or Q8_K, as ggml does)
// for quantized types, and not at all for F16/BF16.
func TestEveryWeightDTypeRuns(t *testing.T) {
	gguf, _ := testmodel.Write(t, testmodel.Spec{Arch: "llama", Layers: 2, Hidden: 256, FFN: 512, Heads: 4, KV: 2, HeadDim: 64, Vocab: 256, Seed: 9})
	src, err := weights.Open(gguf)
	if err != nil {
		t.Fatal(err)
	}
	defer src.Close()
	toks := randTokens(21, 24, 256)
	for _, c := range []struct {
		dt  weights.DType
		tol float64
	}{
		{weights.F16, 1e-5}, {weights.BF16, 1e-5},
		{weights.Q8_0, 4e-2}, {weights.Q4_0, 4e-2}, {weights.Q5_0, 4e-2}, {weights.Q4_1, 4e-2}, {weights.Q5_1, 4e-2},
		{weights.Q2_K, 4e-2}, {weights.Q3_K, 4e-2}, {weights.Q4_K, 4e-2}, {weights.Q5_K, 4e-2}, {weights.Q6_K, 4e-2},
	} {
		t.Run(c.dt.String(), func(t *testing.T) {
			var quant, deq []*weights.Tensor
			for _, tn := range src.GGUF.Tensors {
				f := make([]float32, tn.Elems())
				if err := weights.Dequantize(f, tn.Data, tn.DType); err != nil { // file row order
					t.Fatal(err)
				}
				if len(tn.Shape) != 2 {
					quant = append(quant, tn)
					deq = append(deq, tn)
					continue
				}
				rb, _ := c.dt.RowBytes(tn.Cols())
				q := make([]byte, rb*tn.Rows())
				if err := weights.Quantize(q, f, c.dt); err != nil {
					t.Fatal(err)
				}
				back := make([]float32, len(f))
				if err := weights.Dequantize(back, q, c.dt); err != nil {
					t.Fatal(err)
				}
				quant = append(quant, &weights.Tensor{Name: tn.Name, DType: c.dt, Shape: tn.Shape, Data: q})
				deq = append(deq, &weights.Tensor{Name: tn.Name, DType: weights.F32, Shape: tn.Shape, Data: weights.Float32Bytes(back)})
			}
			dir := t.TempDir()
			write := func(name string, ts []*weights.Tensor) string {
				p := filepath.Join(dir, name)
				f, err := os.Create(p)
				if err != nil {
					t.Fatal(err)
				}
				defer f.Close()
				if err := weights.WriteGGUF(f, src.GGUF.KV, ts); err != nil {
					t.Fatal(err)
				}
				return p
			}
			mq := mustLoad(t, write("q.gguf", quant), 2)
			md := mustLoad(t, write("deq.gguf", deq), 2)
			lq, ld := prefill(t, mq, toks), prefill(t, md, toks)
			e := relErr(lq, ld)
			t.Logf("logits relative error vs dequantized twin: %.2e", e)
			if e > c.tol {
				t.Errorf("relative error %.2e > %.0e", e, c.tol)
			}
			// Greedy choices agree almost everywhere.
			ga, gb := argmaxRows(lq, 256), argmaxRows(ld, 256)
			agree := 0
			for i := range ga {
				if ga[i] == gb[i] {
					agree++
				}
			}
			if agree < len(ga)*8/10 {
				t.Errorf("argmax agrees on %d/%d positions", agree, len(ga))
			}
		})
	}
}
