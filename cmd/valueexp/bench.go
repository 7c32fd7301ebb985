package main

import (
	"bufio"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"runtime"
	"runtime/pprof"
	"strconv"
	"strings"
	"time"

	"github.com/valueexploration/valueexp/engine"
	"github.com/valueexploration/valueexp/engine/bench"
	"github.com/valueexploration/valueexp/engine/kernels"
	"github.com/valueexploration/valueexp/weights"
)

const benchHelp = `Measures prompt processing (ppN: N random tokens, BOS first, in one forward
pass, logits for the last token only) and text generation (tgN: N one-token
decode steps from an empty sequence, BOS first), like llama-bench. With
--stats it also times stN, the statistics pass of "valueexp record": a ppN
batch counting activations at every layer's mlp.hook_act, stopping after the
last one (no LM head). Each test runs once to warm up (tg: one token), then -r
times; t/s is the mean ± sample standard deviation. For each -t value the
process runs with GOMAXPROCS = that value, so -t 1 uses one core as
llama-bench's does.`

// intList is a flag holding comma-separated non-negative integers ("1,2").
type intList []int

func (l *intList) String() string {
	parts := make([]string, len(*l))
	for i, v := range *l {
		parts[i] = strconv.Itoa(v)
	}
	return strings.Join(parts, ",")
}

func (l *intList) Set(s string) error {
	var out intList
	for _, f := range strings.Split(s, ",") {
		v, err := strconv.Atoi(strings.TrimSpace(f))
		if err != nil || v < 0 {
			return fmt.Errorf("want comma-separated non-negative integers, got %q", s)
		}
		out = append(out, v)
	}
	*l = out
	return nil
}

// benchRow is one test's result in llama-bench's JSON field names.
type benchRow struct {
	ModelFilename string    `json:"model_filename"`
	ModelType     string    `json:"model_type"`
	ModelSize     int64     `json:"model_size"`
	ModelNParams  int64     `json:"model_n_params"`
	Backends      string    `json:"backends"`
	NThreads      int       `json:"n_threads"`
	Test          string    `json:"test"`
	NPrompt       int       `json:"n_prompt"`
	NGen          int       `json:"n_gen"`
	TestTime      string    `json:"test_time"`
	AvgNs         int64     `json:"avg_ns"`
	StddevNs      int64     `json:"stddev_ns"`
	AvgTs         float64   `json:"avg_ts"`
	StddevTs      float64   `json:"stddev_ts"`
	SamplesNs     []int64   `json:"samples_ns"`
	SamplesTs     []float64 `json:"samples_ts"`
	Synthetic     bool      `json:"synthetic"`
}

func runBench(e *env, args []string) error {
	fs := newFlags(e, "bench", "--model PATH [-p 512] [--max-tokens 128] [--threads 2] [-r 3] [--stats] [--bandwidth] [--no-mmap] [--json] [--seed 1] [--cpuprofile FILE]\n\n"+benchHelp)
	model := fs.String("model", "", "model `PATH`: a .gguf file, a .safetensors file or a Hugging Face folder")
	prompts := intList{512}
	gens := intList{128}
	threads := intList{runtime.GOMAXPROCS(0)}
	fs.Var(&prompts, "p", "prompt lengths, comma-separated `LIST` (0: no pp test)")
	fs.Var(&gens, "max-tokens", "generated tokens per tg test, comma-separated `LIST` (0: no tg test)")
	fs.Var(&threads, "threads", "thread counts, comma-separated `LIST`")
	fs.alias("n", "max-tokens")
	fs.alias("t", "threads")
	reps := fs.Int("r", 3, "repetitions of each test")
	stats := fs.Bool("stats", false, "also time the statistics pass (stN) for each -p")
	bandwidth := fs.Bool("bandwidth", false, "after each tg test, measure the machine's read bandwidth with the same threads and print the share of it decode used")
	noMmap := fs.Bool("no-mmap", false, "copy the weights into memory (huge pages where the OS offers them) instead of reading the mapped file, as llama-bench's -mmp 0")
	asJSON := fs.Bool("json", false, "print a JSON array, one object per test, with llama-bench's field names")
	cpuprofile := fs.String("cpuprofile", "", "write a CPU profile of the measured runs (warm-ups included) to `FILE`")
	seed := fs.Uint64("seed", 1, "random seed for the token ids")
	if err := parseFlags(fs, args, false); err != nil {
		return err
	}
	if *model == "" {
		return usageErr("--model is required")
	}
	if *reps < 1 {
		return usageErr("-r must be at least 1")
	}
	for _, t := range threads {
		if t < 1 {
			return usageErr("--threads (-t) values must be at least 1")
		}
		if t > maxThreads {
			return usageErr("--threads (-t) %d: at most %d", t, maxThreads)
		}
	}
	w, err := weights.Open(*model)
	if err != nil {
		return err
	}
	defer w.Close()
	if *noMmap {
		if err := w.LoadIntoMemory(); err != nil {
			return err
		}
	}
	if err := checkBenchLengths(w.Config.ContextLength, prompts, gens); err != nil {
		return err
	}
	desc := describeModel(w)

	if *cpuprofile != "" {
		if err := checkOutNotInput(*cpuprofile, *model); err != nil {
			return err
		}
		f, err := os.Create(*cpuprofile)
		if err != nil {
			return err
		}
		if err := pprof.StartCPUProfile(f); err != nil {
			f.Close()
			return err
		}
		defer func() {
			pprof.StopCPUProfile()
			f.Close()
		}()
	}

	var tests []bench.Test
	for _, p := range prompts {
		if p > 0 {
			tests = append(tests, bench.Test{Kind: bench.Prompt, N: p})
			if *stats {
				tests = append(tests, bench.Test{Kind: bench.Statistics, N: p})
			}
		}
	}
	for _, n := range gens {
		if n > 0 {
			tests = append(tests, bench.Test{Kind: bench.Generation, N: n})
		}
	}
	if len(tests) == 0 {
		return usageErr("no tests: -p and --max-tokens (-n) are all 0")
	}

	var table *benchTable
	if !*asJSON {
		table = newBenchTable(e.stdout)
	}
	var rows []benchRow
	var bwLines []string // --bandwidth's findings, printed after the table
	ctx := context.Background()
	prevProcs := runtime.GOMAXPROCS(0)
	defer runtime.GOMAXPROCS(prevProcs)
	for _, t := range threads {
		runtime.GOMAXPROCS(t)
		m, err := engine.New(w, engine.Options{Threads: t})
		if err != nil {
			return err
		}
		runner := bench.NewRunner(m, *reps)
		runner.Seed = *seed
		for _, test := range tests {
			res, err := runner.Run(ctx, test)
			if err != nil {
				m.Close()
				return err
			}
			row := desc.row(res)
			rows = append(rows, row)
			if table != nil {
				table.add(desc, row)
			}
			if *bandwidth && test.Kind == bench.Generation {
				line, err := bandwidthLine(desc, res, t)
				if err != nil {
					m.Close()
					return err
				}
				bwLines = append(bwLines, line)
			}
		}
		m.Close()
	}
	if *asJSON {
		enc := json.NewEncoder(e.stdout)
		enc.SetIndent("", "  ")
		if err := enc.Encode(rows); err != nil {
			return err
		}
	}
	for _, l := range bwLines {
		fmt.Fprintln(e.stderr, l)
	}
	if hwm := peakRSS(); hwm != "" {
		fmt.Fprintf(e.stderr, "peak resident memory (VmHWM): %s; model tensors %s\n", hwm, humanBytes(desc.size))
	}
	return nil
}

// bandwidthBytes is the buffer the read-bandwidth measurement streams:
// many times any CPU's last-level cache, small beside a model's weights.
const bandwidthBytes = 512 << 20

// bandwidthLine measures the read bandwidth with threads goroutines right
// after a tg test and says what share of it the test's decode used.
func bandwidthLine(desc modelDesc, res *bench.Result, threads int) (string, error) {
	bw, err := bench.ReadBandwidth(threads, bandwidthBytes, 5)
	if err != nil {
		return "", err
	}
	tps, _ := bench.MeanStd(res.TokensPerSecond())
	read := float64(desc.decodeBytes) * tps
	return fmt.Sprintf("%s, %d threads: decode reads %.1f GB/s (%s of weights per token × %.2f tokens/s); read bandwidth %.1f GB/s (best of 5 passes over %s, %d threads, measured after the test): %.0f%%",
		res.Test.Name(), threads, read/1e9, humanBytes(desc.decodeBytes), tps, bw/1e9, humanBytes(bandwidthBytes), threads, 100*read/bw), nil
}

// modelDesc is what every result row says about the model.
type modelDesc struct {
	file, typ string
	size      int64 // bytes of tensor data
	// decodeBytes is the tensor bytes one decode step reads (see
	// bench.DecodeBytes).
	decodeBytes int64
	params      int64
	synthetic   bool
}

func describeModel(w *weights.Model) modelDesc {
	d := modelDesc{file: filepath.Base(w.Path), params: w.Params()}
	bytesOf := map[weights.DType]int64{}
	for _, t := range w.Tensors {
		n := int64(len(t.Data))
		d.size += n
		if len(t.Shape) == 2 {
			bytesOf[t.DType] += n
		}
	}
	var embBytes int64
	embRows := 0
	if t, ok := w.Tensors["token_embd.weight"]; ok && len(t.Shape) == 2 {
		embBytes, embRows = int64(len(t.Data)), t.Rows()
	}
	d.decodeBytes = bench.DecodeBytes(d.size, embBytes, embRows, w.Config.TiedEmbeddings)
	ftype := ""
	if w.GGUF != nil {
		if v, ok := w.GGUF.Int("general.file_type"); ok {
			ftype = fileTypeName(v)
		}
		d.synthetic, _ = w.GGUF.Bool("valueexp.synthetic")
	}
	if ftype == "" { // the type holding most of the matrix bytes
		var best int64
		for t, n := range bytesOf {
			if n > best {
				best, ftype = n, t.String()
			}
		}
	}
	d.typ = fmt.Sprintf("%s %s %s", w.Config.Arch, humanCount(d.params), ftype)
	if d.synthetic {
		d.typ += " (random)"
	}
	return d
}

// fileTypeName names llama.cpp's general.file_type values as llama-bench prints them.
func fileTypeName(v int64) string {
	names := map[int64]string{
		0: "all F32", 1: "F16", 2: "Q4_0", 3: "Q4_1", 7: "Q8_0", 8: "Q5_0", 9: "Q5_1",
		10: "Q2_K - Medium", 11: "Q3_K - Small", 12: "Q3_K - Medium", 13: "Q3_K - Large",
		14: "Q4_K - Small", 15: "Q4_K - Medium", 16: "Q5_K - Small", 17: "Q5_K - Medium",
		18: "Q6_K", 32: "BF16",
	}
	return names[v]
}

func (d modelDesc) row(r *bench.Result) benchRow {
	ts := r.TokensPerSecond()
	avgTs, sdTs := bench.MeanStd(ts)
	ns := make([]float64, len(r.Times))
	samplesNs := make([]int64, len(r.Times))
	for i, t := range r.Times {
		ns[i], samplesNs[i] = float64(t.Nanoseconds()), t.Nanoseconds()
	}
	avgNs, sdNs := bench.MeanStd(ns)
	return benchRow{
		ModelFilename: d.file, ModelType: d.typ, ModelSize: d.size, ModelNParams: d.params,
		Backends: "Go " + kernels.SIMD(), NThreads: r.Threads,
		Test: r.Test.Name(), NPrompt: r.NPrompt(), NGen: r.NGen(), TestTime: time.Now().UTC().Format(time.RFC3339),
		AvgNs: int64(avgNs), StddevNs: int64(sdNs), AvgTs: avgTs, StddevTs: sdTs,
		SamplesNs: samplesNs, SamplesTs: ts, Synthetic: d.synthetic,
	}
}

// benchTable prints llama-bench's Markdown table, a row as each test ends.
type benchTable struct {
	w      *bufio.Writer
	header bool
}

func newBenchTable(w io.Writer) *benchTable { return &benchTable{w: bufio.NewWriter(w)} }

func (t *benchTable) add(d modelDesc, r benchRow) {
	if !t.header {
		fmt.Fprintf(t.w, "| %-36s | %10s | %10s | %-12s | %7s | %8s | %20s |\n", "model", "size", "params", "backend", "threads", "test", "t/s")
		fmt.Fprintf(t.w, "| %s | %s: | %s: | %s | %s: | %s: | %s: |\n", strings.Repeat("-", 36), strings.Repeat("-", 9), strings.Repeat("-", 9), strings.Repeat("-", 12), strings.Repeat("-", 6), strings.Repeat("-", 7), strings.Repeat("-", 19))
		t.header = true
	}
	fmt.Fprintf(t.w, "| %-36s | %10s | %10s | %-12s | %7d | %8s | %20s |\n",
		d.typ, humanBytes(d.size), fmt.Sprintf("%.2f M", float64(d.params)/1e6), r.Backends, r.NThreads, r.Test,
		fmt.Sprintf("%.2f ± %.2f", r.AvgTs, r.StddevTs))
	t.w.Flush()
}

func humanBytes(n int64) string {
	if n >= 1<<30 {
		return fmt.Sprintf("%.2f GiB", float64(n)/(1<<30))
	}
	return fmt.Sprintf("%.2f MiB", float64(n)/(1<<20))
}

// humanCount rounds a parameter count like llama.cpp's model type names ("494M", "1.2B").
func humanCount(n int64) string {
	if n >= 1e9 {
		return fmt.Sprintf("%.1fB", float64(n)/1e9)
	}
	return fmt.Sprintf("%dM", (n+500_000)/1_000_000)
}

// peakRSS returns the process's peak resident set (Linux VmHWM), or "".
func peakRSS() string {
	b, err := os.ReadFile("/proc/self/status")
	if err != nil {
		return ""
	}
	for _, line := range strings.Split(string(b), "\n") {
		if v, ok := strings.CutPrefix(line, "VmHWM:"); ok {
			return strings.TrimSpace(v)
		}
	}
	return ""
}
