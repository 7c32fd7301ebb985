package engine

import (
	"context"
	"testing"

	"github.com/valueexploration/valueexp/internal/shareddata"
)

// TestQuantizedTilesInvariants checks the multi-row matrix kernels on real
// quantized and half-precision files (Q8_0, Q4_0, Q4_K_M with its Q5_0 and
// Q6_K tensors, F16): a 40-token prefill, which runs whole tiles and
// partial ones, must give the same bits as decoding the tokens one by one
// (single dot products), and 1 thread the same bits as 2.
func TestQuantizedTilesInvariants(t *testing.T) {
	ctx := context.Background()
	for _, file := range []string{
		"llama256/llama256-Q8_0.gguf", "llama256/llama256-Q4_0.gguf",
		"llama256/llama256-Q4_K_M.gguf", "llama256/llama256-F16.gguf",
		"llama-tiny/llama-tiny-Q4_K_M.gguf",
	} {
		t.Run(file, func(t *testing.T) {
			path := shareddata.Path(t, "refdata", "models", file)
			m2 := mustLoad(t, path, 2)
			m1 := mustLoad(t, path, 1)
			V := m2.Config.VocabSize
			toks := randTokens(7, 40, V)
			batch := prefill(t, m2, toks)
			bitsEqual(t, "1 thread vs 2", prefill(t, m1, toks), batch)
			s := m1.NewSequence()
			for i, tok := range toks {
				out, err := m1.Forward(ctx, []Input{{Seq: s, Tokens: []int32{tok}, Logits: LastLogits}}, RunOptions{})
				if err != nil {
					t.Fatal(err)
				}
				bitsEqual(t, "decode step vs prefill row", out[0], batch[i*V:(i+1)*V])
			}
		})
	}
}
