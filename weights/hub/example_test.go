package hub_test

import (
	"context"
	"fmt"
	"os"

	"github.com/valueexploration/valueexp/weights/hub"
	"github.com/valueexploration/valueexp/weights/hub/hubtest"
)

func ExampleParseRef() {
	ref, err := hub.ParseRef("Qwen/Qwen2.5-0.5B-Instruct@v1.0")
	if err != nil {
		fmt.Println(err)
		return
	}
	fmt.Println(ref.Repo, ref.Revision)
	_, err = hub.ParseRef("org/name@../../etc")
	fmt.Println(err)
	// Output:
	// Qwen/Qwen2.5-0.5B-Instruct v1.0
	// hub: "org/name@../../etc": revision "../../etc": path element ".."
}

func ExampleCache_RepoDir() {
	env := map[string]string{"HOME": "/home/ada"}
	dir, _ := hub.CacheDir(func(k string) string { return env[k] })
	c := hub.Cache{Dir: dir}
	fmt.Println(c.RepoDir("Qwen/Qwen2.5-0.5B"))
	// Output: /home/ada/.cache/huggingface/hub/models--Qwen--Qwen2.5-0.5B
}

// ExampleClient_Pull pulls a repository from a fake Hub into a fresh cache,
// then finds it again offline.
func ExampleClient_Pull() {
	srv := hubtest.New(hubtest.Repo{ID: "org/tiny", Files: []hubtest.File{
		{Name: "README.md", Data: []byte("# tiny\n")},
		{Name: "config.json", Data: []byte(`{"model_type":"llama"}`)},
		{Name: "model.safetensors", Data: make([]byte, 1000), LFS: true},
	}})
	defer srv.Close()
	home, _ := os.MkdirTemp("", "hf-home")
	defer os.RemoveAll(home)

	env := map[string]string{"HF_HOME": home, "HF_ENDPOINT": srv.URL}
	c, err := hub.NewClient(func(k string) string { return env[k] })
	if err != nil {
		fmt.Println(err)
		return
	}
	ref, _ := hub.ParseRef("org/tiny")
	res, err := c.Pull(context.Background(), ref, hub.PullOptions{})
	if err != nil {
		fmt.Println(err)
		return
	}
	for _, f := range res.Files {
		fmt.Println(f.Name, f.Size)
	}
	fmt.Println("downloaded:", res.Downloaded, "bytes:", res.Transferred)

	dir, err := c.Cache.Resolve(ref) // no network
	fmt.Println(dir == res.Dir, err)
	// Output:
	// config.json 22
	// model.safetensors 1000
	// downloaded: 2 bytes: 1022
	// true <nil>
}
