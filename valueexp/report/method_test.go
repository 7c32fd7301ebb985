package report

import (
	"io/fs"
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"testing"
)

// Every citation of the method document in the code and docs names the
// in-repo file, valueexp/METHOD.md, and every section it cites (§3.5,
// §3.3–3.6, §7 item 10) exists there, so the citations resolve on a clone.
func TestMethodCitationsResolve(t *testing.T) {
	root := filepath.Join("..", "..")
	method, err := os.ReadFile(filepath.Join(root, "valueexp", "METHOD.md"))
	if err != nil {
		t.Fatal(err)
	}
	sections := map[string]bool{}
	for _, m := range regexp.MustCompile(`(?m)^#{2,3} (\d+(?:\.\d+)?)[. ]`).FindAllStringSubmatch(string(method), -1) {
		sections[m[1]] = true
	}
	items := map[string]bool{}
	inSeven := false
	for _, line := range strings.Split(string(method), "\n") {
		if strings.HasPrefix(line, "## ") {
			inSeven = strings.HasPrefix(line, "## 7.")
		}
		if m := regexp.MustCompile(`^\| (\d+) \|`).FindStringSubmatch(line); inSeven && m != nil {
			items[m[1]] = true
		}
	}
	if !sections["1"] || !sections["3.5"] || !sections["7"] || !items["10"] {
		t.Fatalf("METHOD.md sections not recognised: %v, items %v", sections, items)
	}
	cite := regexp.MustCompile(`METHOD\.md((?:[ ,–-]*(?:§\s?\d+(?:\.\d+)?(?:\s*item\s*\d+)?|and|\d+(?:\.\d+)?))*)`)
	ref := regexp.MustCompile(`§\s?(\d+)(?:\.(\d+))?(?:\s*item\s*(\d+))?|[–-](\d+)(?:\.(\d+))?`)
	n := 0
	err = filepath.WalkDir(root, func(path string, d fs.DirEntry, err error) error {
		if err != nil {
			return err
		}
		if d.IsDir() && (strings.HasPrefix(d.Name(), ".") && path != root || d.Name() == "testdata") {
			return filepath.SkipDir
		}
		if d.IsDir() || !(strings.HasSuffix(path, ".go") || strings.HasSuffix(path, ".md")) || strings.HasSuffix(path, "METHOD.md") || strings.HasSuffix(path, "method_test.go") {
			return nil
		}
		b, err := os.ReadFile(path)
		if err != nil {
			return err
		}
		text := string(b)
		for _, loc := range cite.FindAllStringSubmatchIndex(text, -1) {
			n++
			if loc[0] < len("valueexp/") || text[loc[0]-len("valueexp/"):loc[0]] != "valueexp/" {
				line := strings.Count(text[:loc[0]], "\n") + 1
				if !strings.Contains(text[max(0, loc[0]-40):loc[0]], "shared/design") {
					t.Errorf("%s:%d: cites METHOD.md without the in-repo path valueexp/METHOD.md", path, line)
				}
			}
			major := ""
			for _, r := range ref.FindAllStringSubmatch(text[loc[2]:loc[3]], -1) {
				sec, sub, item := r[1], r[2], r[3]
				if sec == "" { // the end of a range "§3.3–3.6"
					sec, sub = r[4], r[5]
					if sub == "" && major != "" {
						sec, sub = major, r[4]
					}
				}
				major = sec
				key := sec
				if sub != "" {
					key += "." + sub
				}
				if !sections[key] {
					t.Errorf("%s: cites §%s, which valueexp/METHOD.md does not have", path, key)
				}
				if item != "" && (sec != "7" || !items[item]) {
					t.Errorf("%s: cites §%s item %s, which valueexp/METHOD.md does not have", path, sec, item)
				}
			}
		}
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	if n < 20 {
		t.Errorf("found only %d citations; the scan is broken", n)
	}
}
