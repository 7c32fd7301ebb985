package tokenizer

// toyTokenizerJSON is the tokenizer.json of the examples (a seed for FuzzParseHF).
const toyTokenizerJSON = `{
 "added_tokens": [{"id": 1, "content": "<s>", "special": true}],
 "normalizer": {"type": "Sequence", "normalizers": [
   {"type": "Prepend", "prepend": "▁"},
   {"type": "Replace", "pattern": {"String": " "}, "content": "▁"}]},
 "post_processor": {"type": "TemplateProcessing",
   "single": [{"SpecialToken": {"id": "<s>"}}, {"Sequence": {"id": "A"}}],
   "special_tokens": {"<s>": {"ids": [1]}}},
 "model": {"type": "BPE", "unk_token": "<unk>",
   "vocab": {"<unk>": 0, "<s>": 1, "▁": 2, "h": 3, "i": 4, "▁h": 5, "▁hi": 6},
   "merges": ["▁ h", "▁h i"]}
}`
