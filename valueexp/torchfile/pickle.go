package torchfile

import (
	"encoding/binary"
	"errors"
	"fmt"
	"math"
	"unicode/utf8"
)

// Pickle opcodes understood by the VM. The set is what torch.save emits
// (protocol 2, occasionally 4/5 framing) plus a few harmless stack ops; every
// other opcode, including those that build or call arbitrary objects
// (INST, OBJ, NEWOBJ, EXT*, PERSID text form), is rejected.
const (
	opMark           = '('
	opStop           = '.'
	opPop            = '0'
	opPopMark        = '1'
	opDup            = '2'
	opBinFloat       = 'G'
	opBinInt         = 'J'
	opBinInt1        = 'K'
	opBinInt2        = 'M'
	opNone           = 'N'
	opBinPersID      = 'Q'
	opReduce         = 'R'
	opBinUnicode     = 'X'
	opBinBytes       = 'B'
	opShortBinBytes  = 'C'
	opAppend         = 'a'
	opBuild          = 'b'
	opGlobal         = 'c'
	opAppends        = 'e'
	opBinGet         = 'h'
	opLongBinGet     = 'j'
	opEmptyList      = ']'
	opBinPut         = 'q'
	opLongBinPut     = 'r'
	opSetItem        = 's'
	opTuple          = 't'
	opEmptyTuple     = ')'
	opSetItems       = 'u'
	opEmptyDict      = '}'
	opProto          = 0x80
	opTuple1         = 0x85
	opTuple2         = 0x86
	opTuple3         = 0x87
	opNewTrue        = 0x88
	opNewFalse       = 0x89
	opLong1          = 0x8a
	opLong4          = 0x8b
	opShortBinUni    = 0x8c
	opBinUnicode8    = 0x8d
	opBinBytes8      = 0x8e
	opMemoize        = 0x94
	opFrame          = 0x95
	opStackGlobal    = 0x93
	maxStringLen     = 1 << 30
	maxLong1Bytes    = 8
	maxContainerSize = 1 << 28
)

// PersistentLoader resolves a BINPERSID record (for torch: the tuple
// ("storage", storage class, key, location, numel)) to a value.
type PersistentLoader func(pid any) (any, error)

// globalRef is a module attribute named by GLOBAL/STACK_GLOBAL; it only
// becomes a value through REDUCE, and only if it is on the allowlist.
type globalRef struct{ module, name string }

func (g globalRef) String() string { return g.module + "." + g.name }

// markObj separates the stack segment that TUPLE/APPENDS/SETITEMS consume.
type markObj struct{}

// tuple keeps pickle tuples apart from lists while the VM runs (REDUCE
// argument lists must be tuples); it is exposed to callers as []any.
type tuple []any

// StorageClass is the value of a torch.*Storage global (torch.IntStorage,
// torch.FloatStorage, ...): it names the element dtype that a persistent
// storage record refers to.
type StorageClass struct{ DType string }

// Storage is a raw torch storage: a flat little-endian buffer of elements of
// one dtype, shared by every tensor that views it.
type Storage struct {
	DType string
	Data  []byte
}

// dict is a pickle dict or OrderedDict under construction; it is a pointer
// so that memoised references share it, and becomes a map for the caller.
type dict struct{ items map[string]any }

func newDict() *dict { return &dict{items: map[string]any{}} }

// list is a pickle list under construction.
type list struct{ items []any }

// Unpickle runs the safe pickle VM over data and returns the unpickled value
// converted to plain Go types: map[string]any, []any, int64, float64,
// string, []byte, bool, nil and *Tensor. persistent resolves BINPERSID
// records and may be nil when the stream holds none. name labels errors.
//
// Memory: what the VM builds (stack, marks, memo, strings, containers and
// the exported result) is charged against a budget of 1 MiB + 64 bytes per
// pickle byte, capped at DefaultMaxBytes (see UnpickleWith); a pickle that
// needs more is refused with an error before allocating it.
func Unpickle(name string, data []byte, persistent PersistentLoader) (any, error) {
	return UnpickleWith(name, data, persistent, Options{})
}

// UnpickleWith is Unpickle with an explicit total budget.
func UnpickleWith(name string, data []byte, persistent PersistentLoader, opt Options) (any, error) {
	b := newBudget(opt)
	v, err := unpickle(data, persistent, b)
	if err != nil {
		return nil, fmt.Errorf("torchfile: %s: %w", name, err)
	}
	return v, nil
}

// vmBytesPerPickleByte bounds what the VM may build per byte of pickle: a
// torch.save pickle turns each opcode into at most a stack slot, a memo
// entry or a container slot (tens of bytes), so only amplification
// (exporting one big memoised value again and again) goes beyond it.
const (
	vmBytesPerPickleByte = 64
	vmBaseBytes          = 1 << 20
)

func unpickle(data []byte, persistent PersistentLoader, b *budget) (any, error) {
	// The VM's share is reserved from the read's budget up front (so
	// storages loaded meanwhile cannot overdraw it) and what it did not
	// use is given back.
	n := min(b.left, vmBaseBytes+vmBytesPerPickleByte*int64(len(data)))
	b.left -= n
	vm := &budget{left: n, total: n, what: "the pickle's objects (1 MiB + 64 bytes per pickle byte)"}
	m := &machine{data: data, persistent: persistent, memo: map[uint32]any{}, b: vm, total: b}
	v, err := m.run()
	if err == nil {
		v, err = exportValue(v, vm)
	}
	b.left += vm.left
	return v, err
}

// Options configure LoadWith, ReadWith and UnpickleWith.
type Options struct {
	// MaxBytes is the total of what one read may allocate: the pickle's
	// bytes, everything the pickle VM builds, every storage and every
	// later Int64s/Int32s/Float64s conversion of the returned tensors. 0
	// means DefaultMaxBytes.
	MaxBytes int64
}

// DefaultMaxBytes is the default total budget of one read: far above the
// counts and mask files (a few MiB for a 70B model's over_zero) this
// package is for, far below what a hostile file could otherwise demand.
const DefaultMaxBytes = 1 << 30

// ErrBudget is returned (wrapped) when a file needs more memory than its
// read's budget.
var ErrBudget = errors.New("memory budget exceeded")

// budget counts the bytes a read may still allocate. Tensors keep a
// pointer to their read's budget, so conversions draw from the same total.
type budget struct {
	left  int64
	total int64 // the initial amount, for messages
	what  string
}

func newBudget(opt Options) *budget {
	n := opt.MaxBytes
	if n <= 0 {
		n = DefaultMaxBytes
	}
	return &budget{left: n, total: n, what: "the read"}
}

func (b *budget) used() int64 {
	if b.total == 0 {
		return 0
	}
	return b.total - b.left
}

// charge takes n bytes from the budget, or fails without taking any.
func (b *budget) charge(n int64, purpose string) error {
	if b == nil {
		return nil
	}
	if n < 0 || n > b.left {
		return fmt.Errorf("%w: %s needs %d bytes, %s has %d of %d left", ErrBudget, purpose, n, b.what, b.left, b.total)
	}
	b.left -= n
	return nil
}

type machine struct {
	data       []byte
	pos        int
	stack      []any
	marks      []int
	memo       map[uint32]any
	persistent PersistentLoader
	b          *budget // the VM's share
	total      *budget // the whole read's, which tensors keep
	// stackHigh and marksHigh are the largest stack and mark depths
	// charged so far: slots are charged once, when first reached.
	stackHigh, marksHigh int
}

// Sizes charged per VM object: an interface slot, a map entry with its
// share of buckets, and a container header.
const (
	slotBytes      = 16
	mapEntryBytes  = 64
	containerBytes = 64
)

var errShort = errors.New("unexpected end of pickle data")

func (m *machine) read(n int) ([]byte, error) {
	if n < 0 || n > len(m.data)-m.pos {
		return nil, errShort
	}
	b := m.data[m.pos : m.pos+n]
	m.pos += n
	return b, nil
}

func (m *machine) readLine() (string, error) {
	for i := m.pos; i < len(m.data); i++ {
		if m.data[i] == '\n' {
			s := string(m.data[m.pos:i])
			m.pos = i + 1
			return s, nil
		}
	}
	return "", errShort
}

func (m *machine) push(v any) error {
	if len(m.stack) >= m.stackHigh {
		if err := m.b.charge(slotBytes, "a stack slot"); err != nil {
			return err
		}
		m.stackHigh = len(m.stack) + 1
	}
	m.stack = append(m.stack, v)
	return nil
}

// grab charges a copy of n stack items (a tuple, list or dict built from
// them).
func (m *machine) grab(n int) error {
	return m.b.charge(int64(n)*slotBytes+containerBytes, "a container")
}

func (m *machine) pop() (any, error) {
	n := len(m.stack)
	if n == 0 || (len(m.marks) > 0 && m.marks[len(m.marks)-1] == n) {
		return nil, errors.New("stack underflow")
	}
	v := m.stack[n-1]
	m.stack = m.stack[:n-1]
	return v, nil
}

func (m *machine) top() (any, error) {
	n := len(m.stack)
	if n == 0 || (len(m.marks) > 0 && m.marks[len(m.marks)-1] == n) {
		return nil, errors.New("stack underflow")
	}
	return m.stack[n-1], nil
}

// popMark returns the items pushed since the last MARK and removes them.
func (m *machine) popMark() ([]any, error) {
	if len(m.marks) == 0 {
		return nil, errors.New("no MARK on the stack")
	}
	k := m.marks[len(m.marks)-1]
	m.marks = m.marks[:len(m.marks)-1]
	if err := m.grab(len(m.stack) - k); err != nil {
		return nil, err
	}
	items := append([]any(nil), m.stack[k:]...)
	m.stack = m.stack[:k]
	return items, nil
}

func (m *machine) popN(n int) ([]any, error) {
	floor := 0
	if len(m.marks) > 0 {
		floor = m.marks[len(m.marks)-1]
	}
	if len(m.stack)-floor < n {
		return nil, errors.New("stack underflow")
	}
	if err := m.grab(n); err != nil {
		return nil, err
	}
	items := append([]any(nil), m.stack[len(m.stack)-n:]...)
	m.stack = m.stack[:len(m.stack)-n]
	return items, nil
}

func (m *machine) run() (any, error) {
	for {
		at := m.pos
		if m.pos >= len(m.data) {
			return nil, errors.New("pickle data ends without STOP")
		}
		op := m.data[m.pos]
		m.pos++
		done, err := m.step(op)
		if err != nil {
			return nil, fmt.Errorf("opcode 0x%02x at offset %d: %w", op, at, err)
		}
		if done {
			if len(m.stack) != 1 || len(m.marks) != 0 {
				return nil, fmt.Errorf("STOP at offset %d with %d values and %d marks on the stack, want 1 and 0", at, len(m.stack), len(m.marks))
			}
			return m.stack[0], nil
		}
	}
}

// step executes one opcode; it reports true on STOP.
func (m *machine) step(op byte) (bool, error) {
	switch op {
	case opStop:
		return true, nil
	case opProto:
		b, err := m.read(1)
		if err != nil {
			return false, err
		}
		if b[0] < 2 || b[0] > 5 {
			return false, fmt.Errorf("unsupported pickle protocol %d", b[0])
		}
	case opFrame:
		// Framing is only a buffering hint; the frame's bytes follow inline.
		if _, err := m.read(8); err != nil {
			return false, err
		}
	case opMark:
		if len(m.marks) >= m.marksHigh {
			if err := m.b.charge(8, "a mark"); err != nil {
				return false, err
			}
			m.marksHigh = len(m.marks) + 1
		}
		m.marks = append(m.marks, len(m.stack))
	case opPop:
		if _, err := m.pop(); err != nil {
			return false, err
		}
	case opPopMark:
		if _, err := m.popMark(); err != nil {
			return false, err
		}
	case opDup:
		v, err := m.top()
		if err != nil {
			return false, err
		}
		return false, m.push(v)
	case opNone:
		return false, m.push(nil)
	case opNewTrue:
		return false, m.push(true)
	case opNewFalse:
		return false, m.push(false)
	case opBinInt:
		b, err := m.read(4)
		if err != nil {
			return false, err
		}
		return false, m.push(int64(int32(binary.LittleEndian.Uint32(b))))
	case opBinInt1:
		b, err := m.read(1)
		if err != nil {
			return false, err
		}
		return false, m.push(int64(b[0]))
	case opBinInt2:
		b, err := m.read(2)
		if err != nil {
			return false, err
		}
		return false, m.push(int64(binary.LittleEndian.Uint16(b)))
	case opLong1, opLong4:
		return false, m.long(op)
	case opBinFloat:
		b, err := m.read(8)
		if err != nil {
			return false, err
		}
		return false, m.push(math.Float64frombits(binary.BigEndian.Uint64(b)))
	case opShortBinUni, opBinUnicode, opBinUnicode8:
		b, err := m.counted(op)
		if err != nil {
			return false, err
		}
		if !utf8.Valid(b) {
			return false, errors.New("string is not valid UTF-8")
		}
		if err := m.b.charge(int64(len(b)), "a string"); err != nil {
			return false, err
		}
		return false, m.push(string(b))
	case opShortBinBytes, opBinBytes, opBinBytes8:
		b, err := m.counted(op)
		if err != nil {
			return false, err
		}
		if err := m.b.charge(int64(len(b)), "a bytes object"); err != nil {
			return false, err
		}
		return false, m.push(append([]byte(nil), b...))
	case opEmptyDict, opEmptyList, opEmptyTuple:
		if err := m.b.charge(containerBytes, "a container"); err != nil {
			return false, err
		}
		switch op {
		case opEmptyDict:
			return false, m.push(newDict())
		case opEmptyList:
			return false, m.push(&list{})
		}
		return false, m.push(tuple{})
	case opTuple:
		items, err := m.popMark()
		if err != nil {
			return false, err
		}
		return false, m.push(tuple(items))
	case opTuple1, opTuple2, opTuple3:
		items, err := m.popN(int(op-opTuple1) + 1)
		if err != nil {
			return false, err
		}
		return false, m.push(tuple(items))
	case opAppend:
		v, err := m.pop()
		if err != nil {
			return false, err
		}
		return false, m.appendTo([]any{v})
	case opAppends:
		items, err := m.popMark()
		if err != nil {
			return false, err
		}
		return false, m.appendTo(items)
	case opSetItem:
		kv, err := m.popN(2)
		if err != nil {
			return false, err
		}
		return false, m.setItems(kv)
	case opSetItems:
		items, err := m.popMark()
		if err != nil {
			return false, err
		}
		if len(items)%2 != 0 {
			return false, errors.New("SETITEMS with an odd number of items")
		}
		return false, m.setItems(items)
	case opBinPut, opLongBinPut, opMemoize:
		return false, m.put(op)
	case opBinGet, opLongBinGet:
		var idx uint32
		if op == opBinGet {
			b, err := m.read(1)
			if err != nil {
				return false, err
			}
			idx = uint32(b[0])
		} else {
			b, err := m.read(4)
			if err != nil {
				return false, err
			}
			idx = binary.LittleEndian.Uint32(b)
		}
		v, ok := m.memo[idx]
		if !ok {
			return false, fmt.Errorf("memo key %d not defined", idx)
		}
		return false, m.push(v)
	case opGlobal:
		module, err := m.readLine()
		if err != nil {
			return false, err
		}
		name, err := m.readLine()
		if err != nil {
			return false, err
		}
		return false, m.global(module, name)
	case opStackGlobal:
		mn, err := m.popN(2)
		if err != nil {
			return false, err
		}
		module, ok1 := mn[0].(string)
		name, ok2 := mn[1].(string)
		if !ok1 || !ok2 {
			return false, errors.New("STACK_GLOBAL needs two strings")
		}
		return false, m.global(module, name)
	case opReduce:
		fa, err := m.popN(2)
		if err != nil {
			return false, err
		}
		v, err := m.reduce(fa[0], fa[1])
		if err != nil {
			return false, err
		}
		return false, m.push(v)
	case opBuild:
		state, err := m.pop()
		if err != nil {
			return false, err
		}
		obj, err := m.top()
		if err != nil {
			return false, err
		}
		// OrderedDict state dicts carry a _metadata attribute set by BUILD;
		// attributes do not belong in the returned map, so they are dropped.
		if _, ok := obj.(*dict); !ok {
			return false, fmt.Errorf("BUILD on %s is not supported", typeName(obj))
		}
		_ = state
	case opBinPersID:
		pid, err := m.pop()
		if err != nil {
			return false, err
		}
		if m.persistent == nil {
			return false, errors.New("persistent id found but no loader given")
		}
		// Each record is exported afresh, so a large memoised value
		// named in many records is paid for every time (this was the
		// 48 KB → 3.3 GB "DUP bomb" of issue 14).
		id, err := exportValue(pid, m.b)
		if err != nil {
			return false, err
		}
		v, err := m.persistent(id)
		if err != nil {
			return false, err
		}
		return false, m.push(v)
	default:
		return false, fmt.Errorf("unsupported pickle opcode 0x%02x (%q)", op, rune(op))
	}
	return false, nil
}

func (m *machine) long(op byte) error {
	var n int
	if op == opLong1 {
		b, err := m.read(1)
		if err != nil {
			return err
		}
		n = int(b[0])
	} else {
		b, err := m.read(4)
		if err != nil {
			return err
		}
		n = int(int32(binary.LittleEndian.Uint32(b)))
	}
	if n < 0 || n > maxLong1Bytes {
		// Values beyond int64 have no use in a torch file.
		return fmt.Errorf("integer of %d bytes does not fit in int64", n)
	}
	b, err := m.read(n)
	if err != nil {
		return err
	}
	var u uint64
	for i := n - 1; i >= 0; i-- {
		u = u<<8 | uint64(b[i])
	}
	if n > 0 && n < 8 && b[n-1]&0x80 != 0 {
		u |= ^uint64(0) << (8 * uint(n)) // sign-extend two's complement
	}
	return m.push(int64(u))
}

func (m *machine) counted(op byte) ([]byte, error) {
	var n uint64
	switch op {
	case opShortBinUni, opShortBinBytes:
		b, err := m.read(1)
		if err != nil {
			return nil, err
		}
		n = uint64(b[0])
	case opBinUnicode, opBinBytes:
		b, err := m.read(4)
		if err != nil {
			return nil, err
		}
		n = uint64(binary.LittleEndian.Uint32(b))
	default:
		b, err := m.read(8)
		if err != nil {
			return nil, err
		}
		n = binary.LittleEndian.Uint64(b)
	}
	if n > maxStringLen {
		return nil, fmt.Errorf("string of %d bytes is too long", n)
	}
	return m.read(int(n))
}

func (m *machine) put(op byte) error {
	v, err := m.top()
	if err != nil {
		return err
	}
	var idx uint32
	switch op {
	case opBinPut:
		b, err := m.read(1)
		if err != nil {
			return err
		}
		idx = uint32(b[0])
	case opLongBinPut:
		b, err := m.read(4)
		if err != nil {
			return err
		}
		idx = binary.LittleEndian.Uint32(b)
	default:
		idx = uint32(len(m.memo))
	}
	if _, ok := m.memo[idx]; !ok {
		if err := m.b.charge(mapEntryBytes, "a memo entry"); err != nil {
			return err
		}
	}
	m.memo[idx] = v
	return nil
}

func (m *machine) appendTo(items []any) error {
	obj, err := m.top()
	if err != nil {
		return err
	}
	l, ok := obj.(*list)
	if !ok {
		return fmt.Errorf("APPEND to %s, want a list", typeName(obj))
	}
	if len(l.items)+len(items) > maxContainerSize {
		return errors.New("list too long")
	}
	// Growing by append doubles: charge the slots and the copy.
	if err := m.b.charge(2*slotBytes*int64(len(items)), "list items"); err != nil {
		return err
	}
	l.items = append(l.items, items...)
	return nil
}

func (m *machine) setItems(kv []any) error {
	obj, err := m.top()
	if err != nil {
		return err
	}
	d, ok := obj.(*dict)
	if !ok {
		return fmt.Errorf("SETITEM on %s, want a dict", typeName(obj))
	}
	for i := 0; i < len(kv); i += 2 {
		k, ok := kv[i].(string)
		if !ok {
			return fmt.Errorf("dict key of type %s, only string keys are supported", typeName(kv[i]))
		}
		if _, ok := d.items[k]; !ok {
			if err := m.b.charge(mapEntryBytes, "a dict entry"); err != nil {
				return err
			}
		}
		d.items[k] = kv[i+1]
	}
	return nil
}

// allowedStorages maps torch's typed storage classes to dtype names.
var allowedStorages = map[string]string{
	"DoubleStorage":   "float64",
	"FloatStorage":    "float32",
	"HalfStorage":     "float16",
	"BFloat16Storage": "bfloat16",
	"LongStorage":     "int64",
	"IntStorage":      "int32",
	"ShortStorage":    "int16",
	"CharStorage":     "int8",
	"ByteStorage":     "uint8",
	"BoolStorage":     "bool",
}

// allowedGlobals lists the callables REDUCE may invoke. Nothing outside it
// is ever resolved, so a hostile file cannot reach arbitrary code.
var allowedGlobals = map[string]bool{
	"torch._utils._rebuild_tensor_v2": true,
	"torch._utils._rebuild_parameter": true,
	"collections.OrderedDict":         true,
	"_codecs.encode":                  true,
}

func (m *machine) global(module, name string) error {
	if module == "torch" {
		if dt, ok := allowedStorages[name]; ok {
			return m.push(StorageClass{DType: dt})
		}
	}
	g := globalRef{module, name}
	if !allowedGlobals[g.String()] {
		return fmt.Errorf("global %q is not allowed", g.String())
	}
	return m.push(g)
}

func (m *machine) reduce(fn, args any) (any, error) {
	g, ok := fn.(globalRef)
	if !ok {
		return nil, fmt.Errorf("REDUCE on %s, want an allowed global", typeName(fn))
	}
	a, ok := args.(tuple)
	if !ok {
		return nil, fmt.Errorf("REDUCE %s: arguments are %s, want a tuple", g, typeName(args))
	}
	switch g.String() {
	case "collections.OrderedDict":
		if len(a) != 0 {
			return nil, fmt.Errorf("REDUCE %s: %d arguments, want 0", g, len(a))
		}
		return newDict(), nil
	case "torch._utils._rebuild_tensor_v2":
		t, err := rebuildTensor(a, m.b, m.total)
		if err != nil {
			return nil, fmt.Errorf("REDUCE %s: %w", g, err)
		}
		return t, nil
	case "torch._utils._rebuild_parameter":
		if len(a) < 1 {
			return nil, fmt.Errorf("REDUCE %s: no arguments", g)
		}
		t, ok := a[0].(*Tensor)
		if !ok {
			return nil, fmt.Errorf("REDUCE %s: argument is %s, want a tensor", g, typeName(a[0]))
		}
		return t, nil
	case "_codecs.encode":
		// Protocol-2 pickles spell bytes as _codecs.encode(str, "latin1").
		if len(a) != 2 {
			return nil, fmt.Errorf("REDUCE %s: %d arguments, want 2", g, len(a))
		}
		s, ok1 := a[0].(string)
		enc, ok2 := a[1].(string)
		if !ok1 || !ok2 || (enc != "latin1" && enc != "latin-1") {
			return nil, fmt.Errorf("REDUCE %s: only (str, \"latin1\") is supported", g)
		}
		if err := m.b.charge(int64(len(s)), "REDUCE "+g.String()); err != nil {
			return nil, err
		}
		out := make([]byte, 0, len(s))
		for _, r := range s {
			if r > 0xff {
				return nil, fmt.Errorf("REDUCE %s: rune %U outside latin1", g, r)
			}
			out = append(out, byte(r))
		}
		return out, nil
	}
	return nil, fmt.Errorf("REDUCE %s is not supported", g)
}

// rebuildTensor mirrors _rebuild_tensor_v2(storage, storage_offset, size,
// stride, requires_grad, backward_hooks[, metadata]).
func rebuildTensor(a tuple, b, read *budget) (*Tensor, error) {
	if len(a) < 4 {
		return nil, fmt.Errorf("%d arguments, want at least 4", len(a))
	}
	st, ok := a[0].(*Storage)
	if !ok {
		return nil, fmt.Errorf("storage argument is %s", typeName(a[0]))
	}
	off, ok := a[1].(int64)
	if !ok {
		return nil, fmt.Errorf("storage offset is %s, want int", typeName(a[1]))
	}
	shape, err := intTuple(a[2])
	if err != nil {
		return nil, fmt.Errorf("size: %w", err)
	}
	stride, err := intTuple(a[3])
	if err != nil {
		return nil, fmt.Errorf("stride: %w", err)
	}
	if off < 0 || off > math.MaxInt32*int64(1<<16) {
		return nil, fmt.Errorf("storage offset %d out of range", off)
	}
	if err := b.charge(containerBytes+2*slotBytes*int64(len(shape)), "a tensor"); err != nil {
		return nil, err
	}
	t := &Tensor{DType: st.DType, Shape: shape, Stride: stride, Offset: int(off), Data: st.Data, budget: read}
	if err := t.check(); err != nil {
		return nil, err
	}
	return t, nil
}

func intTuple(v any) ([]int, error) {
	tu, ok := v.(tuple)
	if !ok {
		return nil, fmt.Errorf("got %s, want a tuple of ints", typeName(v))
	}
	out := make([]int, len(tu))
	for i, x := range tu {
		n, ok := x.(int64)
		if !ok {
			return nil, fmt.Errorf("element %d is %s, want int", i, typeName(x))
		}
		if n < math.MinInt32 || n > math.MaxInt32 {
			return nil, fmt.Errorf("element %d = %d out of range", i, n)
		}
		out[i] = int(n)
	}
	return out, nil
}

// maxDepth bounds container nesting so hostile input cannot exhaust the
// stack while results are converted.
const maxDepth = 1000

// exporter converts VM-internal containers to the plain Go types callers
// see. Converted containers are cached so that memoised sharing stays
// sharing (no exponential blow-up), and a container met again while it is
// still being converted is a cycle, which plain Go values cannot express.
type exporter struct {
	done  map[any]any
	doing map[any]bool
	b     *budget
}

func exportValue(v any, b *budget) (any, error) {
	e := exporter{done: map[any]any{}, doing: map[any]bool{}, b: b}
	return e.export(v, 0)
}

func (e *exporter) export(v any, depth int) (any, error) {
	if depth > maxDepth {
		return nil, fmt.Errorf("containers nested deeper than %d", maxDepth)
	}
	var key any
	switch x := v.(type) {
	case *dict:
		key = x
	case *list:
		key = x
	case tuple:
		if len(x) > 0 {
			key = &x[0]
		}
	case globalRef:
		return x.String(), nil
	default:
		return v, nil
	}
	if key != nil {
		if out, ok := e.done[key]; ok {
			return out, nil
		}
		if e.doing[key] {
			return nil, errors.New("self-referencing container")
		}
		if err := e.b.charge(3*mapEntryBytes, "exporting a container"); err != nil {
			return nil, err
		}
		e.doing[key] = true
		defer delete(e.doing, key)
	}
	var out any
	switch x := v.(type) {
	case *dict:
		if err := e.b.charge(mapEntryBytes*int64(len(x.items)), "exporting a dict"); err != nil {
			return nil, err
		}
		m := make(map[string]any, len(x.items))
		for k, it := range x.items {
			c, err := e.export(it, depth+1)
			if err != nil {
				return nil, err
			}
			m[k] = c
		}
		out = m
	case *list:
		s, err := e.exportSlice(x.items, depth)
		if err != nil {
			return nil, err
		}
		out = s
	case tuple:
		s, err := e.exportSlice(x, depth)
		if err != nil {
			return nil, err
		}
		out = s
	}
	if key != nil {
		e.done[key] = out
	}
	return out, nil
}

func (e *exporter) exportSlice(items []any, depth int) ([]any, error) {
	if err := e.b.charge(slotBytes*int64(len(items)), "exporting a list"); err != nil {
		return nil, err
	}
	out := make([]any, len(items))
	for i, it := range items {
		c, err := e.export(it, depth+1)
		if err != nil {
			return nil, err
		}
		out[i] = c
	}
	return out, nil
}

func typeName(v any) string {
	switch v.(type) {
	case nil:
		return "None"
	case *dict:
		return "dict"
	case *list:
		return "list"
	case tuple:
		return "tuple"
	case int64:
		return "int"
	case float64:
		return "float"
	case string:
		return "str"
	case []byte:
		return "bytes"
	case bool:
		return "bool"
	case *Tensor:
		return "tensor"
	case *Storage:
		return "storage"
	case StorageClass:
		return "storage class"
	case globalRef:
		return "global " + v.(globalRef).String()
	}
	return fmt.Sprintf("%T", v)
}
