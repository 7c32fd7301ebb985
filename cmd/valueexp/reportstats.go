package main

import (
	"crypto/sha256"
	"encoding/hex"
	"fmt"
	"os"

	"github.com/valueexploration/valueexp/valueexp/cvoice"
	"github.com/valueexploration/valueexp/valueexp/cvoice/sample"
	"github.com/valueexploration/valueexp/valueexp/report"
	"github.com/valueexploration/valueexp/valueexp/stats"
)

// statsFlags are report's flags for the statistics and the input checks.
type statsFlags struct {
	data       *string
	correction *string
	seed       *uint64
	force      *bool
}

// check validates the flags before any file is read.
func (f *statsFlags) check() error {
	if _, err := stats.ParseCorrection(*f.correction); err != nil {
		return usageErr("--correction %q: want holm or bh", *f.correction)
	}
	return nil
}

// apply sets the statistics options and loads the evaluation data.
func (f *statsFlags) apply(in *report.Inputs) error {
	c, err := stats.ParseCorrection(*f.correction)
	if err != nil {
		return usageErr("--correction %q: want holm or bh", *f.correction)
	}
	in.Stats = stats.Options{Correction: c, Seed: *f.seed}
	in.Force = *f.force
	if in.Results == nil || len(in.Results.Items) == 0 {
		return nil
	}
	path := *f.data
	if path == "" {
		switch name := in.Results.Data; {
		case name == sample.Name:
			d, err := sample.Load()
			if err != nil {
				return err
			}
			in.Data = d
			return nil
		case name != "":
			if _, err := os.Stat(name); err != nil {
				return nil // the report says the intervals need --data
			}
			path = name
		default:
			return nil
		}
	}
	d, err := cvoice.LoadJSONL(path)
	if err != nil {
		return fmt.Errorf("--data: %w", err)
	}
	in.Data = d
	return nil
}

func sha256Hex(b []byte) string {
	h := sha256.Sum256(b)
	return hex.EncodeToString(h[:])
}
