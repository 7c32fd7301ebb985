package main

import "errors"

// runInspect is being written; this placeholder keeps the command table stable.
func runInspect(e *env, args []string) error {
	return errors.New("the inspect command is not available in this build yet")
}
