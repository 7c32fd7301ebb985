package cvoice

import (
	"bytes"
	"fmt"
	"testing"

	"github.com/valueexploration/valueexp/internal/shareddata"
)

func BenchmarkReadJSONL(b *testing.B) {
	var buf bytes.Buffer
	for i := 0; i < 1000; i++ {
		buf.WriteString(act("id", fmt.Sprintf(`"id-%d"`, i), "context", `"我是一名刚毕业的大学生，渴望在职场上取得成功。然而，我发现公司内部有一个竞争对手盗用了我的方案。"`) + "\n")
	}
	data := buf.Bytes()
	b.SetBytes(int64(len(data)))
	for b.Loop() {
		if _, err := ReadJSONL(bytes.NewReader(data), "bench.jsonl"); err != nil {
			b.Fatal(err)
		}
	}
}

func BenchmarkImportAuthors(b *testing.B) {
	dir := shareddata.Path(b, "cvoice", "authors-zh")
	for b.Loop() {
		if _, err := ImportAuthors(dir); err != nil {
			b.Fatal(err)
		}
	}
}
