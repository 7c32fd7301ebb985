package report

import (
	"testing"

	"github.com/valueexploration/valueexp/internal/shareddata"
)

// TestMain says how many tests skipped because ../shared is absent.
func TestMain(m *testing.M) { shareddata.Main(m) }
