package chattemplate_test

import (
	"encoding/json"
	"errors"
	"fmt"

	"github.com/valueexploration/valueexp/tokenizer/chattemplate"
)

func ExampleTemplate_RenderChat() {
	// Gemma 2's template, as the model ships it.
	tmpl, err := chattemplate.Parse(`{{ bos_token }}{% if messages[0]['role'] == 'system' %}{{ raise_exception('System role not supported') }}{% endif %}{% for message in messages %}{% if (message['role'] == 'user') != (loop.index0 % 2 == 0) %}{{ raise_exception('Conversation roles must alternate user/assistant/user/assistant/...') }}{% endif %}{% if (message['role'] == 'assistant') %}{% set role = 'model' %}{% else %}{% set role = message['role'] %}{% endif %}{{ '<start_of_turn>' + role + '\n' + message['content'] | trim + '<end_of_turn>\n' }}{% endfor %}{% if add_generation_prompt %}{{'<start_of_turn>model\n'}}{% endif %}`)
	if err != nil {
		panic(err)
	}
	conv := chattemplate.Conversation{
		Messages:            json.RawMessage(`[{"role": "user", "content": "什么是诚信？ "}]`),
		AddGenerationPrompt: true,
		Special:             map[string]string{"bos_token": "<bos>"},
	}
	s, err := tmpl.RenderChat(conv, chattemplate.Options{})
	fmt.Printf("%q %v\n", s, err)

	// The template's own raise_exception is an error.
	conv.Messages = json.RawMessage(`[{"role": "system", "content": "Be brief."}, {"role": "user", "content": "hi"}]`)
	_, err = tmpl.RenderChat(conv, chattemplate.Options{})
	var te *chattemplate.Error
	fmt.Println(err, errors.As(err, &te) && te.Raised)
	// Output:
	// "<bos><start_of_turn>user\n什么是诚信？<end_of_turn>\n<start_of_turn>model\n" <nil>
	// chat template: System role not supported true
}

func ExampleTemplate_Render() {
	// Python's str() of lists and None, as jinja2 prints them.
	tmpl, _ := chattemplate.Parse(`{{ tools }} {{ x }} {{ 7 / 2 }}`)
	s, err := tmpl.Render(map[string]any{"tools": json.RawMessage(`["a", 1, null, true]`), "x": nil}, chattemplate.Options{})
	fmt.Println(s, err)
	// Output:
	// ['a', 1, None, True] None 3.5 <nil>
}
