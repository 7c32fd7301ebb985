package hub

import (
	"fmt"
	"strings"
)

// DefaultRevision is the branch used when a reference names none.
const DefaultRevision = "main"

// Ref names a model repository at a revision: "ORG/NAME" or "ORG/NAME@REV".
type Ref struct {
	Repo     string // "ORG/NAME" (or a legacy single "NAME")
	Revision string // branch, tag or commit hash; DefaultRevision when none was given
}

// String returns the reference as ParseRef reads it.
func (r Ref) String() string {
	if r.Revision == "" || r.Revision == DefaultRevision {
		return r.Repo
	}
	return r.Repo + "@" + r.Revision
}

// ParseRef reads "ORG/NAME[@REVISION]".
func ParseRef(s string) (Ref, error) {
	repo, rev, hasRev := strings.Cut(s, "@")
	if hasRev && rev == "" {
		return Ref{}, fmt.Errorf("hub: %q: empty revision after @", s)
	}
	if !hasRev {
		rev = DefaultRevision
	}
	if err := checkRepoID(repo); err != nil {
		return Ref{}, fmt.Errorf("hub: %q: %w", s, err)
	}
	if err := checkRevision(rev); err != nil {
		return Ref{}, fmt.Errorf("hub: %q: %w", s, err)
	}
	return Ref{Repo: repo, Revision: rev}, nil
}

// checkRepoID accepts the Hub's repository ids: one or two parts of letters,
// digits, '-', '_' and '.', no part starting or ending in '-' or '.', no
// "--" or ".." (the cache folder name joins the parts with "--").
func checkRepoID(id string) error {
	if id == "" {
		return fmt.Errorf("empty repository name (want ORG/NAME)")
	}
	if len(id) > 96 {
		return fmt.Errorf("repository name %q is longer than 96 characters", id)
	}
	parts := strings.Split(id, "/")
	if len(parts) > 2 {
		return fmt.Errorf("repository name %q has more than one '/' (want ORG/NAME)", id)
	}
	for _, p := range parts {
		if p == "" {
			return fmt.Errorf("repository name %q has an empty part (want ORG/NAME)", id)
		}
		for _, c := range p {
			if !(c >= 'a' && c <= 'z' || c >= 'A' && c <= 'Z' || c >= '0' && c <= '9' || c == '-' || c == '_' || c == '.') {
				return fmt.Errorf("repository name %q: character %q is not allowed", id, c)
			}
		}
		if strings.Contains(p, "--") || strings.Contains(p, "..") ||
			strings.HasPrefix(p, "-") || strings.HasPrefix(p, ".") ||
			strings.HasSuffix(p, "-") || strings.HasSuffix(p, ".") {
			return fmt.Errorf("repository name %q: parts may not start or end with '-' or '.', nor contain \"--\" or \"..\"", id)
		}
	}
	return nil
}

// checkRevision accepts a branch, tag or commit name that can be a path
// under refs/ (branches like "refs/pr/1" nest, as in huggingface_hub), but
// never one that leaves it.
func checkRevision(rev string) error {
	if rev == "" {
		return fmt.Errorf("empty revision")
	}
	if len(rev) > 256 {
		return fmt.Errorf("revision %q is longer than 256 characters", rev)
	}
	if err := checkRelPath(rev); err != nil {
		return fmt.Errorf("revision %q: %w", rev, err)
	}
	return nil
}

// checkRelPath accepts a slash-separated relative path whose every element
// is a plain name: no "..", ".", empty elements, backslashes, control
// characters or a leading '/'. Joined under a folder, it stays inside it.
func checkRelPath(p string) error {
	if p == "" {
		return fmt.Errorf("empty path")
	}
	if strings.HasPrefix(p, "/") {
		return fmt.Errorf("absolute path")
	}
	for _, c := range p {
		if c < 0x20 || c == 0x7f || c == '\\' {
			return fmt.Errorf("character %q is not allowed", c)
		}
	}
	if len(p) >= 2 && p[1] == ':' { // a Windows drive letter
		return fmt.Errorf("drive letter")
	}
	for _, el := range strings.Split(p, "/") {
		switch el {
		case "":
			return fmt.Errorf("empty path element")
		case ".", "..":
			return fmt.Errorf("path element %q", el)
		}
	}
	return nil
}

// checkFileName checks a repository file name from the server.
func checkFileName(name string) error {
	if len(name) > 1024 {
		return fmt.Errorf("file name %.40q... is longer than 1024 bytes", name)
	}
	if err := checkRelPath(name); err != nil {
		return fmt.Errorf("file name %q refused: %w", name, err)
	}
	return nil
}

// isHex reports whether s is n lowercase hexadecimal digits.
func isHex(s string, n int) bool {
	if len(s) != n {
		return false
	}
	for i := 0; i < len(s); i++ {
		c := s[i]
		if !(c >= '0' && c <= '9' || c >= 'a' && c <= 'f') {
			return false
		}
	}
	return true
}

// isCommit reports whether s is a full git commit hash.
func isCommit(s string) bool { return isHex(s, 40) }

// isBlobName reports whether s can name a blob: a git sha1 (40 hex digits)
// or a sha256 (64).
func isBlobName(s string) bool { return isHex(s, 40) || isHex(s, 64) }
