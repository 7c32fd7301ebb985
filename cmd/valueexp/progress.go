package main

import (
	"fmt"
	"os"
	"time"
)

// progress reports how far a long command is: a bar redrawn in place on a
// terminal, a plain line every ten seconds otherwise (logs, CI).
type progress struct {
	e        *env
	label    string
	start    time.Time
	last     time.Time
	terminal bool
	drawn    bool
}

func newProgress(e *env, label string) *progress {
	p := &progress{e: e, label: label, start: time.Now()}
	if f, ok := e.stderr.(*os.File); ok {
		if st, err := f.Stat(); err == nil && st.Mode()&os.ModeCharDevice != 0 {
			p.terminal = true
		}
	}
	return p
}

// update shows done of total items and, if tokens > 0, the token rate.
func (p *progress) update(done, total int, tokens int64) {
	now := time.Now()
	if !p.terminal && now.Sub(p.last) < 10*time.Second && done < total {
		return
	}
	if p.terminal && now.Sub(p.last) < 100*time.Millisecond && done < total {
		return
	}
	p.last = now
	el := now.Sub(p.start)
	eta := "?"
	if done > 0 {
		eta = (time.Duration(float64(el) / float64(done) * float64(total-done))).Round(time.Second).String()
	}
	rate := ""
	if tokens > 0 {
		rate = fmt.Sprintf("  %.0f tok/s", float64(tokens)/el.Seconds())
	}
	if p.terminal {
		const width = 30
		fill := 0
		if total > 0 {
			fill = width * done / total
		}
		bar := make([]byte, width)
		for i := range bar {
			bar[i] = '.'
			if i < fill {
				bar[i] = '#'
			}
		}
		fmt.Fprintf(p.e.stderr, "\r%s [%s] %d/%d%s  ETA %s ", p.label, bar, done, total, rate, eta)
		p.drawn = true
		return
	}
	fmt.Fprintf(p.e.stderr, "%s: %d/%d%s, ETA %s\n", p.label, done, total, rate, eta)
}

func (p *progress) finish() {
	if p.drawn {
		fmt.Fprintln(p.e.stderr)
	}
}
