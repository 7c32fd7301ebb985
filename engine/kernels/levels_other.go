//go:build !amd64 && !arm64

package kernels

// Architectures other than amd64 offer at most one level beyond generic,
// the set their simdKernels returns. An architecture with several levels
// replaces this file with its own simdLevels and archLevelNames, as
// dispatch_amd64.go does.

func simdLevels() []*kernelSet {
	if ks, ok := simdKernels(); ok {
		return []*kernelSet{ks}
	}
	return nil
}

func archLevelNames() []string {
	if ks, ok := simdKernels(); ok {
		return []string{ks.name}
	}
	return nil
}
