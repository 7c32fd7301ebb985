#!/usr/bin/env python3
"""Writes a vocab-only GGUF (tokenizer.ggml.model = gpt2) from a byte-level BPE
tokenizer.json, so that llama.cpp's llama-tokenize can tokenize with it.

Needs numpy and llama.cpp's gguf-py package (not part of this repository):

    PYTHONPATH=/path/to/llama.cpp/gguf-py /usr/bin/python3 hf_bpe_to_gguf.py \
        tokenizer.json PRE out.gguf [BOS_TOKEN]

PRE is llama.cpp's pre-tokenizer name (qwen2, llama-bpe, chatglm-bpe, ...).
Token types: ids of added tokens marked special are CONTROL, other added
tokens USER_DEFINED, the rest NORMAL; ids the file does not use are padded
with "[PAD<id>]" as UNUSED (llama.cpp's converters do the same).
"""
import json
import sys
import types

try:
    import sentencepiece  # noqa: F401  (gguf-py imports it; this script does not use it)
except ImportError:
    sys.modules["sentencepiece"] = types.SimpleNamespace(SentencePieceProcessor=None)
import gguf  # noqa: E402


def main():
    src, pre, out = sys.argv[1:4]
    bos = sys.argv[4] if len(sys.argv) > 4 else None
    j = json.load(open(src, encoding="utf-8"))
    model = j["model"]
    if model["type"] != "BPE":
        sys.exit("%s: model type %s, want BPE" % (src, model["type"]))
    vocab = dict(model["vocab"])
    types = {}
    for a in j.get("added_tokens", []):
        vocab[a["content"]] = a["id"]
        types[a["id"]] = gguf.TokenType.CONTROL if a["special"] else gguf.TokenType.USER_DEFINED
    n = max(vocab.values()) + 1
    tokens = ["[PAD%d]" % i for i in range(n)]
    ttype = [gguf.TokenType.UNUSED] * n
    for s, i in vocab.items():
        tokens[i] = s
        ttype[i] = types.get(i, gguf.TokenType.NORMAL)
    merges = [m if isinstance(m, str) else " ".join(m) for m in model["merges"]]

    w = gguf.GGUFWriter(out, "llama")
    w.add_name("vocab-only " + pre)
    w.add_tokenizer_model("gpt2")
    w.add_tokenizer_pre(pre)
    w.add_token_list(tokens)
    w.add_token_types(ttype)
    w.add_token_merges(merges)
    if bos is not None:
        w.add_bos_token_id(vocab[bos])
        w.add_add_bos_token(True)
    else:
        w.add_add_bos_token(False)
    w.write_header_to_file()
    w.write_kv_data_to_file()
    w.write_tensors_to_file()
    w.close()


if __name__ == "__main__":
    main()
