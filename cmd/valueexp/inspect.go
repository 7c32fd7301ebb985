package main

import (
	"encoding/json"

	"github.com/valueexploration/valueexp/weights"
)

func runInspect(e *env, args []string) error {
	fs := newFlags(e, "inspect", "--model PATH [--json]")
	model := fs.String("model", "", "model `PATH`: a .gguf file, a .safetensors file or a Hugging Face folder")
	asJSON := fs.Bool("json", false, "print the report as JSON")
	if err := parseFlags(fs, args, false); err != nil {
		return err
	}
	if *model == "" {
		return usageErr("--model is required")
	}
	m, err := weights.Open(*model)
	if err != nil {
		return err
	}
	defer m.Close()
	r := weights.Describe(m)
	if *asJSON {
		b, err := json.MarshalIndent(r, "", "  ")
		if err != nil {
			return err
		}
		_, err = e.stdout.Write(append(b, '\n'))
		return err
	}
	return r.WriteText(e.stdout)
}
