// Package torchfile reads files written by PyTorch's torch.save without
// Python: the zip archive holding <prefix>/data.pkl (a pickle) and the raw
// tensor storages <prefix>/data/<key>.
//
// The pickle is run on a small, safe virtual machine that knows only the
// opcodes torch.save emits and resolves only an allowlist of globals
// (tensor and parameter rebuilding, typed storages, OrderedDict). Anything
// else is reported as an error naming the file and the opcode or global;
// no code named by the file is ever executed.
package torchfile
