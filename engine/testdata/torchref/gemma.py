#!/usr/bin/python3
"""Independent PyTorch forward pass of Gemma 2 and Gemma 3 (text), for reference dumps.

Interpreter: /usr/bin/python3 with torch (Debian python3-torch, 1.13) and numpy
(python3-numpy). Nothing else: the GGUF reader and the safetensors writer are here.

Usage: gemma.py MODEL.gguf OUT.safetensors TOKEN_ID...

MODEL.gguf must hold F32 tensors (`valueexp synth --dtype f32` writes such files).
The script follows the Hugging Face semantics of Gemma2ForCausalLM and
Gemma3ForCausalLM as we understand them from their modeling code (written here
from scratch, not copied):

  * RMSNorm computed in float32, multiplied by (1 + w). The GGUF stores 1 + w
    (llama.cpp's converter adds the 1), so w = stored - 1 is recovered first;
  * embeddings multiplied by sqrt(hidden_size) rounded to the activation dtype;
  * each layer: x += post_attention_layernorm(attn(input_layernorm(x)));
    x += post_feedforward_layernorm(mlp(pre_feedforward_layernorm(x)));
  * mlp(x) = down(gelu_tanh(gate(x)) * up(x));
  * attention scores = q.k * query_pre_attn_scalar^-1/2, then (Gemma 2)
    softcap*tanh(scores/softcap), causal mask, and for sliding layers only the
    last sliding_window positions (key j is seen by query i when i-window < j <= i);
  * Gemma 2: even layers slide; Gemma 3: layer l slides unless (l+1) % 6 == 0,
    q and k are RMS-normalised per head (1 + w) before rope, and sliding layers
    rotate with base rope_local_base_freq (10000) instead of rope_theta;
  * rope in the rotate-half layout, inverse frequencies in float32;
  * final norm, tied LM head, and (Gemma 2) final soft-capping of the logits.

query_pre_attn_scalar is taken as head_dim, as llama.cpp does for the 2B/9B (and
Gemma 3 below 27B) models whose GGUFs carry no such key.

The output holds tokens (I64 [n]), logits (F32 [n, vocab]) and act.L (F32
[n, ffn]): GELU(gate) of layer L, the gate activation before the product with up.
"""
import json
import math
import struct
import sys

import numpy as np
import torch


def read_gguf(path):
    """Returns (metadata dict, {name: float32 numpy array in torch order})."""
    with open(path, "rb") as f:
        buf = f.read()
    off = 0

    def take(fmt):
        nonlocal off
        v = struct.unpack_from("<" + fmt, buf, off)
        off += struct.calcsize("<" + fmt)
        return v[0]

    def string():
        nonlocal off
        n = take("Q")
        s = buf[off:off + n].decode("utf-8")
        off += n
        return s

    scalar = {0: "B", 1: "b", 2: "H", 3: "h", 4: "I", 5: "i", 6: "f", 7: "?", 10: "Q", 11: "q", 12: "d"}

    def value(t):
        if t in scalar:
            return take(scalar[t])
        if t == 8:
            return string()
        if t == 9:
            et, n = take("I"), take("Q")
            return [value(et) for _ in range(n)]
        raise ValueError(f"GGUF value type {t}")

    if buf[:4] != b"GGUF":
        raise ValueError(f"{path}: not a GGUF file")
    off = 4
    take("I")  # version
    n_tensors, n_kv = take("Q"), take("Q")
    meta = {}
    for _ in range(n_kv):
        k = string()
        meta[k] = value(take("I"))
    infos = []
    for _ in range(n_tensors):
        name = string()
        nd = take("I")
        dims = [take("Q") for _ in range(nd)]
        typ, toff = take("I"), take("Q")
        infos.append((name, dims, typ, toff))
    align = meta.get("general.alignment", 32)
    start = (off + align - 1) // align * align
    tensors = {}
    for name, dims, typ, toff in infos:
        if typ != 0:
            raise ValueError(f"tensor {name}: type {typ}, this reference reads F32 only")
        n = int(np.prod(dims))
        a = np.frombuffer(buf, dtype="<f4", count=n, offset=start + toff)
        tensors[name] = a.reshape(list(reversed(dims))).copy()
    return meta, tensors


def rms_norm(x, w, eps):
    """Gemma's RMSNorm: float32, times (1 + w) with w the Hugging Face weight."""
    xf = x.float()
    out = xf * torch.rsqrt(xf.pow(2).mean(-1, keepdim=True) + eps)
    return out * (1.0 + w.float())


def gelu_tanh(x):
    return 0.5 * x * (1.0 + torch.tanh(math.sqrt(2.0 / math.pi) * (x + 0.044715 * torch.pow(x, 3.0))))


def rotate_half(x):
    half = x.shape[-1] // 2
    return torch.cat((-x[..., half:], x[..., :half]), dim=-1)


def rope(x, pos, base):
    """x: [n, heads, d]; rotate-half rope with float32 frequencies."""
    d = x.shape[-1]
    inv = 1.0 / (base ** (torch.arange(0, d, 2, dtype=torch.int64).float() / d))
    freqs = pos[:, None].float() * inv[None, :]
    emb = torch.cat((freqs, freqs), dim=-1)
    cos, sin = emb.cos()[:, None, :], emb.sin()[:, None, :]
    return x * cos + rotate_half(x) * sin


def forward(meta, t, tokens):
    arch = meta["general.architecture"]
    if arch not in ("gemma2", "gemma3"):
        raise ValueError(f"architecture {arch}: this reference runs gemma2 and gemma3")
    a = arch + "."
    H = meta[a + "embedding_length"]
    L = meta[a + "block_count"]
    heads = meta[a + "attention.head_count"]
    kv_heads = meta.get(a + "attention.head_count_kv", heads)
    D = meta.get(a + "attention.key_length", H // heads)
    eps = meta[a + "attention.layer_norm_rms_epsilon"]
    theta = meta.get(a + "rope.freq_base", 10000.0)
    window = meta[a + "attention.sliding_window"]
    attn_cap = meta.get(a + "attn_logit_softcapping", 50.0 if arch == "gemma2" else None)
    final_cap = meta.get(a + "final_logit_softcapping", 30.0 if arch == "gemma2" else None)
    local_theta = 10000.0
    scaling = D ** -0.5  # query_pre_attn_scalar = head_dim

    P = {k: torch.from_numpy(v) for k, v in t.items()}
    hfw = lambda k: P[k] - 1.0  # Hugging Face norm weight from the GGUF's 1 + w

    tok = torch.tensor(tokens, dtype=torch.int64)
    n = len(tokens)
    pos = torch.arange(n)
    x = P["token_embd.weight"][tok]
    x = x * torch.tensor(H ** 0.5, dtype=x.dtype)
    acts = {}
    for l in range(L):
        b = f"blk.{l}."
        sliding = (l % 2 == 0) if arch == "gemma2" else ((l + 1) % 6 != 0)
        h = rms_norm(x, hfw(b + "attn_norm.weight"), eps)
        q = (h @ P[b + "attn_q.weight"].T).view(n, heads, D)
        k = (h @ P[b + "attn_k.weight"].T).view(n, kv_heads, D)
        v = (h @ P[b + "attn_v.weight"].T).view(n, kv_heads, D)
        if arch == "gemma3":
            q = rms_norm(q, hfw(b + "attn_q_norm.weight"), eps)
            k = rms_norm(k, hfw(b + "attn_k_norm.weight"), eps)
        base = local_theta if (arch == "gemma3" and sliding) else theta
        q, k = rope(q, pos, base), rope(k, pos, base)
        group = heads // kv_heads
        k = k.repeat_interleave(group, dim=1)
        v = v.repeat_interleave(group, dim=1)
        s = torch.einsum("ihd,jhd->hij", q, k) * scaling
        if attn_cap:
            s = torch.tanh(s / attn_cap) * attn_cap
        i_idx, j_idx = pos[:, None], pos[None, :]
        allowed = j_idx <= i_idx
        if sliding:
            allowed = allowed & (j_idx > i_idx - window)
        s = s.masked_fill(~allowed[None], float("-inf"))
        p = torch.softmax(s.float(), dim=-1)
        z = torch.einsum("hij,jhd->ihd", p, v).reshape(n, heads * D)
        o = z @ P[b + "attn_output.weight"].T
        x = x + rms_norm(o, hfw(b + "post_attention_norm.weight"), eps)
        h = rms_norm(x, hfw(b + "ffn_norm.weight"), eps)
        act = gelu_tanh(h @ P[b + "ffn_gate.weight"].T)
        acts[l] = act
        m = (act * (h @ P[b + "ffn_up.weight"].T)) @ P[b + "ffn_down.weight"].T
        x = x + rms_norm(m, hfw(b + "post_ffw_norm.weight"), eps)
    x = rms_norm(x, hfw("output_norm.weight"), eps)
    logits = x @ P.get("output.weight", P["token_embd.weight"]).T
    if final_cap:
        logits = torch.tanh(logits / final_cap) * final_cap
    return logits, acts


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
    if len(sys.argv) < 4:
        sys.exit(__doc__)
    model, out, tokens = sys.argv[1], sys.argv[2], [int(x) for x in sys.argv[3:]]
    meta, t = read_gguf(model)
    with torch.no_grad():
        logits, acts = forward(meta, t, tokens)
    res = {"tokens": np.array(tokens, dtype=np.int64), "logits": logits.numpy().astype(np.float32)}
    for l, a in acts.items():
        res[f"act.{l}"] = a.numpy().astype(np.float32)
    write_safetensors(out, res)
    print(f"wrote {out}: {len(acts)} layers, logits {tuple(logits.shape)}", file=sys.stderr)


if __name__ == "__main__":
    main()
