package bench

import "testing"

func TestDecodeBytes(t *testing.T) {
	for _, c := range []struct {
		name       string
		total, emb int64
		rows       int
		tied       bool
		want       int64
	}{
		{"tied head reads the whole embedding", 1000, 400, 100, true, 1000},
		{"own head: one embedding row", 1000, 400, 100, false, 1000 - 400 + 4},
		{"no embedding matrix", 1000, 0, 0, false, 1000},
	} {
		if got := DecodeBytes(c.total, c.emb, c.rows, c.tied); got != c.want {
			t.Errorf("%s: DecodeBytes = %d, want %d", c.name, got, c.want)
		}
	}
}

func TestReadBandwidthRejects(t *testing.T) {
	for _, c := range []struct{ threads, size, reps int }{{0, 1 << 20, 1}, {1, 1 << 20, 0}, {2, 1000, 1}} {
		if _, err := ReadBandwidth(c.threads, c.size, c.reps); err == nil {
			t.Errorf("ReadBandwidth(%d, %d, %d): no error", c.threads, c.size, c.reps)
		}
	}
}

func TestReadBandwidthMeasures(t *testing.T) {
	// 16 MiB read in 2 passes: any machine that runs the tests reads more
	// than 100 MB/s, and none reads 10 TB/s from memory.
	bw, err := ReadBandwidth(2, 16<<20, 2)
	if err != nil {
		t.Fatal(err)
	}
	if bw < 1e8 || bw > 1e13 {
		t.Errorf("ReadBandwidth = %.3g bytes/s, outside 1e8..1e13", bw)
	}
}
