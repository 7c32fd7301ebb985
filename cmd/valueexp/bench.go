package main

import "errors"

// runBench is being written; this placeholder keeps the command table stable.
func runBench(e *env, args []string) error {
	return errors.New("the bench command is not available in this build yet")
}
