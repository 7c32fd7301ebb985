package weights_test

import (
	"bytes"
	"fmt"
	"log"
	"math"
	"os"

	"github.com/valueexploration/valueexp/weights"
)

// Open a model from a GGUF file, a Hugging Face folder or a .safetensors
// file, read its config and one weight row, and print the inspect report.
func ExampleOpen() {
	m, err := weights.Open("models/qwen2.5-0.5b-instruct-q8_0.gguf")
	if err != nil {
		log.Fatal(err)
	}
	defer m.Close()
	c := m.Config
	fmt.Println(c.Arch, c.Layers, "layers,", c.Heads, "heads,", m.Params(), "parameters")

	// Rows come in Hugging Face order even where GGUF permuted them.
	q, err := m.Tensor("blk.0.attn_q.weight")
	if err != nil {
		log.Fatal(err)
	}
	row := make([]float32, q.Cols())
	if err := q.DequantizeRow(row, 0); err != nil {
		log.Fatal(err)
	}
	fmt.Println(q.DType, q.Shape, row[:4])

	if err := weights.Describe(m).WriteText(os.Stdout); err != nil {
		log.Fatal(err)
	}
}

// Write a GGUF file in memory and parse it back: metadata in file order,
// shapes outermost first.
func ExampleParseGGUF() {
	kv := []weights.KV{
		{Key: "general.architecture", Value: "llama"},
		{Key: "llama.block_count", Value: uint32(2)},
		{Key: "tokenizer.ggml.tokens", Value: []string{"<unk>", "<s>", "</s>"}},
	}
	w := &weights.Tensor{Name: "blk.0.ffn_down.weight", DType: weights.F32, Shape: []int{2, 3},
		Data: weights.Float32Bytes([]float32{1, 2, 3, 4, 5, 6})}
	var buf bytes.Buffer
	if err := weights.WriteGGUF(&buf, kv, []*weights.Tensor{w}); err != nil {
		log.Fatal(err)
	}
	g, err := weights.ParseGGUF(buf.Bytes(), "example.gguf")
	if err != nil {
		log.Fatal(err)
	}
	layers, _ := g.Int("llama.block_count")
	tokens, _ := g.Strings("tokenizer.ggml.tokens")
	t, _ := g.Tensor("blk.0.ffn_down.weight")
	v, _ := t.Float32()
	fmt.Println(g.Version, layers, tokens)
	fmt.Println(t.Shape, v)

	// A corrupt file gives an error naming the problem.
	b := buf.Bytes()
	_, err = weights.ParseGGUF(b[:len(b)-16], "cut.gguf")
	fmt.Println(err)
	// Output:
	// 3 2 [<unk> <s> </s>]
	// [2 3] [1 2 3 4 5 6]
	// gguf: cut.gguf: tensor "blk.0.ffn_down.weight": 24 bytes at data offset 0 run past the end of the file (data section holds 16 bytes)
}

// Map a Hugging Face tensor name to the canonical one.
func ExampleCanonicalName() {
	for _, hf := range []string{"model.layers.3.mlp.down_proj.weight", "lm_head.weight", "model.rotary_emb.inv_freq"} {
		name, ok := weights.CanonicalName(hf)
		fmt.Println(name, ok)
	}
	// Output:
	// blk.3.ffn_down.weight true
	// output.weight true
	// model.rotary_emb.inv_freq false
}

// Find the NaN and Inf values of a tensor, as `valueexp inspect --check`
// does for every tensor of a model (weights.CheckFinite).
func ExampleTensor_Scan() {
	v := []float32{1, 2, 3, 4, 5, 6}
	v[4] = float32(math.Inf(1))
	t := &weights.Tensor{Name: "blk.0.ffn_up.weight", DType: weights.F32, Shape: []int{2, 3}, Data: weights.Float32Bytes(v)}
	bad, err := t.Scan()
	if err != nil {
		log.Fatal(err)
	}
	fmt.Println(bad)
	// Output:
	// tensor "blk.0.ffn_up.weight" holds 0 NaN and 1 Inf values (first at row 1, column 1)
}
