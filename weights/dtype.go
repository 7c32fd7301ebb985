package weights

import "fmt"

// DType is a tensor element type. The numeric values are ggml's type ids, so a
// GGUF tensor-info type field converts directly.
type DType uint32

// The ggml type ids this package knows. Ids missing here (removed Q4_2/Q4_3,
// IQ quants, ternary types) are rejected when a file uses them.
const (
	F32  DType = 0
	F16  DType = 1
	Q4_0 DType = 2
	Q4_1 DType = 3
	Q5_0 DType = 6
	Q5_1 DType = 7
	Q8_0 DType = 8
	Q8_1 DType = 9
	Q2_K DType = 10
	Q3_K DType = 11
	Q4_K DType = 12
	Q5_K DType = 13
	Q6_K DType = 14
	Q8_K DType = 15
	I8   DType = 24
	I16  DType = 25
	I32  DType = 26
	I64  DType = 27
	F64  DType = 28
	BF16 DType = 30
)

// QK is the number of elements in a block of the 32-element quant formats;
// QKK the number in a K-quant super-block.
const (
	QK  = 32
	QKK = 256
)

type dtypeInfo struct {
	name       string
	blockElems int // elements per block
	blockBytes int // bytes per block
}

// dtypeTable is indexed by ggml type id; ids with no entry have an empty
// name. It is never written after compilation.
var dtypeTable = [...]dtypeInfo{
	F32:  {"F32", 1, 4},
	F16:  {"F16", 1, 2},
	BF16: {"BF16", 1, 2},
	F64:  {"F64", 1, 8},
	I8:   {"I8", 1, 1},
	I16:  {"I16", 1, 2},
	I32:  {"I32", 1, 4},
	I64:  {"I64", 1, 8},
	Q4_0: {"Q4_0", QK, 2 + QK/2},
	Q4_1: {"Q4_1", QK, 4 + QK/2},
	Q5_0: {"Q5_0", QK, 2 + 4 + QK/2},
	Q5_1: {"Q5_1", QK, 4 + 4 + QK/2},
	Q8_0: {"Q8_0", QK, 2 + QK},
	Q8_1: {"Q8_1", QK, 4 + QK},
	Q2_K: {"Q2_K", QKK, QKK/16 + QKK/4 + 2 + 2},
	Q3_K: {"Q3_K", QKK, QKK/8 + QKK/4 + 12 + 2},
	Q4_K: {"Q4_K", QKK, 2 + 2 + 12 + QKK/2},
	Q5_K: {"Q5_K", QKK, 2 + 2 + 12 + QKK/8 + QKK/2},
	Q6_K: {"Q6_K", QKK, QKK/2 + QKK/4 + QKK/16 + 2},
	Q8_K: {"Q8_K", QKK, 4 + QKK + QKK/16*2},
}

// info returns the type's layout; ok is false for an unknown id.
func (t DType) info() (in dtypeInfo, ok bool) {
	if int(t) >= len(dtypeTable) || dtypeTable[t].name == "" {
		return dtypeInfo{}, false
	}
	return dtypeTable[t], true
}

// Known reports whether the package can lay out tensors of this type.
func (t DType) Known() bool { _, ok := t.info(); return ok }

// String returns ggml's name of the type ("Q4_K"), or "type(N)" for an unknown id.
func (t DType) String() string {
	if in, ok := t.info(); ok {
		return in.name
	}
	return fmt.Sprintf("type(%d)", uint32(t))
}

// BlockElems is the number of elements one block of the type holds (1 for
// plain types, 0 for an unknown id).
func (t DType) BlockElems() int { in, _ := t.info(); return in.blockElems }

// BlockBytes is the size in bytes of one block of the type (0 for an unknown id).
func (t DType) BlockBytes() int { in, _ := t.info(); return in.blockBytes }

// Quantized reports whether the type stores blocks with scales rather than plain numbers.
func (t DType) Quantized() bool { return t.BlockElems() > 1 }

// Float reports whether the type holds plain floating-point numbers (F32, F16, BF16, F64).
func (t DType) Float() bool { return t == F32 || t == F16 || t == BF16 || t == F64 }

// RowBytes returns the byte size of n consecutive elements of the type. n must
// be a multiple of the block size; the error says so otherwise.
func (t DType) RowBytes(n int) (int, error) {
	in, ok := t.info()
	if !ok {
		return 0, fmt.Errorf("unknown dtype %v", t)
	}
	if n < 0 || n%in.blockElems != 0 {
		return 0, fmt.Errorf("%d elements of %v: not a multiple of the block size %d", n, t, in.blockElems)
	}
	return n / in.blockElems * in.blockBytes, nil
}

// ParseDType maps a ggml or safetensors dtype name ("Q8_0", "F16", "BF16", "F32",
// "I32", ...) to its DType.
func ParseDType(name string) (DType, error) {
	for t, in := range dtypeTable {
		if in.name != "" && in.name == name {
			return DType(t), nil
		}
	}
	return 0, fmt.Errorf("unknown dtype %q", name)
}
