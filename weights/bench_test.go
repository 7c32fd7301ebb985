package weights

import (
	"bytes"
	"encoding/json"
	"os"
	"path/filepath"
	"testing"

	"github.com/valueexploration/valueexp/weights/safetensors"
)

// qwen05 has the shapes of Qwen2.5-0.5B (refdata README §8): about 1 GB of
// weights in F16.
var qwen05 = tinySpec{arch: "qwen2", hidden: 896, layers: 24, heads: 14, kvHeads: 2, headDim: 64, ffn: 4864, vocab: 151936, bias: true, tied: true}

// sparseWriter writes to a file but skips runs of zero bytes with a seek, so
// a gigabyte of zero weights costs no disk and little time.
type sparseWriter struct {
	f   *os.File
	off int64
}

var zeroChunk = make([]byte, 1<<16)

func (s *sparseWriter) Write(p []byte) (int, error) {
	total := len(p)
	for len(p) > 0 {
		n := min(len(p), len(zeroChunk))
		if !bytes.Equal(p[:n], zeroChunk[:n]) {
			if _, err := s.f.WriteAt(p[:n], s.off); err != nil {
				return 0, err
			}
		}
		s.off += int64(n)
		p = p[n:]
	}
	return total, nil
}

// writeSparse creates path with write, then sets its length (trailing zeros
// are holes too).
func writeSparse(tb testing.TB, path string, write func(w *sparseWriter) error) {
	tb.Helper()
	f, err := os.Create(path)
	if err != nil {
		tb.Fatal(err)
	}
	w := &sparseWriter{f: f}
	if err := write(w); err != nil {
		tb.Fatal(err)
	}
	if err := f.Truncate(w.off); err != nil {
		tb.Fatal(err)
	}
	if err := f.Close(); err != nil {
		tb.Fatal(err)
	}
}

// BenchmarkOpen1GB opens a model of Qwen2.5-0.5B's shapes (about 1 GB of F16
// weights, tied embeddings, q/k/v biases) in each format. Opening maps the
// file and parses the header only, so the time and allocations do not grow
// with the weights.
func BenchmarkOpen1GB(b *testing.B) {
	dir := b.TempDir()
	specs := qwen05.tensors()
	size := func(ts tensorSpec, elem int) int {
		n := elem
		for _, d := range ts.shape {
			n *= d
		}
		return n
	}
	maxBytes := 0
	for _, ts := range specs {
		maxBytes = max(maxBytes, size(ts, 4))
	}
	zeros := make([]byte, maxBytes) // never written: the OS hands out zero pages

	ggufPath := filepath.Join(dir, "qwen05-F16.gguf")
	writeSparse(b, ggufPath, func(w *sparseWriter) error {
		var ts []*Tensor
		for _, s := range specs {
			dt, elem := F16, 2
			if s.oneD {
				dt, elem = F32, 4 // 1-D tensors stay F32, as llama.cpp's converters keep them
			}
			ts = append(ts, &Tensor{Name: s.name, DType: dt, Shape: s.shape, Data: zeros[:size(s, elem)]})
		}
		kv := qwen05.ggufKV()
		kv = setKV(setKV(setKV(setKV(kv, "tokenizer.ggml.tokens", nil), "tokenizer.ggml.model", nil), "tokenizer.ggml.bos_token_id", nil), "tokenizer.ggml.eos_token_id", nil)
		return WriteGGUF(w, kv, ts)
	})

	hfDir := filepath.Join(dir, "hf")
	if err := os.Mkdir(hfDir, 0o755); err != nil {
		b.Fatal(err)
	}
	cfg := qwen05.hfConfig()
	delete(cfg, "bos_token_id")
	delete(cfg, "eos_token_id")
	cb, _ := json.Marshal(cfg)
	if err := os.WriteFile(filepath.Join(hfDir, "config.json"), cb, 0o644); err != nil {
		b.Fatal(err)
	}
	writeSparse(b, filepath.Join(hfDir, "model.safetensors"), func(w *sparseWriter) error {
		var ts []safetensors.Tensor
		for _, s := range specs {
			ts = append(ts, safetensors.Tensor{Name: hfName(s.name), DType: "F16", Shape: s.shape, Data: zeros[:size(s, 2)]})
		}
		return safetensors.Write(w, ts, map[string]string{"format": "pt"})
	})

	for _, c := range []struct{ name, path string }{{"gguf", ggufPath}, {"safetensors", hfDir}} {
		b.Run(c.name, func(b *testing.B) {
			m, err := Open(c.path)
			if err != nil {
				b.Fatal(err)
			}
			if m.FileSize < 900e6 || m.Params() < 490e6 {
				b.Fatalf("%d bytes, %d params: not the 1 GB model", m.FileSize, m.Params())
			}
			size := m.FileSize
			m.Close()
			b.ReportAllocs()
			b.ResetTimer()
			for b.Loop() {
				m, err := Open(c.path)
				if err != nil {
					b.Fatal(err)
				}
				m.Close()
			}
			b.ReportMetric(float64(size)/1e6, "file-MB")
		})
	}
}
