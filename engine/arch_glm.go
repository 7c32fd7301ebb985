package engine

// The GLM-4 block options (see weights/arch_glm.go) need one step of their
// own: rope in GLM's interleaved layout (Config.RopeInterleaved). The fused
// q/k/v and gate/up tensors arrive split by package weights, and the
// post-attention and post-MLP norms of glm4 are the PostNorms step Gemma
// introduced, so the forward pass is otherwise llama's.

// ropePairs rotates the first 2*len(cs) values of each of the heads head
// vectors (length d) in x by the angles whose cosines and sines are cs and
// sn: value 2j turns with value 2j+1 (GLM's layout; llama.cpp's "normal"
// rope), and the values past the rotated part are left as they are.
func ropePairs(x []float32, heads, d int, cs, sn []float32) {
	for h := 0; h < heads; h++ {
		v := x[h*d : h*d+2*len(cs)]
		for j, c := range cs {
			s := sn[j]
			a, b := v[2*j], v[2*j+1]
			// Rounded products, so that no architecture fuses them into
			// FMA and the result is the same everywhere.
			v[2*j] = float32(a*c) - float32(b*s)
			v[2*j+1] = float32(b*c) + float32(a*s)
		}
	}
}
