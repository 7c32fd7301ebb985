package serve

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"math"
	"math/rand/v2"
	"net/http"
	"strings"

	"github.com/valueexploration/valueexp/engine"
	"github.com/valueexploration/valueexp/tokenizer"
)

// common holds the fields both completion routes share.
type common struct {
	Model               string          `json:"model"`
	MaxTokens           *int            `json:"max_tokens"`
	MaxCompletionTokens *int            `json:"max_completion_tokens"`
	Temperature         *float64        `json:"temperature"`
	TopP                *float64        `json:"top_p"`
	Seed                *int64          `json:"seed"`
	Stop                json.RawMessage `json:"stop"`
	Stream              bool            `json:"stream"`
	StreamOptions       *struct {
		IncludeUsage bool `json:"include_usage"`
	} `json:"stream_options"`
	N                *int            `json:"n"`
	FrequencyPenalty *float64        `json:"frequency_penalty"`
	PresencePenalty  *float64        `json:"presence_penalty"`
	Valueexp         json.RawMessage `json:"valueexp"`
	// Settings of `valueexp generate` that the OpenAI API lacks, under the
	// names other OpenAI-compatible servers use.
	TopK              *int     `json:"top_k"`
	MinP              *float64 `json:"min_p"`
	RepetitionPenalty *float64 `json:"repetition_penalty"`
}

// chatRequest is a POST /v1/chat/completions body.
type chatRequest struct {
	common
	Messages    []chatMessage `json:"messages"`
	Logprobs    bool          `json:"logprobs"`
	TopLogprobs *int          `json:"top_logprobs"`
}

type chatMessage struct {
	Role    string          `json:"role"`
	Content json.RawMessage `json:"content"`
}

// completionRequest is a POST /v1/completions body.
type completionRequest struct {
	common
	Prompt   json.RawMessage `json:"prompt"`
	Logprobs *int            `json:"logprobs"`
	Echo     bool            `json:"echo"`
	Suffix   *string         `json:"suffix"`
}

// readBody reads a request body up to limit bytes; a larger one is a 413.
func readBody(w http.ResponseWriter, r *http.Request, limit int64) ([]byte, *apiError) {
	body, err := io.ReadAll(http.MaxBytesReader(w, r.Body, limit))
	if err != nil {
		var mb *http.MaxBytesError
		if errors.As(err, &mb) {
			return nil, statusError(http.StatusRequestEntityTooLarge, "invalid_request_error", "request body larger than the limit of %d bytes", mb.Limit)
		}
		return nil, badRequest("", "reading the request body: %v", err)
	}
	return body, nil
}

// decodeJSON decodes b into v, turning every failure into a 400 that names
// the problem: malformed JSON with its offset, a field of the wrong type by
// its name. A prefix ("valueexp.") is put before field names in messages,
// and makes unknown fields errors.
func decodeJSON(b []byte, v any, prefix string) *apiError {
	dec := json.NewDecoder(bytes.NewReader(b))
	if prefix != "" {
		dec.DisallowUnknownFields()
	}
	err := dec.Decode(v)
	if err == nil && dec.More() {
		err = errors.New("data after the JSON value")
	}
	if err == nil {
		return nil
	}
	var se *json.SyntaxError
	var te *json.UnmarshalTypeError
	switch {
	case errors.Is(err, io.ErrUnexpectedEOF):
		return badRequest(strings.TrimSuffix(prefix, "."), "%smalformed JSON: the body ends in the middle of a value", prefix)
	case errors.Is(err, io.EOF):
		return badRequest(strings.TrimSuffix(prefix, "."), "%sthe request body is empty; want a JSON object", prefix)
	case errors.As(err, &se):
		return badRequest(strings.TrimSuffix(prefix, "."), "%smalformed JSON at byte %d: %v", prefix, se.Offset, se)
	case errors.As(err, &te):
		// Fields of the embedded common struct carry its Go name.
		field := prefix + strings.TrimPrefix(te.Field, "common.")
		if te.Field == "" {
			field = strings.TrimSuffix(prefix, ".")
		}
		if field == "" {
			return badRequest("", "the request body must be a JSON object, not a %s", te.Value)
		}
		return badRequest(field, "field %q: want %s, got a JSON %s", field, typeName(te.Type.String()), te.Value)
	case strings.HasPrefix(err.Error(), "json: unknown field "):
		name := strings.Trim(strings.TrimPrefix(err.Error(), "json: unknown field "), `"`)
		return badRequest(prefix+name, "unknown field %q", prefix+name)
	}
	return badRequest(strings.TrimSuffix(prefix, "."), "%sbad JSON: %v", prefix, err)
}

// typeName turns a Go type into the JSON words a client knows.
func typeName(t string) string {
	switch {
	case strings.HasPrefix(t, "[]"):
		return "an array"
	case strings.HasPrefix(t, "map["):
		return "an object"
	case strings.Contains(t, "int"):
		return "an integer"
	case strings.Contains(t, "float"):
		return "a number"
	case t == "string":
		return "a string"
	case t == "bool":
		return "a boolean"
	}
	return "an object"
}

// settings are a request's validated generation settings.
type settings struct {
	maxTokens    int
	sampling     engine.Sampling
	stops        []string
	stream       bool
	includeUsage bool
	ext          *extension
}

const (
	maxStops      = 16
	maxStopBytes  = 256
	maxTopLogprob = 20
)

// validate checks the shared fields against the server's limits.
func (c *common) validate(s *Server) (*settings, *apiError) {
	o := &s.opts
	if c.Model != "" && c.Model != o.ModelID {
		e := statusError(http.StatusNotFound, "invalid_request_error", "model %q not found; this server serves %q", c.Model, o.ModelID)
		p := "model"
		e.Param = &p
		return nil, e
	}
	st := &settings{maxTokens: o.DefaultMaxTokens, stream: c.Stream}
	mt, param := c.MaxTokens, "max_tokens"
	if c.MaxCompletionTokens != nil {
		mt, param = c.MaxCompletionTokens, "max_completion_tokens"
	}
	if mt != nil {
		if *mt < 1 || *mt > o.MaxTokens {
			return nil, badRequest(param, "%s %d: must be between 1 and this server's limit of %d", param, *mt, o.MaxTokens)
		}
		st.maxTokens = *mt
	}
	sp := engine.Sampling{Temperature: 1, Seed: rand.Uint64()}
	if c.Temperature != nil {
		t := *c.Temperature
		if !(t >= 0 && t <= 2) {
			return nil, badRequest("temperature", "temperature %g: must be between 0 and 2", t)
		}
		sp.Temperature = float32(t)
	}
	if c.TopP != nil {
		p := *c.TopP
		if !(p >= 0 && p <= 1) {
			return nil, badRequest("top_p", "top_p %g: must be between 0 and 1", p)
		}
		sp.TopP = float32(p)
	}
	if c.Seed != nil {
		sp.Seed = uint64(*c.Seed)
	}
	if c.TopK != nil {
		if *c.TopK < 0 {
			return nil, badRequest("top_k", "top_k %d: must not be negative", *c.TopK)
		}
		sp.TopK = *c.TopK
	}
	if c.MinP != nil {
		if p := *c.MinP; !(p >= 0 && p <= 1) {
			return nil, badRequest("min_p", "min_p %g: must be between 0 and 1", p)
		}
		sp.MinP = float32(*c.MinP)
	}
	if c.RepetitionPenalty != nil {
		if p := *c.RepetitionPenalty; !(p >= 0 && p <= math.MaxFloat32) {
			return nil, badRequest("repetition_penalty", "repetition_penalty %g: must be a non-negative number", p)
		}
		sp.RepetitionPenalty = float32(*c.RepetitionPenalty)
	}
	st.sampling = sp
	if c.N != nil && *c.N != 1 {
		return nil, badRequest("n", "n %d: this server returns one choice per request (n = 1)", *c.N)
	}
	if c.FrequencyPenalty != nil && *c.FrequencyPenalty != 0 {
		return nil, badRequest("frequency_penalty", "frequency_penalty is not supported (use repetition_penalty)")
	}
	if c.PresencePenalty != nil && *c.PresencePenalty != 0 {
		return nil, badRequest("presence_penalty", "presence_penalty is not supported (use repetition_penalty)")
	}
	stops, err := parseStop(c.Stop)
	if err != nil {
		return nil, err
	}
	st.stops = stops
	if c.StreamOptions != nil {
		if !c.Stream {
			return nil, badRequest("stream_options", "stream_options is only allowed with stream: true")
		}
		st.includeUsage = c.StreamOptions.IncludeUsage
	}
	if len(c.Valueexp) > 0 && string(c.Valueexp) != "null" {
		st.ext = new(extension)
		if err := decodeJSON(c.Valueexp, st.ext, "valueexp."); err != nil {
			return nil, err
		}
	}
	return st, nil
}

// parseStop reads "stop": null, a string or an array of strings.
func parseStop(raw json.RawMessage) ([]string, *apiError) {
	if len(raw) == 0 || string(raw) == "null" {
		return nil, nil
	}
	var one string
	if json.Unmarshal(raw, &one) == nil {
		raw, _ = json.Marshal([]string{one})
	}
	var list []string
	if err := json.Unmarshal(raw, &list); err != nil {
		return nil, badRequest("stop", "stop: want a string or an array of strings")
	}
	if len(list) > maxStops {
		return nil, badRequest("stop", "stop: at most %d strings, got %d", maxStops, len(list))
	}
	for i, s := range list {
		if len(s) > maxStopBytes {
			return nil, badRequest(fmt.Sprintf("stop[%d]", i), "stop[%d]: longer than %d bytes", i, maxStopBytes)
		}
	}
	return list, nil
}

// messages turns chat messages into the tokenizer's, content given as a
// string or as an array of text parts.
func (r *chatRequest) messages() ([]tokenizer.Message, *apiError) {
	if len(r.Messages) == 0 {
		return nil, badRequest("messages", "messages: at least one message is required")
	}
	out := make([]tokenizer.Message, len(r.Messages))
	for i, m := range r.Messages {
		role := m.Role
		switch role {
		case "system", "user", "assistant":
		case "developer":
			role = "system"
		default:
			return nil, badRequest(fmt.Sprintf("messages[%d].role", i), "messages[%d].role %q: want system, developer, user or assistant", i, m.Role)
		}
		text, err := contentText(m.Content)
		if err != "" {
			return nil, badRequest(fmt.Sprintf("messages[%d].content", i), "messages[%d].content: %s", i, err)
		}
		out[i] = tokenizer.Message{Role: role, Content: text}
	}
	return out, nil
}

// contentText reads a message's content: a string, null, or text parts.
func contentText(raw json.RawMessage) (string, string) {
	if len(raw) == 0 || string(raw) == "null" {
		return "", ""
	}
	var s string
	if json.Unmarshal(raw, &s) == nil {
		return s, ""
	}
	var parts []struct {
		Type string `json:"type"`
		Text string `json:"text"`
	}
	if json.Unmarshal(raw, &parts) != nil {
		return "", "want a string or an array of text parts"
	}
	var b strings.Builder
	for k, p := range parts {
		if p.Type != "text" {
			return "", fmt.Sprintf("part %d has type %q; only text parts are supported", k, p.Type)
		}
		b.WriteString(p.Text)
	}
	return b.String(), ""
}

// promptText reads a completion prompt: a string or an array of one string.
func (r *completionRequest) promptText() (string, *apiError) {
	if len(r.Prompt) == 0 || string(r.Prompt) == "null" {
		return "", badRequest("prompt", "prompt is required")
	}
	var s string
	if json.Unmarshal(r.Prompt, &s) == nil {
		return s, nil
	}
	var list []string
	if json.Unmarshal(r.Prompt, &list) == nil {
		if len(list) != 1 {
			return "", badRequest("prompt", "prompt: an array must hold exactly one string (one completion per request), got %d", len(list))
		}
		return list[0], nil
	}
	return "", badRequest("prompt", "prompt: want a string or an array of one string")
}
