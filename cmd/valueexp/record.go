package main

import "errors"

// runRecord is being written; this placeholder keeps the command table stable.
func runRecord(e *env, args []string) error {
	return errors.New("the record command is not available in this build yet")
}
