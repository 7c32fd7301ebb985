package selection

import (
	"math/rand/v2"
	"testing"

	"github.com/stretchr/testify/require"
)

// TestGroupTokens checks per-layer token totals (the counts of a mixture of
// experts' neurons): totals equal to the tag's give the same selection as
// none, and dividing each layer's counts by its own total is the same as
// handing VAPE and Diff counts already scaled to a common total.
func TestGroupTokens(t *testing.T) {
	rng := rand.New(rand.NewPCG(1, 2))
	const K, L, D = 3, 4, 16
	c := Counts{Tags: []string{"a", "b", "c"}, Layers: L, Dim: D}
	for k := 0; k < K; k++ {
		oz := make([]int64, L*D)
		for i := range oz {
			oz[i] = int64(rng.IntN(100))
		}
		c.OverZero = append(c.OverZero, oz)
		c.Tokens = append(c.Tokens, 100)
	}
	vp := VAPEParams{TopRate: 0.1, FilterRate: 0.9, ActivationBarRatio: 0.5, Normaliser: ByTokens}
	plain, err := VAPE(c, vp)
	require.NoError(t, err)
	same := c
	for k := 0; k < K; k++ {
		same.GroupTokens = append(same.GroupTokens, []float64{100, 100, 100, 100})
	}
	got, err := VAPE(same, vp)
	require.NoError(t, err)
	require.Equal(t, plain.Neurons, got.Neurons)

	// Layer l of every tag saw 100·2^l tokens: counts scaled by 2^l with
	// per-layer totals give the plain selection again.
	scaled := Counts{Tags: c.Tags, Layers: L, Dim: D, Tokens: c.Tokens}
	for k := 0; k < K; k++ {
		oz := make([]int64, L*D)
		for i, v := range c.OverZero[k] {
			oz[i] = v << (i / D)
		}
		scaled.OverZero = append(scaled.OverZero, oz)
		scaled.GroupTokens = append(scaled.GroupTokens, []float64{100, 200, 400, 800})
	}
	got, err = VAPE(scaled, vp)
	require.NoError(t, err)
	require.Equal(t, plain.Neurons, got.Neurons)
	dp := DiffParams{TopN: 5, MinDelta: 1, Normaliser: ByTokens}
	d1, err := Diff(c, []string{"a"}, []string{"b", "c"}, dp)
	require.NoError(t, err)
	d2, err := Diff(scaled, []string{"a"}, []string{"b", "c"}, dp)
	require.NoError(t, err)
	require.Equal(t, d1.Neurons, d2.Neurons)

	bad := scaled
	bad.GroupTokens = [][]float64{{1, 2}}
	_, err = VAPE(bad, vp)
	require.Error(t, err)
}
