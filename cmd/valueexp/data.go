package main

import (
	"errors"
	"fmt"
	"os"
	"strings"

	"github.com/valueexploration/valueexp/valueexp/cvoice"
	"github.com/valueexploration/valueexp/valueexp/cvoice/sample"
)

// dataSchemaHelp describes the C-voice JSONL format, for import --help and
// sample --help; the README has the same table (a test keeps them in step
// with what cvoice accepts).
func dataSchemaHelp() string {
	var values []string
	for _, v := range cvoice.Values() {
		values = append(values, v.Chinese+" "+v.English)
	}
	return `C-voice JSONL: one JSON object per line, UTF-8 (blank lines are skipped).
Every line is checked strictly: an unknown or repeated field, a wrong type or
an empty required field is an error naming the file, the line and the field.

  field         required    content
  id            yes         unique across all files read together; letters,
                            digits, - _ . (at most 200 bytes)
  value         yes         one of the 12 values, in Chinese or English
                            (English case-insensitive):
                              ` + strings.Join(values[:4], ", ") + `,
                              ` + strings.Join(values[4:8], ", ") + `,
                              ` + strings.Join(values[8:], ", ") + `
  language      yes         zh or en: the language of the texts
  split         yes         activation (read while record counts neurons) or
                            evaluation (posed as an A/B dilemma by evaluate)
  conflict      yes         the competing motive or value, free text
  context       yes         the dilemma, told in the first person
  aligned       yes         the choice that upholds the value
  violating     yes         the choice that serves the motive (not the same
                            text as aligned)
  rationale     activation  why aligned upholds the value: required for
                            activation items unless no_rationale is true,
                            not allowed for evaluation items
  no_rationale  no          true for an activation item without a rationale
                            (the authors' {value}-final.xlsx dilemmas)
  source        no          provenance, free text (omit it rather than leave
                            it empty)

What a data set must contain: record needs, in every language it counts
(--lang), at least one activation item of each of the 12 values, since
identify compares every value with the other eleven; it refuses a data set
with values missing and names them. evaluate poses whatever evaluation items
there are. valueexp sample --out FILE.jsonl writes the embedded sample
(12 values x zh/en, 12 activation and 8 evaluation items each) as a
template to edit.`
}

func runSample(e *env, args []string) error {
	fs := newFlags(e, "sample", "--out FILE.jsonl [--lang zh|en|both] [--force]\n\n"+
		"Writes the embedded C-voice sample, the default data set of every command,\n"+
		"as JSONL: a starting point for a data set of your own, which record and\n"+
		"evaluate then read with --data FILE.jsonl.\n\n"+dataSchemaHelp())
	out := fs.String("out", "", "output JSONL `FILE`")
	lang := fs.String("lang", "both", "languages to write: `zh|en|both`")
	force := fs.Bool("force", false, "overwrite FILE if it exists")
	if err := parseFlags(fs, args, false); err != nil {
		return err
	}
	if *out == "" {
		return usageErr("--out is required")
	}
	langs, err := parseLanguages(*lang)
	if err != nil {
		return err
	}
	d, err := sample.Load()
	if err != nil {
		return err
	}
	d = d.Select(cvoice.Query{Languages: langs})
	if !*force {
		if _, err := os.Stat(*out); err == nil {
			return fmt.Errorf("%s exists; use --force to overwrite it", *out)
		} else if !errors.Is(err, os.ErrNotExist) {
			return err
		}
	}
	if err := cvoice.WriteJSONLFile(*out, d.Items()); err != nil {
		return err
	}
	act, eval := d.OfSplit(cvoice.Activation).Len(), d.OfSplit(cvoice.Evaluation).Len()
	fmt.Fprintf(e.stderr, "wrote %s: %d items (%d activation, %d evaluation), languages %s\n", *out, d.Len(), act, eval, *lang)
	return nil
}

// checkRecordData refuses, before any model is loaded, a data set that
// lacks activation items for some value in a counted language: record
// would count nothing for that tag and identify would fail on it later.
func checkRecordData(items []cvoice.Item, langs []cvoice.Language) error {
	have := map[cvoice.Language]*[cvoice.NumValues]int{}
	for _, l := range langs {
		have[l] = new([cvoice.NumValues]int)
	}
	for _, it := range items {
		if c := have[it.Language]; c != nil && it.Split == cvoice.Activation && it.Value.Valid() {
			c[it.Value]++
		}
	}
	var missing, complete []string
	for _, l := range langs {
		var vs []string
		for _, v := range cvoice.Values() {
			if have[l][v.Value] == 0 {
				vs = append(vs, v.Chinese+" "+v.English)
			}
		}
		switch len(vs) {
		case 0:
			complete = append(complete, string(l))
		case cvoice.NumValues:
			missing = append(missing, fmt.Sprintf("%s: no activation items at all", l))
		default:
			missing = append(missing, fmt.Sprintf("%s: none for %s", l, strings.Join(vs, ", ")))
		}
	}
	if len(missing) == 0 {
		return nil
	}
	hint := "add activation items for the missing values"
	if len(complete) == 1 {
		hint += ", or count only " + complete[0] + " with --lang " + complete[0]
	}
	return fmt.Errorf("the data lacks activation items (%s); identify compares each value with the other eleven, so record needs activation items of all 12 values in every language it counts (--lang, default both): %s", strings.Join(missing, "; "), hint)
}
