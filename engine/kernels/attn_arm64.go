//go:build arm64

package kernels

// weightedSumSIMD adds the value rows one AxpyF32 at a time, so each output
// is exactly what WeightedSumF32 promises.
func weightedSumSIMD(out, p, v []float32, ldv int) {
	d := len(out)
	for j, pj := range p {
		active.axpyF32(out, pj, v[j*ldv:j*ldv+d])
	}
}
