package report

import (
	"os"
	"testing"
)

// TestPreview writes the fixture report to $REPORT_PREVIEW for a human to look at.
func TestPreview(t *testing.T) {
	dir := os.Getenv("REPORT_PREVIEW")
	if dir == "" {
		t.Skip("set REPORT_PREVIEW=DIR to write a preview report")
	}
	files, err := Write(dir, Inputs{Counts: fixtureCounts(), Neurons: fixtureNeurons(), Results: fixtureResults(true), Demo: true})
	if err != nil {
		t.Fatal(err)
	}
	t.Log(files)
}
