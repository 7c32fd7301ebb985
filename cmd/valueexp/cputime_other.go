//go:build !unix

package main

import "time"

// processCPU is not measured on this system; the dry run then shows no CPU
// estimate.
func processCPU() time.Duration { return 0 }
