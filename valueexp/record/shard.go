package record

import (
	"fmt"
	"slices"
	"strconv"
	"strings"
)

// Shard is part Index (0-based) of Count parts of a job.
type Shard struct {
	Index int `json:"index"`
	Count int `json:"count"`
}

// Whole is the single shard covering the whole job.
var Whole = Shard{Index: 0, Count: 1}

// String returns "i/n".
func (s Shard) String() string { return fmt.Sprintf("%d/%d", s.Index, s.Count) }

// Valid reports whether 0 ≤ Index < Count.
func (s Shard) Valid() bool { return s.Count > 0 && s.Index >= 0 && s.Index < s.Count }

// Size returns how many of total items the shard takes.
func (s Shard) Size(total int) int {
	if total <= s.Index {
		return 0
	}
	return (total-s.Index-1)/s.Count + 1
}

// Item returns the global index of the shard's k-th item.
func (s Shard) Item(k int) int { return s.Index + k*s.Count }

// The environment variables that give a shard index when the flag says
// "auto": Kubernetes Indexed Jobs and Slurm job arrays.
const (
	EnvKubernetesIndex = "JOB_COMPLETION_INDEX"
	EnvSlurmIndex      = "SLURM_ARRAY_TASK_ID"
)

// ParseShard reads "i/n", or "auto/n" taking i from JOB_COMPLETION_INDEX or,
// failing that, SLURM_ARRAY_TASK_ID (via getenv). An empty string is the
// whole job. Slurm array ids start wherever the user's --array range does;
// the index must lie in [0, n).
func ParseShard(s string, getenv func(string) string) (Shard, error) {
	if s == "" {
		return Whole, nil
	}
	is, ns, ok := strings.Cut(s, "/")
	if !ok {
		return Shard{}, fmt.Errorf("shard %q: want i/n or auto/n", s)
	}
	n, err := strconv.Atoi(ns)
	if err != nil || n <= 0 {
		return Shard{}, fmt.Errorf("shard %q: count %q is not a positive integer", s, ns)
	}
	from := ""
	if is == "auto" {
		for _, name := range []string{EnvKubernetesIndex, EnvSlurmIndex} {
			if v := strings.TrimSpace(getenv(name)); v != "" {
				is, from = v, " (from $"+name+")"
				break
			}
		}
		if from == "" {
			return Shard{}, fmt.Errorf("shard %q: neither $%s nor $%s is set", s, EnvKubernetesIndex, EnvSlurmIndex)
		}
	}
	i, err := strconv.Atoi(is)
	if err != nil {
		return Shard{}, fmt.Errorf("shard %q: index %q%s is not an integer", s, is, from)
	}
	sh := Shard{Index: i, Count: n}
	if !sh.Valid() {
		return Shard{}, fmt.Errorf("shard %q: index %d%s is outside [0, %d)", s, i, from, n)
	}
	return sh, nil
}

// Stride is the item indices Start, Start+Step, ... (Count of them) of a job.
type Stride struct {
	Start int `json:"start"`
	Step  int `json:"step"`
	Count int `json:"count"`
}

// Coverage lists which items of a job a counts file holds.
type Coverage []Stride

// covered returns the shard's first done items as a coverage.
func shardCoverage(s Shard, done int) Coverage {
	if done == 0 {
		return Coverage{}
	}
	return Coverage{{Start: s.Index, Step: s.Count, Count: done}}
}

// mask returns which of total items c holds, or an error naming an item
// counted twice or out of range.
func (c Coverage) mask(total int) ([]bool, error) {
	m := make([]bool, total)
	for _, s := range c {
		if s.Count < 0 || s.Step <= 0 || s.Start < 0 {
			return nil, fmt.Errorf("bad item range %+v", s)
		}
		for k := range s.Count {
			i := s.Start + k*s.Step
			if i >= total {
				return nil, fmt.Errorf("item %d out of range (the job has %d)", i, total)
			}
			if m[i] {
				return nil, fmt.Errorf("item %d is counted twice", i)
			}
			m[i] = true
		}
	}
	return m, nil
}

// normalize rewrites a coverage as maximal contiguous runs, so that a
// complete merge reads the same as a single run.
func normalize(m []bool) Coverage {
	c := Coverage{}
	for i := 0; i < len(m); {
		if !m[i] {
			i++
			continue
		}
		j := i
		for j < len(m) && m[j] {
			j++
		}
		c = append(c, Stride{Start: i, Step: 1, Count: j - i})
		i = j
	}
	return c
}

// Items returns the number of items c holds.
func (c Coverage) Items() int {
	n := 0
	for _, s := range c {
		n += s.Count
	}
	return n
}

func (c Coverage) equal(o Coverage) bool { return slices.Equal(c, o) }
