package kernels

// lanes8 emulates the eight float32 lanes of the AVX2 accumulator that
// ggml's vec_dot kernels keep: every block adds d·(its int32 lane sums)
// with one FMA per lane, and hsum reduces the lanes in ggml's order
// (hsum_float_8). The generic and assembly kernels share this arithmetic,
// so they agree bit for bit.
type lanes8 [8]float32

// add accumulates d*float32(ints[l]) into lane l with a fused multiply-add.
func (acc *lanes8) add(d float32, ints *[8]int32) {
	for l := range acc {
		acc[l] = fma32(d, float32(ints[l]), acc[l])
	}
}

// hsum is ggml's hsum_float_8: high half plus low half, then lanes 0+2 and
// 1+3, then those two.
func (acc *lanes8) hsum() float32 {
	a := acc
	t0, t1, t2, t3 := a[4]+a[0], a[5]+a[1], a[6]+a[2], a[7]+a[3]
	return (t0 + t2) + (t1 + t3)
}

// hsum4 reduces four lanes the way ggml finishes a __m128: 0+2, 1+3, sum.
func hsum4(a [4]float32) float32 { return (a[0] + a[2]) + (a[1] + a[3]) }
