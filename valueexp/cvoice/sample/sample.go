// Package sample is the embedded bilingual C-voice sample written for this
// project: for each of the 12 values, in Chinese and in English, 12
// activation stories with a rationale and 8 evaluation dilemmas, parallel
// across the two languages (480 items). It is original writing, not the
// authors' data, and it is the default data set of every valueexp command.
package sample

import (
	"bytes"
	"embed"
	"fmt"
	"io/fs"
	"sort"

	"github.com/valueexploration/valueexp/valueexp/cvoice"
)

//go:embed *.jsonl
var files embed.FS

// Name is how the sample is referred to in outputs' provenance.
const Name = "embedded C-voice sample v1"

// Load returns the whole sample, validated.
func Load() (*cvoice.Dataset, error) {
	names, err := fs.Glob(files, "*.jsonl")
	if err != nil {
		return nil, err
	}
	sort.Strings(names)
	var items []cvoice.Item
	for _, n := range names {
		b, err := files.ReadFile(n)
		if err != nil {
			return nil, err
		}
		part, err := cvoice.ReadJSONL(bytes.NewReader(b), "embedded sample "+n)
		if err != nil {
			return nil, err
		}
		items = append(items, part...)
	}
	d, err := cvoice.NewDataset(items)
	if err != nil {
		return nil, fmt.Errorf("embedded sample: %w", err)
	}
	return d, nil
}
