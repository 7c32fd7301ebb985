package selection

import (
	"fmt"
	"path/filepath"
	"slices"
	"testing"

	"github.com/valueexploration/valueexp/internal/shareddata"
	"github.com/valueexploration/valueexp/valueexp/torchfile"
)

// valueNames are the 12 values in valueexp/METHOD.md §1 order.
var valueNames = []string{"富强", "民主", "文明", "和谐", "自由", "平等", "公正", "法治", "爱国", "敬业", "诚信", "友善"}

// loadAuthorsCounts reads {value}-support.pt and {value}-conflict.pt.
func loadAuthorsCounts(tb testing.TB, dir, value string) Counts {
	tb.Helper()
	c := Counts{Layers: 32, Dim: 14336}
	for _, side := range []string{"support", "conflict"} {
		tag := value + "-" + side
		v, err := torchfile.Load(filepath.Join(dir, tag+".pt"))
		if err != nil {
			tb.Fatal(err)
		}
		m := v.(map[string]any)
		oz, err := m["over_zero"].(*torchfile.Tensor).Int64s()
		if err != nil {
			tb.Fatal(err)
		}
		c.Tags = append(c.Tags, tag)
		c.OverZero = append(c.OverZero, oz)
		c.Tokens = append(c.Tokens, m["token_num"].(float64))
		c.Questions = append(c.Questions, m["question_num"].(int64))
	}
	return c
}

// loadAuthorsMask reads a released activation_mask file as [side][layer]ids.
func loadAuthorsMask(tb testing.TB, path string) [][][]int32 {
	tb.Helper()
	v, err := torchfile.Load(path)
	if err != nil {
		tb.Fatal(err)
	}
	var out [][][]int32
	for _, side := range v.([]any) {
		var layers [][]int32
		for _, t := range side.([]any) {
			ids, err := t.(*torchfile.Tensor).Int32s()
			if err != nil {
				tb.Fatal(err)
			}
			layers = append(layers, ids)
		}
		out = append(out, layers)
	}
	return out
}

// TestVAPEReproducesAuthorsMasks is the acceptance test: the released
// Llama masks (48 = 12 values × 2 views × 2 sides, each over 32 layers)
// must come out exactly from the released counts.
func TestVAPEReproducesAuthorsMasks(t *testing.T) {
	countsDir := shareddata.Path(t, "cvoice", "authors-llama-counts")
	masksDir := shareddata.Path(t, "cvoice", "authors-llama-masks")
	views := []struct {
		name   string
		params VAPEParams
	}{{"decision", AuthorsDecision()}, {"semantic", AuthorsSemantic()}}
	for _, value := range valueNames {
		c := loadAuthorsCounts(t, countsDir, value)
		for _, view := range views {
			t.Run(value+"/"+view.name, func(t *testing.T) {
				want := loadAuthorsMask(t, filepath.Join(masksDir, fmt.Sprintf("activation_mask_%s_%s_0.01", value, view.name)))
				got, err := VAPE(c, view.params)
				if err != nil {
					t.Fatal(err)
				}
				if err := got.Validate(); err != nil {
					t.Fatal(err)
				}
				if len(want) != 2 {
					t.Fatalf("released mask has %d sides, want 2", len(want))
				}
				for side := range 2 {
					for l := range 32 {
						if !slices.Equal(got.Neurons[side][l], want[side][l]) {
							t.Errorf("%s layer %d: got %d neurons, want %d (first diff %v)", got.Tags[side], l,
								len(got.Neurons[side][l]), len(want[side][l]), firstDiff(got.Neurons[side][l], want[side][l]))
						}
					}
				}
			})
		}
	}
}

func firstDiff(a, b []int32) string {
	for i := range min(len(a), len(b)) {
		if a[i] != b[i] {
			return fmt.Sprintf("at %d: %d vs %d", i, a[i], b[i])
		}
	}
	return "prefix equal"
}
