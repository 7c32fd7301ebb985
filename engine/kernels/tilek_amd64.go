//go:build amd64

package kernels

import "sync"

//go:noescape
func tileQ4_Kx2x4AVX512(wq *int16, wd *float32, wm *int16, aq *int16, ad *float32, as *int16, nsb int, dst *float32, ldd int)

//go:noescape
func tileQ6_Kx2x4AVX512(wq *int16, wd *float32, wm *int16, aq *int16, ad *float32, as *int16, nsb int, dst *float32, ldd int)

// kPanel is the widened weight rows of one row block (see unpackK).
type kPanel struct {
	q []int16
	d []float32
	m []int16
}

var kPanels = sync.Pool{New: func() any { return new(kPanel) }}

// matMulKAVX512 widens a block of weight rows at a time into two-row
// panels, which stay in L2 while every group of four tokens runs against
// them; odd rows and the last n%4 tokens take single dots.
func matMulKAVX512(dst []float32, ldd int, f KFormat, w [][]byte, a *Q8KActs) {
	n, k := a.n, a.k
	nsb := k / qkK
	rb := min(rowsPerBlock(nsb*512), (len(w)+1)&^1)
	pn := kPanels.Get().(*kPanel)
	defer kPanels.Put(pn)
	pn.q = grow(pn.q, rb/2*nsb*512)
	pn.d = grow(pn.d, rb/2*nsb*4)
	pn.m = grow(pn.m, rb/2*nsb*32)
	q, d, m := pn.q, pn.d, pn.m
	n4 := n &^ 3
	nr2 := len(w) &^ 1
	for r0 := 0; r0 < nr2; r0 += rb {
		r1 := min(nr2, r0+rb)
		for r := r0; r < r1; r += 2 {
			p := (r - r0) / 2
			unpackK(q[p*nsb*512:], d[p*nsb*4:], m[p*nsb*32:], 0, f, w[r], nsb)
			unpackK(q[p*nsb*512:], d[p*nsb*4:], m[p*nsb*32:], 1, f, w[r+1], nsb)
		}
		for t := 0; t < n4; t += 4 {
			aq, ad, as := &a.q[t*nsb*qkK], &a.d[t*nsb], &a.s[t*nsb*16]
			for r := r0; r < r1; r += 2 {
				p := (r - r0) / 2
				out := &dst[t*ldd+r]
				if f == KFormatQ4_K {
					tileQ4_Kx2x4AVX512(&q[p*nsb*512], &d[p*nsb*4], &m[p*nsb*32], aq, ad, as, nsb, out, 4*ldd)
				} else {
					tileQ6_Kx2x4AVX512(&q[p*nsb*512], &d[p*nsb*4], &m[p*nsb*32], aq, ad, as, nsb, out, 4*ldd)
				}
			}
		}
	}
	kDots(dst, ldd, f, w, a, nr2, len(w), 0, n4)
	kDots(dst, ldd, f, w, a, 0, len(w), n4, n)
}
