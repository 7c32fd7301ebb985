package main

import (
	"context"
	"encoding/json"
	"fmt"
	"os"
	"os/signal"
	"syscall"

	"github.com/valueexploration/valueexp/weights"
)

func runInspect(e *env, args []string) error {
	fs := newFlags(e, "inspect", "--model PATH [--json] [--check]")
	model := fs.String("model", "", "model `PATH`: a .gguf file, a .safetensors file or a Hugging Face folder")
	asJSON := fs.Bool("json", false, "print the report as JSON")
	check := fs.Bool("check", false, "also read every tensor and name those holding NaN or Inf (fails if any do); reads the whole model")
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
	if *check {
		return inspectCheck(e, m, r, *asJSON)
	}
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

// inspectCheck prints the report followed by the tensors holding NaN or Inf
// (weights.CheckFinite), and fails when there are any.
func inspectCheck(e *env, m *weights.Model, r weights.Report, asJSON bool) error {
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()
	bad, err := weights.CheckFinite(ctx, m, 0)
	if err != nil {
		return fmt.Errorf("inspect --check: %s: %w", m.Path, err)
	}
	if asJSON {
		b, err := json.MarshalIndent(struct {
			weights.Report
			NonFinite []weights.NonFinite `json:"non_finite"`
		}{r, append([]weights.NonFinite{}, bad...)}, "", "  ")
		if err != nil {
			return err
		}
		if _, err := e.stdout.Write(append(b, '\n')); err != nil {
			return err
		}
	} else {
		if err := r.WriteText(e.stdout); err != nil {
			return err
		}
		if len(bad) == 0 {
			fmt.Fprintf(e.stdout, "\ncheck: all %d tensors are finite\n", len(m.Tensors))
		} else {
			fmt.Fprintf(e.stdout, "\ncheck: %d of %d tensors hold NaN or Inf:\n", len(bad), len(m.Tensors))
			for _, b := range bad {
				fmt.Fprintf(e.stdout, "  %v\n", b)
			}
		}
	}
	if len(bad) > 0 {
		return fmt.Errorf("inspect --check: %s: %d tensors hold NaN or Inf, first %v", m.Path, len(bad), bad[0])
	}
	return nil
}
