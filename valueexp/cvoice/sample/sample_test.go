package sample

import (
	"strings"
	"testing"

	"github.com/valueexploration/valueexp/valueexp/cvoice"
)

// TestSampleShape checks the promise of the package doc: for every value and
// language, 12 activation items with rationales and 8 evaluation items
// without, and an English item for every Chinese one.
func TestSampleShape(t *testing.T) {
	d, err := Load()
	if err != nil {
		t.Fatal(err)
	}
	if d.Len() != 480 {
		t.Fatalf("%d items, want 480", d.Len())
	}
	for _, v := range cvoice.Values() {
		for _, lang := range []cvoice.Language{cvoice.LangChinese, cvoice.LangEnglish} {
			sub := d.Select(cvoice.Query{Values: []cvoice.Value{v.Value}, Languages: []cvoice.Language{lang}})
			act, eval := 0, 0
			for it := range sub.All() {
				switch it.Split {
				case cvoice.Activation:
					act++
					if it.Rationale == "" {
						t.Errorf("%s: activation item without rationale", it.ID)
					}
				case cvoice.Evaluation:
					eval++
				}
				other := "en-" + strings.TrimPrefix(it.ID, "zh-")
				if lang == cvoice.LangChinese {
					if _, ok := d.ByID(other); !ok {
						t.Errorf("%s has no English twin %s", it.ID, other)
					}
				}
			}
			if act != 12 || eval != 8 {
				t.Errorf("%s/%s: %d activation and %d evaluation items, want 12 and 8", v.English, lang, act, eval)
			}
		}
	}
}
