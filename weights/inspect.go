package weights

import (
	"encoding/json"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"slices"
	"sort"
	"strings"
	"text/tabwriter"
)

// Report describes an opened model: what `valueexp inspect` prints. It
// marshals to JSON as is.
type Report struct {
	Path        string          `json:"path"`
	Format      string          `json:"format"` // "gguf" or "safetensors"
	GGUFVersion uint32          `json:"gguf_version,omitempty"`
	FileSize    int64           `json:"file_size"` // bytes of all weight files
	Params      int64           `json:"params"`    // elements over all tensors
	Config      Config          `json:"config"`
	Tokenizer   TokenizerReport `json:"tokenizer"`
	// ChatTemplate is true when the model ships a chat template (GGUF
	// tokenizer.chat_template, or chat_template in tokenizer_config.json or
	// chat_template.jinja beside the weights).
	ChatTemplate bool `json:"chat_template"`
	// DTypeCounts counts tensors per dtype name ("F32": 7, "Q4_0": 22).
	DTypeCounts map[string]int `json:"dtype_counts"`
	Tensors     []TensorReport `json:"tensors"` // in Model.Names order
	// Notes lists things Describe could not read (a broken
	// tokenizer_config.json, say); the model itself opened fine.
	Notes []string `json:"notes,omitempty"`
}

// TokenizerReport says where a model's tokenizer comes from.
type TokenizerReport struct {
	// Kind is "gguf" (arrays in the GGUF metadata), "tokenizer.json" (a
	// Hugging Face fast tokenizer in the folder), "tokenizer.model" (a
	// SentencePiece model file only) or "none".
	Kind string `json:"kind"`
	// Model and Pre are GGUF's tokenizer.ggml.model ("llama", "gpt2") and
	// tokenizer.ggml.pre ("qwen2", "llama-bpe"), when present.
	Model string `json:"model,omitempty"`
	Pre   string `json:"pre,omitempty"`
	// Tokens is the length of GGUF's tokenizer.ggml.tokens, 0 otherwise.
	Tokens int `json:"tokens,omitempty"`
}

// TensorReport is one row of the tensor table.
type TensorReport struct {
	Name string `json:"name"` // canonical name
	// FileName is the name the file stores the tensor under, when it differs.
	FileName string `json:"file_name,omitempty"`
	// File is the weight file holding the tensor, for sharded folders only.
	File  string `json:"file,omitempty"`
	DType string `json:"dtype"`
	Shape []int  `json:"shape"`
	Bytes int64  `json:"bytes"`
	// Permuted is true when the rows are stored in GGUF's llama q/k order
	// and presented in Hugging Face order through Tensor.RowOrder.
	Permuted bool `json:"permuted,omitempty"`
}

// Describe summarises an opened model. It reads only headers and the small
// tokenizer_config.json of a Hugging Face folder, never tensor data.
func Describe(m *Model) Report {
	r := Report{
		Path:        m.Path,
		Format:      m.Format,
		FileSize:    m.FileSize,
		Params:      m.Params(),
		Config:      m.Config,
		DTypeCounts: map[string]int{},
	}
	files := map[string]bool{}
	for _, t := range m.Tensors {
		files[t.File] = true
	}
	for _, name := range m.Names() {
		t := m.Tensors[name]
		tr := TensorReport{
			Name:     name,
			FileName: m.FileNames[name],
			DType:    t.DType.String(),
			Shape:    append([]int(nil), t.Shape...),
			Bytes:    int64(len(t.Data)),
			Permuted: t.RowOrder != nil,
		}
		if len(files) > 1 {
			tr.File = filepath.Base(t.File)
		}
		r.Tensors = append(r.Tensors, tr)
		r.DTypeCounts[tr.DType]++
	}
	if g := m.GGUF; g != nil {
		r.GGUFVersion = g.Version
		r.Tokenizer = TokenizerReport{Kind: "none"}
		if toks, ok := g.Strings("tokenizer.ggml.tokens"); ok {
			r.Tokenizer.Kind = "gguf"
			r.Tokenizer.Tokens = len(toks)
		}
		r.Tokenizer.Model, _ = g.String("tokenizer.ggml.model")
		r.Tokenizer.Pre, _ = g.String("tokenizer.ggml.pre")
		tmpl, _ := g.String("tokenizer.chat_template")
		r.ChatTemplate = tmpl != ""
		return r
	}
	r.Tokenizer.Kind = "none"
	for _, kind := range []string{"tokenizer.json", "tokenizer.model"} {
		if fileExists(filepath.Join(m.Dir, kind)) {
			r.Tokenizer.Kind = kind
			break
		}
	}
	has, err := hfChatTemplate(m.Dir)
	if err != nil {
		r.Notes = append(r.Notes, err.Error())
	}
	r.ChatTemplate = has
	return r
}

func fileExists(path string) bool {
	st, err := os.Stat(path)
	return err == nil && !st.IsDir()
}

// hfChatTemplate reports whether a Hugging Face folder has a chat template:
// tokenizer_config.json's chat_template (a string, or a list of named
// templates), or a chat_template.jinja file as newer transformers write it.
func hfChatTemplate(dir string) (bool, error) {
	if st, err := os.Stat(filepath.Join(dir, "chat_template.jinja")); err == nil && st.Size() > 0 {
		return true, nil
	}
	path := filepath.Join(dir, "tokenizer_config.json")
	b, err := os.ReadFile(path)
	if err != nil {
		if os.IsNotExist(err) {
			return false, nil
		}
		return false, err
	}
	var cfg struct {
		ChatTemplate json.RawMessage `json:"chat_template"`
	}
	if err := json.Unmarshal(b, &cfg); err != nil {
		return false, fmt.Errorf("%s: bad JSON: %w", path, err)
	}
	var one string
	if json.Unmarshal(cfg.ChatTemplate, &one) == nil {
		return one != "", nil
	}
	var named []struct {
		Template string `json:"template"`
	}
	if json.Unmarshal(cfg.ChatTemplate, &named) == nil {
		for _, n := range named {
			if n.Template != "" {
				return true, nil
			}
		}
		return false, nil
	}
	if len(cfg.ChatTemplate) == 0 || string(cfg.ChatTemplate) == "null" {
		return false, nil
	}
	return false, fmt.Errorf("%s: chat_template is neither a string nor a list of named templates", path)
}

// WriteText prints the report for people: a summary, then the tensor table.
func (r Report) WriteText(w io.Writer) error {
	c := r.Config
	yesNo := func(b bool) string {
		if b {
			return "yes"
		}
		return "no"
	}
	format := r.Format
	if r.GGUFVersion != 0 {
		format = fmt.Sprintf("gguf v%d", r.GGUFVersion)
	}
	output := "untied (output.weight)"
	if c.TiedEmbeddings {
		output = "tied to token_embd.weight"
	}
	scaling := "none"
	if c.RopeScaling.Type != "" {
		scaling = fmt.Sprintf("%s x%g", c.RopeScaling.Type, c.RopeScaling.Factor)
		scaling += ropeScalingDetail(c.RopeScaling)
	}
	window := "none"
	if c.SlidingWindow > 0 {
		window = fmt.Sprint(c.SlidingWindow)
	}
	tok := r.Tokenizer.Kind
	if r.Tokenizer.Model != "" {
		tok += ", model " + r.Tokenizer.Model
	}
	if r.Tokenizer.Pre != "" {
		tok += ", pre " + r.Tokenizer.Pre
	}
	if r.Tokenizer.Tokens > 0 {
		tok += fmt.Sprintf(", %d tokens", r.Tokenizer.Tokens)
	}
	dtypes := make([]string, 0, len(r.DTypeCounts))
	for d := range r.DTypeCounts {
		dtypes = append(dtypes, d)
	}
	sort.Strings(dtypes)
	for i, d := range dtypes {
		dtypes[i] = fmt.Sprintf("%s %d", d, r.DTypeCounts[d])
	}
	tw := tabwriter.NewWriter(w, 0, 0, 2, ' ', 0)
	lines := [][2]string{
		{"path", r.Path},
		{"format", format},
		{"file size", fmt.Sprintf("%s bytes", groupDigits(r.FileSize))},
		{"parameters", groupDigits(r.Params)},
		{"architecture", c.Arch},
		{"hidden size", fmt.Sprint(c.HiddenSize)},
		{"layers", fmt.Sprint(c.Layers)},
		{"heads / kv heads", fmt.Sprintf("%d / %d", c.Heads, c.KVHeads)},
		{"head dim", fmt.Sprint(c.HeadDim)},
		{"ffn size", fmt.Sprint(c.FFNSize)},
		{"vocab size", fmt.Sprint(c.VocabSize)},
		{"context length", fmt.Sprint(c.ContextLength)},
		{"rope", fmt.Sprintf("theta %g, %d dims, scaling %s", c.RopeTheta, c.RopeDim, scaling)},
		// GGUF stores eps as float32: 6 digits hide the widening noise.
		{"rms norm eps", fmt.Sprintf("%.6g", c.NormEps)},
		{"output head", output},
		{"q/k/v bias", yesNo(c.AttnBias)},
		{"q/k norm", yesNo(c.QKNorm)},
		{"sliding window", window},
		{"bos / eos", fmt.Sprintf("%d / %v", c.BOS, c.EOS)},
		{"tokenizer", tok},
		{"chat template", yesNo(r.ChatTemplate)},
		{"dtypes", strings.Join(dtypes, ", ")},
	}
	if opt := blockOptions(c); opt != "" {
		lines = slices.Insert(lines, slices.IndexFunc(lines, func(l [2]string) bool { return l[0] == "sliding window" })+1, [2]string{"block options", opt})
	}
	if opt := moeOptions(c); opt != "" {
		lines = slices.Insert(lines, slices.IndexFunc(lines, func(l [2]string) bool { return l[0] == "sliding window" })+1, [2]string{"experts", opt})
	}
	for _, l := range lines {
		fmt.Fprintf(tw, "%s:\t%s\n", l[0], l[1])
	}
	for _, n := range r.Notes {
		fmt.Fprintf(tw, "note:\t%s\n", n)
	}
	if err := tw.Flush(); err != nil {
		return err
	}
	if _, err := fmt.Fprintf(w, "\n%d tensors:\n", len(r.Tensors)); err != nil {
		return err
	}
	tw = tabwriter.NewWriter(w, 0, 0, 2, ' ', 0)
	fmt.Fprintln(tw, "name\tdtype\tshape\tbytes\tstored as")
	for _, t := range r.Tensors {
		var notes []string
		if t.FileName != "" {
			notes = append(notes, t.FileName)
		}
		if t.File != "" {
			notes = append(notes, "in "+t.File)
		}
		if t.Permuted {
			notes = append(notes, "(GGUF q/k row order)")
		}
		stored := strings.Join(notes, " ")
		if stored == "" {
			stored = "-"
		}
		fmt.Fprintf(tw, "%s\t%s\t%v\t%s\t%s\n", t.Name, t.DType, t.Shape, groupDigits(t.Bytes), stored)
	}
	return tw.Flush()
}

// groupDigits writes n with thousands separators: 1443072 -> "1,443,072".
func groupDigits(n int64) string {
	s := fmt.Sprint(n)
	neg := strings.HasPrefix(s, "-")
	s = strings.TrimPrefix(s, "-")
	var b strings.Builder
	for i, ch := range s {
		if i > 0 && (len(s)-i)%3 == 0 {
			b.WriteByte(',')
		}
		b.WriteRune(ch)
	}
	if neg {
		return "-" + b.String()
	}
	return b.String()
}
