package main

import "errors"

// runEvaluate is being written; this placeholder keeps the command table stable.
func runEvaluate(e *env, args []string) error {
	return errors.New("the evaluate command is not available in this build yet")
}
