package main

import (
	"fmt"

	"github.com/valueexploration/valueexp/valueexp/cvoice"
)

func runImport(e *env, args []string) error {
	fs := newFlags(e, "import", "--xlsx FILE [--xlsx FILE...] [--skip-incomplete] --out FILE.jsonl\n\n"+
		"Converts the authors' C-voice workbooks to this project's JSONL data format.\n\n"+dataSchemaHelp())
	var files stopList
	fs.Var(&files, "xlsx", "the authors' workbook `FILE` (test-zh-200.xlsx or {value}-final.xlsx; repeatable; more may follow as arguments)")
	out := fs.String("out", "", "output JSONL `FILE`")
	skip := fs.Bool("skip-incomplete", false, "leave out rows with some but not all cells filled (listed on stderr) instead of failing")
	if err := parseFlags(fs, args, true); err != nil {
		return err
	}
	files = append(files, fs.Args()...)
	if len(files) == 0 || *out == "" {
		return usageErr("give at least one --xlsx FILE and --out")
	}
	res, err := cvoice.ImportXLSXWith(cvoice.ImportOptions{SkipIncomplete: *skip}, files...)
	if err != nil {
		return err
	}
	for _, s := range res.Skipped {
		fmt.Fprintf(e.stderr, "skipped incomplete row: %s\n", s)
	}
	if err := cvoice.WriteJSONLFile(*out, res.Items); err != nil {
		return err
	}
	ds, err := cvoice.NewDataset(res.Items)
	if err != nil {
		return err
	}
	for _, split := range []cvoice.Split{cvoice.Evaluation, cvoice.Activation} {
		counts := ds.OfSplit(split).CountByValue()
		total := 0
		line := ""
		for _, v := range cvoice.Values() {
			if counts[v.Value] > 0 {
				line += fmt.Sprintf(" %s %d", v.Chinese, counts[v.Value])
				total += counts[v.Value]
			}
		}
		if total > 0 {
			fmt.Fprintf(e.stderr, "%s items: %d:%s\n", split, total, line)
		}
	}
	fmt.Fprintf(e.stderr, "wrote %s\n", *out)
	return nil
}
