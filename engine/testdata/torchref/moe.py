#!/usr/bin/python3
"""Independent PyTorch forward pass of Qwen2-MoE, Qwen3-MoE and Mixtral, for reference dumps.

Interpreter: /usr/bin/python3 with torch (Debian python3-torch, 1.13) and numpy
(python3-numpy). The GGUF reader and the safetensors writer are gemma.py's.

Usage: moe.py MODEL.gguf OUT.safetensors TOKEN_ID...

MODEL.gguf must hold F32 tensors (`valueexp synth --dtype f32` writes such files):
general.architecture qwen2moe, qwen3moe, or llama with llama.expert_count
(Mixtral). The script follows the Hugging Face semantics of
Qwen2MoeForCausalLM, Qwen3MoeForCausalLM and MixtralForCausalLM as we
understand them from their modeling code (written here from scratch, not copied):

  * RMSNorm in float32, times w;
  * attention: q/k/v projections (Qwen2-MoE with biases), Qwen3-MoE's per-head
    q/k RMSNorm before rope, rope in the rotate-half layout with float32
    inverse frequencies, causal softmax attention with grouped kv heads. A llama
    GGUF (Mixtral) stores q/k rows permuted for llama.cpp's rope; they are put
    back in the Hugging Face order first;
  * the sparse block: router logits = gate(h); p = softmax(logits) in float32;
    the top-k experts by p (torch.topk); their weights p, divided by their sum
    for Mixtral and for Qwen3-MoE (norm_topk_prob true, as in Qwen3-30B-A3B)
    but not for Qwen2-MoE (norm_topk_prob false, as in Qwen1.5-MoE-A2.7B);
    out = sum_k w_k * down_e(silu(gate_e(h)) * up_e(h));
  * Qwen2-MoE adds the shared expert, scaled by sigmoid(shared_expert_gate(h));
  * final norm and the LM head (output.weight, or the tied embeddings).

The output holds tokens (I64 [n]), logits (F32 [n, vocab]) and per layer L:
router.L (F32 [n, experts]), topk.L (I64 [n, k], best first), act.L (F32
[n, k, ffn]: silu(gate) of each chosen expert, the expert's hook_act row) and,
for Qwen2-MoE, shared.L (F32 [n, shared ffn]: silu(gate) of the shared expert).
"""
import os
import sys

import numpy as np
import torch

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from gemma import read_gguf, write_safetensors, rotate_half  # noqa: E402


def rms_norm(x, w, eps):
    xf = x.float()
    return xf * torch.rsqrt(xf.pow(2).mean(-1, keepdim=True) + eps) * w.float()


def rope(x, pos, base):
    d = x.shape[-1]
    inv = 1.0 / (base ** (torch.arange(0, d, 2, dtype=torch.int64).float() / d))
    freqs = pos[:, None].float() * inv[None, :]
    emb = torch.cat((freqs, freqs), dim=-1)
    cos, sin = emb.cos()[:, None, :], emb.sin()[:, None, :]
    return x * cos + rotate_half(x) * sin


def unpermute(w, heads):
    """GGUF llama q/k rows (h*D + 2i, h*D + 2i + 1) back to Hugging Face (h*D + i, h*D + D/2 + i)."""
    rows, cols = w.shape
    d = rows // heads
    return w.reshape(heads, d // 2, 2, cols).transpose(1, 2).reshape(rows, cols)


def forward(meta, t, tokens):
    g_arch = meta["general.architecture"]
    a = g_arch + "."
    if g_arch == "llama" and meta.get(a + "expert_count", 0) > 0:
        arch = "mixtral"
    elif g_arch in ("qwen2moe", "qwen3moe"):
        arch = g_arch
    else:
        raise ValueError(f"architecture {g_arch}: this reference runs qwen2moe, qwen3moe and llama with experts")
    H = meta[a + "embedding_length"]
    L = meta[a + "block_count"]
    heads = meta[a + "attention.head_count"]
    kv_heads = meta.get(a + "attention.head_count_kv", heads)
    D = meta.get(a + "attention.key_length", H // heads)
    eps = meta[a + "attention.layer_norm_rms_epsilon"]
    theta = meta.get(a + "rope.freq_base", 10000.0)
    K = meta[a + "expert_used_count"]
    norm_topk = arch != "qwen2moe"

    P = {k: torch.from_numpy(v) for k, v in t.items()}
    tok = torch.tensor(tokens, dtype=torch.int64)
    n = len(tokens)
    pos = torch.arange(n)
    x = P["token_embd.weight"][tok]
    out = {}
    for l in range(L):
        b = f"blk.{l}."
        h = rms_norm(x, P[b + "attn_norm.weight"], eps)
        wq, wk = P[b + "attn_q.weight"], P[b + "attn_k.weight"]
        if arch == "mixtral":
            wq, wk = unpermute(wq, heads), unpermute(wk, kv_heads)
        q, k, v = h @ wq.T, h @ wk.T, h @ P[b + "attn_v.weight"].T
        if arch == "qwen2moe":
            q, k, v = q + P[b + "attn_q.bias"], k + P[b + "attn_k.bias"], v + P[b + "attn_v.bias"]
        q, k, v = q.view(n, heads, D), k.view(n, kv_heads, D), v.view(n, kv_heads, D)
        if arch == "qwen3moe":
            q = rms_norm(q, P[b + "attn_q_norm.weight"], eps)
            k = rms_norm(k, P[b + "attn_k_norm.weight"], eps)
        q, k = rope(q, pos, theta), rope(k, pos, theta)
        group = heads // kv_heads
        k = k.repeat_interleave(group, dim=1)
        v = v.repeat_interleave(group, dim=1)
        s = torch.einsum("ihd,jhd->hij", q, k) / (D ** 0.5)
        s = s.masked_fill(~(pos[None, :] <= pos[:, None])[None], float("-inf"))
        p = torch.softmax(s.float(), dim=-1)
        z = torch.einsum("hij,jhd->ihd", p, v).reshape(n, heads * D)
        x = x + z @ P[b + "attn_output.weight"].T

        h = rms_norm(x, P[b + "ffn_norm.weight"], eps)
        logits = h @ P[b + "ffn_gate_inp.weight"].T
        probs = torch.softmax(logits, dim=-1, dtype=torch.float)
        w, sel = torch.topk(probs, K, dim=-1)
        if norm_topk:
            w = w / w.sum(dim=-1, keepdim=True)
        ge, ue, de = P[b + "ffn_gate_exps.weight"], P[b + "ffn_up_exps.weight"], P[b + "ffn_down_exps.weight"]
        moe = torch.zeros_like(h)
        acts = torch.zeros(n, K, ge.shape[1])
        for e in range(ge.shape[0]):
            rows, ranks = torch.where(sel == e)
            if len(rows) == 0:
                continue
            xe = h[rows]
            act = torch.nn.functional.silu(xe @ ge[e].T)
            acts[rows, ranks] = act
            ye = (act * (xe @ ue[e].T)) @ de[e].T
            moe.index_add_(0, rows, ye * w[rows, ranks][:, None])
        out[f"router.{l}"], out[f"topk.{l}"], out[f"act.{l}"] = logits, sel, acts
        if arch == "qwen2moe":
            sact = torch.nn.functional.silu(h @ P[b + "ffn_gate_shexp.weight"].T)
            shared = (sact * (h @ P[b + "ffn_up_shexp.weight"].T)) @ P[b + "ffn_down_shexp.weight"].T
            gate = torch.sigmoid(h @ P[b + "ffn_gate_inp_shexp.weight"].reshape(-1, H).T)
            moe = moe + gate * shared
            out[f"shared.{l}"] = sact
        x = x + moe
    x = rms_norm(x, P["output_norm.weight"], eps)
    out["logits"] = x @ P.get("output.weight", P["token_embd.weight"]).T
    return out


def main():
    if len(sys.argv) < 4:
        sys.exit(__doc__)
    model, path, tokens = sys.argv[1], sys.argv[2], [int(x) for x in sys.argv[3:]]
    meta, t = read_gguf(model)
    with torch.no_grad():
        out = forward(meta, t, tokens)
    res = {"tokens": np.array(tokens, dtype=np.int64)}
    for k, v in out.items():
        res[k] = v.numpy().astype(np.int64 if k.startswith("topk") else np.float32)
    write_safetensors(path, res)
    print(f"wrote {path}: {len(res)} tensors, logits {tuple(out['logits'].shape)}", file=sys.stderr)


if __name__ == "__main__":
    main()
