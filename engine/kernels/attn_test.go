package kernels

import (
	"fmt"
	"math"
	"math/rand/v2"
	"testing"
)

func TestWeightedSumMatchesAxpy(t *testing.T) {
	rng := rand.New(rand.NewPCG(7, 8))
	for _, d := range []int{1, 7, 8, 16, 32, 64, 72, 128, 136, 256} {
		for _, n := range []int{0, 1, 2, 5, 33} {
			t.Run(fmt.Sprintf("d%d/n%d", d, n), func(t *testing.T) {
				ldv := d + 3
				v := randF32(rng, n*ldv+d)
				p := randF32(rng, n)
				want := make([]float32, d)
				for j := range p {
					AxpyF32(want, p[j], v[j*ldv:j*ldv+d])
				}
				got := randF32(rng, d) // must be overwritten, not added to
				WeightedSumF32(got, p, v, ldv)
				for i := range want {
					if math.Float32bits(got[i]) != math.Float32bits(want[i]) {
						t.Fatalf("out[%d] = %v, repeated AxpyF32 gives %v", i, got[i], want[i])
					}
					var ref float64 // independent float64 reference
					for j := range p {
						ref += float64(p[j]) * float64(v[j*ldv+i])
					}
					if math.Abs(float64(got[i])-ref) > 1e-4*(1+math.Abs(ref)) {
						t.Fatalf("out[%d] = %v, float64 reference %v", i, got[i], ref)
					}
				}
			})
		}
	}
}
