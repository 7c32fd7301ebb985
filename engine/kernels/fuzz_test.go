package kernels

import (
	"math"
	"testing"
)

// FuzzQuantDots feeds arbitrary bytes as weight blocks (any scale bits,
// NaN and infinity included) to every quantized dot product. No input may
// crash a kernel, and whenever the float64 reference is finite every
// implementation must agree with it.
func FuzzQuantDots(f *testing.F) {
	f.Add(uint8(0), []byte{0x00, 0x3c, 1, 2, 3, 0xff, 0x80})
	f.Add(uint8(7), make([]byte, 2*bQ4_K))
	f.Add(uint8(9), []byte{0xff, 0x7b, 0x00, 0x7c, 0x01, 0xfc, 0x55, 0xaa})
	f.Add(uint8(2), []byte("Q5_0 bits: every qh pattern"))
	f.Fuzz(func(t *testing.T, kind uint8, data []byte) {
		fm := quantFormats[int(kind)%len(quantFormats)]
		nb := 1 + len(data)/fm.blockBytes
		if nb > 8 {
			nb = 8
		}
		w := make([]byte, nb*fm.blockBytes)
		for i := range w {
			if len(data) > 0 {
				w[i] = data[i%len(data)] ^ byte(i/len(data))
			}
		}
		n := nb * fm.blockElems
		x := make([]float32, n)
		for i := range x {
			x[i] = float32(math.Sin(float64(i)*0.7+float64(kind))) * 3
		}
		a, _ := quantizeAct(fm.act, x)
		want, scale := refDot(fm, w, a, nb)
		for _, ks := range impls() {
			got := fm.dot(ks)(w, a, n)
			if math.IsNaN(want) || math.IsInf(want, 0) || math.IsInf(scale, 0) || scale > 1e30 {
				continue
			}
			if !near(float64(got), want, scale, 2e-6) {
				t.Errorf("%s %s nb=%d: got %g want %g (scale %g)", ks.name, fm.name, nb, got, want, scale)
			}
		}
	})
}
