package safetensors

import (
	"fmt"
	"strings"
	"testing"

	"github.com/valueexploration/valueexp/internal/memtest"
)

// TestParseMemoryBound feeds Parse adversarial headers built here and checks
// each gives the expected outcome with at most 8 bytes allocated per header
// byte plus 64 KiB: the bound Parse's doc comment states.
func TestParseMemoryBound(t *testing.T) {
	repeat := func(n int, f func(i int) string) string {
		var sb strings.Builder
		for i := 0; i < n; i++ {
			if i > 0 {
				sb.WriteByte(',')
			}
			sb.WriteString(f(i))
		}
		return sb.String()
	}
	huge := make([]byte, 16)
	huge[7] = 0x7f // header length about 2^62
	past := make([]byte, 16)
	past[2] = 0x10 // header length 2^20
	for _, c := range []struct {
		name string
		file []byte
		want string // "" for success
	}{
		{"a million declared header bytes past the end", past, "runs past the end of the 16-byte file"},
		{"header length 2^62", huge, "exceeds the limit"},
		{"100k smallest valid entries", rawFile("{"+repeat(100000, func(i int) string {
			return fmt.Sprintf(`"%x":{"dtype":"F32","shape":[0],"data_offsets":[0,0]}`, i)
		})+"}", nil), ""},
		{"100k entries, the last broken", rawFile("{"+repeat(100000, func(i int) string {
			if i == 99999 {
				return `"x":{"dtype":"F32","shape":[0],"data_offsets":[0,1]}`
			}
			return fmt.Sprintf(`"%x":{"dtype":"F32","shape":[0],"data_offsets":[0,0]}`, i)
		})+"}", nil), "outside the 0-byte data section"},
		{"repeated data_offsets keys", rawFile(`{"a":{`+repeat(200000, func(int) string { return `"data_offsets":[0,0]` })+"}}", nil), `key "data_offsets" appears twice`},
		{"a million metadata keys", rawFile(`{"__metadata__":{`+repeat(1<<20, func(i int) string { return fmt.Sprintf(`"%x":""`, i) })+"}}", nil), "more than 65536 keys"},
		{"nested arrays 1M deep", rawFile(`{"a":`+strings.Repeat("[", 1<<20)+strings.Repeat("]", 1<<20)+"}", nil), "want an object"},
		{"nested objects in metadata", rawFile(`{"__metadata__":{"k":`+strings.Repeat(`{"k":`, 1<<18)+"}}", nil), "not a string map"},
		{"a 16 MiB tensor name", rawFile(`{"`+strings.Repeat("n", 16<<20)+`":{"dtype":"F32","shape":[1],"data_offsets":[0,4]}}`, make([]byte, 4)), ""},
		{"a 16 MiB unterminated string", rawFile(`{"`+strings.Repeat("n", 16<<20), nil), "unexpected end"},
		{"a million dimensions", rawFile(`{"a":{"dtype":"F32","shape":[`+repeat(1<<20, func(int) string { return "1" })+`],"data_offsets":[0,4]}}`, make([]byte, 4)), "1048576 dimensions exceed the limit of 8"},
		{"overflowing shape", rawFile(`{"a":{"dtype":"F32","shape":[4294967296,4294967296,4294967296],"data_offsets":[0,4]}}`, make([]byte, 4)), "overflows"},
		{"dimension beyond int64", rawFile(`{"a":{"dtype":"F32","shape":[99999999999999999999],"data_offsets":[0,4]}}`, make([]byte, 4)), "does not fit in 64 bits"},
		{"offset near 2^63", rawFile(`{"a":{"dtype":"F32","shape":[1],"data_offsets":[9223372036854775804,9223372036854775807]}}`, make([]byte, 4)), "outside"},
	} {
		t.Run(c.name, func(t *testing.T) {
			var err error
			n := memtest.Measure(func() { _, err = Parse(c.file) }).Total
			if c.want == "" && err != nil {
				t.Fatalf("error %v", err)
			}
			if c.want != "" && (err == nil || !strings.Contains(err.Error(), c.want)) {
				t.Fatalf("error %v, want one containing %q", err, c.want)
			}
			if bound := 8*uint64(len(c.file)) + 64<<10; n > bound {
				t.Errorf("allocated %d bytes for a %d-byte file, bound %d", n, len(c.file), bound)
			}
			t.Logf("%d-byte file: %d bytes allocated (%.2f per byte)", len(c.file), n, float64(n)/float64(len(c.file)))
		})
	}
}
