package tokenizer_test

import (
	"fmt"

	"github.com/valueexploration/valueexp/tokenizer"
)

// A tiny SentencePiece-style tokenizer.json: spaces become '▁', a '▁' is
// put in front of the text, and two merges build "▁hi".
const toyJSON = `{
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

func ExampleTokenizer_Encode() {
	tk, err := tokenizer.ParseHF([]byte(toyJSON), nil)
	if err != nil {
		panic(err)
	}
	ids := tk.Encode("hi hi", tokenizer.EncodeOptions{AddSpecial: true})
	fmt.Println(ids)
	fmt.Printf("%q\n", tk.Decode(ids))
	// Output:
	// [1 6 6]
	// "hi hi"
}

func ExampleTokenizer_NewStreamDecoder() {
	tk, err := tokenizer.ParseHF([]byte(toyJSON), nil)
	if err != nil {
		panic(err)
	}
	d := tk.NewStreamDecoder()
	for _, id := range []int32{1, 6, 5, 4} {
		fmt.Printf("%q ", d.Next(id))
	}
	fmt.Printf("%q\n", d.Flush())
	// Output:
	// "" "hi" " h" "i" ""
}

func ExampleRenderTemplate() {
	// The template is interpreted as Hugging Face's apply_chat_template
	// would (trim_blocks and lstrip_blocks on).
	tmpl := `{% for m in messages %}
<|im_start|>{{ m.role }}
{{ m.content }}<|im_end|>
{% endfor %}
{% if add_generation_prompt %}
<|im_start|>assistant
{% endif %}`
	msgs := []tokenizer.Message{
		{Role: "system", Content: "Answer briefly."},
		{Role: "user", Content: "什么是诚信？"},
	}
	s, err := tokenizer.RenderTemplate(tmpl, msgs, tokenizer.ChatOptions{AddGenerationPrompt: true}, "", "<|im_end|>")
	if err != nil {
		panic(err)
	}
	fmt.Print(s)
	// Output:
	// <|im_start|>system
	// Answer briefly.<|im_end|>
	// <|im_start|>user
	// 什么是诚信？<|im_end|>
	// <|im_start|>assistant
}
