//go:build !unix

package weights

// allocHuge returns n bytes of ordinary memory.
func allocHuge(n int) ([]byte, func() error, error) {
	return make([]byte, n), func() error { return nil }, nil
}

// dropPages does nothing where madvise is not available.
func dropPages([]byte) {}
