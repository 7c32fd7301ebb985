package weights

import "fmt"

// hasFusedTensors says which architectures may store q/k/v as one attn_qkv
// tensor (weight, and bias where the model has one) and gate and up as one
// ffn_up of 2·ffn rows, gate first: Phi-3 always, GLM-4 in its Hugging Face
// folders and chatglm GGUFs.
func hasFusedTensors(arch string) bool { return arch == "phi3" || isGLM(arch) }

// splitFused replaces a model's fused tensors by views of their row ranges,
// under the names the engine reads (attn_q/k/v, ffn_gate and ffn_up), so that
// no architecture needs its own forward pass and nothing is copied. A fused
// tensor of the wrong shape is an error naming it; a model stored unfused is
// left as it is.
func splitFused(m *Model) error {
	c := m.Config
	if !hasFusedTensors(c.Arch) {
		return nil
	}
	q, kv, hidden, ffn := c.Heads*c.HeadDim, c.KVHeads*c.HeadDim, c.HiddenSize, c.FFNSize
	for l := 0; l < c.Layers; l++ {
		p := fmt.Sprintf("blk.%d.", l)
		if _, ok := m.Tensors[p+"attn_norm.weight"]; !ok {
			break // checkShapes names the missing layer, without a pass over millions of claimed ones
		}
		for _, sfx := range []string{"weight", "bias"} {
			name := p + "attn_qkv." + sfx
			t, ok := m.Tensors[name]
			if !ok {
				continue
			}
			parts := []rowPart{{p + "attn_q." + sfx, q}, {p + "attn_k." + sfx, kv}, {p + "attn_v." + sfx, kv}}
			what := "the fused q, k and v projection"
			if sfx == "bias" {
				what = "the fused q, k and v bias"
			}
			if err := m.splitRows(name, t, what, parts, hidden); err != nil {
				return err
			}
		}
		up, ok := m.Tensors[p+"ffn_up.weight"]
		if _, hasGate := m.Tensors[p+"ffn_gate.weight"]; !ok || hasGate {
			continue
		}
		parts := []rowPart{{p + "ffn_gate.weight", ffn}, {p + "ffn_up.weight", ffn}}
		if err := m.splitRows(p+"ffn_up.weight", up, "the fused gate and up projection", parts, hidden); err != nil {
			return err
		}
	}
	return nil
}

// rowPart is one part of a fused tensor: its canonical name and row count.
type rowPart struct {
	name string
	rows int
}

// splitRows puts the parts of the fused tensor t (canonical name name,
// described by what in errors) in m.Tensors as views of consecutive rows of
// cols columns (cols 0: t is a vector, split into consecutive elements), and
// removes t. The parts' file name is the fused tensor's with the row range,
// so later errors point into the file.
func (m *Model) splitRows(name string, t *Tensor, what string, parts []rowPart, cols int) error {
	total := 0
	for _, p := range parts {
		total += p.rows
	}
	file := m.fileName(name)
	vector := len(t.Shape) == 1
	switch {
	case vector && t.Shape[0] != total:
		return fmt.Errorf("tensor %q (%s): shape %v, want [%d]", file, what, t.Shape, total)
	case !vector && (len(t.Shape) != 2 || t.Shape[0] != total || t.Shape[1] != cols):
		return fmt.Errorf("tensor %q (%s): shape %v, want [%d %d]", file, what, t.Shape, total, cols)
	case t.RowOrder != nil:
		return fmt.Errorf("tensor %q (%s): a permuted tensor cannot be split", file, what)
	}
	rowBytes := t.RowBytes()
	if vector {
		var err error
		if rowBytes, err = t.DType.RowBytes(1); err != nil || t.DType.Quantized() {
			return fmt.Errorf("tensor %q (%s): a fused vector must be F32, F16 or BF16, got %v", file, what, t.DType)
		}
	}
	if rowBytes <= 0 || len(t.Data) != total*rowBytes {
		return fmt.Errorf("tensor %q (%s): %d bytes, want %d rows of %d", file, what, len(t.Data), total, rowBytes)
	}
	for _, p := range parts {
		if _, dup := m.Tensors[p.name]; dup && p.name != name {
			return fmt.Errorf("tensor %q (%s) and tensor %q are both in the file", file, what, m.fileName(p.name))
		}
	}
	delete(m.Tensors, name)
	delete(m.FileNames, name)
	off := 0
	for _, p := range parts {
		shape := []int{p.rows}
		if !vector {
			shape = []int{p.rows, cols}
		}
		end := (off + p.rows) * rowBytes
		m.Tensors[p.name] = &Tensor{Name: p.name, DType: t.DType, Shape: shape, Data: t.Data[off*rowBytes : end : end], File: t.File}
		m.FileNames[p.name] = fmt.Sprintf("%s[%d:%d]", file, off, off+p.rows)
		off += p.rows
	}
	return nil
}
