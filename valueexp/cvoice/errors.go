package cvoice

import (
	"errors"
	"fmt"
)

// MaxReportedErrors is how many problems a reader or importer reports before
// summarising the rest: enough to fix a file in one pass, short enough to read.
const MaxReportedErrors = 20

// LineError places a problem at a line of a JSONL file.
type LineError struct {
	File string
	Line int // 1-based
	Err  error
}

func (e *LineError) Error() string { return fmt.Sprintf("%s:%d: %v", e.File, e.Line, e.Err) }

// Unwrap returns the underlying problem (often a *FieldError).
func (e *LineError) Unwrap() error { return e.Err }

// joinErrors joins at most MaxReportedErrors errors and counts the rest.
func joinErrors(errs []error) error {
	if len(errs) <= MaxReportedErrors {
		return errors.Join(errs...)
	}
	shown := append([]error(nil), errs[:MaxReportedErrors]...)
	shown = append(shown, fmt.Errorf("... and %d more errors", len(errs)-MaxReportedErrors))
	return errors.Join(shown...)
}
