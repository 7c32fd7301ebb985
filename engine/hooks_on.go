//go:build !valueexp_nohooks

package engine

// hooksCompiled is false only in builds with the valueexp_nohooks tag, which
// compile every hook site out of the forward pass. It exists so benchmarks
// can compare the real build with a build that has no hooks at all.
const hooksCompiled = true
