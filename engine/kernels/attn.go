package kernels

import "fmt"

// WeightedSumF32 sets out[d] = Σ_j p[j]·v[j*ldv+d] for d < len(out), adding
// the terms in order of j with one fused multiply-add each: exactly what
// clearing out and calling AxpyF32(out, p[j], v[j*ldv:j*ldv+len(out)]) for
// j = 0, 1, ... computes, bit for bit, in one call (attention's weighted
// sum of value rows).
func WeightedSumF32(out, p, v []float32, ldv int) {
	d := len(out)
	if len(p) > 0 && (ldv < d || len(v) < (len(p)-1)*ldv+d) {
		panic(fmt.Sprintf("kernels: WeightedSumF32: %d values (stride %d) cannot hold %d rows of %d", len(v), ldv, len(p), d))
	}
	clear(out)
	if d == 0 || len(p) == 0 {
		return
	}
	if active.weightedSum8 != nil && d%8 == 0 {
		active.weightedSum8(out, p, v, ldv)
		return
	}
	for j, pj := range p {
		active.axpyF32(out, pj, v[j*ldv:j*ldv+d])
	}
}
