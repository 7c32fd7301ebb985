package main

import (
	"encoding/json"
	"fmt"
	"math"
	"strconv"
	"strings"

	"github.com/valueexploration/valueexp/engine"
	"github.com/valueexploration/valueexp/hooks"
	"github.com/valueexploration/valueexp/tokenizer"
	"github.com/valueexploration/valueexp/valueexp/cvoice"
	"github.com/valueexploration/valueexp/valueexp/cvoice/sample"
)

// parseIDs reads token ids given as "1,2,3", "1 2 3" or a JSON array.
func parseIDs(s string) ([]int32, error) {
	s = strings.TrimSpace(s)
	if strings.HasPrefix(s, "[") {
		var ids []int32
		if err := json.Unmarshal([]byte(s), &ids); err != nil {
			return nil, fmt.Errorf("token ids %q: %v", s, err)
		}
		return ids, nil
	}
	fields := strings.FieldsFunc(s, func(r rune) bool { return r == ',' || r == ' ' || r == '\t' || r == '\n' })
	ids := make([]int32, 0, len(fields))
	for _, f := range fields {
		v, err := strconv.ParseInt(f, 10, 32)
		if err != nil {
			return nil, fmt.Errorf("token id %q is not an integer", f)
		}
		ids = append(ids, int32(v))
	}
	return ids, nil
}

// scaleFlag collects repeated --scale NAME=F flags.
type scaleFlag []struct {
	name   string
	factor float32
}

func (s *scaleFlag) String() string { return "" }

func (s *scaleFlag) Set(v string) error {
	name, f, ok := strings.Cut(v, "=")
	if !ok || name == "" {
		return fmt.Errorf("want NAME=FACTOR, got %q", v)
	}
	x, err := strconv.ParseFloat(f, 32)
	if err != nil {
		return fmt.Errorf("factor %q in %q is not a number", f, v)
	}
	if math.IsNaN(x) || math.IsInf(x, 0) {
		return fmt.Errorf("factor %q in %q is not finite", f, v)
	}
	*s = append(*s, struct {
		name   string
		factor float32
	}{name, float32(x)})
	return nil
}

// interventions are the flags that switch neurons off or scale them.
type interventions struct {
	neurons    string
	deactivate string
	scale      scaleFlag
}

func (iv *interventions) register(fs flagDefiner) {
	fs.StringVar(&iv.neurons, "neurons", "", "neuron-set `FILE` (JSON, format neuron-sets)")
	fs.StringVar(&iv.deactivate, "deactivate", "", "comma-separated neuron-set `NAMES` to zero, at every position: set names, or values in Chinese or English with or without /zh or /en (Prosperity, prosperity/zh, 富强/zh)")
	fs.Var(&iv.scale, "scale", "scale a neuron set: `NAME=FACTOR` (repeatable; NAME as for --deactivate)")
}

func (iv *interventions) any() bool { return iv.deactivate != "" || len(iv.scale) > 0 }

// hooks builds the editors the flags ask for, validated against the model;
// nil when no intervention was asked for.
func (iv *interventions) hooks(m *engine.Model) (*hooks.Hooks, error) {
	if !iv.any() {
		if iv.neurons != "" {
			return nil, usageErr("--neurons given without --deactivate or --scale")
		}
		return nil, nil
	}
	if iv.neurons == "" {
		return nil, usageErr("--deactivate and --scale need --neurons FILE")
	}
	f, err := hooks.LoadNeuronSets(iv.neurons)
	if err != nil {
		return nil, err
	}
	if err := f.Validate(m.Shape()); err != nil {
		return nil, fmt.Errorf("%s: %w", iv.neurons, err)
	}
	h := hooks.New(m.Config.Layers)
	if iv.deactivate != "" {
		names, err := resolveSetNames(f, iv.neurons, "--deactivate", strings.Split(iv.deactivate, ","))
		if err != nil {
			return nil, err
		}
		if err := hooks.ZeroSets(h, f, names, hooks.When{}); err != nil {
			return nil, fmt.Errorf("--deactivate: %w", err)
		}
	}
	for _, s := range iv.scale {
		names, err := resolveSetNames(f, iv.neurons, "--scale", []string{s.name})
		if err != nil {
			return nil, err
		}
		if err := hooks.ScaleSets(h, f, names, s.factor, hooks.When{}); err != nil {
			return nil, fmt.Errorf("--scale %s: %w", s.name, err)
		}
	}
	return h, nil
}

// resolveSetNames maps the names a user gave (values in Chinese or English,
// with or without /zh, /en) to the sets of f, read from path.
func resolveSetNames(f *hooks.NeuronSetFile, path, flagName string, requested []string) ([]string, error) {
	avail := make([]string, len(f.NeuronSets))
	for i, s := range f.NeuronSets {
		avail[i] = s.Name
	}
	names, err := cvoice.ResolveSetNames(avail, requested)
	if err != nil {
		return nil, usageErr("%s: %s: %v", flagName, path, err)
	}
	return names, nil
}

// loadData reads a C-voice JSONL file, or the embedded sample when path is
// empty. The returned name says which, for provenance.
func loadData(path string) (*cvoice.Dataset, string, error) {
	if path == "" {
		d, err := sample.Load()
		return d, sample.Name, err
	}
	d, err := cvoice.LoadJSONL(splitTags(path)...)
	return d, path, err
}

// parseLanguages turns --lang zh|en|both into a filter.
func parseLanguages(s string) ([]cvoice.Language, error) {
	switch s {
	case "zh":
		return []cvoice.Language{cvoice.LangChinese}, nil
	case "en":
		return []cvoice.Language{cvoice.LangEnglish}, nil
	case "both", "":
		return []cvoice.Language{cvoice.LangChinese, cvoice.LangEnglish}, nil
	}
	return nil, usageErr("--lang %q: want zh, en or both", s)
}

// loadModelAndTokenizer loads a model for running and the tokenizer stored
// with it (GGUF metadata or the folder's tokenizer.json). The caller closes
// the model.
func loadModelAndTokenizer(path string, threads int) (*engine.Model, *tokenizer.Tokenizer, error) {
	return loadModelAndTokenizerOpts(path, engine.Options{Threads: threads})
}

// noMmapUsage is the help of --no-mmap, which the commands that run a
// model share.
const noMmapUsage = "copy the weights into memory (huge pages where the OS offers them) instead of reading the mapped file: slower to load, faster to decode (llama.cpp's --no-mmap)"

// loadModelAndTokenizerOpts is loadModelAndTokenizer with all the engine's
// options (generate's --ctx sets the context length).
func loadModelAndTokenizerOpts(path string, opts engine.Options) (*engine.Model, *tokenizer.Tokenizer, error) {
	m, err := engine.Load(path, opts)
	if err != nil {
		return nil, nil, err
	}
	tok, err := tokenizer.Load(path)
	if err == nil {
		err = m.CheckVocab(tok.VocabSize(), path)
	}
	if err != nil {
		m.Close()
		return nil, nil, err
	}
	return m, tok, nil
}
