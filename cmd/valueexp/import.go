package main

import "errors"

// runImport is being written; this placeholder keeps the command table stable.
func runImport(e *env, args []string) error {
	return errors.New("the import command is not available in this build yet")
}
