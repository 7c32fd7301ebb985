package report_test

import (
	"fmt"
	"os"
	"path/filepath"

	"github.com/valueexploration/valueexp/hooks"
	"github.com/valueexploration/valueexp/valueexp/report"
)

// A report from neuron sets alone: the per-layer and overlap figures.
func ExampleWrite() {
	sets := &hooks.NeuronSetFile{Format: hooks.NeuronSetsFormat, Version: hooks.NeuronSetsVersion,
		Model: &hooks.ModelShape{Layers: 2, DModel: 8, DMLP: 16},
		NeuronSets: []hooks.NeuronSet{
			{Name: "诚信/zh", Site: "mlp.hook_act", Layers: []hooks.LayerIndices{{Layer: 1, Indices: []int32{3, 7}}}},
			{Name: "友善/zh", Site: "mlp.hook_act", Layers: []hooks.LayerIndices{{Layer: 1, Indices: []int32{7, 9}}}},
		}}
	dir, err := os.MkdirTemp("", "report")
	if err != nil {
		panic(err)
	}
	defer os.RemoveAll(dir)
	files, err := report.Write(dir, report.Inputs{Neurons: sets, Title: "Two sets", Demo: true})
	if err != nil {
		panic(err)
	}
	for _, f := range files {
		fmt.Println(filepath.Base(f))
	}
	// Output:
	// layers_zh.png
	// overlap_zh.png
	// report.md
}
