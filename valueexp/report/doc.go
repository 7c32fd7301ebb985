// Package report turns the files of a ValueExploration run (activation
// counts from "valueexp record", neuron sets from "valueexp identify",
// evaluation results from "valueexp evaluate") into a Markdown report with
// PNG figures, the ones valueexp/METHOD.md §6 asks for: neurons per layer per value,
// cross-value and zh-vs-en overlap of the neuron sets, the deactivation
// effect matrix, zh-vs-en support rates of the plain model and, from the
// counts, the distributions of activation probability and VAPE.
//
// Every figure has a table with the numbers behind it, and the report opens
// with the caveats the inputs call for; a random-weight model is flagged as
// a demonstration of the pipeline, never a finding.
//
// Labels inside the PNGs are ASCII (English value names), because the
// plotting fonts have no CJK glyphs; the Markdown gives the Chinese names.
package report
