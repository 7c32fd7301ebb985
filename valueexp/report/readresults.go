package report

import (
	"bytes"
	"encoding/json"
	"fmt"
	"io"
	"math"

	"github.com/valueexploration/valueexp/hooks"
	"github.com/valueexploration/valueexp/valueexp/cvoice"
	"github.com/valueexploration/valueexp/valueexp/evaluate"
)

// ResultsFormat is the "format" field of a results file.
const ResultsFormat = "valueexp-results"

// MaxResultsBytes is the default limit ReadResults is given by the CLI: a
// study of 100 conditions × 2,400 items with generated answers stays well
// under it.
const MaxResultsBytes = 1 << 30

// Limits on numbers in a results file. No model or data set comes near
// them; they exist so that a corrupt count cannot size an allocation.
const (
	maxCount  = 1 << 31 // items, answered, neurons, max_items
	maxOrders = 2       // an item is asked in at most both option orders
)

// supportedResultsVersion reports whether ReadResults knows version v of
// the results file.
func supportedResultsVersion(v int) bool { return v == 1 }

// ReadResults decodes the JSON that "valueexp evaluate" writes and checks
// every number in it (ValidateResults). Unknown fields are allowed, so a
// report reads files from a newer build of the same version; an unknown
// version is refused.
//
// Memory: ReadResults reads at most maxBytes bytes (a longer input is an
// error) and holds them while decoding. A streaming first pass checks each
// list element on its own in memory proportional to that element; only a
// file whose every element carries its required fields is then decoded
// whole. The total allocated (which bounds the peak heap) is at most 50
// bytes per input byte, measured on adversarial inputs by
// TestReadResultsMemoryBound (at most 33 there); an indented file of 7,200
// item results as evaluate writes it takes about 7.
func ReadResults(r io.Reader, maxBytes int64) (*evaluate.Results, error) {
	if maxBytes <= 0 {
		return nil, fmt.Errorf("results: bad size limit %d", maxBytes)
	}
	b, err := io.ReadAll(io.LimitReader(r, maxBytes+1))
	if err != nil {
		return nil, fmt.Errorf("results: %w", err)
	}
	if int64(len(b)) > maxBytes {
		return nil, fmt.Errorf("results: the file is larger than the limit of %d bytes", maxBytes)
	}
	// A first, streaming pass checks every element of the three lists on
	// its own, one at a time, so that the full decode below only ever sees
	// elements that carry their required fields: a list of empty objects
	// cannot make it allocate 100 bytes of structs per 3 bytes of input.
	if err := prescanResults(b); err != nil {
		return nil, err
	}
	var res evaluate.Results
	if err := json.Unmarshal(b, &res); err != nil {
		return nil, fmt.Errorf("results: %w", err)
	}
	if err := ValidateResults(&res); err != nil {
		return nil, err
	}
	return &res, nil
}

// prescanResults streams the top-level object of a results file: format
// and version first known, then each element of "conditions", "cells" and
// "items" decoded alone and checked for the fields it cannot do without.
func prescanResults(b []byte) error {
	dec := json.NewDecoder(bytes.NewReader(b))
	if t, err := dec.Token(); err != nil || t != json.Delim('{') {
		return fmt.Errorf("results: not a JSON object")
	}
	var format *string
	var version *int
	for dec.More() {
		t, err := dec.Token()
		if err != nil {
			return fmt.Errorf("results: %w", err)
		}
		key, _ := t.(string)
		switch key {
		case "format":
			if err := dec.Decode(&format); err != nil {
				return fmt.Errorf("results: format: %w", err)
			}
		case "version":
			if err := dec.Decode(&version); err != nil {
				return fmt.Errorf("results: version: %w", err)
			}
		case "conditions", "cells", "items":
			if err := prescanList(dec, key); err != nil {
				return err
			}
		default:
			var skip json.RawMessage
			if err := dec.Decode(&skip); err != nil {
				return fmt.Errorf("results: %s: %w", key, err)
			}
		}
	}
	if _, err := dec.Token(); err != nil {
		return fmt.Errorf("results: %w", err)
	}
	if _, err := dec.Token(); err != io.EOF {
		return fmt.Errorf("results: unexpected data after the JSON object")
	}
	if format == nil || *format != ResultsFormat {
		got := "missing"
		if format != nil {
			got = fmt.Sprintf("%q", *format)
		}
		return fmt.Errorf("results: format is %s, want %q", got, ResultsFormat)
	}
	if version == nil || !supportedResultsVersion(*version) {
		got := "missing"
		if version != nil {
			got = fmt.Sprint(*version)
		}
		return fmt.Errorf("results: version %s is not supported (this build reads version 1)", got)
	}
	return nil
}

// prescanList decodes the elements of one list one at a time and checks
// that each has the fields that identify it.
func prescanList(dec *json.Decoder, key string) error {
	if t, err := dec.Token(); err != nil || t != json.Delim('[') {
		if t == nil && err == nil {
			return nil // null
		}
		return fmt.Errorf("results: %s: not a list", key)
	}
	for i := 0; dec.More(); i++ {
		var e struct {
			Name      string `json:"name"`
			Kind      string `json:"kind"`
			Condition string `json:"condition"`
			ID        string `json:"id"`
			Value     string `json:"value"`
			Language  string `json:"language"`
		}
		if err := dec.Decode(&e); err != nil {
			return fmt.Errorf("results: %s[%d]: %w", key, i, err)
		}
		switch {
		case key == "conditions" && e.Name == "":
			return fmt.Errorf("results: conditions[%d]: empty name", i)
		case key == "conditions" && e.Kind != "none" && e.Kind != "deactivate" && e.Kind != "random":
			return fmt.Errorf("results: conditions[%d] (%q): kind %q: want none, deactivate or random", i, e.Name, e.Kind)
		case key == "cells" && (e.Condition == "" || e.Value == "" || e.Language == ""):
			return fmt.Errorf("results: cells[%d]: condition, value and language are required", i)
		case key == "items" && (e.Condition == "" || e.ID == ""):
			return fmt.Errorf("results: items[%d]: condition and id are required", i)
		}
	}
	if _, err := dec.Token(); err != nil {
		return fmt.Errorf("results: %s: %w", key, err)
	}
	return nil
}

// ValidateResults checks every number of res against what it describes
// before a report uses it: counts non-negative and consistent (answered +
// parse failures = items), rates finite and inside their ranges (support in
// [0, 100], choice and parse-failure rates in [0, 1], deltas in [-100,
// 100]), item shares in [0, 1] (or -1 for an order that did not parse),
// cells naming a known condition, value and language once each. The error
// names the field, the condition and the value.
func ValidateResults(res *evaluate.Results) error {
	if res == nil {
		return fmt.Errorf("results: nil")
	}
	if res.Format != ResultsFormat {
		return fmt.Errorf("results: format is %q, want %q", res.Format, ResultsFormat)
	}
	if !supportedResultsVersion(res.Version) {
		return fmt.Errorf("results: version %d is not supported (this build reads version 1)", res.Version)
	}
	if res.Mode != evaluate.Likelihood && res.Mode != evaluate.Generation {
		return fmt.Errorf("results: mode %q: want %q or %q", res.Mode, evaluate.Likelihood, evaluate.Generation)
	}
	if res.MaxItems < 0 || res.MaxItems > maxCount {
		return fmt.Errorf("results: max_items %d out of range [0, %d]", res.MaxItems, maxCount)
	}
	if len(res.Cells) == 0 {
		return fmt.Errorf("results: no cells")
	}
	conds := map[string]bool{}
	for i, c := range res.Conditions {
		where := fmt.Sprintf("results: conditions[%d] (%q)", i, c.Name)
		if c.Name == "" {
			return fmt.Errorf("%s: empty name", where)
		}
		if conds[c.Name] {
			return fmt.Errorf("%s: the condition is listed twice", where)
		}
		conds[c.Name] = true
		switch c.Kind {
		case "none", "deactivate", "random":
		default:
			return fmt.Errorf("%s: kind %q: want none, deactivate or random", where, c.Kind)
		}
		if c.Neurons < 0 || c.Neurons > maxCount {
			return fmt.Errorf("%s: neurons %d out of range [0, %d]", where, c.Neurons, maxCount)
		}
	}
	known := func(cond string) bool { return len(res.Conditions) == 0 || conds[cond] }
	type key struct {
		cond  string
		value cvoice.Value
		lang  string
	}
	seen := map[key]bool{}
	for i, c := range res.Cells {
		where := fmt.Sprintf("results: cells[%d] (condition %q, value %q, language %q)", i, c.Condition, c.Value, c.Language)
		if c.Condition == "" || !known(c.Condition) {
			return fmt.Errorf("%s: the condition is not among the file's conditions", where)
		}
		v, ok := cvoice.LookupValue(c.Value)
		if !ok {
			if v, ok = cvoice.LookupValue(c.ValueEnglish); !ok {
				return fmt.Errorf("%s: value is not one of the 12 values", where)
			}
		}
		if c.Language == "" {
			return fmt.Errorf("%s: no language", where)
		}
		k := key{c.Condition, v, c.Language}
		if seen[k] {
			return fmt.Errorf("%s: a second cell for the same condition, value and language", where)
		}
		seen[k] = true
		if err := checkCount(c.Items, "items"); err != nil {
			return fmt.Errorf("%s: %w", where, err)
		}
		if c.Answered < 0 || c.Answered > c.Items {
			return fmt.Errorf("%s: answered %d out of range [0, items %d]", where, c.Answered, c.Items)
		}
		if c.ParseFailures != c.Items-c.Answered {
			return fmt.Errorf("%s: parse_failures %d, but items %d − answered %d = %d", where, c.ParseFailures, c.Items, c.Answered, c.Items-c.Answered)
		}
		checks := []struct {
			name   string
			x      float64
			lo, hi float64
		}{
			{"parse_failure_rate", c.ParseFailureRate, 0, 1},
			{"support_rate", c.SupportRate, 0, 100},
			{"aligned_choice_rate", c.AlignedChoiceRate, 0, 1},
		}
		if c.DeltaVsNone != nil {
			checks = append(checks, struct {
				name   string
				x      float64
				lo, hi float64
			}{"delta_support_vs_none", *c.DeltaVsNone, -100, 100})
		}
		if c.DeltaVsRandom != nil {
			checks = append(checks, struct {
				name   string
				x      float64
				lo, hi float64
			}{"delta_support_vs_random", *c.DeltaVsRandom, -100, 100})
		}
		for _, ch := range checks {
			if err := checkRange(ch.name, ch.x, ch.lo, ch.hi); err != nil {
				return fmt.Errorf("%s: %w", where, err)
			}
		}
		if c.Items > 0 {
			if want := float64(c.ParseFailures) / float64(c.Items); math.Abs(c.ParseFailureRate-want) > 1e-9 {
				return fmt.Errorf("%s: parse_failure_rate %g, but parse_failures/items = %d/%d", where, c.ParseFailureRate, c.ParseFailures, c.Items)
			}
		}
		if c.Answered == 0 && (c.SupportRate != 0 || c.AlignedChoiceRate != 0) {
			return fmt.Errorf("%s: support_rate %g from no answered item", where, c.SupportRate)
		}
	}
	for i, it := range res.Items {
		where := fmt.Sprintf("results: items[%d] (condition %q, item %q)", i, it.Condition, it.ID)
		if it.Condition == "" || !known(it.Condition) {
			return fmt.Errorf("%s: the condition is not among the file's conditions", where)
		}
		if it.ID == "" {
			return fmt.Errorf("%s: no item id", where)
		}
		if err := checkRange("aligned", it.Aligned, 0, 1); err != nil {
			return fmt.Errorf("%s: %w", where, err)
		}
		if len(it.Orders) > maxOrders {
			return fmt.Errorf("%s: %d option orders, at most %d", where, len(it.Orders), maxOrders)
		}
		for j, o := range it.Orders {
			if o == -1 {
				continue
			}
			if err := checkRange(fmt.Sprintf("orders[%d]", j), o, 0, 1); err != nil {
				return fmt.Errorf("%s: %w (or -1 for an answer that did not parse)", where, err)
			}
		}
	}
	return nil
}

func checkCount(n int, field string) error {
	if n < 0 || n > maxCount {
		return fmt.Errorf("%s %d out of range [0, %d]", field, n, maxCount)
	}
	return nil
}

func checkRange(field string, x, lo, hi float64) error {
	if math.IsNaN(x) || math.IsInf(x, 0) || x < lo || x > hi {
		return fmt.Errorf("%s %g out of range [%g, %g]", field, x, lo, hi)
	}
	return nil
}

// Limits on a neuron-set file's model shape, far above any real model:
// the report sizes per-layer tables by them.
const (
	maxLayers = 1 << 12
	maxDMLP   = 1 << 24
)

// validateNeurons checks the numbers of a neuron-set file that the report
// uses to size tables: the model shape, when given, and every set's layers
// against it (hooks.ReadNeuronSets checks order and index ranges).
func validateNeurons(f *hooks.NeuronSetFile) error {
	if m := f.Model; m != nil {
		if m.Layers < 0 || m.Layers > maxLayers {
			return fmt.Errorf("neuron sets: model n_layers %d out of range [0, %d]", m.Layers, maxLayers)
		}
		if m.DMLP < 0 || m.DMLP > maxDMLP {
			return fmt.Errorf("neuron sets: model d_mlp %d out of range [0, %d]", m.DMLP, maxDMLP)
		}
	}
	for _, s := range f.NeuronSets {
		for _, l := range s.Layers {
			if l.Layer < 0 || l.Layer >= maxLayers || (f.Model != nil && f.Model.Layers > 0 && l.Layer >= f.Model.Layers) {
				return fmt.Errorf("neuron sets: set %q: layer %d out of range", s.Name, l.Layer)
			}
			for _, j := range l.Indices {
				if j < 0 || int(j) >= maxDMLP || (f.Model != nil && f.Model.DMLP > 0 && int(j) >= f.Model.DMLP) {
					return fmt.Errorf("neuron sets: set %q: layer %d: index %d out of range", s.Name, l.Layer, j)
				}
			}
		}
	}
	return nil
}
