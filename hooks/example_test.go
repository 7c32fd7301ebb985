package hooks_test

import (
	"fmt"
	"strings"

	"github.com/valueexploration/valueexp/hooks"
)

func ExampleParsePoint() {
	p, err := hooks.ParsePoint("blocks.3.mlp.hook_act")
	if err != nil {
		panic(err)
	}
	fmt.Println(p.Layer, p.Site == hooks.SiteMLPAct, p)
	_, err = hooks.ParsePoint("blocks.3.mlp.hook_gate")
	fmt.Println(err)
	// Output:
	// 3 true blocks.3.mlp.hook_act
	// hooks: hook point "blocks.3.mlp.hook_gate": unknown block site "mlp.hook_gate"
}

func ExampleMatch() {
	pts, err := hooks.Match("blocks.{0..2,5}.hook_resid_post", 8)
	if err != nil {
		panic(err)
	}
	fmt.Println(pts)
	// Output:
	// [blocks.0.hook_resid_post blocks.1.hook_resid_post blocks.2.hook_resid_post blocks.5.hook_resid_post]
}

// The engine side: ask Wants at each site, Dispatch only when it is true.
// Here one fake micro-batch of two sequences (tags 0 and 1) reaches
// blocks.0.mlp.hook_act of a 2-layer model with 4 neurons.
func ExampleActProb() {
	counts, err := hooks.NewActProb(hooks.SiteMLPAct, 2, 4, 2)
	if err != nil {
		panic(err)
	}
	h := hooks.New(2)
	if err := h.Observe("blocks.*.mlp.hook_act", counts); err != nil {
		panic(err)
	}

	act := []float32{
		0.5, -0.1, 0, 2, // seq 0, pos 0
		0.1, 0.3, -1, 0, // seq 0, pos 1
		-0.2, 0.7, 0.4, 1, // seq 1, pos 0
	}
	rows := &hooks.Rows{Seq: []int32{0, 0, 1}, Pos: []int32{0, 1, 0}, Tag: []int32{0, 0, 1}, Phase: hooks.Prefill}
	p := hooks.Point{Layer: 0, Site: hooks.SiteMLPAct}
	if h.Wants(p) {
		h.Dispatch(p, hooks.Tensor{Data: act, Rows: 3, Cols: 4}, rows)
	}
	for j := range 4 {
		fmt.Printf("neuron %d: P(tag 0) = %.1f, P(tag 1) = %.1f\n", j, counts.Prob(0, 0, j), counts.Prob(1, 0, j))
	}
	last, _ := h.LastPoint()
	fmt.Println("a statistics run may stop after", last)
	// Output:
	// neuron 0: P(tag 0) = 1.0, P(tag 1) = 0.0
	// neuron 1: P(tag 0) = 0.5, P(tag 1) = 1.0
	// neuron 2: P(tag 0) = 0.0, P(tag 1) = 1.0
	// neuron 3: P(tag 0) = 0.5, P(tag 1) = 1.0
	// a statistics run may stop after blocks.1.mlp.hook_act
}

// Deactivating a value's neurons, as in the VAPE experiments: load the
// neuron sets, validate them against the model, and zero one set at every
// position and phase.
func ExampleZeroSets() {
	const file = `{"format": "neuron-sets", "version": 1,
	  "neuron_sets": [{"name": "诚信", "site": "mlp.hook_act",
	                   "layers": [{"layer": 1, "indices": [0, 2]}]}]}`
	sets, err := hooks.ReadNeuronSets(strings.NewReader(file))
	if err != nil {
		panic(err)
	}
	model := hooks.ModelShape{Layers: 2, DModel: 8, DMLP: 4}
	if err := sets.Validate(model); err != nil {
		panic(err)
	}
	h := hooks.New(model.Layers)
	if err := hooks.ZeroSets(h, sets, []string{"诚信"}, hooks.When{}); err != nil {
		panic(err)
	}

	act := []float32{1, 2, 3, 4}
	rows := &hooks.Rows{Seq: []int32{0}, Pos: []int32{0}, Tag: []int32{-1}, Phase: hooks.Prefill}
	for l := range model.Layers {
		p := hooks.Point{Layer: l, Site: hooks.SiteMLPAct}
		fmt.Println(p, h.Wants(p))
		h.Dispatch(p, hooks.Tensor{Data: act, Rows: 1, Cols: 4}, rows)
	}
	fmt.Println(act)
	// Output:
	// blocks.0.mlp.hook_act false
	// blocks.1.mlp.hook_act true
	// [0 2 0 4]
}

// A steering vector added to the residual stream of block 1, only while
// generating and only from position 8 on.
func ExampleNewAddVector() {
	steer, err := hooks.NewAddVector(map[int][]float32{1: {1, 0, -1}}, 2, false,
		hooks.When{Phases: hooks.Decode, MinPos: 8})
	if err != nil {
		panic(err)
	}
	h := hooks.New(4)
	if err := h.Edit("blocks.*.hook_resid_post", steer); err != nil {
		panic(err)
	}
	resid := []float32{0.5, 0.5, 0.5, 0.5, 0.5, 0.5}
	rows := &hooks.Rows{Seq: []int32{0, 1}, Pos: []int32{7, 8}, Tag: []int32{-1, -1}, Phase: hooks.Decode, Step: 3}
	h.Dispatch(hooks.Point{Layer: 1, Site: hooks.SiteResidPost}, hooks.Tensor{Data: resid, Rows: 2, Cols: 3}, rows)
	fmt.Println(resid)
	// Output:
	// [0.5 0.5 0.5 2.5 0.5 -1.5]
}
