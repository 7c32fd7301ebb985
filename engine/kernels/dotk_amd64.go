//go:build amd64

package kernels

//go:noescape
func dotQ4_KAVX(w, a *byte, nb int) float32

//go:noescape
func dotQ5_KAVX(w, a *byte, nb int) float32

//go:noescape
func dotQ6_KAVX(w, a *byte, nb int) float32

//go:noescape
func dotQ2_KAVX(w, a *byte, nb int) float32

//go:noescape
func dotQ3_KAVX(w, a *byte, nb int) float32
