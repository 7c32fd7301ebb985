package main

import (
	"fmt"
	"os"
	"path/filepath"
	"regexp"
	"slices"
	"strconv"
	"strings"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// needsModel marks a README shell block that needs a downloaded model; the
// README test skips exactly these blocks and those marked as needing the
// network (pull, whose own tests run it against a fake Hub).
const (
	needsModel   = "<!-- readme-test: needs a downloaded model -->"
	needsNetwork = "<!-- readme-test: needs the network -->"
)

// readmeBlock is one ```sh block of the README.
type readmeBlock struct {
	line       int // of the opening fence
	needsModel bool
	// needsNetwork marks a pull block: its own tests run it against a fake Hub.
	needsNetwork bool
	commands     []string
}

func readmeShellBlocks(t *testing.T) []readmeBlock {
	t.Helper()
	b, err := os.ReadFile(filepath.Join("..", "..", "README.md"))
	require.NoError(t, err)
	lines := strings.Split(string(b), "\n")
	var blocks []readmeBlock
	for i := 0; i < len(lines); i++ {
		if strings.TrimSpace(lines[i]) != "```sh" {
			continue
		}
		blk := readmeBlock{line: i + 1}
		for j := i - 1; j >= 0; j-- {
			if s := strings.TrimSpace(lines[j]); s != "" {
				blk.needsModel = s == needsModel
				blk.needsNetwork = s == needsNetwork
				break
			}
		}
		var cur string
		for i++; i < len(lines) && strings.TrimSpace(lines[i]) != "```"; i++ {
			l := lines[i]
			if strings.HasSuffix(l, "\\") {
				cur += strings.TrimSuffix(l, "\\") + " "
				continue
			}
			if c := strings.TrimSpace(cur + l); c != "" {
				blk.commands = append(blk.commands, c)
			}
			cur = ""
		}
		blocks = append(blocks, blk)
	}
	return blocks
}

// shellWords splits a command line as sh would for the README's simple
// commands: words, single and double quotes, and a # comment after a space.
func shellWords(s string) ([]string, error) {
	var words []string
	var w strings.Builder
	inWord := false
	var quote rune
	for i, r := range s {
		switch {
		case quote != 0:
			if r == quote {
				quote = 0
			} else {
				w.WriteRune(r)
			}
		case r == '\'' || r == '"':
			quote, inWord = r, true
		case r == '#' && !inWord && (i == 0 || s[i-1] == ' ' || s[i-1] == '\t'):
			return words, nil
		case r == ' ' || r == '\t':
			if inWord {
				words = append(words, w.String())
				w.Reset()
				inWord = false
			}
		default:
			w.WriteRune(r)
			inWord = true
		}
	}
	if quote != 0 {
		return nil, fmt.Errorf("unterminated quote in %q", s)
	}
	if inWord {
		words = append(words, w.String())
	}
	return words, nil
}

// smallSizes rewrites a README command to run in seconds: real model shapes
// become the tiny one, benchmark sizes shrink, /tmp/ paths go to dir. The
// command and its flags are otherwise run as written.
func smallSizes(args []string, dir string) []string {
	out := slices.Clone(args)
	for i := 0; i < len(out); i++ {
		out[i] = strings.ReplaceAll(out[i], "/tmp/", dir+"/")
		if i+1 >= len(out) {
			continue
		}
		shrink := func(limit int) {
			var parts []string
			for _, p := range strings.Split(out[i+1], ",") {
				if n, err := strconv.Atoi(p); err == nil && n > limit {
					p = strconv.Itoa(limit)
				}
				parts = append(parts, p)
			}
			out[i+1] = strings.Join(parts, ",")
		}
		switch {
		case out[i] == "--shape" && out[i+1] != "tiny" && out[i+1] != "small":
			out[i+1] = "tiny"
		case out[0] == "bench" && out[i] == "-p":
			shrink(16)
		case out[0] == "bench" && (out[i] == "-n" || out[i] == "--max-tokens"):
			shrink(4)
		case out[0] == "bench" && out[i] == "-r":
			out[i+1] = "1"
		}
	}
	return out
}

// TestReadmeCommands runs every shell command of the README that needs no
// downloaded model, in-process, in order, in a temporary folder: the set-up,
// the first commands on a random-weight model, and the performance recipe
// (with small sizes). Blocks marked as needing a model are skipped; lines
// that run the go tool (go install, go test) are checked by name only.
func TestReadmeCommands(t *testing.T) {
	blocks := readmeShellBlocks(t)
	dir := t.TempDir()
	t.Chdir(dir)
	ran, skipped := 0, 0
	for _, blk := range blocks {
		if blk.needsNetwork {
			t.Logf("README line %d: block needs the network, skipped (TestPullThenInspect runs pull against a fake Hub)", blk.line)
			assert.Contains(t, strings.Join(blk.commands, "\n"), "valueexp pull ", "README line %d: a block marked as needing the network should pull", blk.line)
			continue
		}
		if blk.needsModel {
			skipped++
			t.Logf("README line %d: block needs a downloaded model, skipped", blk.line)
			assert.Contains(t, strings.Join(blk.commands, "\n"), "--model $M", "README line %d: a block marked as needing a model should use one ($M)", blk.line)
			continue
		}
		for _, c := range blk.commands {
			words, err := shellWords(c)
			require.NoError(t, err, "README line %d", blk.line)
			require.NotEmpty(t, words)
			// Leading VAR=value assignments belong to the command after them.
			for len(words) > 0 && regexp.MustCompile(`^[A-Z_]+=`).MatchString(words[0]) {
				words = words[1:]
			}
			var args []string
			switch {
			case len(words) >= 2 && words[0] == "go" && words[1] == "run":
				require.Equal(t, "./cmd/valueexp", words[2], "README line %d: %s", blk.line, c)
				args = words[3:]
			case words[0] == "valueexp":
				args = words[1:]
			case len(words) >= 2 && words[0] == "go" && (words[1] == "install" || words[1] == "test"):
				// The go tool itself: go install builds this package (as
				// this test's build did), go test is what runs this.
				if words[1] == "install" {
					assert.Equal(t, []string{"go", "install", "./cmd/valueexp"}, words, "README line %d", blk.line)
				}
				continue
			default:
				t.Errorf("README line %d: %q is not a valueexp or go command; run it here or mark its block with %s", blk.line, c, needsModel)
				continue
			}
			for _, a := range args {
				assert.NotContains(t, a, "$", "README line %d: %q uses a variable; mark its block with %s", blk.line, c, needsModel)
			}
			if len(args) > 0 && args[0] == "demo" {
				// TestDemoWritesReport runs the demo; here only its spelling.
				assert.Equal(t, []string{"demo"}, args, "README line %d", blk.line)
				continue
			}
			args = smallSizes(args, dir)
			code, stdout, stderr := runCLI(t, "", args...)
			if !assert.Equal(t, 0, code, "README line %d: valueexp %s\nstdout:\n%s\nstderr:\n%s", blk.line, strings.Join(args, " "), stdout, stderr) {
				continue
			}
			ran++
		}
	}
	assert.Equal(t, 3, skipped, "blocks marked as needing a downloaded model")
	assert.GreaterOrEqual(t, ran, 12, "README commands run")
	t.Logf("ran %d README commands; skipped %d blocks that need a downloaded model", ran, skipped)
}
