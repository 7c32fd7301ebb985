package main

import (
	"bufio"
	"encoding/json"
	"errors"
	"fmt"
	"strings"

	"github.com/valueexploration/valueexp/tokenizer"
	"github.com/valueexploration/valueexp/valueexp/cvoice"
)

func runTokenize(e *env, args []string) error {
	fs := newFlags(e, "tokenize", "--model PATH [--add-special] [--parse-special] (TEXT | --jsonl FILE | --decode IDS)")
	model := fs.String("model", "", "model or tokenizer `PATH`: a .gguf file (vocab-only ones too), a tokenizer.json, or a Hugging Face folder")
	addSpecial := fs.Bool("add-special", false, "add BOS/EOS as the model's own rules say")
	parseSpecial := fs.Bool("parse-special", false, "turn special-token text such as <|im_start|> into its id (off for untrusted text)")
	jsonl := fs.String("jsonl", "", "read JSON lines with a \"text\" field from `FILE` (- for stdin) and write each back with \"ids\" added")
	decode := fs.String("decode", "", "decode token `IDS` (1,2,3) to text instead")
	if err := parseFlags(fs, args, true); err != nil {
		return err
	}
	if *model == "" {
		return usageErr("--model is required")
	}
	modes := 0
	for _, set := range []bool{fs.NArg() > 0, *jsonl != "", *decode != ""} {
		if set {
			modes++
		}
	}
	if modes != 1 {
		return usageErr("give exactly one of TEXT, --jsonl FILE and --decode IDS")
	}
	tok, err := tokenizer.Load(*model)
	if err != nil {
		return err
	}
	opts := tokenizer.EncodeOptions{AddSpecial: *addSpecial, ParseSpecial: *parseSpecial}
	switch {
	case *decode != "":
		ids, err := parseIDs(*decode)
		if err != nil {
			return usageErr("--decode: %v", err)
		}
		for i, id := range ids {
			if id < 0 || int(id) >= tok.VocabSize() {
				return usageErr("--decode: id %d (position %d) outside the vocabulary [0, %d)", id, i, tok.VocabSize())
			}
		}
		fmt.Fprintln(e.stdout, tok.Decode(ids))
	case *jsonl != "":
		return tokenizeJSONL(e, tok, *jsonl, opts)
	default:
		ids := tok.Encode(strings.Join(fs.Args(), " "), opts)
		b, _ := json.Marshal(nonNil(ids))
		fmt.Fprintln(e.stdout, string(b))
	}
	return nil
}

func nonNil(ids []int32) []int32 {
	if ids == nil {
		return []int32{}
	}
	return ids
}

// tokenizeJSONL writes one line out per line in, keeping every field of the
// input object and adding "ids". Texts may hold newlines (escaped in JSON).
func tokenizeJSONL(e *env, tok *tokenizer.Tokenizer, path string, opts tokenizer.EncodeOptions) error {
	in, closeIn, err := openInput(e, path)
	if err != nil {
		return err
	}
	defer closeIn()
	sc := bufio.NewScanner(in)
	// The same line limit as every other JSONL reader (import, record,
	// evaluate), so a file one accepts the others accept too.
	sc.Buffer(make([]byte, 64<<10), cvoice.MaxLineBytes)
	w := bufio.NewWriter(e.stdout)
	defer w.Flush()
	line := 0
	for sc.Scan() {
		line++
		raw := sc.Bytes()
		if len(strings.TrimSpace(string(raw))) == 0 {
			continue
		}
		var obj map[string]json.RawMessage
		if err := json.Unmarshal(raw, &obj); err != nil {
			return fmt.Errorf("%s:%d: not a JSON object: %v", path, line, err)
		}
		var text string
		rawText, ok := obj["text"]
		if !ok {
			return fmt.Errorf("%s:%d: no \"text\" field", path, line)
		}
		if err := json.Unmarshal(rawText, &text); err != nil {
			return fmt.Errorf("%s:%d: field \"text\" is not a string", path, line)
		}
		ids, _ := json.Marshal(nonNil(tok.Encode(text, opts)))
		obj["ids"] = ids
		b, err := marshalOrdered(raw, obj)
		if err != nil {
			return fmt.Errorf("%s:%d: %v", path, line, err)
		}
		w.Write(b)
		w.WriteByte('\n')
	}
	if err := sc.Err(); err != nil {
		if errors.Is(err, bufio.ErrTooLong) {
			return fmt.Errorf("%s:%d: line longer than %d bytes, the limit of every JSONL reader of valueexp", path, line+1, cvoice.MaxLineBytes)
		}
		return fmt.Errorf("%s:%d: %v", path, line+1, err)
	}
	return nil
}

// marshalOrdered re-encodes obj keeping the key order of the original line,
// with new keys at the end, so output lines diff cleanly against input lines.
func marshalOrdered(orig []byte, obj map[string]json.RawMessage) ([]byte, error) {
	dec := json.NewDecoder(strings.NewReader(string(orig)))
	var keys []string
	seen := map[string]bool{}
	if _, err := dec.Token(); err != nil {
		return nil, err
	}
	for dec.More() {
		t, err := dec.Token()
		if err != nil {
			return nil, err
		}
		k, _ := t.(string)
		var skip json.RawMessage
		if err := dec.Decode(&skip); err != nil {
			return nil, err
		}
		if !seen[k] {
			keys, seen[k] = append(keys, k), true
		}
	}
	for k := range obj {
		if !seen[k] {
			keys = append(keys, k)
		}
	}
	var b strings.Builder
	b.WriteByte('{')
	for i, k := range keys {
		if i > 0 {
			b.WriteByte(',')
		}
		kb, _ := json.Marshal(k)
		b.Write(kb)
		b.WriteByte(':')
		b.Write(obj[k])
	}
	b.WriteByte('}')
	return []byte(b.String()), nil
}
