//go:build amd64

package kernels

//go:noescape
func dotQ8_0AVX(w, a *byte, nb int) float32

//go:noescape
func dotQ4_0AVX(w, a *byte, nb int) float32

//go:noescape
func dotQ5_0AVX(w, a *byte, nb int) float32

// blockDot adapts an assembly kernel over nb whole blocks to the slice API;
// the exported wrappers have already checked the lengths.
func blockDot(kernel func(w, a *byte, nb int) float32, blockElems int) func(w, a []byte, n int) float32 {
	return func(w, a []byte, n int) float32 {
		if n == 0 {
			return 0
		}
		return kernel(&w[0], &a[0], n/blockElems)
	}
}

//go:noescape
func dotQ4_1AVX(w, a *byte, nb int) float32

//go:noescape
func dotQ5_1AVX(w, a *byte, nb int) float32
