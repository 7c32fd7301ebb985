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

// count checks that every range of c lies inside a job of total items
// (without overflow, whatever the numbers) and returns how many items c
// holds, which it checks is at most total; it allocates nothing, so it can
// run before set.
func (c Coverage) count(total int) (int, error) {
	if total < 0 || total > MaxItems {
		return 0, fmt.Errorf("job of %d items is outside [0, %d]", total, MaxItems)
	}
	n := 0
	for _, s := range c {
		if s.Count < 0 || s.Step <= 0 || s.Start < 0 {
			return 0, fmt.Errorf("bad item range %+v", s)
		}
		if s.Count == 0 {
			continue
		}
		// The last item, Start+(Count-1)*Step, must be below total;
		// divide instead of multiplying so that nothing overflows.
		if s.Start >= total || (total-1-s.Start)/s.Step < s.Count-1 {
			return 0, fmt.Errorf("item range %+v goes beyond the job's %d items", s, total)
		}
		n += s.Count // each Count ≤ total ≤ MaxItems: no overflow
		if n > total {
			return 0, fmt.Errorf("ranges hold more than the job's %d items, so some item is counted twice", total)
		}
	}
	return n, nil
}

// itemSet is a set of item indices, one bit per item of a job.
type itemSet struct {
	bits  []uint64
	total int
}

func (s itemSet) has(i int) bool { return s.bits[i/64]&(1<<(i%64)) != 0 }

// set returns which of total items c holds, or an error naming an item
// counted twice or out of range. It takes total/8 bytes and time linear in
// the items held, after count has bounded both.
func (c Coverage) set(total int) (itemSet, error) {
	if _, err := c.count(total); err != nil {
		return itemSet{}, err
	}
	m := itemSet{bits: make([]uint64, (total+63)/64), total: total}
	for _, s := range c {
		for k := range s.Count {
			i := s.Start + k*s.Step
			if m.has(i) {
				return itemSet{}, fmt.Errorf("item %d is counted twice", i)
			}
			m.bits[i/64] |= 1 << (i % 64)
		}
	}
	return m, nil
}

// runs rewrites the set as maximal contiguous runs, so that a complete
// merge reads the same as a single run. It skips empty and full words 64
// items at a time, so a large job with few items counted costs little.
func (s itemSet) runs() Coverage {
	c := Coverage{}
	start := -1 // first item of the open run, or -1
	for w, word := range s.bits {
		if start < 0 && word == 0 || start >= 0 && word == ^uint64(0) {
			continue
		}
		for b := range 64 {
			i := w*64 + b
			if i >= s.total {
				break
			}
			in := word&(1<<b) != 0
			if in && start < 0 {
				start = i
			} else if !in && start >= 0 {
				c = append(c, Stride{Start: start, Step: 1, Count: i - start})
				start = -1
			}
		}
	}
	if start >= 0 {
		c = append(c, Stride{Start: start, Step: 1, Count: s.total - start})
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
