package main

import "errors"

// runReport is being written; this placeholder keeps the command table stable.
func runReport(e *env, args []string) error {
	return errors.New("the report command is not available in this build yet")
}
