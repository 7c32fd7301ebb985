//go:build amd64

package kernels

//go:noescape
func weightedSum8AVX(out *float32, p *float32, n int, v *float32, ldv int, d8 int)

// weightedSumSIMD covers out in slices of up to 64 values (eight YMM
// accumulators), each summed over every j before the next.
func weightedSumSIMD(out, p, v []float32, ldv int) {
	for c := 0; c < len(out); c += 64 {
		w := min(64, len(out)-c)
		weightedSum8AVX(&out[c], &p[0], len(p), &v[c], 4*ldv, w/8)
	}
}
