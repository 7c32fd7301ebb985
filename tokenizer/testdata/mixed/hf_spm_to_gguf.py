#!/usr/bin/env python3
"""Writes a vocab-only SentencePiece GGUF (tokenizer.ggml.model = llama) from a
SentencePiece-style BPE tokenizer.json (Gemma 3's), so that llama.cpp's
llama-tokenize can tokenize with it.

Needs numpy and llama.cpp's gguf-py package (not part of this repository):

    PYTHONPATH=/path/to/llama.cpp/gguf-py /usr/bin/python3 hf_spm_to_gguf.py \
        tokenizer.json out.gguf [llama BOS EOS add-space-prefix]

With only two arguments it writes Gemma's settings (below). With
"llama <s> </s> 1" it writes a llama-architecture vocabulary with those BOS
and EOS tokens and add_space_prefix true (Llama 2 / Mistral style files whose
normalizer prepends '▁').

A tokenizer.json has no piece scores, and llama.cpp's SPM tokenizer merges by
score. Converters derive the merge list from the scores: every split of a
piece into two pieces is a merge, ranked by the piece's score. So the score
of a piece is taken back as minus the rank of its first merge: the order
llama.cpp merges in is then the merge order of the file. Pieces no merge
makes get -1e9 (single characters are never merge results, so their score is
not used). <0xXX> pieces are BYTE, added tokens CONTROL (special) or
USER_DEFINED, the unk token UNKNOWN. The architecture is written as gemma2
(b4748 does not know gemma3; only the tokenizer keys are read here), with
add_space_prefix false and BOS added, as Gemma's GGUFs have.
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
    src, out = sys.argv[1:3]
    arch, bos, eos, prefix = "gemma2", "<bos>", "<eos>", False
    if len(sys.argv) > 3:
        arch, bos, eos, prefix = sys.argv[3], sys.argv[4], sys.argv[5], sys.argv[6] == "1"
    j = json.load(open(src, encoding="utf-8"))
    m = j["model"]
    vocab = dict(m["vocab"])
    for a in j["added_tokens"]:
        vocab[a["content"]] = a["id"]
    n = max(vocab.values()) + 1
    tokens = ["[PAD%d]" % i for i in range(n)]
    for s, i in vocab.items():
        tokens[i] = s
    score = [-1e9] * n
    for rank, mg in enumerate(m["merges"]):
        a, b = mg.split(" ", 1) if isinstance(mg, str) else mg
        i = vocab.get(a + b)
        if i is not None and score[i] == -1e9:
            score[i] = -float(rank)
    T = gguf.TokenType
    ttype = [T.NORMAL] * n
    for i, s in enumerate(tokens):
        if len(s) == 6 and s.startswith("<0x") and s.endswith(">"):
            ttype[i] = T.BYTE
    for a in j["added_tokens"]:
        ttype[a["id"]] = T.CONTROL if a["special"] else T.USER_DEFINED
    unk = vocab[m["unk_token"]]
    ttype[unk] = T.UNKNOWN

    w = gguf.GGUFWriter(out, arch)
    w.add_name("vocab-only from " + src)
    w.add_tokenizer_model("llama")
    w.add_tokenizer_pre("default")
    w.add_token_list(tokens)
    w.add_token_scores(score)
    w.add_token_types(ttype)
    w.add_bos_token_id(vocab[bos])
    w.add_eos_token_id(vocab[eos])
    w.add_unk_token_id(unk)
    if "<pad>" in vocab:
        w.add_pad_token_id(vocab["<pad>"])
    w.add_add_bos_token(True)
    w.add_add_eos_token(False)
    w.add_add_space_prefix(prefix)
    w.write_header_to_file()
    w.write_kv_data_to_file()
    w.write_tensors_to_file()
    w.close()


if __name__ == "__main__":
    main()
