package engine

import "fmt"

// EmbeddingRows returns the number of rows of the token embedding: the
// largest token id the model can take, plus one.
func (m *Model) EmbeddingRows() int { return m.embed.Shape[0] }

// CheckVocab returns an error when a tokenizer of vocabSize tokens, read
// from tokenizerFile, can produce ids that the model's token embedding has
// no row for; without this check the mismatch shows only at the first
// forward pass that meets such an id. A model with more rows than the
// tokenizer has tokens is fine (embeddings are often padded).
func (m *Model) CheckVocab(vocabSize int, tokenizerFile string) error {
	if rows := m.EmbeddingRows(); vocabSize > rows {
		return fmt.Errorf("engine: the tokenizer of %s has %d tokens but the token embedding of %s has only %d rows: ids %d to %d would fail at the first forward pass (tokenizer and model do not belong together)",
			tokenizerFile, vocabSize, m.Weights.Path, rows, rows, vocabSize-1)
	}
	return nil
}
