// Package torchfile reads files written by PyTorch's torch.save without
// Python: the zip archive holding <prefix>/data.pkl (a pickle) and the raw
// tensor storages <prefix>/data/<key>.
//
// The pickle is run on a small, safe virtual machine that knows only the
// opcodes torch.save emits and resolves only an allowlist of globals
// (tensor and parameter rebuilding, typed storages, OrderedDict). Anything
// else is reported as an error naming the file and the opcode or global;
// no code named by the file is ever executed.
//
// # Memory
//
// One read (Load, Read, Unpickle and their ...With forms) allocates at most
// a total budget, DefaultMaxBytes (1 GiB) unless Options.MaxBytes says
// otherwise: the archive directory, the pickle, the pickle VM's stack,
// memo and containers (at most 1 MiB + 64 bytes per pickle byte of it),
// every storage at its declared size (checked before a deflated record is
// inflated), and later conversions of the returned tensors (Int64s and
// friends) are all charged to it. Go's slice growth can add up to as much
// again, so the peak heap stays below about twice the budget. A file that
// needs more is refused with an error wrapping ErrBudget.
package torchfile
