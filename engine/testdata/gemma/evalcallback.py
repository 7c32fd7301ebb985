#!/usr/bin/python3
"""Turns the output of llama.cpp's llama-eval-callback into a reference file.

Interpreter: /usr/bin/python3 with numpy (Debian python3-numpy).

Usage: evalcallback.py OUT.safetensors TOKEN_IDS < eval-callback-stdout

TOKEN_IDS is the prompt's ids as llama-tokenize prints them ("[1, 1857, ...]").
The input must print every value of a tensor ("%.9e"), not the first and
last three that the stock tool prints, and come from a build whose GELU is
computed exactly (ggml's default reads GELU from a float16 table, which is
off by about 1e-3). See README.md for how the dumps were made.

The file holds:
  tokens      I64 [n]           the prompt
  logits      F32 [rows, vocab] "result_output" (llama.cpp computes only the
                                last row)
  act.L       F32 [rows, ffn]   "ffn_gelu-L", the gate activation of layer L
                                (the last layer has only the last row)
"""
import json
import re
import struct
import sys

import numpy as np

HEAD = re.compile(r"^ggml_debug:\s+(.+?) = \((\w+)\)\s+(\w+)\(.*\) = \{(\d+), (\d+), (\d+), (\d+)\}")
NUM = re.compile(r"[-+]?(?:\d+\.\d*|\.\d+|\d+)(?:[eE][-+]?\d+)?|[-+]?inf|nan")


def parse(lines):
    """Yields (name, ne, values) for every tensor the callback printed."""
    name, ne, vals = None, None, []
    for line in lines:
        m = HEAD.match(line)
        if m:
            if name is not None:
                yield name, ne, vals
            name, ne, vals = m.group(1), tuple(int(m.group(i)) for i in range(4, 8)), []
            continue
        if name is None:
            continue
        s = line.strip()
        if s.startswith("[") and not s.startswith("[\n") and len(s) > 1 and s != "[":
            vals.extend(float(x) for x in NUM.findall(s))
        elif s.startswith("sum ="):
            yield name, ne, vals
            name = None
    if name is not None:
        yield name, ne, vals


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
    out, ids = sys.argv[1], json.loads(sys.argv[2])
    tensors = {"tokens": np.array(ids, dtype=np.int64)}
    for name, ne, vals in parse(sys.stdin):
        m = re.fullmatch(r"ffn_gelu-(\d+)", name)
        if m:
            key = "act." + m.group(1)
        elif name == "result_output":
            key = "logits"
        else:
            continue
        n = ne[0] * ne[1] * ne[2] * ne[3]
        if len(vals) != n:
            sys.exit(f"{name}: {len(vals)} values printed, want {n} (was the full-print build used?)")
        tensors[key] = np.array(vals, dtype=np.float32).reshape(ne[1] * ne[2] * ne[3], ne[0])
    if "logits" not in tensors:
        sys.exit("no result_output in the input")
    write_safetensors(out, tensors)
    print(f"wrote {out}: {len(tensors) - 2} layers, logits {tensors['logits'].shape}", file=sys.stderr)


if __name__ == "__main__":
    main()
