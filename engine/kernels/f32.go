package kernels

// dotF32Generic keeps four partial sums so that the loop is not one long
// chain of dependent additions.
//
// The generic kernels round every product before adding it (the explicit
// float32 conversions): without them Go fuses x*y+z into one instruction
// on arm64 (and other FMA targets) but not on amd64, and the portable
// kernels would give different bits on different machines.
func dotF32Generic(a, b []float32) float32 {
	b = b[:len(a)]
	var s0, s1, s2, s3 float32
	i := 0
	for ; i+4 <= len(a); i += 4 {
		s0 += float32(a[i] * b[i])
		s1 += float32(a[i+1] * b[i+1])
		s2 += float32(a[i+2] * b[i+2])
		s3 += float32(a[i+3] * b[i+3])
	}
	for ; i < len(a); i++ {
		s0 += float32(a[i] * b[i])
	}
	return (s0 + s1) + (s2 + s3)
}

func axpyF32Generic(y []float32, alpha float32, x []float32) {
	x = x[:len(y)]
	for i := range y {
		y[i] += float32(alpha * x[i])
	}
}

func scaleF32Generic(x []float32, s float32) {
	for i := range x {
		x[i] *= s
	}
}

// gemmF32Generic computes 2×2 tiles of C so that each row of A and B loaded
// serves two dot products.
func gemmF32Generic(c, a, b []float32, m, n, k int) {
	i := 0
	for ; i+2 <= m; i += 2 {
		a0, a1 := a[i*k:i*k+k], a[(i+1)*k:(i+1)*k+k]
		j := 0
		for ; j+2 <= n; j += 2 {
			b0, b1 := b[j*k:j*k+k], b[(j+1)*k:(j+1)*k+k]
			var s00, s01, s10, s11 float32
			for p := range a0 {
				x0, x1, y0, y1 := a0[p], a1[p], b0[p], b1[p]
				s00 += float32(x0 * y0)
				s01 += float32(x0 * y1)
				s10 += float32(x1 * y0)
				s11 += float32(x1 * y1)
			}
			c[i*n+j], c[i*n+j+1] = s00, s01
			c[(i+1)*n+j], c[(i+1)*n+j+1] = s10, s11
		}
		for ; j < n; j++ {
			bj := b[j*k : j*k+k]
			c[i*n+j] = dotF32Generic(a0, bj)
			c[(i+1)*n+j] = dotF32Generic(a1, bj)
		}
	}
	for ; i < m; i++ {
		ai := a[i*k : i*k+k]
		for j := 0; j < n; j++ {
			c[i*n+j] = dotF32Generic(ai, b[j*k:j*k+k])
		}
	}
}
