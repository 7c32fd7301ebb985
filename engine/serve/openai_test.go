package serve

import (
	"context"
	"errors"
	"slices"
	"strings"
	"testing"

	"github.com/openai/openai-go/v3"
	"github.com/openai/openai-go/v3/option"
	"github.com/valueexploration/valueexp/engine"
)

// TestOpenAIClient talks to the server with the official Go client library,
// unmodified: a chat completion, a streamed one, and an error.
func TestOpenAIClient(t *testing.T) {
	f := newFixture(t)
	_, hs := f.server(t, Options{APIKey: "test-key"}, nil)
	client := openai.NewClient(option.WithBaseURL(hs.URL+"/v1/"), option.WithAPIKey("test-key"), option.WithMaxRetries(0))
	ctx := context.Background()
	params := openai.ChatCompletionNewParams{
		Model:       "tiny",
		Messages:    []openai.ChatCompletionMessageParamUnion{openai.SystemMessage("Be brief."), openai.UserMessage("Is friendship a value?")},
		MaxTokens:   openai.Int(10),
		Temperature: openai.Float(0.7),
		Seed:        openai.Int(4),
	}
	prompt := f.chatPromptMsgs(t, [][2]string{{"system", "Be brief."}, {"user", "Is friendship a value?"}})
	want := f.reference(t, prompt, engine.Sampling{Temperature: 0.7, Seed: 4}, 10, nil, nil, nil)

	t.Run("chat", func(t *testing.T) {
		c, err := client.Chat.Completions.New(ctx, params)
		if err != nil {
			t.Fatal(err)
		}
		if len(c.Choices) != 1 || c.Choices[0].Message.Content != want.Text || c.Model != "tiny" || c.Object != "chat.completion" {
			t.Fatalf("got %+v; want the text %q", c, want.Text)
		}
		if c.Usage.PromptTokens != int64(len(prompt)) || c.Usage.CompletionTokens != int64(len(want.Tokens)) {
			t.Errorf("usage %+v", c.Usage)
		}
		if string(c.Choices[0].FinishReason) != finishName(want.Finish) {
			t.Errorf("finish %q, want %q", c.Choices[0].FinishReason, want.Finish)
		}
	})
	t.Run("stream", func(t *testing.T) {
		p := params
		p.StreamOptions = openai.ChatCompletionStreamOptionsParam{IncludeUsage: openai.Bool(true)}
		stream := client.Chat.Completions.NewStreaming(ctx, p)
		acc := openai.ChatCompletionAccumulator{}
		var text strings.Builder
		for stream.Next() {
			chunk := stream.Current()
			acc.AddChunk(chunk)
			if len(chunk.Choices) > 0 {
				text.WriteString(chunk.Choices[0].Delta.Content)
			}
		}
		if err := stream.Err(); err != nil {
			t.Fatal(err)
		}
		if text.String() != want.Text || acc.Choices[0].Message.Content != want.Text {
			t.Errorf("streamed %q (accumulated %q), want %q", text.String(), acc.Choices[0].Message.Content, want.Text)
		}
		if acc.Usage.CompletionTokens != int64(len(want.Tokens)) {
			t.Errorf("streamed usage %+v, want %d completion tokens", acc.Usage, len(want.Tokens))
		}
	})
	t.Run("error", func(t *testing.T) {
		_, err := client.Chat.Completions.New(ctx, params, option.WithJSONSet("valueexp", map[string]any{"deactivate": []string{"courage"}}))
		var apiErr *openai.Error
		if !errors.As(err, &apiErr) {
			t.Fatalf("error %v is not an *openai.Error", err)
		}
		if apiErr.StatusCode != 400 || apiErr.Param != "valueexp.deactivate[0]" || !strings.Contains(apiErr.Message, "courage") ||
			!strings.Contains(apiErr.Message, "诚信/zh") {
			t.Errorf("status %d param %q message %q", apiErr.StatusCode, apiErr.Param, apiErr.Message)
		}
		wrong := openai.NewClient(option.WithBaseURL(hs.URL+"/v1/"), option.WithAPIKey("wrong"), option.WithMaxRetries(0))
		_, err = wrong.Chat.Completions.New(ctx, params)
		if !errors.As(err, &apiErr) || apiErr.StatusCode != 401 {
			t.Errorf("wrong key: %v", err)
		}
	})
	t.Run("models", func(t *testing.T) {
		page, err := client.Models.List(ctx)
		if err != nil {
			t.Fatal(err)
		}
		ids := []string{}
		for _, m := range page.Data {
			ids = append(ids, m.ID)
		}
		if !slices.Equal(ids, []string{"tiny"}) {
			t.Errorf("models %v", ids)
		}
	})
}
