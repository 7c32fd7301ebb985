package weights

import (
	"encoding/json"
	"math"
	"os"
	"path/filepath"
	"sort"
	"strings"
	"testing"

	"github.com/valueexploration/valueexp/internal/shareddata"
	"github.com/valueexploration/valueexp/weights/safetensors"
)

// TestDequantizeMatchesGGML checks Dequantize bit for bit against ggml's own
// to_float output: each refs/dequant/<file>.dequant.safetensors holds, for
// some tensors of models/*/<file>.gguf, what llama.cpp's dequantizer produced
// from the same raw bytes.
func TestDequantizeMatchesGGML(t *testing.T) {
	dir := shareddata.Path(t, "refdata", "refs", "dequant")
	models := shareddata.Path(t, "refdata", "models")
	files, err := filepath.Glob(filepath.Join(dir, "*.dequant.safetensors"))
	if err != nil || len(files) == 0 {
		t.Fatalf("no dequant reference files in %s (%v)", dir, err)
	}
	type tally struct{ tensors, elems int }
	counts := map[DType]*tally{}
	for _, refPath := range files {
		base := strings.TrimSuffix(filepath.Base(refPath), ".dequant.safetensors")
		t.Run(base, func(t *testing.T) {
			matches, _ := filepath.Glob(filepath.Join(models, "*", base+".gguf"))
			if len(matches) != 1 {
				t.Fatalf("want one models/*/%s.gguf, found %v", base, matches)
			}
			g, err := OpenGGUF(matches[0])
			if err != nil {
				t.Fatal(err)
			}
			defer g.Close()
			raw, err := os.ReadFile(refPath)
			if err != nil {
				t.Fatal(err)
			}
			ref, err := safetensors.Parse(raw)
			if err != nil {
				t.Fatalf("%s: %v", refPath, err)
			}
			var types map[string]string
			if err := json.Unmarshal([]byte(ref.Metadata["types"]), &types); err != nil {
				t.Fatalf("%s: metadata types: %v", refPath, err)
			}
			for _, info := range ref.Tensors {
				want, err := info.Float32s()
				if err != nil {
					t.Fatal(err)
				}
				tensor, ok := g.Tensor(info.Name)
				if !ok {
					t.Fatalf("%s: no tensor %q", matches[0], info.Name)
				}
				wantType, err := ParseDType(strings.ToUpper(types[info.Name]))
				if err != nil {
					t.Fatalf("%s: tensor %q: %v", refPath, info.Name, err)
				}
				if tensor.DType != wantType {
					t.Fatalf("tensor %q: GGUF says %v, reference metadata %v", info.Name, tensor.DType, wantType)
				}
				got := make([]float32, tensor.Elems())
				if len(got) != len(want) {
					t.Fatalf("tensor %q: %d elements, reference has %d", info.Name, len(got), len(want))
				}
				if err := Dequantize(got, tensor.Data, tensor.DType); err != nil {
					t.Fatal(err)
				}
				bad := 0
				for i := range got {
					if math.Float32bits(got[i]) != math.Float32bits(want[i]) {
						if bad < 5 {
							t.Errorf("%s %v element %d: got %g (%#08x), ggml %g (%#08x)", info.Name, tensor.DType, i,
								got[i], math.Float32bits(got[i]), want[i], math.Float32bits(want[i]))
						}
						bad++
					}
				}
				if bad > 0 {
					t.Errorf("%s %v: %d of %d elements differ", info.Name, tensor.DType, bad, len(got))
				}
				c := counts[tensor.DType]
				if c == nil {
					c = &tally{}
					counts[tensor.DType] = c
				}
				c.tensors++
				c.elems += len(got)
			}
		})
	}
	var types []DType
	for ty := range counts {
		types = append(types, ty)
	}
	sort.Slice(types, func(i, j int) bool { return types[i] < types[j] })
	for _, ty := range types {
		t.Logf("%-5v %d tensors, %d elements compared bit for bit", ty, counts[ty].tensors, counts[ty].elems)
	}
}
