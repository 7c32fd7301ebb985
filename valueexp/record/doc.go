// Package record counts, per tag, how often each FFN neuron fires
// (SiLU(gate) > 0 at mlp.hook_act) while a model reads or writes C-voice
// activation texts: the statistic VAPE selects neurons from (valueexp/METHOD.md
// §3.2). It is the library behind "valueexp record" and "valueexp merge".
//
// # Tags
//
// One tag per (value, language), named "{Chinese value}/{language}", for
// example "诚信/zh" and "诚信/en", ordered language first (zh, then en, as
// asked) and value index second. Chinese names are used on both sides so
// that a tag sorts and reads the same in every language; the language suffix
// is what identify splits on for per-language VAPE.
//
// # What is counted
//
// ModeText (the default, valueexp/METHOD.md §7 item 2) feeds each activation item as
// plain text, formatted by ActivationText:
//
//	{context}\n{aligned}\n{violating}\n{rationale}
//
// (the rationale line is left out when an item has none), tokenized with
// the model's own special-token rule (BOS for llama-family vocabularies).
// Every token is counted, BOS included, in one packed prefill per batch that
// stops after the last layer's hook_act, so the last down projection and the
// LM head are never computed.
//
// ModeGenerated is the authors' variant ([A], valueexp/METHOD.md §2.4, §3.2): the
// model answers a first-person role-play prompt (RolePlayPrompt) greedily
// with repetition penalty 1.1, and only the rows of decode steps are counted,
// that is the generated tokens fed back into the model.
//
// # Files, checkpoints and shards
//
// A counts file is a hooks.ActProb safetensors file (hooks.LoadActProb reads
// it) whose metadata also holds a Manifest under the key "record": model
// fingerprint and shape, data digest, mode, tags, shard and the items
// counted. A run writes OUT.partial (atomically, every few batches and when
// interrupted) and resumes from it when started again with the same
// arguments; Merge sums shards after checking they belong to the same job and
// cover disjoint items.
//
// Shard i of n takes the items i, i+n, i+2n, ... of the job's ordered item
// list (items are ordered by value, so every shard sees every value and the
// shards finish at about the same time).
package record
