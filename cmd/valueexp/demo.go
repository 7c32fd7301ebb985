package main

import "errors"

// runDemo is being written; this placeholder keeps the command table stable.
func runDemo(e *env, args []string) error {
	return errors.New("the demo command is not available in this build yet")
}
