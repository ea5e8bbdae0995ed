#!/usr/bin/python3
"""Converts a llama2.c checkpoint (legacy version-0 .bin, e.g. stories260K.bin) and its tokenizer (tok512.bin) to a
GGUF of architecture "llama" in llama.cpp's layout, F32 throughout.

llama2.c format (karpathy/llama2.c run.c): a header of 7 int32 (dim, hidden_dim, n_layers, n_heads, n_kv_heads,
vocab_size, seq_len; a negative vocab_size means an unshared classifier follows), then float32 arrays: token
embedding (vocab, dim), rms_att (L, dim), wq (L, dim, dim), wk (L, kv_dim, dim), wv (L, kv_dim, dim),
wo (L, dim, dim), rms_ffn (L, dim), w1 (L, hidden, dim), w2 (L, dim, hidden), w3 (L, hidden, dim), rms_final (dim),
freq_cis_real and freq_cis_imag (seq_len, head_size/2 each, unused), then wcls (vocab, dim) when unshared.
Matrices are (out, in) row-major, which is GGUF's (ne0 = in) layout. llama2.c rotates adjacent pairs (i, i+1),
which is llama.cpp's "llama" rope as stored, so q and k need no permutation. RMSNorm epsilon is 1e-5.

Tokenizer (tok*.bin): int32 max_token_length, then per token: float32 score, int32 length, bytes. llama2.c's
exporter wrote SentencePiece pieces with U+2581 replaced by ' ' and BOS/EOS as "\\n<s>\\n" / "\\n</s>\\n"; both are
undone here.

usage: llama2c_to_gguf.py MODEL.bin TOKENIZER.bin OUT.gguf
"""
import os
import struct
import sys

import numpy as np

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "train"))
import gguf_writer as gw  # noqa: E402


def read_tokenizer(path, vocab_size):
    tokens, scores, types = [], [], []
    with open(path, "rb") as f:
        struct.unpack("<i", f.read(4))
        for i in range(vocab_size):
            score, n = struct.unpack("<fi", f.read(8))
            piece = f.read(n).decode("utf-8")
            if i == 0:
                piece, t = "<unk>", 2
            elif i in (1, 2):
                piece, t = ("<s>", "</s>")[i - 1], 3
            elif len(piece) == 6 and piece.startswith("<0x") and piece.endswith(">"):
                t = 6
            else:
                piece, t = piece.replace(" ", "\u2581"), 1
            tokens.append(piece)
            scores.append(score)
            types.append(t)
    return tokens, scores, types


def convert(model_path, tok_path, out_path):
    raw = np.fromfile(model_path, dtype=np.uint8)
    dim, hidden, n_layers, n_heads, n_kv_heads, vocab, seq_len = struct.unpack("<7i", raw[:28].tobytes())
    shared = vocab > 0
    vocab = abs(vocab)
    head = dim // n_heads
    kv_dim = n_kv_heads * head
    data = raw[28:].view(np.float32)
    pos = 0

    def take(*shape):
        nonlocal pos
        n = int(np.prod(shape))
        if pos + n > data.size:
            raise SystemExit(f"{model_path}: truncated (need {pos + n} floats, have {data.size})")
        a = data[pos:pos + n].reshape(shape)
        pos += n
        return a

    emb = take(vocab, dim)
    rms_att = take(n_layers, dim)
    wq = take(n_layers, dim, dim)
    wk = take(n_layers, kv_dim, dim)
    wv = take(n_layers, kv_dim, dim)
    wo = take(n_layers, dim, dim)
    rms_ffn = take(n_layers, dim)
    w1 = take(n_layers, hidden, dim)
    w2 = take(n_layers, dim, hidden)
    w3 = take(n_layers, hidden, dim)
    rms_final = take(dim)
    take(seq_len, head // 2)
    take(seq_len, head // 2)
    wcls = emb if shared else take(vocab, dim)
    if pos != data.size:
        raise SystemExit(f"{model_path}: {data.size - pos} floats left over: not a version-0 llama2.c checkpoint?")

    tokens, scores, types = read_tokenizer(tok_path, vocab)
    w = gw.GGUFWriter()
    w.str("general.architecture", "llama")
    w.str("general.name", os.path.splitext(os.path.basename(model_path))[0])
    w.u32("general.file_type", 0)
    w.u32("llama.context_length", seq_len)
    w.u32("llama.embedding_length", dim)
    w.u32("llama.block_count", n_layers)
    w.u32("llama.feed_forward_length", hidden)
    w.u32("llama.rope.dimension_count", head)
    w.u32("llama.attention.head_count", n_heads)
    w.u32("llama.attention.head_count_kv", n_kv_heads)
    w.f32("llama.attention.layer_norm_rms_epsilon", 1e-5)
    w.f32("llama.rope.freq_base", 10000.0)
    w.str("tokenizer.ggml.model", "llama")
    w.arr("tokenizer.ggml.tokens", gw.T_STRING, tokens)
    w.arr("tokenizer.ggml.scores", gw.T_FLOAT32, scores)
    w.arr("tokenizer.ggml.token_type", gw.T_INT32, types)
    w.u32("tokenizer.ggml.bos_token_id", 1)
    w.u32("tokenizer.ggml.eos_token_id", 2)
    w.u32("tokenizer.ggml.unknown_token_id", 0)
    w.bool("tokenizer.ggml.add_bos_token", True)
    w.bool("tokenizer.ggml.add_eos_token", False)

    F32 = gw.GGML_F32
    w.add_tensor("token_embd.weight", emb, F32)
    w.add_tensor("output_norm.weight", rms_final, F32)
    if not shared:
        w.add_tensor("output.weight", wcls, F32)
    for i in range(n_layers):
        p = f"blk.{i}."
        w.add_tensor(p + "attn_norm.weight", rms_att[i], F32)
        w.add_tensor(p + "attn_q.weight", wq[i], F32)
        w.add_tensor(p + "attn_k.weight", wk[i], F32)
        w.add_tensor(p + "attn_v.weight", wv[i], F32)
        w.add_tensor(p + "attn_output.weight", wo[i], F32)
        w.add_tensor(p + "ffn_norm.weight", rms_ffn[i], F32)
        w.add_tensor(p + "ffn_gate.weight", w1[i], F32)
        w.add_tensor(p + "ffn_down.weight", w2[i], F32)
        w.add_tensor(p + "ffn_up.weight", w3[i], F32)
    w.write(out_path)


if __name__ == "__main__":
    if len(sys.argv) != 4:
        print(__doc__, file=sys.stderr)
        sys.exit(2)
    convert(*sys.argv[1:])
