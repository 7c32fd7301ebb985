package serve

import (
	"io/fs"
	"time"

	"github.com/valueexploration/valueexp/hooks"
)

// Options configure a Server. The zero value serves a model without neuron
// sets, without an API key, with the defaults below.
type Options struct {
	// ModelID is the model's name in /v1/models and in responses
	// (default "valueexp").
	ModelID string
	// NeuronSets are the sets requests may deactivate, scale and monitor
	// (a hooks neuron-set file); nil allows no interventions.
	NeuronSets *hooks.NeuronSetFile
	// APIKey, when set, is the bearer token every API route requires
	// ("Authorization: Bearer KEY"). The page, its static files and /health
	// stay open.
	APIKey string
	// MaxBodyBytes limits a request body (default 1 MiB); larger is a 413.
	MaxBodyBytes int64
	// MaxTokens is the largest max_tokens a request may ask for (default
	// 4096); larger is a 400 naming max_tokens.
	MaxTokens int
	// DefaultMaxTokens is used when a request gives no max_tokens
	// (default 256, at most MaxTokens).
	DefaultMaxTokens int
	// QueueSize bounds the requests waiting for a batch slot (default 64);
	// a request that finds it full gets a 429.
	QueueSize int
	// BatchSize is the most sequences decoded together (default 16).
	BatchSize int
	// Timeout ends a request that has not finished after this long
	// (default 5 minutes; negative: none).
	Timeout time.Duration
	// Page holds the web page: index.html is served at "/", every other
	// file under "/static/". nil serves no page (a 404).
	Page fs.FS
}

// withDefaults fills in the zero fields.
func (o Options) withDefaults() Options {
	if o.ModelID == "" {
		o.ModelID = "valueexp"
	}
	if o.MaxBodyBytes <= 0 {
		o.MaxBodyBytes = 1 << 20
	}
	if o.MaxTokens <= 0 {
		o.MaxTokens = 4096
	}
	if o.DefaultMaxTokens <= 0 {
		o.DefaultMaxTokens = 256
	}
	o.DefaultMaxTokens = min(o.DefaultMaxTokens, o.MaxTokens)
	if o.QueueSize <= 0 {
		o.QueueSize = 64
	}
	if o.BatchSize <= 0 {
		o.BatchSize = 16
	}
	if o.Timeout == 0 {
		o.Timeout = 5 * time.Minute
	}
	return o
}
