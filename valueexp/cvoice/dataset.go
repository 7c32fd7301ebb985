package cvoice

import (
	"cmp"
	"fmt"
	"iter"
	"os"
	"slices"
)

// Dataset is a validated, immutable set of items with unique ids, held in a
// deterministic order: by value index, then language (en, zh), then split
// (activation, evaluation), then id. Zero-padded numbers in ids (as the
// importer writes them) therefore keep a sheet's row order.
type Dataset struct {
	items []Item
}

// NewDataset validates items (every field, unique ids) and orders them.
func NewDataset(items []Item) (*Dataset, error) {
	if err := checkItems(items); err != nil {
		return nil, err
	}
	d := &Dataset{items: slices.Clone(items)}
	slices.SortFunc(d.items, compareItems)
	return d, nil
}

func compareItems(a, b Item) int {
	return cmp.Or(
		cmp.Compare(a.Value, b.Value),
		cmp.Compare(a.Language, b.Language),
		cmp.Compare(a.Split, b.Split),
		cmp.Compare(a.ID, b.ID),
	)
}

// LoadJSONL reads JSONL files into one Dataset; ids must be unique across
// all of them.
func LoadJSONL(paths ...string) (*Dataset, error) {
	seen := map[string]string{}
	var all []Item
	for _, p := range paths {
		f, err := os.Open(p)
		if err != nil {
			return nil, fmt.Errorf("cvoice: %w", err)
		}
		items, err := readJSONL(f, p, seen)
		f.Close()
		if err != nil {
			return nil, err
		}
		all = append(all, items...)
	}
	return NewDataset(all)
}

// Len returns the number of items.
func (d *Dataset) Len() int { return len(d.items) }

// At returns the i-th item in order.
func (d *Dataset) At(i int) Item { return d.items[i] }

// Items returns a copy of the items in order.
func (d *Dataset) Items() []Item { return slices.Clone(d.items) }

// All iterates over the items in order.
func (d *Dataset) All() iter.Seq[Item] {
	return func(yield func(Item) bool) {
		for _, it := range d.items {
			if !yield(it) {
				return
			}
		}
	}
}

// ByID returns the item with the given id.
func (d *Dataset) ByID(id string) (Item, bool) {
	for _, it := range d.items {
		if it.ID == id {
			return it, true
		}
	}
	return Item{}, false
}

// Filter returns the items for which keep is true, in order.
func (d *Dataset) Filter(keep func(Item) bool) *Dataset {
	out := &Dataset{}
	for _, it := range d.items {
		if keep(it) {
			out.items = append(out.items, it)
		}
	}
	return out
}

// Query selects items by value, language and split; an empty list means any.
type Query struct {
	Values    []Value
	Languages []Language
	Splits    []Split
}

// Select returns the items matching q, in order.
func (d *Dataset) Select(q Query) *Dataset {
	return d.Filter(func(it Item) bool {
		return (len(q.Values) == 0 || slices.Contains(q.Values, it.Value)) &&
			(len(q.Languages) == 0 || slices.Contains(q.Languages, it.Language)) &&
			(len(q.Splits) == 0 || slices.Contains(q.Splits, it.Split))
	})
}

// OfValue returns the items of one value.
func (d *Dataset) OfValue(v Value) *Dataset { return d.Select(Query{Values: []Value{v}}) }

// OfLanguage returns the items in one language.
func (d *Dataset) OfLanguage(l Language) *Dataset { return d.Select(Query{Languages: []Language{l}}) }

// OfSplit returns the items of one split.
func (d *Dataset) OfSplit(s Split) *Dataset { return d.Select(Query{Splits: []Split{s}}) }

// FirstN keeps at most n items of each (value, language, split) group, the
// first in order: the authors evaluated the first 100 rows of each sheet.
func (d *Dataset) FirstN(n int) *Dataset {
	type group struct {
		v Value
		l Language
		s Split
	}
	count := map[group]int{}
	return d.Filter(func(it Item) bool {
		g := group{it.Value, it.Language, it.Split}
		count[g]++
		return count[g] <= n
	})
}

// CountByValue returns how many items each value has.
func (d *Dataset) CountByValue() [NumValues]int {
	var c [NumValues]int
	for _, it := range d.items {
		c[it.Value]++
	}
	return c
}

// ConflictCounts returns, for one value, how many items name each conflict.
func (d *Dataset) ConflictCounts(v Value) map[string]int {
	c := map[string]int{}
	for _, it := range d.items {
		if it.Value == v {
			c[it.Conflict]++
		}
	}
	return c
}
