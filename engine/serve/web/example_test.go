package web_test

import (
	"fmt"
	"io/fs"

	"github.com/valueexploration/valueexp/engine/serve/web"
)

// The page's files, as the server serves them: index.html at / and the rest
// under /static/.
func ExampleFS() {
	_ = fs.WalkDir(web.FS(), ".", func(p string, d fs.DirEntry, err error) error {
		if err == nil && !d.IsDir() {
			fmt.Println(p)
		}
		return err
	})
	// Output:
	// index.html
	// static/app.js
	// static/icon.svg
	// static/style.css
}
