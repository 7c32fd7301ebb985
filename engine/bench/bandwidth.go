package bench

import (
	"fmt"
	"sync"
	"time"

	"github.com/valueexploration/valueexp/engine/kernels"
)

// ReadBandwidth measures how fast threads goroutines together read size
// bytes of memory that no cache holds: each streams its share of a
// float32 buffer through kernels.DotF32 (the engine's own streaming
// kernel, so the figure is what a kernel reading weights could reach), and
// the best of reps passes is returned in bytes per second, as STREAM
// reports its best. size should be several times the last-level cache; the
// buffer is written once first so that every page is resident.
func ReadBandwidth(threads, size, reps int) (float64, error) {
	if threads < 1 || reps < 1 {
		return 0, fmt.Errorf("bench: read bandwidth: %d threads, %d passes; need at least 1 of each", threads, reps)
	}
	per := size / 4 / threads / 2 &^ 63 // float32s in each half of a thread's share
	if per < 1024 {
		return 0, fmt.Errorf("bench: read bandwidth: %d bytes is too small for %d threads", size, threads)
	}
	buf := make([]float32, 2*per*threads)
	for i := range buf {
		buf[i] = float32(i & 7)
	}
	sink := make([]float32, threads)
	best := 0.0
	for range reps {
		var wg sync.WaitGroup
		start := time.Now()
		for t := range threads {
			share := buf[2*per*t : 2*per*(t+1)]
			wg.Add(1)
			go func() {
				defer wg.Done()
				sink[t] += kernels.DotF32(share[:per], share[per:])
			}()
		}
		wg.Wait()
		if s := time.Since(start).Seconds(); s > 0 {
			best = max(best, float64(4*len(buf))/s)
		}
	}
	return best, nil
}

// DecodeBytes is the weight bytes one decode step reads from memory: every
// tensor's data, except that the token embedding counts as one row when the
// output head is a matrix of its own (tied embeddings are read whole, as the
// head).
func DecodeBytes(tensorBytes, embeddingBytes int64, embeddingRows int, tied bool) int64 {
	if tied || embeddingRows <= 0 {
		return tensorBytes
	}
	return tensorBytes - embeddingBytes + embeddingBytes/int64(embeddingRows)
}
