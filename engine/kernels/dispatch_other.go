//go:build !amd64 && !arm64

package kernels

// simdKernels reports that this architecture has no assembly kernels.
func simdKernels() (*kernelSet, bool) { return nil, false }
