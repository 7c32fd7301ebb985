//go:build valueexp_nohooks

package engine

// hooksCompiled: see hooks_on.go. In this build hooks are ignored.
const hooksCompiled = false
