package synth

import (
	"encoding/binary"
	"fmt"
	"math"

	"github.com/valueexploration/valueexp/weights"
)

// GGUF value type ids (GGUF specification, version 3).
const (
	ggufUint32  = 4
	ggufInt32   = 5
	ggufFloat32 = 6
	ggufBool    = 7
	ggufString  = 8
	ggufArray   = 9
	ggufUint64  = 10
)

// encodeHeader returns a version-3 GGUF header (magic, counts, metadata,
// tensor infos, padding up to the data section) and each tensor's offset in
// the data section. weights.WriteGGUF wants every tensor's bytes in memory;
// the header alone lets Write stream the data instead.
func encodeHeader(kv []weights.KV, ts []TensorSpec, align uint64) ([]byte, []uint64, error) {
	b := make([]byte, 0, 1<<16)
	u32 := func(v uint32) { b = binary.LittleEndian.AppendUint32(b, v) }
	u64 := func(v uint64) { b = binary.LittleEndian.AppendUint64(b, v) }
	str := func(s string) { u64(uint64(len(s))); b = append(b, s...) }
	b = append(b, "GGUF"...)
	u32(3)
	u64(uint64(len(ts)))
	u64(uint64(len(kv)))
	for _, e := range kv {
		str(e.Key)
		switch v := e.Value.(type) {
		case string:
			u32(ggufString)
			str(v)
		case uint32:
			u32(ggufUint32)
			u32(v)
		case uint64:
			u32(ggufUint64)
			u64(v)
		case float32:
			u32(ggufFloat32)
			u32(math.Float32bits(v))
		case bool:
			u32(ggufBool)
			if v {
				b = append(b, 1)
			} else {
				b = append(b, 0)
			}
		case []string:
			u32(ggufArray)
			u32(ggufString)
			u64(uint64(len(v)))
			for _, s := range v {
				str(s)
			}
		case []float32:
			u32(ggufArray)
			u32(ggufFloat32)
			u64(uint64(len(v)))
			for _, x := range v {
				u32(math.Float32bits(x))
			}
		case []int32:
			u32(ggufArray)
			u32(ggufInt32)
			u64(uint64(len(v)))
			for _, x := range v {
				u32(uint32(x))
			}
		default:
			return nil, nil, fmt.Errorf("synth: metadata key %q: unsupported value type %T", e.Key, e.Value)
		}
	}
	offsets := make([]uint64, len(ts))
	var off uint64
	for i := range ts {
		t := &ts[i]
		str(t.Name)
		u32(uint32(len(t.Shape)))
		for d := len(t.Shape) - 1; d >= 0; d-- { // GGUF lists the innermost axis first
			u64(uint64(t.Shape[d]))
		}
		u32(uint32(t.DType))
		u64(off)
		offsets[i] = off
		off += (uint64(t.Bytes()) + align - 1) / align * align
	}
	for uint64(len(b))%align != 0 {
		b = append(b, 0)
	}
	return b, offsets, nil
}
