package main

import (
	"fmt"
	"io"
	"runtime"
	"runtime/debug"
	"strings"

	"github.com/valueexploration/valueexp/engine/kernels"
)

// buildInfo is what "valueexp version" reports: where the binary came from
// and what it runs on, the first things to ask for in a bug report.
type buildInfo struct {
	module, version     string
	revision, time      string
	modified            bool
	goVersion, platform string
	kernels             string
	levels              []string
}

// readBuildInfo reads the module version and VCS stamps the Go toolchain
// wrote into the binary. "go install module@version" stamps the version;
// "go build" and "go install ./cmd/valueexp" in a clone stamp the commit
// (and a pseudo-version derived from it); "go run" and tests stamp neither.
func readBuildInfo() buildInfo {
	b := buildInfo{
		module: "github.com/valueexploration/valueexp", version: "unknown",
		goVersion: runtime.Version(), platform: runtime.GOOS + "/" + runtime.GOARCH,
		kernels: kernels.SIMD(), levels: kernels.AvailableLevels(),
	}
	bi, ok := debug.ReadBuildInfo()
	if !ok {
		return b
	}
	if bi.Main.Path != "" {
		b.module = bi.Main.Path
	}
	if bi.Main.Version != "" {
		b.version = bi.Main.Version
	}
	if bi.GoVersion != "" {
		b.goVersion = bi.GoVersion
	}
	for _, s := range bi.Settings {
		switch s.Key {
		case "vcs.revision":
			b.revision = s.Value
		case "vcs.time":
			b.time = s.Value
		case "vcs.modified":
			b.modified = s.Value == "true"
		}
	}
	return b
}

func (b buildInfo) write(w io.Writer) {
	fmt.Fprintf(w, "valueexp %s\n", b.version)
	fmt.Fprintf(w, "  module    %s\n", b.module)
	rev, when := b.revision, b.time
	if rev == "" {
		rev = "unknown (no VCS stamp: built by go run, with -buildvcs=false, or outside a git checkout)"
	} else if b.modified {
		rev += " (with uncommitted changes)"
	}
	if when == "" {
		when = "unknown"
	}
	fmt.Fprintf(w, "  revision  %s\n", rev)
	fmt.Fprintf(w, "  time      %s\n", when)
	fmt.Fprintf(w, "  go        %s %s\n", b.goVersion, b.platform)
	level := b.kernels
	if level == "generic" && len(b.levels) == 1 {
		level += " (pure Go; this CPU has no assembly kernel level)"
	} else if level == "generic" {
		level += " (pure Go, chosen by VALUEEXP_CPU or VALUEEXP_NOSIMD)"
	}
	fmt.Fprintf(w, "  kernels   %s\n", level)
	fmt.Fprintf(w, "  levels    %s (VALUEEXP_CPU picks one)\n", strings.Join(b.levels, ", "))
}

func runVersion(e *env, args []string) error {
	fs := newFlags(e, "version", "")
	if err := parseFlags(fs, args, false); err != nil {
		return err
	}
	readBuildInfo().write(e.stdout)
	return nil
}
