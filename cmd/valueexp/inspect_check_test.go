package main

import (
	"bytes"
	"encoding/binary"
	"encoding/json"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/valueexploration/valueexp/weights"
	"github.com/valueexploration/valueexp/weights/synth"
)

// TestInspectCheck poisons one element of a synthetic model and checks that
// `inspect --check` names the tensor (text and JSON) and fails, and passes
// on the clean file.
func TestInspectCheck(t *testing.T) {
	s, _ := synth.LookupShape("tiny")
	s, _ = s.WithArch("llama")
	var buf bytes.Buffer
	if _, err := synth.Write(&buf, synth.Options{Shape: s, Mix: synth.MixF16, Layers: 2, Threads: 1}); err != nil {
		t.Fatal(err)
	}
	dir := t.TempDir()
	clean := filepath.Join(dir, "clean.gguf")
	if err := os.WriteFile(clean, buf.Bytes(), 0o644); err != nil {
		t.Fatal(err)
	}
	b := bytes.Clone(buf.Bytes())
	g, err := weights.ParseGGUF(b, "x")
	if err != nil {
		t.Fatal(err)
	}
	up, _ := g.Tensor("blk.1.ffn_up.weight") // F16 [384, 128]
	binary.LittleEndian.PutUint16(up.Data[2*(9*128+4):], 0x7e00)
	poisoned := filepath.Join(dir, "poisoned.gguf")
	if err := os.WriteFile(poisoned, b, 0o644); err != nil {
		t.Fatal(err)
	}

	code, stdout, stderr := runCLI(t, "", "inspect", "--check", "--model", clean)
	if code != 0 || !strings.Contains(stdout, "check: all 21 tensors are finite") {
		t.Fatalf("clean: exit %d, stdout %q, stderr %q", code, stdout, stderr)
	}
	code, stdout, stderr = runCLI(t, "", "inspect", "--check", "--model", poisoned)
	want := `tensor "blk.1.ffn_up.weight" holds 1 NaN and 0 Inf values (first at row 9, column 4)`
	if code == 0 || !strings.Contains(stdout, "check: 1 of 21 tensors hold NaN or Inf") || !strings.Contains(stdout, want) || !strings.Contains(stderr, want) {
		t.Fatalf("poisoned: exit %d, stdout %q, stderr %q", code, stdout, stderr)
	}
	code, stdout, _ = runCLI(t, "", "inspect", "--check", "--json", "--model", poisoned)
	var r struct {
		Params    int64 `json:"params"`
		NonFinite []struct {
			Tensor   string
			NaN, Inf int64
			FirstRow int `json:"first_row"`
			FirstCol int `json:"first_col"`
		} `json:"non_finite"`
	}
	if err := json.Unmarshal([]byte(stdout), &r); err != nil {
		t.Fatal(err)
	}
	if code == 0 || r.Params == 0 || len(r.NonFinite) != 1 || r.NonFinite[0].Tensor != "blk.1.ffn_up.weight" || r.NonFinite[0].NaN != 1 ||
		r.NonFinite[0].FirstRow != 9 || r.NonFinite[0].FirstCol != 4 {
		t.Errorf("json: exit %d, %+v", code, r)
	}
}
