package engine_test

import (
	"go/ast"
	"go/parser"
	"go/token"
	"os"
	"path/filepath"
	"regexp"
	"strconv"
	"strings"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// goBlock matches a fenced ```go block of a Markdown file.
var goBlock = regexp.MustCompile("(?ms)^```go\n(.*?)^```")

// TestReadmeGoBlock keeps the README's Go program and Example_fromText
// identical: the same imports, and main's body equal to the example's body
// up to indentation and the example's "// Output:" comment. The example is
// compiled and run by go test, so the README program compiles and runs too.
func TestReadmeGoBlock(t *testing.T) {
	readme, err := os.ReadFile(filepath.Join("..", "README.md"))
	require.NoError(t, err)
	blocks := goBlock.FindAllSubmatch(readme, -1)
	require.Len(t, blocks, 1, "README.md: every ```go block must be mirrored by an Example test; this test knows one")

	rImports, rBody := funcBody(t, "README.md", blocks[0][1], "main")
	src, err := os.ReadFile("readme_example_test.go")
	require.NoError(t, err)
	eImports, eBody := funcBody(t, "readme_example_test.go", src, "Example_fromText")
	if i := indexOf(eBody, "// Output:"); i >= 0 {
		eBody = eBody[:i]
	}
	assert.Equal(t, strings.Join(eImports, "\n"), strings.Join(rImports, "\n"), "imports of the README program and of readme_example_test.go")
	assert.Equal(t, strings.Join(eBody, "\n"), strings.Join(rBody, "\n"), "README.md's main and Example_fromText differ; change both")
}

// funcBody parses a Go file and returns its import paths and the lines of
// function name's body with leading indentation removed.
func funcBody(t *testing.T, name string, src []byte, fn string) (imports, body []string) {
	t.Helper()
	fset := token.NewFileSet()
	f, err := parser.ParseFile(fset, name, src, parser.ParseComments)
	require.NoError(t, err, "%s does not parse as Go", name)
	for _, im := range f.Imports {
		p, err := strconv.Unquote(im.Path.Value)
		require.NoError(t, err)
		imports = append(imports, p)
	}
	for _, d := range f.Decls {
		fd, ok := d.(*ast.FuncDecl)
		if !ok || fd.Name.Name != fn {
			continue
		}
		lo, hi := fset.Position(fd.Body.Lbrace).Offset+1, fset.Position(fd.Body.Rbrace).Offset
		for _, line := range strings.Split(strings.Trim(string(src[lo:hi]), "\n"), "\n") {
			body = append(body, strings.TrimLeft(line, " \t"))
		}
		return imports, body
	}
	t.Fatalf("%s: no function %s", name, fn)
	return nil, nil
}

func indexOf(lines []string, s string) int {
	for i, l := range lines {
		if l == s {
			return i
		}
	}
	return -1
}
