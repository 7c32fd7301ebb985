#!/usr/bin/python3
"""Turns llama-eval-callback's output on a mixture-of-experts model into a reference file.

Interpreter: /usr/bin/python3 with numpy (Debian python3-numpy).

Usage: evalcallback.py OUT.safetensors TOKEN_ID... < eval-callback-stdout

The input must print every value of a tensor with "%.9e" (the stock tool
prints the first and last three with four decimals); see README.md.

The file holds (rows: the tokens llama.cpp computed; every token for the
first layers, only the last one for the last layer and the logits):
  tokens     I64 [n]              the prompt
  logits     F32 [rows, vocab]    "result_output"
  router.L   F32 [rows, experts]  "ffn_moe_logits-L", the router logits of layer L
  topk.L     I64 [rows, k]        "ffn_moe_topk-L", the chosen experts, best first
  act.L      F32 [rows, k, ffn]   "ffn_moe_silu-L", silu(gate) of each chosen expert
  shared.L   F32 [rows, ffn_sh]   "ffn_silu-L", silu(gate) of the shared expert (Qwen2-MoE)
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
        if s.startswith("sum ="):
            yield name, ne, vals
            name = None
        elif s.startswith("[") and len(s) > 1:
            vals.extend(float(x) for x in NUM.findall(s))
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
    if len(sys.argv) < 3:
        sys.exit(__doc__)
    out, tokens = sys.argv[1], [int(x) for x in sys.argv[2:]]
    res = {"tokens": np.array(tokens, dtype=np.int64)}
    want = [(re.compile(r"^ffn_moe_logits-(\d+)$"), "router.{}", np.float32),
            (re.compile(r"^ffn_moe_topk-(\d+)$"), "topk.{}", np.int64),
            (re.compile(r"^ffn_moe_silu-(\d+)$"), "act.{}", np.float32),
            (re.compile(r"^ffn_silu-(\d+)$"), "shared.{}", np.float32)]
    for name, ne, vals in parse(sys.stdin):
        n = ne[0] * ne[1] * ne[2] * ne[3]
        if len(vals) != n:
            sys.exit(f"{name}: {len(vals)} values printed, shape {ne} has {n}: was every value printed?")
        if name == "result_output":
            res["logits"] = np.array(vals, dtype=np.float32).reshape(-1, ne[0])
            continue
        for rx, key, dt in want:
            m = rx.match(name)
            if m:
                a = np.array(vals, dtype=np.float64)
                if key.startswith("act"):
                    a = a.reshape(ne[2], ne[1], ne[0])
                else:
                    a = a.reshape(ne[1], ne[0])
                res[key.format(m.group(1))] = a.astype(dt)
    write_safetensors(out, res)
    print(f"wrote {out}: {sorted(res)}", file=sys.stderr)


if __name__ == "__main__":
    main()
