package report_test

import (
	"fmt"
	"os"
	"path/filepath"
	"strings"

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

// Reading a results file checks every number in it.
func ExampleReadResults() {
	const file = `{"format":"valueexp-results","version":1,"mode":"likelihood",
	 "cells":[{"condition":"none","value":"诚信","language":"zh","items":4,"answered":4,"support_rate":170}]}`
	_, err := report.ReadResults(strings.NewReader(file), report.MaxResultsBytes)
	fmt.Println(err)
	// Output:
	// results: cells[0] (condition "none", value "诚信", language "zh"): support_rate 170 out of range [0, 100]
}
