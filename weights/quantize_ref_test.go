package weights

import (
	"bytes"
	"fmt"
	"testing"

	"github.com/valueexploration/valueexp/internal/shareddata"
)

// TestQuantizeMatchesLlamaQuantize re-quantizes the unquantized test models
// and compares the bytes with what llama-quantize wrote (without an
// importance matrix, llama-quantize runs ggml's reference quantizers, which
// Quantize follows). Every tensor of every listed file is checked.
func TestQuantizeMatchesLlamaQuantize(t *testing.T) {
	cases := []struct{ model, source, quantized string }{
		{"llama-tiny", "llama-tiny.gguf", "llama-tiny-F16.gguf"},
		{"llama-tiny", "llama-tiny.gguf", "llama-tiny-BF16.gguf"},
		{"llama-tiny", "llama-tiny.gguf", "llama-tiny-Q8_0.gguf"},
		{"llama-tiny", "llama-tiny.gguf", "llama-tiny-Q4_0.gguf"},
		{"llama-tiny", "llama-tiny.gguf", "llama-tiny-Q4_K_M.gguf"},
		{"llama256", "llama256-F16.gguf", "llama256-Q8_0.gguf"},
		{"llama256", "llama256-F16.gguf", "llama256-Q6_K.gguf"},
		{"llama256", "llama256-F16.gguf", "llama256-Q4_0.gguf"},
		{"llama256", "llama256-F16.gguf", "llama256-Q4_K_M.gguf"},
		{"llama256", "llama256-F16.gguf", "llama256-Q4_K-pure.gguf"},
	}
	counts := map[DType]int{}
	for _, c := range cases {
		t.Run(c.quantized, func(t *testing.T) {
			src := openTestGGUF(t, c.model, c.source)
			dst := openTestGGUF(t, c.model, c.quantized)
			checked := 0
			for _, q := range dst.Tensors {
				s, ok := src.Tensor(q.Name)
				if !ok {
					t.Fatalf("%s: tensor %q missing from %s", c.quantized, q.Name, c.source)
				}
				if q.DType == s.DType {
					if !bytes.Equal(q.Data, s.Data) {
						t.Errorf("%s: %v tensor copied from the source differs", q.Name, q.DType)
					}
					continue
				}
				x, err := s.Float32()
				if err != nil {
					t.Fatal(err)
				}
				got := make([]byte, len(q.Data))
				if err := Quantize(got, x, q.DType); err != nil {
					t.Fatalf("%s: %v", q.Name, err)
				}
				if d := firstBlockDiff(got, q.Data, q.DType); d != "" {
					t.Errorf("%s %v (%d elements): %s", q.Name, q.DType, len(x), d)
				}
				counts[q.DType]++
				checked++
			}
			if checked == 0 {
				t.Errorf("no quantized tensor in %s", c.quantized)
			}
		})
	}
	for _, ty := range []DType{F16, BF16, Q4_0, Q5_0, Q8_0, Q4_K, Q6_K} {
		t.Logf("%-5v %d tensors re-quantized byte for byte", ty, counts[ty])
	}
}

func openTestGGUF(t *testing.T, model, file string) *GGUF {
	t.Helper()
	g, err := OpenGGUF(shareddata.Path(t, "refdata", "models", model, file))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { g.Close() })
	return g
}

// firstBlockDiff describes how got differs from want ("" when equal): the
// number of differing blocks and the first one's bytes.
func firstBlockDiff(got, want []byte, ty DType) string {
	if bytes.Equal(got, want) {
		return ""
	}
	bb := ty.BlockBytes()
	first, n := -1, 0
	for i := 0; i+bb <= len(got); i += bb {
		if !bytes.Equal(got[i:i+bb], want[i:i+bb]) {
			if first < 0 {
				first = i / bb
			}
			n++
		}
	}
	return fmt.Sprintf("%d of %d blocks differ; block %d:\n got  % x\n want % x", n, len(got)/bb, first,
		got[first*bb:(first+1)*bb], want[first*bb:(first+1)*bb])
}
