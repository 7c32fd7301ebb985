package main

import "errors"

// runSynth is being written; this placeholder keeps the command table stable.
func runSynth(e *env, args []string) error {
	return errors.New("the synth command is not available in this build yet")
}
