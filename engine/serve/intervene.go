package serve

import (
	"fmt"
	"math"
	"sort"

	"github.com/valueexploration/valueexp/engine"
	"github.com/valueexploration/valueexp/hooks"
)

// extension is the "valueexp" object of a completion request.
type extension struct {
	Deactivate    []string           `json:"deactivate"`
	Scale         map[string]float64 `json:"scale"`
	Monitor       []string           `json:"monitor"`
	MonitorLayers bool               `json:"monitor_layers"`
}

// intervention is what one request does to the model: its own hooks, run
// only on its own rows of a packed batch, and its monitor.
type intervention struct {
	h   *hooks.Hooks // nil: the plain model
	mon *monitor     // nil: nothing monitored
}

// build turns a request's extension into hooks for m, made with the same
// hooks functions `valueexp generate --deactivate/--scale` uses, so a request
// and the command change the same neurons in the same order.
func (c *catalogue) build(ext *extension, m *engine.Model) (*intervention, *apiError) {
	if ext == nil || (len(ext.Deactivate) == 0 && len(ext.Scale) == 0 && len(ext.Monitor) == 0) {
		return nil, nil
	}
	h := hooks.New(m.Config.Layers)
	iv := &intervention{}
	var zero []string
	for i, name := range ext.Deactivate {
		names, err := c.resolve(fmt.Sprintf("valueexp.deactivate[%d]", i), name)
		if err != nil {
			return nil, err
		}
		zero = append(zero, names...)
	}
	if len(zero) > 0 {
		if err := hooks.ZeroSets(h, c.file, zero, hooks.When{}); err != nil {
			return nil, badRequest("valueexp.deactivate", "valueexp.deactivate: %v", err)
		}
	}
	// A map has no order; scale in name order, so that a neuron in two
	// scaled sets gets the same product every time.
	keys := make([]string, 0, len(ext.Scale))
	for k := range ext.Scale {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	for _, k := range keys {
		param := fmt.Sprintf("valueexp.scale[%q]", k)
		f := ext.Scale[k]
		if math.IsNaN(f) || math.IsInf(f, 0) || math.Abs(f) > math.MaxFloat32 {
			return nil, badRequest(param, "%s: factor %g is not a finite float32", param, f)
		}
		names, err := c.resolve(param, k)
		if err != nil {
			return nil, err
		}
		if err := hooks.ScaleSets(h, c.file, names, float32(f), hooks.When{}); err != nil {
			return nil, badRequest(param, "%s: %v", param, err)
		}
	}
	if len(ext.Monitor) > 0 {
		var names []string
		for i, name := range ext.Monitor {
			n, err := c.resolve(fmt.Sprintf("valueexp.monitor[%d]", i), name)
			if err != nil {
				return nil, err
			}
			names = append(names, n...)
		}
		iv.mon = c.newMonitor(names, ext.MonitorLayers)
		for _, site := range iv.mon.sites {
			if err := h.Observe("blocks.*."+site.String(), iv.mon); err != nil {
				return nil, badRequest("valueexp.monitor", "valueexp.monitor: %v", err)
			}
		}
	}
	if err := h.Check(m.Shape()); err != nil {
		return nil, badRequest("valueexp", "valueexp: %v", err)
	}
	if len(h.Points()) > 0 {
		iv.h = h
	}
	return iv, nil
}

// monitor observes, at each layer of the monitored sets' site, the last row
// of its request's rows (the position whose logits give the next token) and
// counts how many of each set's neurons are active (> 0) and their sum.
type monitor struct {
	sets       []monSet
	sites      []hooks.Site
	at         map[hooks.Point][]monRef
	cnt        [][]int     // [set][layer entry]
	sum        [][]float64 // [set][layer entry]
	withLayers bool
}

type monSet struct {
	name   string
	layers []int
	idx    [][]int32 // per entry of layers
	total  int
}

type monRef struct{ set, entry int }

func (c *catalogue) newMonitor(names []string, withLayers bool) *monitor {
	mo := &monitor{at: map[hooks.Point][]monRef{}, withLayers: withLayers}
	seen := map[string]bool{}
	for _, name := range names {
		if seen[name] {
			continue
		}
		seen[name] = true
		s, _ := c.file.Find(name)
		site := c.sites[name]
		ms := monSet{name: name}
		perLayer := map[int][]int32{}
		for _, l := range s.Layers {
			perLayer[l.Layer] = append(perLayer[l.Layer], l.Indices...)
		}
		for l := range perLayer {
			if len(perLayer[l]) > 0 {
				ms.layers = append(ms.layers, l)
			}
		}
		sort.Ints(ms.layers)
		k := len(mo.sets)
		for j, l := range ms.layers {
			ms.idx = append(ms.idx, perLayer[l])
			ms.total += len(perLayer[l])
			p := hooks.Point{Layer: l, Site: site}
			mo.at[p] = append(mo.at[p], monRef{k, j})
		}
		if !containsSite(mo.sites, site) && len(ms.layers) > 0 {
			mo.sites = append(mo.sites, site)
		}
		mo.sets = append(mo.sets, ms)
		mo.cnt = append(mo.cnt, make([]int, len(ms.layers)))
		mo.sum = append(mo.sum, make([]float64, len(ms.layers)))
	}
	return mo
}

func containsSite(list []hooks.Site, s hooks.Site) bool {
	for _, x := range list {
		if x == s {
			return true
		}
	}
	return false
}

// Applies reports whether a monitored set has neurons at p.
func (mo *monitor) Applies(p hooks.Point) bool { _, ok := mo.at[p]; return ok }

// Observe records the figures of t's last row.
func (mo *monitor) Observe(p hooks.Point, t hooks.Tensor, _ *hooks.Rows) {
	if t.Rows == 0 {
		return
	}
	row := t.Row(t.Rows - 1)
	for _, ref := range mo.at[p] {
		n, s := 0, 0.0
		for _, j := range mo.sets[ref.set].idx[ref.entry] {
			v := row[j]
			if v > 0 {
				n++
			}
			s += float64(v)
		}
		mo.cnt[ref.set][ref.entry], mo.sum[ref.set][ref.entry] = n, s
	}
}

// setFigure is one monitored set's activity for one generated token.
type setFigure struct {
	Active float64       `json:"active"`
	Mean   float64       `json:"mean"`
	Layers []layerFigure `json:"layers,omitempty"`
}

// layerFigure is a set's activity in one layer.
type layerFigure struct {
	Layer  int     `json:"layer"`
	Active float64 `json:"active"`
	Mean   float64 `json:"mean"`
}

// take returns the figures of the last forward pass and clears them.
func (mo *monitor) take() map[string]setFigure {
	out := make(map[string]setFigure, len(mo.sets))
	for k, s := range mo.sets {
		var f setFigure
		n, sum := 0, 0.0
		for j, l := range s.layers {
			c, v := mo.cnt[k][j], mo.sum[k][j]
			n, sum = n+c, sum+v
			if mo.withLayers {
				w := float64(len(s.idx[j]))
				f.Layers = append(f.Layers, layerFigure{Layer: l, Active: float64(c) / w, Mean: v / w})
			}
			mo.cnt[k][j], mo.sum[k][j] = 0, 0
		}
		if s.total > 0 {
			f.Active, f.Mean = float64(n)/float64(s.total), sum/float64(s.total)
		}
		if mo.withLayers && f.Layers == nil {
			f.Layers = []layerFigure{}
		}
		out[s.name] = f
	}
	return out
}
