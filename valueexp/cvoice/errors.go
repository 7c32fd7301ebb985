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

// errorList keeps the first MaxReportedErrors errors and counts the rest,
// so a file of a million bad lines costs no more memory than one of
// twenty; err gives what joinErrors would for the full list.
type errorList struct {
	errs []error
	more int
}

func (l *errorList) add(err error) {
	if len(l.errs) < MaxReportedErrors {
		l.errs = append(l.errs, err)
		return
	}
	l.more++
}

func (l *errorList) len() int { return len(l.errs) + l.more }

func (l *errorList) err() error {
	if l.more == 0 {
		return errors.Join(l.errs...)
	}
	return errors.Join(append(l.errs[:len(l.errs):len(l.errs)], fmt.Errorf("... and %d more errors", l.more))...)
}
