package main

import "errors"

// runMerge is being written; this placeholder keeps the command table stable.
func runMerge(e *env, args []string) error {
	return errors.New("the merge command is not available in this build yet")
}
