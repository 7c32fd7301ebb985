package selection

import (
	"fmt"
	"testing"
)

// TestVAPETwelveValuesHandWorked runs VAPE over the 12 values with one layer
// of 24 neurons and 100 tokens per value, built so the selection can be
// worked out by hand:
//
//	neurons 0..11:  neuron k fires 90 times for value k only  (p 0.9; entropy 0)
//	neurons 12..17: neuron 12+i fires 60 times for values 2i, 2i+1 (p 0.6; entropy ln 2)
//	neurons 18..23: fire 50 times for every value              (p 0.5; entropy ln 12)
//
// The 288 probabilities sorted: 192 zeros, 72 × 0.5, 12 × 0.6, 12 × 0.9.
func TestVAPETwelveValuesHandWorked(t *testing.T) {
	const K, D = 12, 24
	c := Counts{Layers: 1, Dim: D}
	for k := 0; k < K; k++ {
		c.Tags = append(c.Tags, fmt.Sprintf("v%d", k))
		c.Tokens = append(c.Tokens, 100)
		row := make([]int64, D)
		row[k] = 90
		row[12+k/2] = 60
		for j := 18; j < 24; j++ {
			row[j] = 50
		}
		c.OverZero = append(c.OverZero, row)
	}
	for _, tc := range []struct {
		name string
		p    VAPEParams
		want func(k int) []int32
	}{
		{
			// filter: k = round(0.95·288) = round(273.6) = 274 → the 274th
			// smallest is 0.6; only the p = 0.9 neurons are strictly above it.
			// Kept: round(0.5·24) = 12, the twelve entropy-0 neurons. Bar 0.6:
			// neuron k joins value k only.
			"filter and bar 0.95",
			VAPEParams{TopRate: 0.5, FilterRate: 0.95, ActivationBarRatio: 0.95},
			func(k int) []int32 { return []int32{int32(k)} },
		},
		{
			// filter: round(0.9·288) = round(259.2) = 259 → the 259th smallest
			// is 0.5, so the pair neurons (0.6) pass too and the uniform ones
			// (0.5, not strictly above) fail. Kept: round(0.75·24) = 18: entropy
			// 0 then ln 2. Bar 0.5: neuron 12+i joins values 2i and 2i+1.
			"filter and bar 0.9",
			VAPEParams{TopRate: 0.75, FilterRate: 0.9, ActivationBarRatio: 0.9},
			func(k int) []int32 { return []int32{int32(k), int32(12 + k/2)} },
		},
		{
			// Same filter, but keeping round(0.5·24) = 12 takes only the
			// entropy-0 neurons, though the pair neurons passed the filter.
			"top rate cuts before the pairs",
			VAPEParams{TopRate: 0.5, FilterRate: 0.9, ActivationBarRatio: 0.9},
			func(k int) []int32 { return []int32{int32(k)} },
		},
	} {
		sel, err := VAPE(c, tc.p)
		if err != nil {
			t.Fatal(err)
		}
		for k := 0; k < K; k++ {
			if got, want := fmt.Sprint(sel.Neurons[k][0]), fmt.Sprint(tc.want(k)); got != want {
				t.Errorf("%s: value %d got %s, want %s", tc.name, k, got, want)
			}
		}
	}
}
