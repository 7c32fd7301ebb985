package kernels

import (
	"fmt"
	"os"
	"slices"
	"strings"
)

// kernelSet is one implementation of every kernel. The generic set is
// complete; a SIMD set starts as a copy of it and replaces what it speeds up,
// so a kernel without assembly silently keeps its Go version.
type kernelSet struct {
	name string

	dotF32   func(a, b []float32) float32
	axpyF32  func(y []float32, alpha float32, x []float32)
	scaleF32 func(x []float32, s float32)
	gemmF32  func(c, a, b []float32, m, n, k int)

	dotF16  func(w []byte, x []float32) float32
	dotBF16 func(w []byte, x []float32) float32

	quantizeQ8_0 func(dst []byte, x []float32)
	quantizeQ8_1 func(dst []byte, x []float32)
	quantizeQ8_K func(dst []byte, x []float32)

	dotQ8_0 func(w, a []byte, n int) float32
	dotQ4_0 func(w, a []byte, n int) float32
	dotQ5_0 func(w, a []byte, n int) float32
	dotQ4_1 func(w, a []byte, n int) float32
	dotQ5_1 func(w, a []byte, n int) float32
	dotQ2_K func(w, a []byte, n int) float32
	dotQ3_K func(w, a []byte, n int) float32
	dotQ4_K func(w, a []byte, n int) float32
	dotQ5_K func(w, a []byte, n int) float32
	dotQ6_K func(w, a []byte, n int) float32

	silu    func(dst, x []float32)
	swiglu  func(dst, gate, up []float32)
	rmsNorm func(dst, x, w []float32, eps float32)
	softmax func(x []float32)

	// The multi-row matrix products behind MatMul*; nil where the set has
	// none, and then MatMul* loops over the single dots.
	matMulF32  func(dst []float32, ldd int, w [][]float32, x []float32, n, k int)
	matMulF16  func(dst []float32, ldd int, w [][]byte, x []float32, n, k int)
	matMulBF16 func(dst []float32, ldd int, w [][]byte, x []float32, n, k int)
	matMulQ8   func(dst []float32, ldd int, f Q8Format, w [][]byte, a *Q8Acts)
	// decodeQ8 is MatMulQ8 for batches too small for matMulQ8 (a decode
	// step): several rows per pass, no unpacking.
	decodeQ8 func(dst []float32, ldd int, f Q8Format, w [][]byte, a *Q8Acts)
	// matMulK is MatMulQ8K's tile path for Q4_K and Q6_K weights.
	matMulK func(dst []float32, ldd int, f KFormat, w [][]byte, a *Q8KActs)

	// weightedSum8 is WeightedSumF32 for len(out) a multiple of 8; nil
	// means a loop of axpyF32.
	weightedSum8 func(out, p, v []float32, ldv int)
}

// genericKernels is the portable pure-Go implementation of every kernel.
var genericKernels = kernelSet{
	name:         "generic",
	dotF32:       dotF32Generic,
	axpyF32:      axpyF32Generic,
	scaleF32:     scaleF32Generic,
	gemmF32:      gemmF32Generic,
	dotF16:       dotF16Generic,
	dotBF16:      dotBF16Generic,
	quantizeQ8_0: quantizeQ8_0Generic,
	quantizeQ8_1: quantizeQ8_1Generic,
	quantizeQ8_K: quantizeQ8_KGeneric,
	dotQ8_0:      dotQ8_0Generic,
	dotQ4_0:      dotQ4_0Generic,
	dotQ5_0:      dotQ5_0Generic,
	dotQ4_1:      dotQ4_1Generic,
	dotQ5_1:      dotQ5_1Generic,
	dotQ2_K:      dotQ2_KGeneric,
	dotQ3_K:      dotQ3_KGeneric,
	dotQ4_K:      dotQ4_KGeneric,
	dotQ5_K:      dotQ5_KGeneric,
	dotQ6_K:      dotQ6_KGeneric,
	silu:         siluGeneric,
	swiglu:       swigluGeneric,
	rmsNorm:      rmsNormGeneric,
	softmax:      softmaxGeneric,
}

// active is the kernel set every exported function calls through. It is
// chosen once, at start-up, and never changes afterwards. levelErr is the
// *LevelError of an unknown VALUEEXP_CPU, or nil.
var (
	active   *kernelSet
	levelErr error
)

// init chooses the kernels; a variable initialiser cannot, because the
// tile kernels in a set call back through active.
func init() { active, levelErr = selectFromEnv() }

// selectFromEnv applies VALUEEXP_CPU and VALUEEXP_NOSIMD to this machine's
// levels. A level the CPU lacks is a warning on stderr, not an error, so
// that one script runs everywhere; the choice must still be reported.
func selectFromEnv() (*kernelSet, error) {
	ks, warn, err := selectLevel(os.Getenv("VALUEEXP_CPU"), os.Getenv("VALUEEXP_NOSIMD"), availableLevels(), knownLevels())
	if warn != "" {
		fmt.Fprintln(os.Stderr, warn)
	}
	if err != nil {
		return ks, err
	}
	return ks, nil
}

// availableLevels lists the kernel sets this CPU can run, slowest first:
// the generic set, then the architecture's own levels (simdLevels).
func availableLevels() []*kernelSet {
	return append([]*kernelSet{&genericKernels}, simdLevels()...)
}

// knownLevels lists every level name this build accepts in VALUEEXP_CPU,
// whether or not the CPU has it.
func knownLevels() []string {
	return append([]string{"auto", "generic"}, archLevelNames()...)
}

// LevelError reports a VALUEEXP_CPU value that names no kernel level. The
// package then runs the best level the CPU has; commands check Err and
// refuse to run, so a typo is not silently ignored.
type LevelError struct {
	Value string   // the value of VALUEEXP_CPU
	Known []string // the names this build accepts
}

func (e *LevelError) Error() string {
	return fmt.Sprintf("VALUEEXP_CPU=%q names no kernel level; this build knows %s", e.Value, strings.Join(e.Known, ", "))
}

// Err returns the *LevelError for an unknown VALUEEXP_CPU value, or nil.
func Err() error { return levelErr }

// selectLevel picks from avail (slowest first) the level named by cpu: the
// best one for "" and "auto"; the best one with a warning when the CPU
// lacks the named level; the best one and a *LevelError when the name is
// not one of known. noSIMD "1" or "true" (VALUEEXP_NOSIMD) forces generic
// unless cpu names a level.
func selectLevel(cpu, noSIMD string, avail []*kernelSet, known []string) (ks *kernelSet, warn string, err *LevelError) {
	best := avail[len(avail)-1]
	cpu = strings.ToLower(strings.TrimSpace(cpu))
	if cpu == "" || cpu == "auto" {
		if noSIMD == "1" || noSIMD == "true" {
			return avail[0], "", nil
		}
		return best, "", nil
	}
	for _, l := range avail {
		if l.name == cpu {
			return l, "", nil
		}
	}
	if !slices.Contains(known, cpu) {
		return best, "", &LevelError{Value: cpu, Known: known}
	}
	return best, fmt.Sprintf("valueexp: VALUEEXP_CPU=%s: this CPU lacks that kernel level; using %s (available: %s)",
		cpu, best.name, strings.Join(levelNames(avail), ", ")), nil
}

// SIMD names the active kernel level: "generic" for the pure-Go kernels,
// otherwise the architecture's name for it (on amd64 "avx2", "avxvnni" or
// "avx512").
func SIMD() string { return active.name }

// AvailableLevels lists the kernel levels this CPU can run, slowest first;
// VALUEEXP_CPU accepts any of them.
func AvailableLevels() []string { return levelNames(availableLevels()) }

func levelNames(sets []*kernelSet) []string {
	out := make([]string, len(sets))
	for i, s := range sets {
		out[i] = s.name
	}
	return out
}
