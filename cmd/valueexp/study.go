package main

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"runtime/debug"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/valueexploration/valueexp/engine"
	"github.com/valueexploration/valueexp/engine/bench"
	"github.com/valueexploration/valueexp/internal/atomicfile"
	"github.com/valueexploration/valueexp/tokenizer"
	"github.com/valueexploration/valueexp/valueexp/cvoice"
	"github.com/valueexploration/valueexp/valueexp/evaluate"
	"github.com/valueexploration/valueexp/valueexp/identify"
	"github.com/valueexploration/valueexp/valueexp/record"
)

// studyFlags are the settings of a whole study, passed on to its stages.
type studyFlags struct {
	model, data, out, lang string
	batchTokens            int
	method                 string
	pooled, noRandom       bool
	seed                   uint64
	maxItems               int
	swap, sameLang         bool
	chat                   string
	generate               bool
	maxTokens              int
	title                  string
	demo                   bool
	threads                int
}

// studyStage is one step of a study: a valueexp command with its files.
type studyStage struct {
	name     string
	args     []string // the command and its flags, without --threads
	inputs   []string // files the manifest records the SHA-256 of
	outputs  []string // files it writes
	partials []string // its checkpoints, kept when an interrupted run resumes
	model    bool     // the manifest records the model fingerprint
}

// stageManifest is written next to a stage's output once it is done; the
// stage is skipped while the manifest still matches.
type stageManifest struct {
	Stage            string            `json:"stage"`
	Args             []string          `json:"args"`
	Inputs           map[string]string `json:"inputs"`
	ModelFingerprint string            `json:"model_fingerprint,omitempty"`
	CodeVersion      string            `json:"code_version"`
	Outputs          map[string]string `json:"outputs,omitempty"`
}

// runStudy runs record → identify → evaluate → report into one folder,
// skipping the stages whose manifest still matches and resuming the one
// that was interrupted.
func runStudy(e *env, args []string) error {
	fs := newFlags(e, "study", "--model PATH [--data FILE.jsonl] --out DIR [--dry-run] [stage flags]")
	var f studyFlags
	fs.StringVar(&f.model, "model", "", "model `PATH`: a .gguf file, a .safetensors file or a Hugging Face folder")
	fs.StringVar(&f.data, "data", "", "C-voice JSONL `FILE` (default: the embedded sample)")
	fs.StringVar(&f.out, "out", "", "study `DIR`: every stage's output and manifest")
	fs.StringVar(&f.lang, "lang", "both", "languages: zh, en or both")
	fs.IntVar(&f.batchTokens, "batch-tokens", 2048, "tokens packed into one forward pass (record and evaluate)")
	fs.StringVar(&f.method, "method", "vape", "identify: selection `METHOD`, vape or diff")
	fs.BoolVar(&f.pooled, "pooled", false, "identify: sum each value's languages into one tag (default: per language)")
	fs.BoolVar(&f.noRandom, "no-random-control", false, "identify and evaluate: no random same-size control sets")
	fs.Uint64Var(&f.seed, "seed", 1, "seed of the random control sets")
	fs.IntVar(&f.maxItems, "max-items", 0, "evaluate: items per value and language (0: all)")
	fs.BoolVar(&f.swap, "swap-order", false, "evaluate: also ask every item with the aligned option second")
	fs.BoolVar(&f.sameLang, "same-language", false, "evaluate: a per-language set only on its own language")
	fs.StringVar(&f.chat, "chat", "auto", "evaluate: chat template auto, on or off")
	fs.BoolVar(&f.generate, "generate", false, "also evaluate in generate mode (the authors' prompt; much slower)")
	fs.IntVar(&f.maxTokens, "max-tokens", 250, "generate mode: answer length")
	fs.StringVar(&f.title, "title", "", "report `TITLE`")
	fs.BoolVar(&f.demo, "demo", false, "report: mark the report as a demonstration on a random-weight model")
	fs.IntVar(&f.threads, "threads", 0, "worker threads (0: all cores)")
	fs.alias("n", "max-tokens")
	fs.alias("t", "threads")
	dry := fs.Bool("dry-run", false, "print the work of every stage and an estimated time, then stop")
	if err := parseFlags(fs, args, false); err != nil {
		return err
	}
	if f.model == "" || f.out == "" {
		return usageErr("--model and --out are required")
	}
	if _, err := parseLanguages(f.lang); err != nil {
		return err
	}
	if f.method != "vape" && f.method != "diff" {
		return usageErr("--method %q: want vape or diff", f.method)
	}
	if f.batchTokens <= 0 || f.maxItems < 0 || f.maxTokens <= 0 {
		return usageErr("--batch-tokens and --max-tokens must be positive, --max-items ≥ 0")
	}
	stages := f.stages()
	if *dry {
		return studyDryRun(e, &f, stages)
	}
	if err := os.MkdirAll(filepath.Join(f.out, "manifests"), 0o755); err != nil {
		return err
	}
	fp, err := modelFingerprint(f.model)
	if err != nil {
		return err
	}
	version := codeVersion()
	cmds := commands()
	kills := map[string]int{}
	rerun := "" // the stage whose rerun forces the later ones
	start := time.Now()
	for i, s := range stages {
		want, err := s.manifest(fp, version)
		if err != nil {
			return fmt.Errorf("study: %s: %w", s.name, err)
		}
		mpath := filepath.Join(f.out, "manifests", s.name+".json")
		why := ""
		if rerun != "" {
			why = "the earlier stage " + rerun + " was run again"
		} else {
			why = s.stale(want, mpath)
		}
		if why == "" {
			fmt.Fprintf(e.stderr, "study [%d/%d] %s: up to date, skipped (manifest %s matches)\n", i+1, len(stages), s.name, mpath)
			continue
		}
		pending := filepath.Join(f.out, "manifests", s.name+".pending")
		wantJSON, _ := json.Marshal(want) // strings only: cannot fail
		if old, err := os.ReadFile(pending); err == nil && bytes.Equal(old, wantJSON) {
			why += "; resuming its interrupted run"
		} else {
			// Another job's checkpoints and outputs must not be resumed.
			for _, p := range slices.Concat(s.partials, s.outputs) {
				if err := os.Remove(p); err != nil && !errors.Is(err, os.ErrNotExist) {
					return err
				}
			}
		}
		if err := os.Remove(mpath); err != nil && !errors.Is(err, os.ErrNotExist) {
			return err
		}
		if err := atomicfile.WriteFile(pending, wantJSON, 0o644); err != nil {
			return err
		}
		fmt.Fprintf(e.stderr, "study [%d/%d] %s: running (%s)\n$ valueexp %s\n", i+1, len(stages), s.name, why, quoteArgs(s.args))
		killPoint(e, kills, "stage")
		t0 := time.Now()
		runArgs := s.args[1:]
		if s.name != "identify" && s.name != "report" {
			runArgs = append(slices.Clone(runArgs), "--threads", strconv.Itoa(f.threads))
		}
		if err := cmds[s.args[0]].run(e, runArgs); err != nil {
			return fmt.Errorf("study: stage %s: %w (run the same study command again to resume)", s.name, err)
		}
		killPoint(e, kills, "stage")
		want.Outputs = map[string]string{}
		for _, o := range s.outputs {
			if want.Outputs[o], err = fileSHA256(o); err != nil {
				return fmt.Errorf("study: stage %s did not write %s: %w", s.name, o, err)
			}
		}
		b, _ := json.MarshalIndent(want, "", " ")
		if err := atomicfile.WriteFile(mpath, append(b, '\n'), 0o644); err != nil {
			return err
		}
		os.Remove(pending)
		fmt.Fprintf(e.stderr, "study %s: done in %s\n", s.name, time.Since(t0).Round(100*time.Millisecond))
		rerun = s.name
	}
	fmt.Fprintf(e.stderr, "study: all stages done in %s; the report is %s\n", time.Since(start).Round(100*time.Millisecond), filepath.Join(f.out, "report", "report.md"))
	return nil
}

// stages returns the study's stages in order.
func (f *studyFlags) stages() []studyStage {
	p := func(name string) string { return filepath.Join(f.out, name) }
	counts, neurons, results := p("counts.safetensors"), p("neurons.json"), p("results.json")
	var dataIn []string
	data := func(args []string) []string {
		if f.data != "" {
			return append(args, "--data", f.data)
		}
		return args
	}
	if f.data != "" {
		dataIn = []string{f.data}
	}
	bt := strconv.Itoa(f.batchTokens)
	rec := studyStage{name: "record", model: true, inputs: dataIn, outputs: []string{counts}, partials: []string{record.CheckpointPath(counts)},
		args: data([]string{"record", "--model", f.model, "--lang", f.lang, "--count", "text", "--batch-tokens", bt, "--checkpoint-every", "1", "--out", counts})}
	id := []string{"identify", "--counts", counts, "--method", f.method, "--seed", strconv.FormatUint(f.seed, 10), "--out", neurons}
	if f.pooled {
		id = append(id, "--pooled")
	} else {
		id = append(id, "--per-language")
	}
	if !f.noRandom {
		id = append(id, "--random-control")
	}
	ident := studyStage{name: "identify", args: id, inputs: []string{counts}, outputs: []string{neurons}}
	evalStage := func(name, mode, out string) studyStage {
		a := data([]string{"evaluate", "--model", f.model, "--neurons", neurons, "--mode", mode, "--lang", f.lang,
			"--max-items", strconv.Itoa(f.maxItems), "--chat", f.chat, "--seed", strconv.FormatUint(f.seed, 10), "--batch-tokens", bt})
		if mode == string(evaluate.Generation) {
			a = append(a, "--max-tokens", strconv.Itoa(f.maxTokens))
		}
		for _, b := range []struct {
			on   bool
			flag string
		}{{f.swap, "--swap-order"}, {f.sameLang, "--same-language"}, {f.noRandom, "--no-random-control"}} {
			if b.on {
				a = append(a, b.flag)
			}
		}
		a = append(a, "--out", out)
		return studyStage{name: name, model: true, args: a, inputs: append([]string{neurons}, dataIn...), outputs: []string{out}, partials: []string{record.CheckpointPath(out)}}
	}
	stages := []studyStage{rec, ident, evalStage("evaluate", string(evaluate.Likelihood), results)}
	if f.generate {
		stages = append(stages, evalStage("evaluate-generate", string(evaluate.Generation), p("results-generate.json")))
	}
	rep := []string{"report", "--counts", counts, "--neurons", neurons, "--results", results, "--out", p("report")}
	if f.title != "" {
		rep = append(rep, "--title", f.title)
	}
	if f.demo {
		rep = append(rep, "--demo")
	}
	stages = append(stages, studyStage{name: "report", args: rep, inputs: []string{counts, neurons, results}, outputs: []string{filepath.Join(p("report"), "report.md")}})
	return stages
}

// manifest returns the stage's manifest before it runs (no outputs yet).
func (s *studyStage) manifest(fp, version string) (*stageManifest, error) {
	m := &stageManifest{Stage: s.name, Args: s.args, Inputs: map[string]string{}, CodeVersion: version}
	if s.model {
		m.ModelFingerprint = fp
	}
	for _, in := range s.inputs {
		sum, err := fileSHA256(in)
		if err != nil {
			return nil, fmt.Errorf("input %s: %w", in, err)
		}
		m.Inputs[in] = sum
	}
	return m, nil
}

// stale says why the stage must run, "" when its manifest matches.
func (s *studyStage) stale(want *stageManifest, path string) string {
	b, err := os.ReadFile(path)
	if err != nil {
		return "no manifest yet"
	}
	var have stageManifest
	if err := json.Unmarshal(b, &have); err != nil {
		return "its manifest is unreadable"
	}
	switch {
	case !slices.Equal(have.Args, want.Args):
		return "its flags changed: " + argDiff(have.Args, want.Args)
	case have.ModelFingerprint != want.ModelFingerprint:
		return "the model changed"
	case have.CodeVersion != want.CodeVersion:
		return fmt.Sprintf("the code changed (%s, was %s)", want.CodeVersion, have.CodeVersion)
	}
	for in, sum := range want.Inputs {
		if have.Inputs[in] != sum {
			return "its input " + in + " changed"
		}
	}
	for _, o := range s.outputs {
		sum, err := fileSHA256(o)
		if err != nil || sum != have.Outputs[o] {
			return "its output " + o + " is missing or was changed"
		}
	}
	return ""
}

// argDiff names the flags that differ between two argument lists, as
// "--flag old → new".
func argDiff(a, b []string) string {
	flags := func(args []string) (map[string]string, []string) {
		m, order := map[string]string{}, []string{}
		for i := 0; i < len(args); i++ {
			if !strings.HasPrefix(args[i], "--") {
				continue
			}
			v := "(set)"
			if i+1 < len(args) && !strings.HasPrefix(args[i+1], "--") {
				v = args[i+1]
			}
			m[args[i]] = v
			order = append(order, args[i])
		}
		return m, order
	}
	fa, oa := flags(a)
	fb, ob := flags(b)
	var out []string
	for _, k := range ob {
		if old, ok := fa[k]; !ok {
			out = append(out, k+" added")
		} else if old != fb[k] {
			out = append(out, k+" "+old+" → "+fb[k])
		}
	}
	for _, k := range oa {
		if _, ok := fb[k]; !ok {
			out = append(out, k+" removed")
		}
	}
	return strings.Join(out, ", ")
}

// modelFingerprint identifies the model's weights (record.Fingerprint).
func modelFingerprint(path string) (string, error) {
	m, err := engine.Load(path, engine.Options{Threads: 1})
	if err != nil {
		return "", err
	}
	defer m.Close()
	return record.Fingerprint(m.Weights), nil
}

// codeVersion is the module version and VCS revision the binary was built
// from, so a rebuilt program reruns its stages.
func codeVersion() string {
	bi, ok := debug.ReadBuildInfo()
	if !ok {
		return "unknown"
	}
	v := bi.Main.Version
	for _, s := range bi.Settings {
		switch s.Key {
		case "vcs.revision":
			v += " " + s.Value
		case "vcs.modified":
			if s.Value == "true" {
				v += "+modified"
			}
		}
	}
	return v
}

// studyPlan is the work of one stage as the dry run counts it.
type studyPlan struct {
	stage      string
	texts      int   // texts (record) or (condition, item) units (evaluate)
	tokens     int64 // forward-pass tokens
	decode     int64 // at most this many decode steps' tokens (generate)
	conditions int
	passes     int
	questions  int   // questions asked; unshared/questions is their mean length
	unshared   int64 // tokens without prefix sharing
	seconds    float64
}

// studyDryRun prints every stage's work and an estimated time from a
// short benchmark of the model on this machine, without running anything.
func studyDryRun(e *env, f *studyFlags, stages []studyStage) error {
	langs, _ := parseLanguages(f.lang)
	m, tok, err := loadModelAndTokenizer(f.model, f.threads)
	if err != nil {
		return err
	}
	defer m.Close()
	plans, err := planStudy(f, m, tok, langs, stages)
	if err != nil {
		return err
	}
	recordLen, evalLen := 0, 0
	for _, p := range plans {
		switch {
		case p.stage == "record" && p.texts > 0:
			recordLen = int(p.tokens) / p.texts
		case strings.HasPrefix(p.stage, "evaluate") && p.questions > 0:
			evalLen = int(p.unshared) / p.questions
		}
	}
	rates, err := measureRates(m, recordLen, evalLen)
	if err != nil {
		return err
	}
	fmt.Fprintf(e.stdout, "study dry run: %s on %d threads; benchmark: %.0f tok/s statistics pass (%d-token texts), %.0f tok/s prompt pass (%d-token questions), %.1f tok/s decode\n",
		f.model, m.Threads(), rates.st, recordLen, rates.pp, evalLen, rates.tg)
	fmt.Fprintf(e.stdout, "%-18s %8s %10s %10s %7s %12s %10s\n", "stage", "texts", "tokens", "conditions", "passes", "est. time", "est. CPU")
	var total, totalCPU float64
	for i := range plans {
		p := &plans[i]
		var cpu float64
		switch p.stage {
		case "record":
			p.seconds, cpu = float64(p.tokens)/rates.st, perRate(p.tokens, rates.stCPU)
		case "evaluate":
			p.seconds, cpu = float64(p.tokens)/rates.pp, perRate(p.tokens, rates.ppCPU)
		case "evaluate-generate":
			p.seconds = float64(p.tokens)/rates.pp + float64(p.decode)/rates.tg
			cpu = perRate(p.tokens, rates.ppCPU) + perRate(p.decode, rates.tgCPU)
		}
		total += p.seconds
		totalCPU += cpu
		tokens := strconv.FormatInt(p.tokens, 10)
		if p.decode > 0 {
			tokens += fmt.Sprintf(" + ≤%d decode", p.decode)
		}
		fmt.Fprintf(e.stdout, "%-18s %8d %10s %10d %7d %12s %10s\n", p.stage, p.texts, tokens, p.conditions, p.passes, secs(p.seconds), secs(cpu))
	}
	fmt.Fprintf(e.stdout, "estimated time: %s at the speed measured now; %s of CPU time, about %s on %d idle cores (forward passes only; generate mode is an upper bound)\n",
		secs(total), secs(totalCPU), secs(totalCPU/float64(m.Threads())), m.Threads())
	return nil
}

// perRate returns tokens / rate in seconds, 0 when the rate is unknown.
func perRate(tokens int64, rate float64) float64 {
	if rate <= 0 {
		return 0
	}
	return float64(tokens) / rate
}

func secs(s float64) string {
	return time.Duration(s * float64(time.Second)).Round(time.Second).String()
}

// planStudy counts each stage's work.
func planStudy(f *studyFlags, m *engine.Model, tok *tokenizer.Tokenizer, langs []cvoice.Language, stages []studyStage) ([]studyPlan, error) {
	items, err := loadRecordItems(f.data)
	if err != nil {
		return nil, err
	}
	units, tags, err := record.Units(items, langs, record.ModeText)
	if err != nil {
		return nil, err
	}
	job := &record.Job{Model: m, Encode: func(s string) []int32 { return tok.Encode(s, tokenizer.EncodeOptions{AddSpecial: true}) },
		Units: units, Tags: tags, Mode: record.ModeText, BatchTokens: f.batchTokens, Out: "-"}
	rp, err := job.PlanText()
	if err != nil {
		return nil, err
	}
	plans := []studyPlan{{stage: "record", texts: rp.Texts, tokens: rp.Tokens, passes: rp.Passes}, {stage: "identify"}}
	ds, _, err := loadData(f.data)
	if err != nil {
		return nil, err
	}
	ds = ds.Select(cvoice.Query{Languages: langs})
	// The conditions identify will produce: one set per tag, its random
	// controls (identify's default number of draws, which study does not
	// change), and the plain model. Planning needs only their names and
	// languages.
	conds := []evaluate.Condition{{Name: "none", Kind: "none"}}
	for _, t := range tags {
		if f.pooled {
			break
		}
		_, lang := record.SplitTag(t)
		conds = append(conds, evaluate.Condition{Name: t, Kind: "deactivate", Language: lang})
		if !f.noRandom {
			conds = append(conds, studyControls(t, lang)...)
		}
	}
	if f.pooled {
		for _, v := range cvoice.Values() {
			conds = append(conds, evaluate.Condition{Name: v.Chinese, Kind: "deactivate"})
			if !f.noRandom {
				conds = append(conds, studyControls(v.Chinese, "")...)
			}
		}
	}
	chat := f.chat == "on" || (f.chat == "auto" && tok.ChatTemplate() != "")
	for _, s := range stages {
		mode := evaluate.Likelihood
		switch s.name {
		case "evaluate":
		case "evaluate-generate":
			mode = evaluate.Generation
		default:
			if s.name == "report" {
				plans = append(plans, studyPlan{stage: "report"})
			}
			continue
		}
		w, err := evaluate.Plan(m, tok, ds, conds, evaluate.Options{Mode: mode, SwapOrder: f.swap, MaxItems: f.maxItems, MaxTokens: f.maxTokens,
			Chat: chat, SameLanguage: f.sameLang, BatchTokens: f.batchTokens})
		if err != nil {
			return nil, err
		}
		t := w.Total()
		q := t.Units
		if f.swap {
			q *= 2
		}
		plans = append(plans, studyPlan{stage: s.name, texts: t.Units, tokens: t.Tokens, decode: t.MaxDecodeTokens, conditions: len(conds), passes: t.Passes, questions: q, unshared: t.Unshared})
	}
	return plans, nil
}

// studyRates are measured throughputs: tokens per second of wall time, and
// tokens per second of this process's CPU time (all threads), which does not
// depend on what else the machine is running.
type studyRates struct {
	st, pp, tg          float64
	stCPU, ppCPU, tgCPU float64
}

// measureRates runs a short benchmark (engine/bench) shaped like the
// study's passes: a statistics pass over texts of record's mean length, a
// prompt pass over evaluate's mean question length, and 16 decode steps;
// each five times after a warm-up, keeping the median (the machine may be
// shared).
func measureRates(m *engine.Model, recordLen, evalLen int) (studyRates, error) {
	clamp := func(n int) int {
		n = max(n, 16)
		if cl := m.Config.ContextLength; cl > 0 {
			n = min(n, cl)
		}
		return n
	}
	r := bench.NewRunner(m, 5)
	var rates studyRates
	for _, t := range []struct {
		test     bench.Test
		dst, cpu *float64
	}{
		{bench.Test{Kind: bench.Statistics, N: clamp(recordLen)}, &rates.st, &rates.stCPU},
		{bench.Test{Kind: bench.Prompt, N: clamp(evalLen)}, &rates.pp, &rates.ppCPU},
		{bench.Test{Kind: bench.Generation, N: 16}, &rates.tg, &rates.tgCPU},
	} {
		c0 := processCPU()
		res, err := r.Run(context.Background(), t.test)
		if err != nil {
			return rates, err
		}
		cpu := processCPU() - c0
		ts := res.TokensPerSecond()
		slices.Sort(ts)
		*t.dst = ts[len(ts)/2]
		if cpu > 0 {
			// The warm-up ran the test once more (tg: one token).
			n := float64(t.test.N * len(res.Times))
			if t.test.Kind == bench.Generation {
				n++
			} else {
				n += float64(t.test.N)
			}
			*t.cpu = n / cpu.Seconds()
		}
	}
	return rates, nil
}

// studyControls are the random-control conditions evaluate runs for set
// name: one per draw identify writes by default.
func studyControls(name, lang string) []evaluate.Condition {
	out := make([]evaluate.Condition, identify.DefaultRandomDraws)
	for d := range out {
		out[d] = evaluate.Condition{Name: identify.ControlName(name, d+1), Kind: "random", Language: lang, ControlOf: name}
	}
	return out
}
