package main

import (
	"fmt"

	"github.com/valueexploration/valueexp/valueexp/record"
)

// runMerge sums the counts files of a sharded record job, or joins the
// results files of a sharded evaluate job.
func runMerge(e *env, args []string) error {
	fs := newFlags(e, "merge", "--out ALL.safetensors SHARD.safetensors... | --out RESULTS.json SHARD.json...")
	out := fs.String("out", "", "merged counts (or results) `FILE`")
	if err := parseFlags(fs, args, true); err != nil {
		return err
	}
	if *out == "" || fs.NArg() == 0 {
		return usageErr("--out and at least one shard file are required")
	}
	release, err := lockOutput(e, *out)
	if err != nil {
		return err
	}
	defer release()
	if isResultsFile(fs.Arg(0)) {
		return mergeResults(e, *out, fs.Args())
	}
	var parts []*record.Counts
	for _, p := range fs.Args() {
		c, err := record.Load(p)
		if err != nil {
			return err
		}
		parts = append(parts, c)
	}
	m, err := record.Merge(parts...)
	if err != nil {
		return err
	}
	if err := m.Save(*out); err != nil {
		return err
	}
	fmt.Fprintf(e.stderr, "wrote %s: %d shard files, %d of %d items", *out, len(parts), m.Manifest.Coverage.Items(), m.Manifest.Items)
	if !m.Manifest.Complete {
		fmt.Fprint(e.stderr, " (incomplete: merge the remaining shards into it later)")
	}
	fmt.Fprintln(e.stderr)
	return nil
}
