package tokenizer

import (
	"encoding/json"
	"os"
	"testing"
)

// testdata/nfc_cases.json pairs random strings of letters, combining marks,
// jamo and singletons with their NFC form computed by Python's
// unicodedata.normalize (an independent implementation).
func TestNFCMatchesPython(t *testing.T) {
	raw, err := os.ReadFile("testdata/nfc_cases.json")
	if err != nil {
		t.Fatal(err)
	}
	var cases [][2]string
	if err := json.Unmarshal(raw, &cases); err != nil {
		t.Fatal(err)
	}
	for _, c := range cases {
		if got := nfc(c[0]); got != c[1] {
			t.Errorf("nfc(%+q) = %+q, want %+q", c[0], got, c[1])
		}
	}
	if got := nfc("a\xffe\u0301"); got != "a\xff\u00e9" {
		t.Errorf("invalid byte: %+q", got)
	}
}
