package main

import (
	"context"
	"encoding/binary"
	"fmt"
	"io"

	"github.com/valueexploration/valueexp/engine"
	"github.com/valueexploration/valueexp/hooks"
	"github.com/valueexploration/valueexp/internal/atomicfile"
	"github.com/valueexploration/valueexp/tokenizer"
	"github.com/valueexploration/valueexp/weights/safetensors"
)

// layerCapture keeps a copy of one hook site's values for every layer.
type layerCapture struct {
	site hooks.Site
	data [][]float32
	cols int
}

func (c *layerCapture) Observe(p hooks.Point, t hooks.Tensor, _ *hooks.Rows) {
	c.data[p.Layer] = append(c.data[p.Layer], t.Data[:t.Rows*t.Cols]...)
	c.cols = t.Cols
}

func runDump(e *env, args []string) error {
	fs := newFlags(e, "dump", "--model PATH (--tokens 1,2,3 | --prompt TEXT) --out FILE.safetensors [--threads N] [--neurons FILE (--deactivate NAMES | --scale NAME=FACTOR)]")
	model := fs.String("model", "", "model `PATH`: a .gguf file, a .safetensors file or a Hugging Face folder")
	tokens := fs.String("tokens", "", "token `IDS`, e.g. 1,2,3")
	prompt := fs.String("prompt", "", "`TEXT` to tokenize (with the model's BOS rules) instead of --tokens")
	out := fs.String("out", "", "output `FILE` (safetensors)")
	threads := fs.Int("threads", 0, "worker threads (0: all cores)")
	var iv interventions
	iv.register(fs)
	fs.alias("t", "threads")
	if err := parseFlags(fs, args, false); err != nil {
		return err
	}
	if *model == "" || *out == "" {
		return usageErr("--model and --out are required")
	}
	if (*tokens == "") == (*prompt == "") {
		return usageErr("give exactly one of --tokens and --prompt")
	}
	if err := checkOutNotInput(*out, *model); err != nil {
		return err
	}
	release, err := lockOutput(e, *out)
	if err != nil {
		return err
	}
	defer release()
	m, err := engine.Load(*model, engine.Options{Threads: *threads})
	if err != nil {
		return err
	}
	defer m.Close()
	var ids []int32
	if *tokens != "" {
		if ids, err = parseIDs(*tokens); err != nil {
			return usageErr("--tokens: %v", err)
		}
		for i, id := range ids {
			if id < 0 || int(id) >= m.Config.VocabSize {
				return usageErr("--tokens: id %d (position %d) outside the vocabulary [0, %d)", id, i, m.Config.VocabSize)
			}
		}
	} else {
		tok, err := tokenizer.Load(*model)
		if err != nil {
			return err
		}
		if err := m.CheckVocab(tok.VocabSize(), *model); err != nil {
			return err
		}
		ids = tok.Encode(*prompt, tokenizer.EncodeOptions{AddSpecial: true})
	}
	if len(ids) == 0 {
		return usageErr("no tokens to run")
	}
	if err := checkDumpSize(m.Config, len(ids)); err != nil {
		return err
	}
	h, err := iv.hooks(m)
	if err != nil {
		return err
	}
	if h == nil {
		h = hooks.New(m.Config.Layers)
	}
	L := m.Config.Layers
	if m.Config.MoE != nil {
		return dumpMoE(e, m, h, ids, *model, *out, iv)
	}
	captures := map[string]*layerCapture{
		"ffn_gate_act": {site: hooks.SiteMLPAct, data: make([][]float32, L)},
		"ffn_act":      {site: hooks.SiteMLPPost, data: make([][]float32, L)},
		"out":          {site: hooks.SiteResidPost, data: make([][]float32, L)},
	}
	for _, c := range captures {
		if err := h.Observe(fmt.Sprintf("blocks.*.%s", siteSuffix(c.site)), c); err != nil {
			return err
		}
	}
	logits, err := m.Forward(context.Background(), []engine.Input{{Seq: m.NewSequence(), Tokens: ids, Tag: -1, Logits: engine.AllLogits}}, engine.RunOptions{Hooks: h})
	if err != nil {
		return err
	}
	n := len(ids)
	tokBytes := make([]byte, 4*n)
	for i, t := range ids {
		binary.LittleEndian.PutUint32(tokBytes[4*i:], uint32(t))
	}
	ts := []safetensors.Tensor{
		{Name: "tokens", DType: "I32", Shape: []int{n}, Data: tokBytes},
		{Name: "logits", DType: "F32", Shape: []int{n, m.Config.VocabSize}, Data: safetensors.Float32Bytes(logits[0])},
	}
	for l := 0; l < L; l++ {
		for _, name := range []string{"ffn_gate_act", "ffn_act", "out"} {
			c := captures[name]
			ts = append(ts, safetensors.Tensor{Name: fmt.Sprintf("blk.%d.%s", l, name), DType: "F32", Shape: []int{n, c.cols}, Data: safetensors.Float32Bytes(c.data[l])})
		}
	}
	meta := map[string]string{"model": *model, "arch": m.Config.Arch}
	if iv.any() {
		meta["neurons"], meta["deactivate"] = iv.neurons, iv.deactivate
	}
	if err := atomicfile.Write(*out, func(w io.Writer) error { return safetensors.Write(w, ts, meta) }); err != nil {
		return err
	}
	fmt.Fprintf(e.stderr, "wrote %s: %d tokens, logits [%d, %d], %d layers x 3 activations\n", *out, n, n, m.Config.VocabSize, L)
	return nil
}

// siteSuffix returns the TransformerLens name of a block site without the
// "blocks.L." prefix.
func siteSuffix(s hooks.Site) string {
	name := hooks.Point{Layer: 0, Site: s}.String()
	return name[len("blocks.0."):]
}
