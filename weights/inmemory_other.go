//go:build !linux

package weights

// allocHuge returns n bytes of ordinary memory.
func allocHuge(n int) ([]byte, func() error, error) {
	return make([]byte, n), func() error { return nil }, nil
}

// dropPages does nothing off Linux: the mapping keeps its pages until Close.
func dropPages([]byte) {}
