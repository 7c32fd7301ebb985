#!/usr/bin/python3
"""Turns a full-precision tensor dump of one llama.cpp forward pass into a
reference file.

Interpreter: /usr/bin/python3 with numpy (Debian python3-numpy).

Usage: dump2st.py OUT.safetensors ID,ID,... < dump

The dump is a sequence of blocks, one per tensor llama.cpp's graph
evaluation callback saw:

    TENSOR <name> <op> <ne0> <ne1> <ne2> <ne3>
    <ne0*ne1*ne2*ne3 values, one per line, "%.9e">

(see README.md for the program that printed it). The file holds:
  tokens  I64 [n]              the prompt
  logits  F32 [rows, vocab]    "result_output" (llama.cpp computes only the
                               last row)
  act.L   F32 [rows, ffn]      the L-th SILU node: silu(gate) of layer L
  pre.L   F32 [rows, ffn]      the gate of layer L: "ffn_gate-L" (separate
                               gate), or the first half of "ffn_silu-L",
                               which llama.cpp b4748's fused SwiGLU (phi3)
                               names the gate_up product
(the last layer has only the last row).
"""
import json
import struct
import sys

import numpy as np


def blocks(lines):
    it = iter(lines)
    for line in it:
        if not line.startswith("TENSOR "):
            continue
        _, name, op, *ne = line.split()
        ne = [int(x) for x in ne]
        n = ne[0] * ne[1] * ne[2] * ne[3]
        vals = np.array([float(next(it)) for _ in range(n)], dtype=np.float32)
        yield name, op, ne, vals


def main():
    out, ids = sys.argv[1], [int(x) for x in sys.argv[2].split(",")]
    tensors = {"tokens": np.array(ids, dtype=np.int64)}
    silu = 0
    for name, op, ne, vals in blocks(sys.stdin):
        rows = vals.reshape(ne[1], ne[0])
        if name == "result_output":
            tensors["logits"] = rows
        elif op == "SILU":
            tensors["act.%d" % silu] = rows
            silu += 1
        elif name.startswith("ffn_silu-"):
            tensors["pre." + name.split("-")[1]] = np.ascontiguousarray(rows[:, : ne[0] // 2])
        elif name.startswith("ffn_gate-"):
            tensors["pre." + name.split("-")[1]] = rows
    header, data, off = {}, b"", 0
    for k in sorted(tensors):
        v = tensors[k]
        b = v.tobytes()
        header[k] = {"dtype": "I64" if v.dtype == np.int64 else "F32", "shape": list(v.shape), "data_offsets": [off, off + len(b)]}
        data += b
        off += len(b)
    h = json.dumps(header, separators=(",", ":")).encode()
    h += b" " * (-len(h) % 8)
    with open(out, "wb") as f:
        f.write(struct.pack("<Q", len(h)) + h + data)


if __name__ == "__main__":
    main()
