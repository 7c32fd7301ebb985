package hub

import (
	"errors"
	"os"
	"path/filepath"
	"reflect"
	"strings"
	"testing"
)

const (
	testCommit = "0123456789abcdef0123456789abcdef01234567"
	testBlob   = "89abcdef0123456789abcdef0123456789abcdef"
	testSHA    = "a3f1e2d4c5b6a7980123456789abcdef0123456789abcdef0123456789abcdef"
)

// realInfo is shaped like the Hub's answer for a small model (fields the
// parser does not use included).
var realInfo = `{"_id":"6621a3","id":"Qwen/Qwen2.5-0.5B","private":false,"gated":false,"disabled":false,
"downloads":1,"tags":["safetensors"],"sha":"` + testCommit + `",
"siblings":[
 {"rfilename":".gitattributes","blobId":"` + testBlob + `","size":1519},
 {"rfilename":"config.json","blobId":"` + testBlob + `","size":681},
 {"rfilename":"model.safetensors","blobId":"` + testBlob + `","size":988097824,
  "lfs":{"sha256":"` + testSHA + `","size":988097824,"pointerSize":135}}],
"spaces":[],"createdAt":"2024-09-15T12:00:00.000Z","usedStorage":988100000}`

func TestParseModelInfo(t *testing.T) {
	info, err := ParseModelInfo([]byte(realInfo))
	if err != nil {
		t.Fatal(err)
	}
	want := &ModelInfo{ID: "Qwen/Qwen2.5-0.5B", Commit: testCommit, Files: []FileInfo{
		{Name: ".gitattributes", Size: 1519, BlobID: testBlob},
		{Name: "config.json", Size: 681, BlobID: testBlob},
		{Name: "model.safetensors", Size: 988097824, BlobID: testBlob, SHA256: testSHA},
	}}
	if !reflect.DeepEqual(info, want) {
		t.Errorf("got %+v\nwant %+v", info, want)
	}
	if info.Files[2].BlobName() != testSHA || info.Files[1].BlobName() != testBlob {
		t.Error("blob names: LFS files go by sha256, others by git blob id")
	}
	// Without blobs=true the Hub lists names only: sizes are unknown (-1).
	info, err = ParseModelInfo([]byte(`{"sha":"` + testCommit + `","siblings":[{"rfilename":"config.json"}]}`))
	if err != nil || info.Files[0].Size != -1 {
		t.Errorf("names-only info: %+v, %v", info, err)
	}
}

func TestParseModelInfoRejects(t *testing.T) {
	sib := func(s string) string { return `{"sha":"` + testCommit + `","siblings":[` + s + `]}` }
	for _, tc := range []struct{ json, want string }{
		{`not json`, "model info"},
		{`{"siblings":[]}`, `"sha"`},
		{`{"sha":"../../x"}`, `"sha"`},
		{`{"sha":"` + strings.ToUpper(testCommit) + `"}`, `"sha"`},
		{sib(`{"size":1}`), `siblings[0] has no "rfilename"`},
		{sib(`{"rfilename":"../x"}`), `"../x" refused`},
		{sib(`{"rfilename":"/etc/passwd"}`), `"/etc/passwd" refused`},
		{sib(`{"rfilename":"a/./b"}`), `refused`},
		{sib(`{"rfilename":""}`), `refused`},
		{sib(`{"rfilename":"a\\b"}`), `refused`},
		{sib(`{"rfilename":"x","size":-5}`), `negative size`},
		{sib(`{"rfilename":"x","blobId":"../../etc"}`), `blobId`},
		{sib(`{"rfilename":"x","lfs":{"sha256":"abc","size":1}}`), `lfs.sha256`},
		{sib(`{"rfilename":"x","size":2,"lfs":{"sha256":"` + testSHA + `","size":1}}`), `differ`},
		{sib(`{"rfilename":"x"},{"rfilename":"x"}`), `listed twice`},
		{sib(`{"rfilename":"` + strings.Repeat("a", 1100) + `"}`), `longer than 1024`},
	} {
		_, err := ParseModelInfo([]byte(tc.json))
		if err == nil || !strings.Contains(err.Error(), tc.want) {
			t.Errorf("%.80s: err = %v, want one containing %q", tc.json, err, tc.want)
		}
	}
	many := `{"sha":"` + testCommit + `","siblings":[` + strings.Repeat(`{"rfilename":"x"},`, MaxFiles) + `{"rfilename":"y"}]}`
	if _, err := ParseModelInfo([]byte(many)); err == nil || !strings.Contains(err.Error(), "limit") {
		t.Errorf("%d files: err = %v, want the limit named", MaxFiles+1, err)
	}
	if _, err := ParseModelInfo(make([]byte, MaxInfoBytes+1)); err == nil || !strings.Contains(err.Error(), "limit") {
		t.Errorf("oversized info: err = %v", err)
	}
}

func names(fs []FileInfo) []string {
	var out []string
	for _, f := range fs {
		out = append(out, f.Name)
	}
	return out
}

func TestSelect(t *testing.T) {
	files := func(ns ...string) *ModelInfo {
		info := &ModelInfo{ID: "org/x", Commit: testCommit}
		for _, n := range ns {
			info.Files = append(info.Files, FileInfo{Name: n, Size: 1})
		}
		return info
	}
	full := files(".gitattributes", "README.md", "config.json", "generation_config.json", "tokenizer.json",
		"tokenizer_config.json", "special_tokens_map.json", "tokenizer.model", "chat_template.jinja", "vocab.json", "merges.txt",
		"model-00001-of-00002.safetensors", "model-00002-of-00002.safetensors", "model.safetensors.index.json",
		"pytorch_model.bin", "pytorch_model.bin.index.json", "tf_model.h5", "flax_model.msgpack", "model.pt",
		"onnx/model.onnx", "onnx/model.safetensors", "original/consolidated.safetensors", "model-Q8_0.gguf")
	for _, tc := range []struct {
		name     string
		info     *ModelInfo
		patterns []string
		gguf     string
		want     []string
		err      string
	}{
		{name: "default", info: full, want: []string{"config.json", "generation_config.json", "tokenizer.json",
			"tokenizer_config.json", "special_tokens_map.json", "tokenizer.model", "chat_template.jinja",
			"model-00001-of-00002.safetensors", "model-00002-of-00002.safetensors", "model.safetensors.index.json"}},
		{name: "patterns", info: full, patterns: []string{"*.json", "onnx/*"}, want: []string{"config.json", "generation_config.json",
			"tokenizer.json", "tokenizer_config.json", "special_tokens_map.json", "vocab.json", "model.safetensors.index.json",
			"pytorch_model.bin.index.json", "onnx/model.onnx", "onnx/model.safetensors"}},
		{name: "gguf", info: full, gguf: "model-Q8_0.gguf", want: []string{"model-Q8_0.gguf"}},
		{name: "gguf missing", info: full, gguf: "model-Q4_0.gguf", err: `no file "model-Q4_0.gguf"; its GGUF files: model-Q8_0.gguf`},
		{name: "gguf not a gguf", info: full, gguf: "config.json", err: "not a .gguf"},
		{name: "gguf and patterns", info: full, gguf: "model-Q8_0.gguf", patterns: []string{"*"}, err: "not both"},
		{name: "only bin weights", info: files("config.json", "pytorch_model.bin"), err: "no .safetensors or .gguf weights"},
		{name: "gguf repository", info: files("README.md", "a.gguf", "b.gguf"), err: "GGUF repository, pick one of its GGUF files: a.gguf, b.gguf"},
		{name: "pattern without match", info: full, patterns: []string{"*.json", "*.txt", "nothing*"}, err: `"nothing*" matches no file of org/x`},
	} {
		t.Run(tc.name, func(t *testing.T) {
			got, err := Select(tc.info, tc.patterns, tc.gguf)
			if tc.err != "" {
				if err == nil || !strings.Contains(err.Error(), tc.err) {
					t.Fatalf("err = %v, want %q", err, tc.err)
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			if !reflect.DeepEqual(names(got), tc.want) {
				t.Errorf("got %q\nwant %q", names(got), tc.want)
			}
		})
	}
}

func TestParseRef(t *testing.T) {
	for _, tc := range []struct {
		in   string
		want Ref
		err  string
	}{
		{in: "Qwen/Qwen2.5-0.5B", want: Ref{"Qwen/Qwen2.5-0.5B", "main"}},
		{in: "org/name@v1.0", want: Ref{"org/name", "v1.0"}},
		{in: "org/name@refs/pr/1", want: Ref{"org/name", "refs/pr/1"}},
		{in: "gpt2", want: Ref{"gpt2", "main"}},
		{in: "org/name@" + testCommit, want: Ref{"org/name", testCommit}},
		{in: "", err: "empty repository"},
		{in: "org/name@", err: "empty revision"},
		{in: "a/b/c", err: "more than one '/'"},
		{in: "org/", err: "empty part"},
		{in: "../etc", err: "start or end"},
		{in: "org/na--me", err: `"--"`},
		{in: "org/.hidden", err: "start or end"},
		{in: "org/na me", err: "not allowed"},
		{in: "org/name@../../etc", err: `path element ".."`},
		{in: "org/name@/abs", err: "absolute"},
		{in: "org/name@a//b", err: "empty path element"},
	} {
		got, err := ParseRef(tc.in)
		if tc.err != "" {
			if err == nil || !strings.Contains(err.Error(), tc.err) {
				t.Errorf("ParseRef(%q) err = %v, want %q", tc.in, err, tc.err)
			}
			continue
		}
		if err != nil || got != tc.want {
			t.Errorf("ParseRef(%q) = %+v, %v; want %+v", tc.in, got, err, tc.want)
		}
		if back, err := ParseRef(got.String()); err != nil || back != got {
			t.Errorf("ParseRef(%q.String()) = %+v, %v", tc.in, back, err)
		}
	}
}

func TestCacheDir(t *testing.T) {
	for _, tc := range []struct {
		env  map[string]string
		want string
	}{
		{map[string]string{"HOME": "/home/u"}, "/home/u/.cache/huggingface/hub"},
		{map[string]string{"HOME": "/home/u", "XDG_CACHE_HOME": "/xdg"}, "/xdg/huggingface/hub"},
		{map[string]string{"HOME": "/home/u", "XDG_CACHE_HOME": "/xdg", "HF_HOME": "/hf"}, "/hf/hub"},
		{map[string]string{"HOME": "/home/u", "HF_HOME": "~/hf"}, "/home/u/hf/hub"},
		{map[string]string{"HF_HOME": "/hf", "HUGGINGFACE_HUB_CACHE": "/old"}, "/old"},
		{map[string]string{"HF_HOME": "/hf", "HUGGINGFACE_HUB_CACHE": "/old", "HF_HUB_CACHE": "/new"}, "/new"},
	} {
		got, err := CacheDir(func(k string) string { return tc.env[k] })
		if err != nil || got != tc.want {
			t.Errorf("%v: CacheDir = %q, %v; want %q", tc.env, got, err, tc.want)
		}
	}
	if _, err := CacheDir(func(string) string { return "" }); err == nil || !strings.Contains(err.Error(), "HF_HOME") {
		t.Errorf("no environment: err = %v", err)
	}
}

func TestNewClientFromEnv(t *testing.T) {
	home := t.TempDir()
	if err := os.WriteFile(filepath.Join(home, "token"), []byte("hf_fromfile\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	env := map[string]string{"HF_HOME": home}
	getenv := func(k string) string { return env[k] }
	c, err := NewClient(getenv)
	if err != nil {
		t.Fatal(err)
	}
	if c.Endpoint != DefaultEndpoint || c.Token != "hf_fromfile" || c.Cache.Dir != filepath.Join(home, "hub") {
		t.Errorf("defaults: %+v", c)
	}
	env["HF_TOKEN"], env["HF_ENDPOINT"] = "hf_env", "http://127.0.0.1:9/mirror/"
	if c, err = NewClient(getenv); err != nil || c.Token != "hf_env" || c.Endpoint != "http://127.0.0.1:9/mirror" {
		t.Errorf("from env: %+v, %v", c, err)
	}
	env["HF_ENDPOINT"] = "ftp://x"
	if _, err := NewClient(getenv); err == nil || !strings.Contains(err.Error(), "HF_ENDPOINT") {
		t.Errorf("bad endpoint: err = %v", err)
	}
}

func TestResolveNotCached(t *testing.T) {
	c := Cache{Dir: t.TempDir()}
	ref := Ref{Repo: "org/absent", Revision: "main"}
	if _, err := c.Resolve(ref); !errors.Is(err, ErrNotCached) {
		t.Errorf("absent repository: %v", err)
	}
	repoDir := c.RepoDir("org/absent")
	if err := os.MkdirAll(filepath.Join(repoDir, "refs"), 0o755); err != nil {
		t.Fatal(err)
	}
	if _, err := c.Resolve(ref); !errors.Is(err, ErrNotCached) || !strings.Contains(err.Error(), "refs/main") {
		t.Errorf("absent ref: %v", err)
	}
	os.WriteFile(filepath.Join(repoDir, "refs", "main"), []byte(testCommit+"\n"), 0o644)
	if _, err := c.Resolve(ref); !errors.Is(err, ErrNotCached) || !strings.Contains(err.Error(), testCommit) {
		t.Errorf("absent snapshot: %v", err)
	}
	os.WriteFile(filepath.Join(repoDir, "refs", "main"), []byte("../../../etc"), 0o644)
	if _, err := c.Resolve(ref); err == nil || !strings.Contains(err.Error(), "not a commit hash") {
		t.Errorf("bad ref: %v", err)
	}
}
