package weights_test

import (
	"bytes"
	"testing"
	"unsafe"

	"github.com/valueexploration/valueexp/internal/testmodel"
	"github.com/valueexploration/valueexp/weights"
)

// TestLoadIntoMemory opens the same model twice, copies one into memory,
// and checks every tensor's bytes, that none still points into the mapping,
// and that tensors which were views of one another (a fused tensor and
// its parts, here a view made by the test) still are.
func TestLoadIntoMemory(t *testing.T) {
	for _, arch := range []string{"qwen2", "phi3"} {
		t.Run(arch, func(t *testing.T) {
			gguf, hf := testmodel.Write(t, testmodel.Spec{Arch: arch, Layers: 2, Hidden: 64, FFN: 96, Heads: 4, KV: 2, HeadDim: 16, Vocab: 80, Seed: 3})
			for _, path := range []string{gguf, hf} {
				ref, err := weights.Open(path)
				if err != nil {
					t.Fatal(err)
				}
				defer ref.Close()
				m, err := weights.Open(path)
				if err != nil {
					t.Fatal(err)
				}
				// A tensor that is a view into another, as split fused
				// tensors may be.
				emb := m.Tensors["token_embd.weight"]
				view := &weights.Tensor{Name: "view", DType: weights.F32, Shape: []int{8}, Data: emb.Data[64:96]}
				m.Tensors["view"] = view
				ref.Tensors["view"] = &weights.Tensor{Name: "view", DType: weights.F32, Shape: []int{8}, Data: ref.Tensors["token_embd.weight"].Data[64:96]}
				before := map[string]uintptr{}
				for name, tn := range m.Tensors {
					before[name] = uintptr(unsafe.Pointer(unsafe.SliceData(tn.Data)))
				}
				if err := m.LoadIntoMemory(); err != nil {
					t.Fatal(err)
				}
				for name, tn := range m.Tensors {
					if !bytes.Equal(tn.Data, ref.Tensors[name].Data) {
						t.Errorf("%s: %s: bytes differ after the copy", path, name)
					}
					if len(tn.Data) > 0 && uintptr(unsafe.Pointer(unsafe.SliceData(tn.Data))) == before[name] {
						t.Errorf("%s: %s still points into the mapping", path, name)
					}
				}
				// Views stay views: tensors whose data overlapped before
				// overlap by the same offset after.
				views := 0
				for a, ta := range m.Tensors {
					for b, tb := range m.Tensors {
						if a == b || len(ta.Data) == 0 || len(tb.Data) == 0 {
							continue
						}
						da := int64(before[b]) - int64(before[a])
						if da < 0 || da >= int64(len(ref.Tensors[a].Data)) {
							continue
						}
						views++
						now := int64(uintptr(unsafe.Pointer(unsafe.SliceData(tb.Data)))) - int64(uintptr(unsafe.Pointer(unsafe.SliceData(ta.Data))))
						if now != da {
							t.Errorf("%s: %s lay %d bytes into %s, now %d", path, b, da, a, now)
						}
					}
				}
				if views == 0 {
					t.Errorf("%s: no tensor is a view of another; the test checks nothing", path)
				}
				if err := m.Close(); err != nil {
					t.Fatal(err)
				}
			}
		})
	}
}
