package main

import (
	"flag"
	"strconv"

	"github.com/valueexploration/valueexp/weights"
)

// maxThreads bounds --threads: every thread is a worker goroutine (and for
// bench a GOMAXPROCS setting, which allocates per-thread runtime state), so
// a mistyped --threads 1000000000 would exhaust memory before any work.
// No machine this runs on has anywhere near this many cores.
const maxThreads = 1024

// checkThreadsFlag refuses a --threads value above maxThreads for every
// command that defines an int --threads flag.
func checkThreadsFlag(fs *flagSet) error {
	f := fs.Lookup("threads")
	if f == nil {
		return nil
	}
	if g, ok := f.Value.(flag.Getter); ok {
		if n, ok := g.Get().(int); ok && n > maxThreads {
			return usageErr("--threads %s: at most %d", strconv.Itoa(n), maxThreads)
		}
	}
	return nil
}

// checkBenchLengths refuses -p and -n values the model cannot hold: a ppN
// test is one forward pass of N tokens and a tgN test grows one sequence to
// N+1 tokens, so both must fit the context length. Without this, -p
// 1000000000000 allocated the token list (and then the activations) before
// failing.
func checkBenchLengths(contextLength int, prompts, gens intList) error {
	if contextLength <= 0 {
		return nil
	}
	for _, p := range prompts {
		if p > contextLength {
			return usageErr("-p %d: more tokens than the model's context length %d", p, contextLength)
		}
	}
	for _, n := range gens {
		if n >= contextLength {
			return usageErr("--max-tokens (-n) %d: with BOS that is more tokens than the model's context length %d", n, contextLength)
		}
	}
	return nil
}

// maxDumpBytes bounds what dump holds in memory: it keeps every token's
// logits and three activations of every layer until it writes the file.
const maxDumpBytes = 4 << 30

// checkDumpSize refuses a dump whose token count exceeds the context length
// or whose captured tensors would exceed maxDumpBytes, before the forward
// pass allocates them (a long --prompt or --tokens list on a real model
// otherwise ran out of memory: 151936 logits per token are 600 KB).
func checkDumpSize(c weights.Config, n int) error {
	if c.ContextLength > 0 && n > c.ContextLength {
		return usageErr("%d tokens: more than the model's context length %d", n, c.ContextLength)
	}
	perToken := 4 * (int64(c.VocabSize) + int64(c.Layers)*(2*int64(c.FFNSize)+int64(c.HiddenSize)))
	if perToken > 0 && int64(n) > maxDumpBytes/perToken {
		return usageErr("%d tokens: dump keeps logits and activations in memory, %d bytes per token; at most %d tokens fit its %d GiB budget", n, perToken, maxDumpBytes/perToken, maxDumpBytes>>30)
	}
	return nil
}
