#!/usr/bin/python3
"""Turns the output of llamadump (see README.md) into a reference file.

Interpreter: /usr/bin/python3 with numpy (Debian python3-numpy).

Usage: llamadump.py OUT.safetensors ID... < llamadump-stdout

The input is blocks of a header line, "act L ROWS COLS" or
"logits ROWS COLS", followed by ROWS*COLS values, one a line. The file
holds:
  tokens   I64 [n]            the prompt
  logits   F32 [n, vocab]     every token's logits
  act.L    F32 [n, ffn]       SiLU(gate) of layer L, the engine's
                              blocks.L.mlp.hook_act
"""
import json
import struct
import sys

import numpy as np


def blocks(lines):
    """Yields (key, rows, cols, values) for each block of the input."""
    it = iter(lines)
    for head in it:
        f = head.split()
        if not f:
            continue
        if f[0] == "act":
            key, rows, cols = "act." + f[1], int(f[2]), int(f[3])
        elif f[0] == "logits":
            key, rows, cols = "logits", int(f[1]), int(f[2])
        else:
            sys.exit(f"unexpected line {head!r}")
        vals = [float(next(it)) for _ in range(rows * cols)]
        yield key, rows, cols, vals


def write_safetensors(path, tensors):
    header, blobs, off = {}, [], 0
    for k, a in tensors.items():
        b = a.tobytes()
        header[k] = {"dtype": {"float32": "F32", "int64": "I64"}[str(a.dtype)],
                     "shape": list(a.shape), "data_offsets": [off, off + len(b)]}
        blobs.append(b)
        off += len(b)
    h = json.dumps(header, separators=(",", ":")).encode()
    h += b" " * ((8 - len(h) % 8) % 8)
    with open(path, "wb") as f:
        f.write(struct.pack("<Q", len(h)))
        f.write(h)
        for b in blobs:
            f.write(b)


def main():
    out, ids = sys.argv[1], [int(x) for x in sys.argv[2:]]
    tensors = {"tokens": np.array(ids, dtype=np.int64)}
    for key, rows, cols, vals in blocks(sys.stdin):
        if rows != len(ids):
            sys.exit(f"{key}: {rows} rows, want one per token ({len(ids)})")
        tensors[key] = np.array(vals, dtype=np.float32).reshape(rows, cols)
    if "logits" not in tensors:
        sys.exit("no logits in the input")
    write_safetensors(out, tensors)
    print(f"wrote {out}: {len(tensors) - 2} layers, logits {tensors['logits'].shape}", file=sys.stderr)


if __name__ == "__main__":
    main()
