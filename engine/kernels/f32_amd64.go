//go:build amd64

package kernels

//go:noescape
func dotF32AVX(a, b *float32, n int) float32

//go:noescape
func axpyF32AVX(y *float32, alpha float32, x *float32, n int)

//go:noescape
func scaleF32AVX(x *float32, s float32, n int)

//go:noescape
func gemm4x3PanelAVX(c *float32, ldc int, a *float32, lda int, b *float32, ldb int, k int, tiles int)

//go:noescape
func dot1x4AVX(x *float32, y *float32, ldy int, k int, out *[4]float32)

func dotF32SIMD(a, b []float32) float32 {
	if len(a) == 0 {
		return 0
	}
	return dotF32AVX(&a[0], &b[0], len(a))
}

func axpyF32SIMD(y []float32, alpha float32, x []float32) {
	if len(y) == 0 {
		return
	}
	axpyF32AVX(&y[0], alpha, &x[0], len(y))
}

func scaleF32SIMD(x []float32, s float32) {
	if len(x) == 0 {
		return
	}
	scaleF32AVX(&x[0], s, len(x))
}

// gemmF32SIMD walks C in 4×3 tiles: for each group of three rows of B the
// panel kernel runs down all whole 4-row tiles of A, storing into C. The
// assembly covers the first k&^7 elements of every dot product; the last
// few are added afterwards. Rows and columns left over from the tiling use
// the 1×4 kernel, which serves both because C[i][j] = A_i·B_j is symmetric
// in the two operands.
func gemmF32SIMD(c, a, b []float32, m, n, k int) {
	if m == 0 || n == 0 {
		return
	}
	if k == 0 {
		clear(c[:m*n])
		return
	}
	k8 := k &^ 7
	m4, n3 := m&^3, n-n%3
	if m4 > 0 {
		for j := 0; j < n3; j += 3 {
			gemm4x3PanelAVX(&c[j], n, &a[0], k, &b[j*k], k, k8, m4/4)
		}
	}
	var o4 [4]float32
	// Leftover columns j >= n3 for the tiled rows: B_j against four rows of A.
	for j := n3; j < n; j++ {
		for i := 0; i < m4; i += 4 {
			dot1x4AVX(&b[j*k], &a[i*k], k, k8, &o4)
			for r := range 4 {
				c[(i+r)*n+j] = o4[r]
			}
		}
	}
	// Leftover rows i >= m4: A_i against four rows of B, then single dots.
	for i := m4; i < m; i++ {
		ai := a[i*k : i*k+k]
		j := 0
		for ; j+4 <= n; j += 4 {
			dot1x4AVX(&ai[0], &b[j*k], k, k8, &o4)
			copy(c[i*n+j:i*n+j+4], o4[:])
		}
		for ; j < n; j++ {
			c[i*n+j] = dotF32SIMD(ai[:k8], b[j*k:j*k+k8])
		}
	}
	if k8 == k {
		return
	}
	for i := range m {
		ai := a[i*k+k8 : i*k+k]
		for j := range n {
			bj := b[j*k+k8 : j*k+k]
			s := c[i*n+j]
			for p, v := range ai {
				s += v * bj[p]
			}
			c[i*n+j] = s
		}
	}
}
