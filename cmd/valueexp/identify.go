package main

import "errors"

// runIdentify is being written; this placeholder keeps the command table stable.
func runIdentify(e *env, args []string) error {
	return errors.New("the identify command is not available in this build yet")
}
