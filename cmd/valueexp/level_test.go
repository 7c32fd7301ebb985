package main

import (
	"fmt"
	"os"
	"os/exec"
	"strings"
	"testing"

	"github.com/stretchr/testify/assert"

	"github.com/valueexploration/valueexp/engine/kernels"
)

// TestKernelLevelEnv runs "valueexp version" in a child process (this test
// binary again), since the kernel level is chosen once at start-up from
// VALUEEXP_CPU.
func TestKernelLevelEnv(t *testing.T) {
	if os.Getenv("VALUEEXP_LEVEL_CHILD") == "1" {
		code, stdout, stderr := runCLI(t, "", "version")
		fmt.Printf("code=%d\n%s%s", code, stdout, stderr)
		return
	}
	levels := kernels.AvailableLevels()
	best := levels[len(levels)-1]
	for _, tc := range []struct {
		cpu      string
		want     []string
		notWant  string
		exitCode string
	}{
		{"generic", []string{"kernels   generic (pure Go"}, "", "code=0"},
		{"auto", []string{"kernels   " + best}, "", "code=0"},
		{"avx1024", []string{`valueexp version: VALUEEXP_CPU="avx1024" names no kernel level`}, "kernels", "code=2"},
		{best, []string{"kernels   " + best + "\n", "levels    " + strings.Join(levels, ", ")}, "", "code=0"},
	} {
		t.Run(tc.cpu, func(t *testing.T) {
			cmd := exec.Command(os.Args[0], "-test.run=^TestKernelLevelEnv$")
			cmd.Env = append(os.Environ(), "VALUEEXP_LEVEL_CHILD=1", "VALUEEXP_CPU="+tc.cpu, "VALUEEXP_NOSIMD=")
			out, err := cmd.CombinedOutput()
			if err != nil {
				t.Fatalf("child: %v\n%s", err, out)
			}
			assert.Contains(t, string(out), tc.exitCode+"\n")
			for _, w := range tc.want {
				assert.Contains(t, string(out), w)
			}
			if tc.notWant != "" {
				assert.NotContains(t, string(out), tc.notWant)
			}
		})
	}
}
