// Package web holds the browser page that `valueexp serve` shows at /: the
// live value-neuron view. A reader types a prompt; the page sends it twice at
// once with the same seed, once plain and once with the value sets the reader
// chose switched off or scaled, and streams both answers side by side. Under
// each answer every token is coloured by how many neurons of a chosen value
// set were active when the model produced it; hovering a token shows every
// monitored set's figures and clicking it draws that set's activity per
// layer.
//
// The page is plain HTML, CSS and JavaScript embedded in the binary: no build
// step, no network access beyond the server it came from. It speaks the
// server's HTTP API (OpenAI chat completions with the "valueexp" extension,
// and GET /v1/valueexp/sets) with relative URLs, so it also works when an
// application mounts the handler under a prefix.
package web

import (
	"embed"
	"io/fs"
)

//go:embed index.html static
var files embed.FS

// FS returns the page's files: index.html at the root and its scripts,
// styles and icon under static/. Pass it as the server's page
// (serve.Options.Page).
func FS() fs.FS {
	return files
}
