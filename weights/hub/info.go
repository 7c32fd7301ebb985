package hub

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"path"
	"slices"
	"strings"
)

// Limits on what a server may send. A real model repository is far below
// them; a hostile or broken server is stopped before it costs much memory.
const (
	// MaxInfoBytes bounds the model-info JSON response.
	MaxInfoBytes = 16 << 20
	// MaxFiles bounds the number of files a repository may list.
	MaxFiles = 10000
)

// ModelInfo is what the Hub says about a repository at one revision.
type ModelInfo struct {
	ID     string     // repository id as the server spells it
	Commit string     // the commit the revision resolved to (40 hex digits)
	Files  []FileInfo // every file of the repository at that commit
}

// FileInfo describes one file of a repository.
type FileInfo struct {
	Name   string // path inside the repository, '/'-separated
	Size   int64  // bytes of the file (of the real content for LFS files)
	BlobID string // git blob sha1, the ETag of a non-LFS file; "" if not reported
	SHA256 string // sha256 of an LFS file's content; "" for files kept in git
}

// LFS reports whether the file is stored with Git LFS (large files: weights).
func (f FileInfo) LFS() bool { return f.SHA256 != "" }

// BlobName is the name of the file's blob in the cache: the sha256 for LFS
// files, the git blob id for the rest ("" when the server did not say).
func (f FileInfo) BlobName() string {
	if f.LFS() {
		return f.SHA256
	}
	return f.BlobID
}

// ParseModelInfo reads the JSON of GET /api/models/{repo}/revision/{rev}
// asked with blobs=true. Everything later used as a path is checked here:
// the commit is a full hash, every file name is a plain relative path, blob
// ids and sha256 are hex of the right length, sizes are not negative, and
// no name is listed twice.
func ParseModelInfo(data []byte) (*ModelInfo, error) {
	if len(data) > MaxInfoBytes {
		return nil, fmt.Errorf("hub: model info: %d bytes, more than the limit of %d", len(data), MaxInfoBytes)
	}
	var raw struct {
		ID       string `json:"id"`
		SHA      string `json:"sha"`
		Siblings []struct {
			RFilename *string `json:"rfilename"`
			Size      *int64  `json:"size"`
			BlobID    string  `json:"blobId"`
			LFS       *struct {
				SHA256 string `json:"sha256"`
				Size   *int64 `json:"size"`
			} `json:"lfs"`
		} `json:"siblings"`
	}
	// The sibling count is checked before decoding them all, so a response
	// listing millions of tiny entries is refused without building them.
	if n := bytes.Count(data, []byte(`"rfilename"`)); n > MaxFiles {
		return nil, fmt.Errorf("hub: model info lists about %d files, more than the limit of %d", n, MaxFiles)
	}
	if err := json.Unmarshal(data, &raw); err != nil {
		return nil, fmt.Errorf("hub: model info: %w", err)
	}
	if !isCommit(raw.SHA) {
		return nil, fmt.Errorf("hub: model info: field \"sha\" is %q, want a 40-digit commit hash", raw.SHA)
	}
	if len(raw.Siblings) > MaxFiles {
		return nil, fmt.Errorf("hub: model info lists %d files, more than the limit of %d", len(raw.Siblings), MaxFiles)
	}
	info := &ModelInfo{ID: raw.ID, Commit: raw.SHA, Files: make([]FileInfo, 0, len(raw.Siblings))}
	seen := make(map[string]bool, len(raw.Siblings))
	for i, s := range raw.Siblings {
		if s.RFilename == nil {
			return nil, fmt.Errorf("hub: model info: siblings[%d] has no \"rfilename\"", i)
		}
		f := FileInfo{Name: *s.RFilename, Size: -1}
		if err := checkFileName(f.Name); err != nil {
			return nil, fmt.Errorf("hub: model info: siblings[%d]: %w", i, err)
		}
		if seen[f.Name] {
			return nil, fmt.Errorf("hub: model info: file %q is listed twice", f.Name)
		}
		seen[f.Name] = true
		if s.Size != nil {
			f.Size = *s.Size
		}
		if s.BlobID != "" {
			if !isHex(s.BlobID, 40) {
				return nil, fmt.Errorf("hub: model info: file %q: blobId %q is not a 40-digit git hash", f.Name, s.BlobID)
			}
			f.BlobID = s.BlobID
		}
		if s.LFS != nil {
			if !isHex(s.LFS.SHA256, 64) {
				return nil, fmt.Errorf("hub: model info: file %q: lfs.sha256 %q is not 64 hex digits", f.Name, s.LFS.SHA256)
			}
			f.SHA256 = s.LFS.SHA256
			if s.LFS.Size != nil {
				if s.Size != nil && *s.Size != *s.LFS.Size {
					return nil, fmt.Errorf("hub: model info: file %q: size %d and lfs.size %d differ", f.Name, *s.Size, *s.LFS.Size)
				}
				f.Size = *s.LFS.Size
			}
		}
		if f.Size < -1 || (s.Size != nil && *s.Size < 0) {
			return nil, fmt.Errorf("hub: model info: file %q: negative size", f.Name)
		}
		info.Files = append(info.Files, f)
	}
	return info, nil
}

// DefaultFiles are the files Select takes when given no patterns, besides
// the *.safetensors weights at the top of the repository: the configuration,
// the tokenizer in its usual forms, the chat template and the shard index.
var DefaultFiles = []string{
	"config.json",
	"generation_config.json",
	"tokenizer.json",
	"tokenizer_config.json",
	"special_tokens_map.json",
	"tokenizer.model",
	"chat_template.jinja",
	"model.safetensors.index.json",
}

// NoWeightsError says a repository has no safetensors weights at its top
// level, so the default selection has nothing to run; GGUF lists the GGUF
// files it does have, from which the caller may pick one.
type NoWeightsError struct {
	Repo string
	GGUF []string
}

func (e *NoWeightsError) Error() string {
	if len(e.GGUF) > 0 {
		return fmt.Sprintf("hub: %s has no .safetensors weights; it is a GGUF repository, pick one of its GGUF files: %s",
			e.Repo, listNames(e.GGUF, 12))
	}
	return fmt.Sprintf("hub: %s has no .safetensors or .gguf weights at its top level (other formats such as .bin, .pt, .h5 or ONNX are not read)", e.Repo)
}

// Select picks the files to download from a repository's list:
//   - gguf != "": that one GGUF file (a GGUF file holds the tokenizer too);
//   - patterns given: every file whose full name matches one of them
//     (path.Match syntax: '*' stops at '/'); each pattern must match a file;
//   - otherwise DefaultFiles and the top-level *.safetensors files.
//
// The result keeps the repository's order.
func Select(info *ModelInfo, patterns []string, gguf string) ([]FileInfo, error) {
	if gguf != "" && len(patterns) > 0 {
		return nil, errors.New("hub: give either a GGUF file or include patterns, not both")
	}
	if gguf != "" {
		if !strings.HasSuffix(strings.ToLower(gguf), ".gguf") {
			return nil, fmt.Errorf("hub: %q is not a .gguf file name", gguf)
		}
		for _, f := range info.Files {
			if f.Name == gguf {
				return []FileInfo{f}, nil
			}
		}
		if g := ggufFiles(info); len(g) > 0 {
			return nil, fmt.Errorf("hub: %s has no file %q; its GGUF files: %s", info.ID, gguf, listNames(g, 12))
		}
		return nil, fmt.Errorf("hub: %s has no file %q, and no GGUF files at all", info.ID, gguf)
	}
	var out []FileInfo
	if len(patterns) > 0 {
		matched := make([]bool, len(patterns))
		for _, f := range info.Files {
			take := false
			for i, p := range patterns {
				ok, err := path.Match(p, f.Name)
				if err != nil {
					return nil, fmt.Errorf("hub: pattern %q: %w", p, err)
				}
				if ok {
					matched[i], take = true, true
				}
			}
			if take {
				out = append(out, f)
			}
		}
		for i, p := range patterns {
			if !matched[i] {
				return nil, fmt.Errorf("hub: pattern %q matches no file of %s", p, info.ID)
			}
		}
		return out, nil
	}
	weights := 0
	for _, f := range info.Files {
		top := !strings.Contains(f.Name, "/")
		switch {
		case top && strings.HasSuffix(f.Name, ".safetensors"):
			weights++
			out = append(out, f)
		case slices.Contains(DefaultFiles, f.Name):
			out = append(out, f)
		}
	}
	if weights == 0 {
		return nil, &NoWeightsError{Repo: info.ID, GGUF: ggufFiles(info)}
	}
	return out, nil
}

func ggufFiles(info *ModelInfo) []string {
	var g []string
	for _, f := range info.Files {
		if strings.HasSuffix(strings.ToLower(f.Name), ".gguf") {
			g = append(g, f.Name)
		}
	}
	return g
}

// listNames joins up to max names, saying how many more there are.
func listNames(names []string, max int) string {
	if len(names) <= max {
		return strings.Join(names, ", ")
	}
	return fmt.Sprintf("%s and %d more", strings.Join(names[:max], ", "), len(names)-max)
}
