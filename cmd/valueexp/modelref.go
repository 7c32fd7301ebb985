package main

import (
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"strings"

	"github.com/valueexploration/valueexp/weights/hub"
)

// resolveModelRef turns a model reference "hf:ORG/NAME[@REV]" into the path
// of its snapshot in the Hugging Face cache, without the network: the
// snapshot folder, or its GGUF file when the snapshot holds one GGUF file
// and no config.json (a `pull --gguf`). Any other value is returned as it
// is. When the model is not in the cache, the error says what to pull.
func resolveModelRef(ref string, getenv func(string) string) (string, error) {
	s, ok := strings.CutPrefix(ref, "hf:")
	if !ok {
		return ref, nil
	}
	r, err := hub.ParseRef(s)
	if err != nil {
		return "", fmt.Errorf("--model %s: %w", ref, err)
	}
	dir, err := hub.CacheDir(getenv)
	if err != nil {
		return "", fmt.Errorf("--model %s: %w", ref, err)
	}
	snap, err := hub.Cache{Dir: dir}.Resolve(r)
	if errors.Is(err, hub.ErrNotCached) {
		return "", fmt.Errorf("--model %s: not in the Hugging Face cache %s; download it first with: valueexp pull %s", ref, dir, r)
	}
	if err != nil {
		return "", fmt.Errorf("--model %s: %w", ref, err)
	}
	if _, err := os.Stat(filepath.Join(snap, "config.json")); err == nil {
		return snap, nil
	}
	ggufs, _ := filepath.Glob(filepath.Join(snap, "*.gguf"))
	switch len(ggufs) {
	case 0:
		return snap, nil // let the loader say what is missing
	case 1:
		return ggufs[0], nil
	}
	return "", fmt.Errorf("--model %s: the snapshot %s holds %d GGUF files; give the one to use as --model PATH (%s)",
		ref, snap, len(ggufs), strings.Join(ggufs, ", "))
}

// withModelRefs resolves every --model hf:... among a command's arguments
// (--model X, --model=X, one dash or two) before running it, so every
// command that takes --model accepts hf: references.
func withModelRefs(e *env, run func(*env, []string) error, args []string) error {
	out := make([]string, len(args))
	copy(out, args)
	for i := 0; i < len(out); i++ {
		a := out[i]
		if a == "--" {
			break
		}
		name, val, hasVal := strings.Cut(strings.TrimLeft(a, "-"), "=")
		if !strings.HasPrefix(a, "-") || name != "model" {
			continue
		}
		if !hasVal {
			if i+1 >= len(out) {
				break
			}
			i++
			val = out[i]
		}
		p, err := resolveModelRef(val, e.getenv)
		if err != nil {
			return err
		}
		if hasVal {
			out[i] = "--model=" + p
		} else {
			out[i] = p
		}
	}
	return run(e, out)
}
