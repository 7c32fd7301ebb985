package serve

import (
	"fmt"
	"slices"
	"sort"
	"strings"

	"github.com/valueexploration/valueexp/engine"
	"github.com/valueexploration/valueexp/hooks"
	"github.com/valueexploration/valueexp/valueexp/cvoice"
)

// setInfo describes one neuron set in /v1/valueexp/sets.
type setInfo struct {
	Name    string `json:"name"`
	Value   string `json:"value"`
	English string `json:"english"`
	Lang    string `json:"lang"`
	Neurons int    `json:"neurons"`
	Layers  []int  `json:"layers"`
}

// setsResponse is the body of GET /v1/valueexp/sets.
type setsResponse struct {
	Model  string    `json:"model"`
	Layers int       `json:"layers"`
	Sets   []setInfo `json:"sets"`
}

// catalogue is the server's neuron-set file, checked against the model, with
// what the sets route and the interventions need precomputed.
type catalogue struct {
	file  *hooks.NeuronSetFile // nil: no sets
	names []string             // set names in file order
	info  []setInfo
	sites map[string]hooks.Site // set name -> site
}

func newCatalogue(f *hooks.NeuronSetFile, m *engine.Model) (*catalogue, error) {
	c := &catalogue{file: f, sites: map[string]hooks.Site{}, info: []setInfo{}}
	if f == nil {
		return c, nil
	}
	if err := f.Validate(m.Shape()); err != nil {
		return nil, fmt.Errorf("serve: neuron sets: %w", err)
	}
	for i := range f.NeuronSets {
		s := &f.NeuronSets[i]
		site, err := s.ParsedSite()
		if err != nil {
			return nil, fmt.Errorf("serve: %w", err)
		}
		c.names = append(c.names, s.Name)
		c.sites[s.Name] = site
		c.info = append(c.info, describeSet(s))
	}
	return c, nil
}

// describeSet splits a set name such as "诚信/zh" into its value and
// language, and lists the layers holding its neurons.
func describeSet(s *hooks.NeuronSet) setInfo {
	in := setInfo{Name: s.Name, Neurons: s.Size(), Layers: []int{}}
	base := strings.TrimPrefix(s.Name, cvoice.RandomPrefix)
	if i := strings.LastIndex(base, "/"); i >= 0 {
		switch lang := strings.ToLower(base[i+1:]); lang {
		case string(cvoice.LangChinese), string(cvoice.LangEnglish):
			in.Lang, base = lang, base[:i]
		}
	}
	if v, ok := cvoice.LookupValue(base); ok {
		in.Value, in.English = v.Chinese(), strings.ToLower(v.English())
	}
	for _, l := range s.Layers {
		if len(l.Indices) > 0 {
			in.Layers = append(in.Layers, l.Layer)
		}
	}
	sort.Ints(in.Layers)
	in.Layers = slices.Compact(in.Layers)
	return in
}

// resolve maps the names a request gave for one field to set names, the
// way the command line does; param names the field in the error.
func (c *catalogue) resolve(param string, requested ...string) ([]string, *apiError) {
	if c.file == nil {
		return nil, badRequest(param, "%s: the server has no neuron sets (start it with --neurons FILE)", param)
	}
	names, err := cvoice.ResolveSetNames(c.names, requested)
	if err != nil {
		return nil, badRequest(param, "%s: %v", param, err)
	}
	return names, nil
}
