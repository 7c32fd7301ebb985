//go:build arm64

package kernels

// The 32-element quantized dots in NEON: SDOT when the CPU has the
// dot-product extension, widening multiplies otherwise. Both keep ggml's
// AVX2 lanes, so they agree bit for bit with the generic twins.

//go:noescape
func dotQ8_0SDOT(w, a *byte, nb int) float32

//go:noescape
func dotQ8_0MULL(w, a *byte, nb int) float32

//go:noescape
func dotQ4_0SDOT(w, a *byte, nb int) float32

//go:noescape
func dotQ4_0MULL(w, a *byte, nb int) float32

//go:noescape
func dotQ5_0SDOT(w, a *byte, nb int) float32

//go:noescape
func dotQ5_0MULL(w, a *byte, nb int) float32

// The four-token dots set out[t] to the single dot of w with a_t, bit for
// bit, reading each weight block once for the four.

//go:noescape
func dotQ8_0x4SDOT(w, a0, a1, a2, a3 *byte, nb int, out *[4]float32)

//go:noescape
func dotQ8_0x4MULL(w, a0, a1, a2, a3 *byte, nb int, out *[4]float32)

//go:noescape
func dotQ4_0x4SDOT(w, a0, a1, a2, a3 *byte, nb int, out *[4]float32)

//go:noescape
func dotQ4_0x4MULL(w, a0, a1, a2, a3 *byte, nb int, out *[4]float32)

//go:noescape
func dotQ5_0x4SDOT(w, a0, a1, a2, a3 *byte, nb int, out *[4]float32)

//go:noescape
func dotQ5_0x4MULL(w, a0, a1, a2, a3 *byte, nb int, out *[4]float32)

// The four-row kernels set dst[i] to the single dot of w[i] with a,
// bit for bit, loading the activation block once for the four rows.

//go:noescape
func rowsQ8_0x4SDOT(w *[4]*byte, a *byte, nb int, dst *float32)

//go:noescape
func rowsQ8_0x4MULL(w *[4]*byte, a *byte, nb int, dst *float32)

//go:noescape
func rowsQ4_0x4SDOT(w *[4]*byte, a *byte, nb int, dst *float32)

//go:noescape
func rowsQ4_0x4MULL(w *[4]*byte, a *byte, nb int, dst *float32)

//go:noescape
func rowsQ5_0x4SDOT(w *[4]*byte, a *byte, nb int, dst *float32)

//go:noescape
func rowsQ5_0x4MULL(w *[4]*byte, a *byte, nb int, dst *float32)

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

// dot4 is a four-token kernel: out[t] = the single dot of w with a[t].
type dot4 func(w, a0, a1, a2, a3 *byte, nb int, out *[4]float32)
