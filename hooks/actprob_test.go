package hooks

import (
	"bytes"
	"math"
	"math/rand/v2"
	"path/filepath"
	"slices"
	"strings"
	"testing"

	"github.com/valueexploration/valueexp/weights/safetensors"
)

func TestIsPositiveEveryClass(t *testing.T) {
	cases := append(slices.Clone(special),
		math.Float32frombits(0x7F800001), // smallest positive-sign NaN
		math.Float32frombits(0x7FFFFFFF), // largest positive-sign NaN
		math.Float32frombits(0x80000001), // smallest negative subnormal
		math.Float32frombits(0x7F7FFFFF), // MaxFloat32
	)
	for _, v := range cases {
		want := uint64(0)
		if v > 0 {
			want = 1
		}
		if got := isPositive(v); got != want {
			t.Errorf("isPositive(%v, bits %#08x) = %d, want %d", v, math.Float32bits(v), got, want)
		}
	}
	// An exhaustive sweep over a stride of all bit patterns.
	for b := uint64(0); b < 1<<32; b += 65521 {
		v := math.Float32frombits(uint32(b))
		want := uint64(0)
		if v > 0 {
			want = 1
		}
		if got := isPositive(v); got != want {
			t.Fatalf("isPositive(bits %#08x) = %d, want %d", b, got, want)
		}
	}
}

func TestCountPositiveEveryLength(t *testing.T) {
	rng := rand.New(rand.NewPCG(13, 14))
	for n := range 40 {
		x := randomTensor(rng, 1, n, 0.3)
		cnt := make([]uint64, n+1) // one spare entry that must stay untouched
		for i := range cnt {
			cnt[i] = 5
		}
		countPositive(cnt[:n], x)
		for j := range n {
			want := uint64(5)
			if x[j] > 0 {
				want = 6
			}
			if cnt[j] != want {
				t.Fatalf("n=%d: cnt[%d] = %d, want %d (x = %v)", n, j, cnt[j], want, x[j])
			}
		}
		if cnt[n] != 5 {
			t.Fatalf("n=%d: wrote past the end", n)
		}
	}
}

// bruteActProb is the reference: plain comparisons, one element at a time.
type bruteActProb struct {
	count  map[[3]int]uint64
	tokens map[[2]int]uint64
}

func (b *bruteActProb) add(layer int, x []float32, rows *Rows, nRows, dim, tags int) {
	for r := range nRows {
		tag := int(rows.Tag[r])
		if tag < 0 || tag >= tags {
			continue
		}
		b.tokens[[2]int{tag, layer}]++
		for j := range dim {
			if x[r*dim+j] > 0 {
				b.count[[3]int{tag, layer, j}]++
			}
		}
	}
}

func TestActProbMatchesBruteForce(t *testing.T) {
	rng := rand.New(rand.NewPCG(11, 12))
	const layers, dim, tags = 3, 70, 4
	c, err := NewActProb(SiteMLPAct, layers, dim, tags)
	must(t, err)
	ref := &bruteActProb{count: map[[3]int]uint64{}, tokens: map[[2]int]uint64{}}
	badRows := 0
	for call := range 40 {
		nRows := 1 + rng.IntN(30)
		layer := rng.IntN(layers)
		rows := randomRows(rng, nRows, tags+1, Phase(1+call%2)) // tags+1 creates some bad tags
		for _, tg := range rows.Tag {
			if int(tg) >= tags {
				badRows++
			}
		}
		x := randomTensor(rng, nRows, dim, 0.3)
		c.Observe(Point{Layer: layer, Site: SiteMLPAct}, Tensor{Data: x, Rows: nRows, Cols: dim}, rows)
		ref.add(layer, x, rows, nRows, dim, tags)
	}
	for tag := range tags {
		for l := range layers {
			if got, want := c.Tokens[tag*layers+l], ref.tokens[[2]int{tag, l}]; got != want {
				t.Errorf("tokens[%d][%d] = %d, want %d", tag, l, got, want)
			}
			for j := range dim {
				if got, want := c.Count[(tag*layers+l)*dim+j], ref.count[[3]int{tag, l, j}]; got != want {
					t.Fatalf("count[%d][%d][%d] = %d, want %d", tag, l, j, got, want)
				}
			}
		}
	}
	if c.BadTags != uint64(badRows) {
		t.Errorf("BadTags = %d, want %d", c.BadTags, badRows)
	}
	if badRows == 0 {
		t.Error("test data has no bad tags; the check is vacuous")
	}
	// Prob is the ratio of the two.
	if n := c.Tokens[1*layers+2]; n > 0 {
		want := float64(c.Count[(1*layers+2)*dim+5]) / float64(n)
		if got := c.Prob(1, 2, 5); got != want {
			t.Errorf("Prob = %v, want %v", got, want)
		}
	}
}

func TestActProbIgnoresOtherPoints(t *testing.T) {
	c, err := NewActProb(SiteMLPAct, 2, 3, 1)
	must(t, err)
	x := []float32{1, 1, 1}
	rows := &Rows{Tag: []int32{0}}
	for _, p := range []Point{{Layer: 0, Site: SiteMLPPre}, {Layer: 2, Site: SiteMLPAct}, {Layer: -1, Site: SiteMLPAct}} {
		c.Observe(p, Tensor{Data: x, Rows: 1, Cols: 3}, rows)
	}
	if slices.ContainsFunc(c.Count, func(v uint64) bool { return v != 0 }) || c.Tokens[0]+c.Tokens[1] != 0 {
		t.Error("counted at a point it does not apply to")
	}
}

func TestNewActProbErrors(t *testing.T) {
	for _, tc := range []struct {
		site              Site
		layers, dim, tags int
	}{
		{SiteLogits, 1, 1, 1}, {SiteEmbed, 1, 1, 1}, {NumSites, 1, 1, 1},
		{SiteMLPAct, 0, 1, 1}, {SiteMLPAct, 1, 0, 1}, {SiteMLPAct, 1, 1, 0}, {SiteMLPAct, -1, 1, 1},
		{SiteMLPAct, 1 << 20, 1 << 20, 1 << 20},
	} {
		if _, err := NewActProb(tc.site, tc.layers, tc.dim, tc.tags); err == nil {
			t.Errorf("NewActProb(%v, %d, %d, %d) accepted", tc.site, tc.layers, tc.dim, tc.tags)
		}
	}
}

// feedShards runs the same random calls into one counter and into shards
// chosen at random, returning both.
func feedShards(t *testing.T, seed uint64, nShards int) (*ActProb, []*ActProb) {
	rng := rand.New(rand.NewPCG(seed, 0))
	const layers, dim, tags = 2, 33, 3
	one, err := NewActProb(SiteMLPAct, layers, dim, tags)
	must(t, err)
	shards := make([]*ActProb, nShards)
	for i := range shards {
		shards[i], err = NewActProb(SiteMLPAct, layers, dim, tags)
		must(t, err)
	}
	for range 30 {
		nRows := 1 + rng.IntN(20)
		p := Point{Layer: rng.IntN(layers), Site: SiteMLPAct}
		rows := randomRows(rng, nRows, tags, Prefill)
		x := randomTensor(rng, nRows, dim, 0.1)
		tt := Tensor{Data: x, Rows: nRows, Cols: dim}
		one.Observe(p, tt, rows)
		shards[rng.IntN(nShards)].Observe(p, tt, rows)
	}
	return one, shards
}

func TestActProbMerge(t *testing.T) {
	one, shards := feedShards(t, 21, 3)
	merged, err := NewActProb(SiteMLPAct, one.Layers, one.Dim, one.Tags)
	must(t, err)
	for _, s := range shards {
		must(t, merged.Merge(s))
	}
	if !slices.Equal(merged.Count, one.Count) || !slices.Equal(merged.Tokens, one.Tokens) {
		t.Error("merged shards differ from one pass")
	}
	for _, other := range []*ActProb{
		{Site: SiteMLPPre, Layers: one.Layers, Dim: one.Dim, Tags: one.Tags},
		{Site: SiteMLPAct, Layers: one.Layers + 1, Dim: one.Dim, Tags: one.Tags},
		{Site: SiteMLPAct, Layers: one.Layers, Dim: one.Dim, Tags: one.Tags + 1},
	} {
		if err := merged.Merge(other); err == nil {
			t.Errorf("merge with %v [%d,%d,%d] accepted", other.Site, other.Tags, other.Layers, other.Dim)
		}
	}
	a, _ := NewActProb(SiteMLPAct, 1, 1, 2)
	b, _ := NewActProb(SiteMLPAct, 1, 1, 2)
	a.TagNames, b.TagNames = []string{"x", "y"}, []string{"y", "x"}
	if err := a.Merge(b); err == nil {
		t.Error("merge with different tag names accepted")
	}
}

func TestActProbSaveLoad(t *testing.T) {
	c, _ := feedShards(t, 31, 1)
	c.TagNames = []string{"富强", "民主", "none"}
	c.Model = "Qwen/Qwen2.5-0.5B"
	path := filepath.Join(t.TempDir(), "counts.safetensors")
	must(t, c.Save(path))
	got, err := LoadActProb(path)
	must(t, err)
	if got.Site != c.Site || got.Layers != c.Layers || got.Dim != c.Dim || got.Tags != c.Tags ||
		!slices.Equal(got.Count, c.Count) || !slices.Equal(got.Tokens, c.Tokens) ||
		!slices.Equal(got.TagNames, c.TagNames) || got.Model != c.Model {
		t.Errorf("round trip changed the counter:\n got %+v\nwant %+v", got, c)
	}

	// The file is plain safetensors with the documented layout.
	var buf bytes.Buffer
	if _, err := c.WriteTo(&buf); err != nil {
		t.Fatal(err)
	}
	f, err := safetensors.Parse(buf.Bytes())
	must(t, err)
	cnt, ok := f.Tensor("count")
	if !ok || cnt.DType != "I64" || !slices.Equal(cnt.Shape, []int{3, 2, 33}) {
		t.Errorf("count tensor: %+v", cnt)
	}
	tok, ok := f.Tensor("tokens")
	if !ok || tok.DType != "I64" || !slices.Equal(tok.Shape, []int{3, 2}) {
		t.Errorf("tokens tensor: %+v", tok)
	}
	vals, err := tok.Int64s()
	must(t, err)
	for i, v := range vals {
		if uint64(v) != c.Tokens[i] {
			t.Errorf("tokens[%d] = %d in the file, %d in memory", i, v, c.Tokens[i])
		}
	}
	for k, want := range map[string]string{"format": "valueexp.actprob", "version": "1", "site": "mlp.hook_act",
		"tags": `["富强","民主","none"]`, "model": "Qwen/Qwen2.5-0.5B"} {
		if f.Metadata[k] != want {
			t.Errorf("metadata %q = %q, want %q", k, f.Metadata[k], want)
		}
	}
	if _, err := LoadActProb(filepath.Join(t.TempDir(), "missing.safetensors")); err == nil {
		t.Error("missing file loaded")
	}
}

// writeST builds a safetensors file for the error table.
func writeST(t *testing.T, tensors []safetensors.Tensor, meta map[string]string) []byte {
	t.Helper()
	var buf bytes.Buffer
	must(t, safetensors.Write(&buf, tensors, meta))
	return buf.Bytes()
}

func TestParseActProbErrors(t *testing.T) {
	meta := func(edit func(m map[string]string)) map[string]string {
		m := map[string]string{"format": "valueexp.actprob", "version": "1", "site": "mlp.hook_act", "tags": `["a"]`, "model": "m"}
		if edit != nil {
			edit(m)
		}
		return m
	}
	i64 := func(v ...int64) []byte { return safetensors.Int64Bytes(v) }
	count := safetensors.Tensor{Name: "count", DType: "I64", Shape: []int{1, 1, 2}, Data: i64(1, 2)}
	tokens := safetensors.Tensor{Name: "tokens", DType: "I64", Shape: []int{1, 1}, Data: i64(2)}
	with := func(tt safetensors.Tensor, edit func(*safetensors.Tensor)) safetensors.Tensor {
		tt.Shape = slices.Clone(tt.Shape)
		edit(&tt)
		return tt
	}
	// The valid base case parses.
	if _, err := ParseActProb(writeST(t, []safetensors.Tensor{count, tokens}, meta(nil))); err != nil {
		t.Fatalf("valid file rejected: %v", err)
	}
	for _, tc := range []struct {
		name    string
		tensors []safetensors.Tensor
		meta    map[string]string
		errHas  string
	}{
		{"wrong format", []safetensors.Tensor{count, tokens}, meta(func(m map[string]string) { m["format"] = "other" }), "format"},
		{"no format", []safetensors.Tensor{count, tokens}, meta(func(m map[string]string) { delete(m, "format") }), "format"},
		{"version 2", []safetensors.Tensor{count, tokens}, meta(func(m map[string]string) { m["version"] = "2" }), "version"},
		{"bad site", []safetensors.Tensor{count, tokens}, meta(func(m map[string]string) { m["site"] = "mlp.hook_gate" }), "site"},
		{"model-level site", []safetensors.Tensor{count, tokens}, meta(func(m map[string]string) { m["site"] = "hook_logits" }), "site"},
		{"tags not JSON", []safetensors.Tensor{count, tokens}, meta(func(m map[string]string) { m["tags"] = "a,b" }), "tags"},
		{"tags wrong count", []safetensors.Tensor{count, tokens}, meta(func(m map[string]string) { m["tags"] = `["a","b"]` }), "tag names"},
		{"no count", []safetensors.Tensor{tokens}, meta(nil), "count"},
		{"no tokens", []safetensors.Tensor{count}, meta(nil), "tokens"},
		{"count F32", []safetensors.Tensor{with(count, func(x *safetensors.Tensor) { x.DType = "F32"; x.Data = x.Data[:8] }), tokens}, meta(nil), "count"},
		{"count 2-D", []safetensors.Tensor{with(count, func(x *safetensors.Tensor) { x.Shape = []int{1, 2} }), tokens}, meta(nil), "count"},
		{"tokens shape", []safetensors.Tensor{count, with(tokens, func(x *safetensors.Tensor) { x.Shape = []int{1} })}, meta(nil), "tokens"},
		{"tokens I32", []safetensors.Tensor{count, with(tokens, func(x *safetensors.Tensor) { x.DType = "I32"; x.Shape = []int{1, 2} })}, meta(nil), "tokens"},
		{"count exceeds tokens", []safetensors.Tensor{with(count, func(x *safetensors.Tensor) { x.Data = i64(3, 0) }), tokens}, meta(nil), "exceeds"},
		{"negative count", []safetensors.Tensor{with(count, func(x *safetensors.Tensor) { x.Data = i64(-1, 0) }), tokens}, meta(nil), "negative"},
		{"zero dim", []safetensors.Tensor{with(count, func(x *safetensors.Tensor) { x.Shape = []int{1, 1, 0}; x.Data = nil }), tokens}, meta(nil), "positive"},
	} {
		_, err := ParseActProb(writeST(t, tc.tensors, tc.meta))
		if err == nil || !strings.Contains(err.Error(), tc.errHas) {
			t.Errorf("%s: err = %v, want one mentioning %q", tc.name, err, tc.errHas)
		}
	}
	if _, err := ParseActProb([]byte("not a safetensors file")); err == nil {
		t.Error("garbage accepted")
	}
}

func FuzzParseActProb(f *testing.F) {
	c, err := NewActProb(SiteMLPAct, 2, 3, 2)
	if err != nil {
		f.Fatal(err)
	}
	c.Count[1], c.Tokens[0] = 1, 4
	c.TagNames = []string{"a", "b"}
	var buf bytes.Buffer
	if _, err := c.WriteTo(&buf); err != nil {
		f.Fatal(err)
	}
	f.Add(buf.Bytes())
	f.Add(buf.Bytes()[:20])
	f.Add([]byte{})
	f.Fuzz(func(t *testing.T, b []byte) {
		c, err := ParseActProb(b)
		if err != nil {
			return
		}
		// Whatever parses must survive a round trip unchanged.
		var out bytes.Buffer
		if _, err := c.WriteTo(&out); err != nil {
			t.Fatalf("parsed counter does not write: %v", err)
		}
		c2, err := ParseActProb(out.Bytes())
		if err != nil {
			t.Fatalf("written counter does not parse: %v", err)
		}
		if !slices.Equal(c.Count, c2.Count) || !slices.Equal(c.Tokens, c2.Tokens) || !slices.Equal(c.TagNames, c2.TagNames) {
			t.Fatal("round trip changed the counter")
		}
	})
}

// BenchmarkActProbObserve measures one call on a Qwen2.5-0.5B-sized FFN
// activation: 64 rows × 4864 neurons, random signs.
func BenchmarkActProbObserve(b *testing.B) {
	const nRows, dim, layers, tags = 64, 4864, 24, 12
	rng := rand.New(rand.NewPCG(1, 1))
	c, err := NewActProb(SiteMLPAct, layers, dim, tags)
	if err != nil {
		b.Fatal(err)
	}
	x := randomTensor(rng, nRows, dim, 0)
	rows := randomRows(rng, nRows, tags, Prefill)
	for i := range rows.Tag {
		rows.Tag[i] = int32(i % tags)
	}
	tt := Tensor{Data: x, Rows: nRows, Cols: dim}
	p := Point{Layer: 7, Site: SiteMLPAct}
	b.SetBytes(int64(len(x) * 4))
	for b.Loop() {
		c.Observe(p, tt, rows)
	}
	b.ReportMetric(float64(b.Elapsed().Nanoseconds())/float64(b.N*nRows), "ns/row")
}

// BenchmarkCountPositiveBranchy is the comparison point for the branch-free
// counter: the obvious if v > 0 loop on the same data.
func BenchmarkCountPositiveBranchy(b *testing.B) {
	const dim = 4864
	rng := rand.New(rand.NewPCG(1, 1))
	x := randomTensor(rng, 1, dim, 0)
	cnt := make([]uint64, dim)
	for b.Loop() {
		for j, v := range x {
			if v > 0 {
				cnt[j]++
			}
		}
	}
	b.ReportMetric(float64(b.Elapsed().Nanoseconds())/float64(b.N), "ns/row")
}
