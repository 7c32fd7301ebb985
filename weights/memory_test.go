package weights

import (
	"encoding/binary"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/valueexploration/valueexp/internal/memtest"
	"github.com/valueexploration/valueexp/weights/safetensors"
)

// ggufRaw builds GGUF bytes field by field, the way a hostile writer would.
type ggufRaw []byte

func newGGUFRaw(nTensors, nKV uint64) ggufRaw {
	b := ggufRaw("GGUF")
	b = b.u32(3).u64(nTensors).u64(nKV)
	return b
}
func (b ggufRaw) u32(v uint32) ggufRaw { return binary.LittleEndian.AppendUint32(b, v) }
func (b ggufRaw) u64(v uint64) ggufRaw { return binary.LittleEndian.AppendUint64(b, v) }
func (b ggufRaw) str(s string) ggufRaw { return append(b.u64(uint64(len(s))), s...) }

// ggufAllocBound is the allocation bound ParseGGUF's doc comment states for
// a header of n bytes.
func ggufAllocBound(n int) uint64 { return 16*uint64(n) + 1<<20 }

// TestGGUFMemoryBound feeds ParseGGUF adversarial headers built here (huge
// declared counts and lengths, repetition bombs, deep nesting, overflowing
// shapes and offsets) and checks that each fails cleanly, or parses, within
// the allocation bound ParseGGUF's doc comment states.
func TestGGUFMemoryBound(t *testing.T) {
	type tc struct {
		name string
		b    []byte
		want string // "" for success
	}
	var cases []tc
	add := func(name string, b []byte, want string) { cases = append(cases, tc{name, b, want}) }

	add("2^20 tensors declared, none present", newGGUFRaw(1<<20, 0), "tensor info 0")
	add("2^20 metadata entries declared, none present", newGGUFRaw(0, 1<<20), "metadata entry 0")
	add("string of 2^26 bytes declared", newGGUFRaw(0, 1).str("k").u32(ggufString).u64(1<<26), "unexpected end of file")
	add("u8 array of 2^28 declared", newGGUFRaw(0, 1).str("k").u32(ggufArray).u32(ggufUint8).u64(1<<28), "unexpected end of file")
	add("string array of 2^28 declared", newGGUFRaw(0, 1).str("k").u32(ggufArray).u32(ggufString).u64(1<<28), "cannot fit")
	add("nested array of 2^28 declared", newGGUFRaw(0, 1).str("k").u32(ggufArray).u32(ggufArray).u64(1<<28), "cannot fit")

	// 4 MiB of empty strings in one array: 8 encoded bytes each.
	n := 1 << 19
	b := newGGUFRaw(0, 1).str("k").u32(ggufArray).u32(ggufString).u64(uint64(n))
	b = append(b, make([]byte, 8*n)...)
	add("half a million empty strings", b, "")
	// Nested arrays of empty u8 arrays: 12 encoded bytes each.
	b = newGGUFRaw(0, 1).str("k").u32(ggufArray).u32(ggufArray).u64(uint64(n))
	for i := 0; i < n; i++ {
		b = b.u32(ggufUint8).u64(0)
	}
	add("half a million empty nested arrays", b, "")
	// Nesting 8 deep, 4 wide at each level: every level is an []any.
	var nest func(b ggufRaw, depth int) ggufRaw
	nest = func(b ggufRaw, depth int) ggufRaw {
		if depth == 7 {
			return b.u32(ggufUint8).u64(0)
		}
		b = b.u32(ggufArray).u64(4)
		for i := 0; i < 4; i++ {
			b = nest(b, depth+1)
		}
		return b
	}
	add("arrays nested 8 deep", nest(newGGUFRaw(0, 1).str("k").u32(ggufArray), 0), "")
	add("arrays nested 9 deep", append(newGGUFRaw(0, 1).str("k").u32(ggufArray).u32(ggufArray).u64(1).u32(ggufArray).u64(1).u32(ggufArray).u64(1).u32(ggufArray).u64(1).u32(ggufArray).u64(1).u32(ggufArray).u64(1).u32(ggufArray).u64(1).u32(ggufArray).u64(1).u32(ggufArray).u64(1), make([]byte, 64)...), "nested deeper than 8")
	// Many small metadata entries with distinct keys.
	n = 1 << 17
	b = newGGUFRaw(0, uint64(n))
	for i := 0; i < n; i++ {
		b = b.str(fmt.Sprintf("%x", i)).u32(ggufUint8)
		b = append(b, 0)
	}
	add("130k one-byte metadata entries", b, "")
	// Many one-element tensors with distinct names, all at offset 0.
	n = 1 << 16
	b = newGGUFRaw(uint64(n), 0)
	for i := 0; i < n; i++ {
		b = b.str(fmt.Sprintf("%x", i)).u32(1).u64(1).u32(uint32(F32)).u64(0)
	}
	add("65k tensor infos sharing one offset", append(b, make([]byte, 64)...), "overlaps")
	b = newGGUFRaw(1, 0).str("t").u32(4).u64(1 << 20).u64(1 << 20).u64(1 << 20).u64(1 << 20)
	add("dims whose product overflows", b.u32(uint32(F32)).u64(0), "overflows")
	b = newGGUFRaw(1, 0).str("t").u32(2).u64(1 << 31).u64(1 << 31)
	add("dims whose byte size overflows", b.u32(uint32(F32)).u64(0), "overflows")
	b = newGGUFRaw(1, 0).str("t").u32(1).u64(8).u32(uint32(F32)).u64(1<<64 - 32)
	add("offset near 2^64", append(b, make([]byte, 64)...), "run past the end")
	b = newGGUFRaw(0, 1).str(strings.Repeat("k", 1<<20)).u32(ggufString).str(strings.Repeat("v", 1<<22))
	add("a 1 MiB key and a 4 MiB value", b, "")

	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			var err error
			n := memtest.Measure(func() { _, err = ParseGGUF(c.b, "bomb.gguf") }).Total
			if c.want == "" && err != nil {
				t.Fatalf("error %v", err)
			}
			if c.want != "" && (err == nil || !strings.Contains(err.Error(), c.want)) {
				t.Fatalf("error %v, want one containing %q", err, c.want)
			}
			if bound := ggufAllocBound(len(c.b)); n > bound {
				t.Errorf("allocated %d bytes for a %d-byte file, bound %d", n, len(c.b), bound)
			}
			t.Logf("%d-byte file: %d bytes allocated (%.2f per byte)", len(c.b), n, float64(n)/float64(len(c.b)))
		})
	}
}

// TestGGUFMetadataBudget: metadata that would take more than
// maxGGUFMetadata in memory is refused before it is allocated, even when the
// bytes are there (a reader that has already used up most of the budget
// stands in for a 256 MiB file).
func TestGGUFMetadataBudget(t *testing.T) {
	b := ggufRaw(nil).u32(ggufUint8).u64(64)
	b = append(b, make([]byte, 64)...)
	r := &ggufReader{b: b, meta: maxGGUFMetadata - 63}
	if _, err := r.value(ggufArray, 0); err == nil || !strings.Contains(err.Error(), "more than 256 MiB") {
		t.Fatalf("error %v, want the metadata budget", err)
	}
	r = &ggufReader{b: b, meta: maxGGUFMetadata - 64}
	if v, err := r.value(ggufArray, 0); err != nil || len(v.([]uint8)) != 64 {
		t.Fatalf("exactly at the budget: %v, %v", v, err)
	}
}

// TestHFConfigMemoryBound feeds ParseHFConfig adversarial configs built here
// and checks the clean error (or success) and the allocation bound its doc
// comment states: 20 bytes per input byte plus 64 KiB.
func TestHFConfigMemoryBound(t *testing.T) {
	base := `"model_type":"llama","hidden_size":8,"num_hidden_layers":2,"num_attention_heads":2,"intermediate_size":16,"vocab_size":16`
	for _, c := range []struct {
		name string
		b    string
		want string
	}{
		{"deep nesting in an unknown field", "{" + base + `,"x":` + strings.Repeat("[", 9000) + strings.Repeat("]", 9000) + "}", ""},
		{"nesting beyond encoding/json's limit", "{" + base + `,"x":` + strings.Repeat("[", 20000) + strings.Repeat("]", 20000) + "}", "exceeded max depth"},
		{"a 3 MiB string", "{" + base + `,"x":"` + strings.Repeat("s", 3<<20) + `"}`, ""},
		{"a 3 MiB model_type", `{"model_type":"` + strings.Repeat("s", 3<<20) + `"}`, "unsupported architecture"},
		{"a million eos ids", "{" + base + `,"eos_token_id":[` + strings.Repeat("1,", 1<<20) + "1]}", "exceeds the limit of 1024"},
		{"a million keys", "{" + base + strings.Repeat(`,"k":1`, 1<<19) + "}", ""},
		{"5 MiB", "{" + base + `,"x":"` + strings.Repeat("s", 5<<20) + `"}`, "exceed the limit of 4194304"},
		{"huge numbers", `{"model_type":"llama","hidden_size":1e300}`, "bad JSON"},
		{"layer count 2^40", "{" + base + `,"num_hidden_layers":1099511627776}`, "layer count is 1099511627776"},
	} {
		t.Run(c.name, func(t *testing.T) {
			checkJSONBound(t, c.b, c.want, func(b []byte) error { _, err := ParseHFConfig(b, "config.json"); return err })
		})
	}
}

// TestHFIndexMemoryBound does the same for the shard index.
func TestHFIndexMemoryBound(t *testing.T) {
	entries := func(n int, shard string) string {
		var sb strings.Builder
		sb.WriteString(`{"metadata":{"total_size":1},"weight_map":{`)
		for i := 0; i < n; i++ {
			if i > 0 {
				sb.WriteByte(',')
			}
			fmt.Fprintf(&sb, `"%x":"%s"`, i, shard)
		}
		sb.WriteString("}}")
		return sb.String()
	}
	for _, c := range []struct {
		name string
		b    string
		want string
	}{
		{"half a million smallest entries", entries(1<<19, "a"), ""},
		{"over a million keys", entries(1<<20+100, "a"), "keys exceed the limit of 1048576 tensors"},
		{"a shard outside the folder", entries(1000, "../a"), `shard name "../a" must be a plain file name`},
		{"deep nesting in metadata", `{"metadata":` + strings.Repeat("[", 9000) + strings.Repeat("]", 9000) + `,"weight_map":{"a":"b"}}`, ""},
		{"weight_map not a map", `{"weight_map":` + strings.Repeat(`"x"`, 1) + `}`, "bad JSON"},
		{"no weight_map", `{"metadata":{}}`, "empty or missing weight_map"},
	} {
		t.Run(c.name, func(t *testing.T) {
			checkJSONBound(t, c.b, c.want, func(b []byte) error { _, err := parseHFIndex(b, "model.safetensors.index.json"); return err })
		})
	}
}

// checkJSONBound parses doc with parse and checks the error contains want
// ("" for success) and that at most 20 bytes per input byte plus 64 KiB were
// allocated: the bound ParseHFConfig and the index reader state.
func checkJSONBound(t *testing.T, doc, want string, parse func([]byte) error) {
	t.Helper()
	var err error
	b := []byte(doc)
	n := memtest.Measure(func() { err = parse(b) }).Total
	if want == "" && err != nil {
		t.Fatalf("error %v", err)
	}
	if want != "" && (err == nil || !strings.Contains(err.Error(), want)) {
		t.Fatalf("error %v, want one containing %q", err, want)
	}
	if bound := 20*uint64(len(doc)) + 64<<10; n > bound {
		t.Errorf("allocated %d bytes for %d bytes of JSON, bound %d", n, len(doc), bound)
	}
	t.Logf("%d bytes: %d allocated (%.2f per byte)", len(doc), n, float64(n)/float64(len(doc)))
}

// TestHFFilesTooLarge: a config.json or shard index beyond its limit is
// refused by size, before it is read.
func TestHFFilesTooLarge(t *testing.T) {
	s := tinyLlama()
	dir := writeHFFolder(t, s.hfConfig(), s.hfTensors())
	f, err := os.OpenFile(filepath.Join(dir, "config.json"), os.O_WRONLY|os.O_APPEND, 0)
	if err != nil {
		t.Fatal(err)
	}
	if err := f.Truncate(maxHFConfigBytes + 1); err != nil {
		t.Fatal(err)
	}
	f.Close()
	if _, err := Open(dir); err == nil || !strings.Contains(err.Error(), "4194305 bytes exceed the limit of 4194304 for a config.json") {
		t.Fatalf("error %v", err)
	}
	dir = writeSharded(t, func(map[string]string, map[string][]safetensors.Tensor) {})
	if err := os.Truncate(filepath.Join(dir, hfIndexName), maxHFIndexBytes+1); err != nil {
		t.Fatal(err)
	}
	if _, err := Open(dir); err == nil || !strings.Contains(err.Error(), "exceed the limit of 67108864 for a shard index") {
		t.Fatalf("error %v", err)
	}
}
