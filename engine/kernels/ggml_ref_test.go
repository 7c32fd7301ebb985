package kernels

import (
	"encoding/binary"
	"encoding/json"
	"fmt"
	"math"
	"os"
	"path/filepath"
	"sort"
	"strconv"
	"strings"
	"testing"

	"github.com/valueexploration/valueexp/internal/shareddata"
	"github.com/valueexploration/valueexp/weights"
)

// readDequantRefs reads the F32 tensors of a refdata safetensors file and,
// for refs/dequant files (whose tensors ggml's own to_float produced from
// the GGUF's quantized tensors), the metadata "types" naming each tensor's
// ggml type.
func readDequantRefs(t *testing.T, path string) (map[string][]float32, map[string]string) {
	t.Helper()
	b, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	n := binary.LittleEndian.Uint64(b)
	var hdr map[string]json.RawMessage
	if err := json.Unmarshal(b[8:8+n], &hdr); err != nil {
		t.Fatalf("%s: header: %v", path, err)
	}
	data := b[8+n:]
	out := map[string][]float32{}
	types := map[string]string{}
	for name, raw := range hdr {
		if name == "__metadata__" {
			var md map[string]string
			if err := json.Unmarshal(raw, &md); err != nil {
				t.Fatalf("%s: metadata: %v", path, err)
			}
			if md["types"] == "" {
				continue
			}
			if err := json.Unmarshal([]byte(md["types"]), &types); err != nil {
				t.Fatalf("%s: types: %v", path, err)
			}
			continue
		}
		var info struct {
			DType   string `json:"dtype"`
			Offsets [2]int `json:"data_offsets"`
		}
		if err := json.Unmarshal(raw, &info); err != nil {
			t.Fatalf("%s: tensor %q: %v", path, name, err)
		}
		if info.DType != "F32" {
			continue // token ids and other non-float tensors are not needed here
		}
		v := make([]float32, (info.Offsets[1]-info.Offsets[0])/4)
		for i := range v {
			v[i] = math.Float32frombits(binary.LittleEndian.Uint32(data[info.Offsets[0]+4*i:]))
		}
		out[name] = v
	}
	return out, types
}

// TestKernelsMatchGGMLDequant takes quantized rows straight from the
// reference GGUF files and checks, for every implementation, that the
// kernel's dot product with a quantized activation equals the float64 dot
// of ggml's own dequantized row with the dequantized activation. This ties
// the block layouts to ggml itself, independently of the test dequantizers
// (which are checked against the same data).
func TestKernelsMatchGGMLDequant(t *testing.T) {
	dir := shareddata.Path(t, "refdata", "refs", "dequant")
	models := shareddata.Path(t, "refdata", "models")
	files, _ := filepath.Glob(filepath.Join(dir, "*.dequant.safetensors"))
	if len(files) == 0 {
		t.Skip("no dequant reference files")
	}
	byName := map[string]quantFormat{}
	for _, f := range quantFormats {
		byName[strings.ToLower(f.name)] = f
	}
	r := newRand(t)
	checked := 0
	seen := map[string]bool{}
	for _, path := range files {
		base := strings.TrimSuffix(filepath.Base(path), ".dequant.safetensors")
		// The model folder is the name before the "-<TYPE>" suffix.
		family := base
		for i := 0; i+1 < len(base); i++ {
			if base[i] == '-' && base[i+1] >= 'A' && base[i+1] <= 'Z' {
				family = base[:i]
				break
			}
		}
		g, err := weights.OpenGGUF(filepath.Join(models, family, base+".gguf"))
		if err != nil {
			t.Errorf("%s: %v", base, err)
			continue
		}
		refs, types := readDequantRefs(t, path)
		for name, want := range refs {
			tensor, ok := g.Tensor(name)
			if !ok {
				t.Errorf("%s: tensor %q not in the GGUF", base, name)
				continue
			}
			cols, rows := tensor.Cols(), tensor.Rows()
			rowBytes := len(tensor.Data) / rows
			x := randF32(r, cols)
			typ := strings.ToLower(types[name])
			seen[typ] = true
			for row := 0; row < rows; row += max(1, rows/16) {
				wrow := tensor.Data[row*rowBytes : (row+1)*rowBytes]
				deq := want[row*cols : (row+1)*cols]
				if typ == "f16" {
					ref, scale := dot64(deq, x)
					for _, ks := range impls() {
						if got := ks.dotF16(wrow, x); !near(float64(got), ref, scale, 1e-6) {
							t.Errorf("%s %s row %d %s F16: got %g want %g", base, name, row, ks.name, got, ref)
						}
					}
					checked++
					continue
				}
				f, ok := byName[typ]
				if !ok {
					t.Errorf("%s %s: type %q has no kernel", base, name, typ)
					break
				}
				// The test dequantizer must agree with ggml's to_float
				// (which works in float32) to float32 precision.
				for b := range cols / f.blockElems {
					mine := f.deq(wrow[b*f.blockBytes:])
					for i, v := range mine {
						if e := deq[b*f.blockElems+i]; !near(v, float64(e), math.Abs(float64(e))+1e-6, 1e-6) {
							t.Fatalf("%s %s row %d elem %d: test dequantizer %g, ggml %g", base, name, row, b*f.blockElems+i, v, e)
						}
					}
				}
				a, adeq := quantizeAct(f.act, x)
				var ref, scale float64
				for i := range cols {
					ref += float64(deq[i]) * adeq[i]
					scale += math.Abs(float64(deq[i]) * adeq[i])
				}
				for _, ks := range impls() {
					got := f.dot(ks)(wrow, a, cols)
					if !near(float64(got), ref, scale, 2e-6) {
						t.Errorf("%s %s row %d %s %s: got %g want %g", base, name, row, ks.name, f.name, got, ref)
					}
				}
				checked++
			}
		}
		g.Close()
	}
	var kinds []string
	for k := range seen {
		kinds = append(kinds, k)
	}
	sort.Strings(kinds)
	t.Logf("checked %s rows of types %v", strconv.Itoa(checked), kinds)
}

// TestActivationsMatchLlamaCpp runs RMSNorm, SiLU and SwiGLU on llama.cpp's
// own intermediate tensors of llama-tiny (refs/llama-tiny.refs.safetensors)
// and requires the next tensor llama.cpp computed, bit for bit: attn_norm
// from inp_embd, ffn_gate_act from ffn_gate, ffn_act from ffn_gate and
// ffn_up.
func TestActivationsMatchLlamaCpp(t *testing.T) {
	refs, _ := readDequantRefs(t, shareddata.Path(t, "refdata", "refs", "llama-tiny.refs.safetensors"))
	g, err := weights.OpenGGUF(shareddata.Path(t, "refdata", "models", "llama-tiny", "llama-tiny.gguf"))
	if err != nil {
		t.Fatal(err)
	}
	defer g.Close()
	nw, ok := g.Tensor("blk.0.attn_norm.weight")
	if !ok || nw.DType != weights.F32 {
		t.Fatal("llama-tiny.gguf: blk.0.attn_norm.weight missing or not F32")
	}
	w := make([]float32, nw.Elems())
	for i := range w {
		w[i] = math.Float32frombits(binary.LittleEndian.Uint32(nw.Data[4*i:]))
	}
	const H, F, eps = 64, 160, 1e-5
	for _, ks := range impls() {
		worst := map[string]float64{}
		check := func(what string, got []float32, want []float32) {
			for i := range got {
				d := ulpDiff(got[i], float64(want[i]))
				if math.Abs(float64(got[i]-want[i])) < 1e-30 {
					d = 0
				}
				worst[what] = max(worst[what], d)
			}
		}
		for _, seq := range []string{"seq0", "seq1"} {
			emb, norm := refs[seq+".inp_embd"], refs[seq+".blk.0.attn_norm"]
			out := make([]float32, H)
			for row := 0; row < len(emb)/H; row++ {
				ks.rmsNorm(out, emb[row*H:(row+1)*H], w, eps)
				check("rmsnorm", out, norm[row*H:(row+1)*H])
			}
			for l := range 3 {
				pre := fmt.Sprintf("%s.blk.%d.", seq, l)
				gate, up := refs[pre+"ffn_gate"], refs[pre+"ffn_up"]
				act := make([]float32, len(gate))
				ks.silu(act, gate)
				check("silu", act, refs[pre+"ffn_gate_act"])
				ks.swiglu(act, gate, up)
				check("swiglu", act, refs[pre+"ffn_act"])
			}
		}
		_ = F
		t.Logf("%s: worst ulp vs llama.cpp: %v", ks.name, worst)
		for what, d := range worst {
			if d != 0 {
				t.Errorf("%s %s: %.1f ulp from llama.cpp, want bit-exact", ks.name, what, d)
			}
		}
	}
}
