package engine_test

import (
	"fmt"
	"log"

	"github.com/valueexploration/valueexp/engine"
	"github.com/valueexploration/valueexp/tokenizer"
)

// Loading a model and a tokenizer that belong together: CheckVocab refuses a
// tokenizer whose ids the embedding has no rows for, before any forward pass.
func ExampleModel_CheckVocab() {
	path := "stories260K.gguf" // the model; its tokenizer may come from elsewhere
	tokPath := path
	m, err := engine.Load(path, engine.Options{})
	if err != nil {
		log.Fatal(err)
	}
	defer m.Close()
	tok, err := tokenizer.Load(tokPath)
	if err != nil {
		log.Fatal(err)
	}
	if err := m.CheckVocab(tok.VocabSize(), tokPath); err != nil {
		log.Fatal(err)
	}
	fmt.Println(tok.VocabSize(), "tokens,", m.EmbeddingRows(), "embedding rows") // 512 tokens, 512 embedding rows for stories260K
}
