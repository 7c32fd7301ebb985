#!/usr/bin/python3
"""Independent PyTorch forward pass of GLM-4 (GlmForCausalLM, Glm4ForCausalLM), for reference dumps.

Interpreter: /usr/bin/python3 with torch (Debian python3-torch, 1.13) and numpy
(python3-numpy). Nothing else: the GGUF reader and the safetensors writer are here.

Usage: glm.py MODEL.gguf OUT.safetensors TOKEN_ID...

MODEL.gguf must hold F32 tensors (`valueexp synth --dtype f32` writes such files),
architecture chatglm (GLM-4-9B-chat: q, k and v fused in attn_qkv) or glm4
(GLM-4-9B-0414: separate q, k, v, and post norms). The script follows the Hugging
Face semantics of transformers' modeling_glm.py and modeling_glm4.py as we
understand them from that code (written here from scratch, not copied):

  * the fused GGUF tensors are cut back into the Hugging Face modules: attn_qkv
    rows are q (heads*head_dim), then k, then v (kv_heads*head_dim each), weight
    and bias alike; ffn_up is gate_up_proj, 2*ffn rows;
  * RMSNorm in float32, times w (plain, not Gemma's 1 + w);
  * attention: q, k, v projections with biases, o without; rope on the first
    rotary_dim = head_dim * partial_rotary_factor (0.5) values of each head,
    in GLM's interleaved layout: inverse frequencies base^(-2i/rotary_dim) in
    float32, cos/sin of the first rotary_dim/2 angles each repeated twice
    (repeat_interleave), and rotate_half taking (x0, x1, x2, x3, ...) to
    (-x1, x0, -x3, x2, ...); the rest of the head passes through; scores
    scaled by head_dim^-0.5, causal, softmax in float32; kv heads repeated
    for grouped-query attention;
  * mlp(x) = down(up * silu(gate)) with gate, up = gate_up_proj(x).chunk(2):
    gate is the first half;
  * chatglm (GlmDecoderLayer): x += attn(input_layernorm(x));
    x += mlp(post_attention_layernorm(x));
    glm4 (Glm4DecoderLayer): x += post_self_attn_layernorm(attn(input_layernorm(x)));
    x += post_mlp_layernorm(mlp(post_attention_layernorm(x)));
  * final norm and an untied LM head.

GGUF names: attn_norm = input_layernorm, ffn_norm = post_attention_layernorm,
post_attention_norm = post_self_attn_layernorm, post_ffw_norm = post_mlp_layernorm
(llama.cpp's GLM4 names).

The output holds tokens (I64 [n]), logits (F32 [n, vocab]) and act.L (F32
[n, ffn]): silu(gate) of layer L, the gate activation before the product with up.
"""
import json
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
    xf = x.float()
    return w.float() * (xf * torch.rsqrt(xf.pow(2).mean(-1, keepdim=True) + eps))


def rotate_half_interleaved(x):
    """(x0, x1, x2, x3, ...) -> (-x1, x0, -x3, x2, ...)."""
    x1 = x[..., 0::2]
    x2 = x[..., 1::2]
    return torch.stack((-x2, x1), dim=-1).flatten(-2)


def rope(x, pos, base, rotary_dim):
    """x: [n, heads, d]; GLM's interleaved rope on the first rotary_dim values."""
    inv = 1.0 / (base ** (torch.arange(0, rotary_dim, 2, dtype=torch.int64).float() / rotary_dim))
    freqs = pos[:, None].float() * inv[None, :]
    emb = torch.cat((freqs, freqs), dim=-1)
    cos, sin = emb.cos(), emb.sin()
    cos = cos[..., : cos.shape[-1] // 2].repeat_interleave(2, dim=-1)[:, None, :]
    sin = sin[..., : sin.shape[-1] // 2].repeat_interleave(2, dim=-1)[:, None, :]
    x_rot, x_pass = x[..., :rotary_dim], x[..., rotary_dim:]
    x_rot = x_rot * cos + rotate_half_interleaved(x_rot) * sin
    return torch.cat((x_rot, x_pass), dim=-1)


def linear(x, w, b=None):
    y = x @ w.T
    return y if b is None else y + b


def forward(meta, t, tokens):
    arch = meta["general.architecture"]
    if arch not in ("chatglm", "glm4"):
        raise ValueError(f"architecture {arch}: this reference runs chatglm and glm4")
    a = arch + "."
    H = meta[a + "embedding_length"]
    L = meta[a + "block_count"]
    nh = meta[a + "attention.head_count"]
    nkv = meta.get(a + "attention.head_count_kv", nh)
    D = meta.get(a + "attention.key_length", H // nh)
    rotary_dim = meta.get(a + "rope.dimension_count", D // 2)
    F = meta[a + "feed_forward_length"]
    eps = meta[a + "attention.layer_norm_rms_epsilon"]
    base = meta.get(a + "rope.freq_base", 10000.0)
    T = {k: torch.from_numpy(v) for k, v in t.items()}
    n = len(tokens)
    pos = torch.arange(n)
    x = T["token_embd.weight"][torch.tensor(tokens)].float()
    mask = torch.full((n, n), float("-inf")).triu(1)
    acts = {}
    for l in range(L):
        p = f"blk.{l}."
        if p + "attn_qkv.weight" in T:
            w, b = T[p + "attn_qkv.weight"], T[p + "attn_qkv.bias"]
            q_w, k_w, v_w = w[: nh * D], w[nh * D: nh * D + nkv * D], w[nh * D + nkv * D:]
            q_b, k_b, v_b = b[: nh * D], b[nh * D: nh * D + nkv * D], b[nh * D + nkv * D:]
        else:
            q_w, k_w, v_w = T[p + "attn_q.weight"], T[p + "attn_k.weight"], T[p + "attn_v.weight"]
            q_b, k_b, v_b = T[p + "attn_q.bias"], T[p + "attn_k.bias"], T[p + "attn_v.bias"]
        h = rms_norm(x, T[p + "attn_norm.weight"], eps)
        q = linear(h, q_w, q_b).view(n, nh, D)
        k = linear(h, k_w, k_b).view(n, nkv, D)
        v = linear(h, v_w, v_b).view(n, nkv, D)
        q, k = rope(q, pos, base, rotary_dim), rope(k, pos, base, rotary_dim)
        rep = nh // nkv
        k = k.repeat_interleave(rep, dim=1)
        v = v.repeat_interleave(rep, dim=1)
        scores = torch.einsum("qhd,khd->hqk", q, k) * (D ** -0.5) + mask
        probs = torch.softmax(scores.float(), dim=-1)
        z = torch.einsum("hqk,khd->qhd", probs, v).reshape(n, nh * D)
        o = linear(z, T[p + "attn_output.weight"])
        if arch == "glm4":
            o = rms_norm(o, T[p + "post_attention_norm.weight"], eps)
        x = x + o
        h = rms_norm(x, T[p + "ffn_norm.weight"], eps)
        gate, up = linear(h, T[p + "ffn_up.weight"]).chunk(2, dim=-1)
        act = torch.nn.functional.silu(gate)
        acts[l] = act
        m = linear(up * act, T[p + "ffn_down.weight"])
        if arch == "glm4":
            m = rms_norm(m, T[p + "post_ffw_norm.weight"], eps)
        x = x + m
    x = rms_norm(x, T["output_norm.weight"], eps)
    logits = linear(x, T["output.weight"])
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
