package torchfile

import (
	"archive/zip"
	"bytes"
	"encoding/binary"
	"math"
	"testing"
)

// pk assembles pickle bytes opcode by opcode, so tests state exactly the
// stream torch.save would write without depending on Python.
type pk struct{ b []byte }

func (p *pk) op(ops ...byte) *pk { p.b = append(p.b, ops...); return p }

func (p *pk) proto(v byte) *pk { return p.op(0x80, v) }

func (p *pk) str(s string) *pk {
	p.b = append(p.b, 'X')
	p.b = binary.LittleEndian.AppendUint32(p.b, uint32(len(s)))
	p.b = append(p.b, s...)
	return p
}

func (p *pk) shortStr(s string) *pk {
	p.b = append(p.b, 0x8c, byte(len(s)))
	p.b = append(p.b, s...)
	return p
}

func (p *pk) int(v int32) *pk {
	p.b = append(p.b, 'J')
	p.b = binary.LittleEndian.AppendUint32(p.b, uint32(v))
	return p
}

func (p *pk) float(v float64) *pk {
	p.b = append(p.b, 'G')
	p.b = binary.BigEndian.AppendUint64(p.b, math.Float64bits(v))
	return p
}

func (p *pk) global(module, name string) *pk {
	p.b = append(p.b, 'c')
	p.b = append(p.b, module+"\n"+name+"\n"...)
	return p
}

func (p *pk) put(i byte) *pk { return p.op('q', i) }
func (p *pk) get(i byte) *pk { return p.op('h', i) }

// ints pushes a tuple of small ints.
func (p *pk) ints(vs ...int32) *pk {
	p.op('(')
	for _, v := range vs {
		p.int(v)
	}
	return p.op('t')
}

// tensor emits _rebuild_tensor_v2(storage, offset, size, stride, False,
// OrderedDict()) with the storage given as a persistent record.
func (p *pk) tensor(storageClass, key string, numel int32, offset int32, shape, stride []int32) *pk {
	p.global("torch._utils", "_rebuild_tensor_v2")
	p.op('(')
	p.op('(').str("storage").global("torch", storageClass).str(key).str("cpu").int(numel).op('t', 'Q')
	p.int(offset).ints(shape...).ints(stride...)
	p.op(0x89).global("collections", "OrderedDict").op(')', 'R')
	return p.op('t', 'R')
}

// torchZip writes a torch.save-style archive: prefix/data.pkl, the given
// storages under prefix/data/, and prefix/byteorder.
func torchZip(tb testing.TB, pickle []byte, storages map[string][]byte, byteorder string) []byte {
	tb.Helper()
	var buf bytes.Buffer
	zw := zip.NewWriter(&buf)
	add := func(name string, data []byte) {
		w, err := zw.CreateHeader(&zip.FileHeader{Name: "archive/" + name, Method: zip.Store})
		if err != nil {
			tb.Fatal(err)
		}
		if _, err := w.Write(data); err != nil {
			tb.Fatal(err)
		}
	}
	add("data.pkl", pickle)
	if byteorder != "" {
		add("byteorder", []byte(byteorder))
	}
	for k, v := range storages {
		add("data/"+k, v)
	}
	add("version", []byte("3\n"))
	if err := zw.Close(); err != nil {
		tb.Fatal(err)
	}
	return buf.Bytes()
}

func le32f(vs ...float32) []byte {
	var b []byte
	for _, v := range vs {
		b = binary.LittleEndian.AppendUint32(b, math.Float32bits(v))
	}
	return b
}
