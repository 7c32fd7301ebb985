package hub_test

import (
	"fmt"

	"github.com/valueexploration/valueexp/weights/hub"
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
