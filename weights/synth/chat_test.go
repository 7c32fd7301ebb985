package synth_test

import (
	"path/filepath"
	"slices"
	"testing"

	"github.com/valueexploration/valueexp/tokenizer"
	"github.com/valueexploration/valueexp/weights/synth"
)

// TestChatTemplate: a synthetic model carries a ChatML chat template that
// the tokenizer recognises as Qwen2.5's and renders exactly as Python's
// jinja2 renders the template itself (the expected strings below), whose
// turn markers are single control tokens, and whose end of turn ends
// generation.
func TestChatTemplate(t *testing.T) {
	shape, err := synth.LookupShape("tiny")
	if err != nil {
		t.Fatal(err)
	}
	if shape, err = shape.WithArch("qwen2"); err != nil {
		t.Fatal(err)
	}
	path := filepath.Join(t.TempDir(), "tiny.gguf")
	if _, err := synth.WriteFile(path, synth.Options{Shape: shape, Mix: synth.MixF32, Layers: 1, Vocab: 3000, Seed: 1}); err != nil {
		t.Fatal(err)
	}
	tok, err := tokenizer.Load(path)
	if err != nil {
		t.Fatal(err)
	}
	if tok.ChatTemplate() != synth.ChatTemplate {
		t.Fatalf("tokenizer.chat_template not stored: %q", tok.ChatTemplate())
	}
	if fam := tokenizer.TemplateFamily(tok.ChatTemplate()); fam != tokenizer.FamilyQwen25 {
		t.Fatalf("template family %q, want %q", fam, tokenizer.FamilyQwen25)
	}
	// Rendered by jinja2 3.1.2 from synth.ChatTemplate.
	for i, tc := range []struct {
		msgs []tokenizer.Message
		gen  bool
		want string
	}{
		{[]tokenizer.Message{{Role: "user", Content: "Hello"}}, true,
			"<|im_start|>system\nYou are Qwen, created by Alibaba Cloud. You are a helpful assistant.<|im_end|>\n<|im_start|>user\nHello<|im_end|>\n<|im_start|>assistant\n"},
		{[]tokenizer.Message{{Role: "user", Content: "Hello"}}, false,
			"<|im_start|>system\nYou are Qwen, created by Alibaba Cloud. You are a helpful assistant.<|im_end|>\n<|im_start|>user\nHello<|im_end|>\n"},
		{[]tokenizer.Message{{Role: "system", Content: "Be brief."}, {Role: "user", Content: "诚信是什么？"}, {Role: "assistant", Content: "A value."}, {Role: "user", Content: "More"}}, true,
			"<|im_start|>system\nBe brief.<|im_end|>\n<|im_start|>user\n诚信是什么？<|im_end|>\n<|im_start|>assistant\nA value.<|im_end|>\n<|im_start|>user\nMore<|im_end|>\n<|im_start|>assistant\n"},
		{[]tokenizer.Message{{Role: "system", Content: "Be brief."}, {Role: "user", Content: "诚信是什么？"}, {Role: "assistant", Content: "A value."}, {Role: "user", Content: "More"}}, false,
			"<|im_start|>system\nBe brief.<|im_end|>\n<|im_start|>user\n诚信是什么？<|im_end|>\n<|im_start|>assistant\nA value.<|im_end|>\n<|im_start|>user\nMore<|im_end|>\n"},
		{[]tokenizer.Message{{Role: "user", Content: "a"}, {Role: "system", Content: "late system"}}, true,
			"<|im_start|>system\nYou are Qwen, created by Alibaba Cloud. You are a helpful assistant.<|im_end|>\n<|im_start|>user\na<|im_end|>\n<|im_start|>system\nlate system<|im_end|>\n<|im_start|>assistant\n"},
		{[]tokenizer.Message{{Role: "user", Content: "a"}, {Role: "system", Content: "late system"}}, false,
			"<|im_start|>system\nYou are Qwen, created by Alibaba Cloud. You are a helpful assistant.<|im_end|>\n<|im_start|>user\na<|im_end|>\n<|im_start|>system\nlate system<|im_end|>\n"},
	} {
		got, err := tok.RenderChat(tc.msgs, tc.gen)
		if err != nil || got != tc.want {
			t.Errorf("case %d: RenderChat = %q, %v\njinja2 gives %q", i, got, err, tc.want)
		}
	}
	start, ok1 := tok.TokenID(synth.ImStart)
	end, ok2 := tok.TokenID(synth.ImEnd)
	if !ok1 || !ok2 || !tok.IsControl(start) || !tok.IsControl(end) {
		t.Fatalf("turn markers: %d %v %d %v", start, ok1, end, ok2)
	}
	ids := tok.Encode(synth.ImStart+"user\nHi"+synth.ImEnd, tokenizer.EncodeOptions{ParseSpecial: true})
	if len(ids) < 3 || ids[0] != start || ids[len(ids)-1] != end {
		t.Errorf("encoded turn %v does not start with %d and end with %d", ids, start, end)
	}
	if !tok.IsEOS(end) || !slices.Contains(tok.EOS(), int32(synth.EOSID)) {
		t.Errorf("end-of-generation ids %v should hold </s> (%d) and %s (%d)", tok.EOS(), synth.EOSID, synth.ImEnd, end)
	}
}
