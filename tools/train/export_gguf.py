#!/usr/bin/env python3
"""Exports a trained seek-tiny-v3 checkpoint to GGUF in llama.cpp's `deepseek2` conventions
(as convert_hf_to_gguf.py's DeepseekV2Model / DeepseekV32Model would write a V3 model with its MTP block).

  /usr/bin/python3 tools/train/export_gguf.py [--ckpt tools/train/out/final.pt] [--out models/seek-tiny-v3.gguf]
"""
import argparse
import json
import os

import numpy as np
import torch

import common
from bpe import Tokenizer
from gguf_writer import GGUFWriter, GGML_F16, GGML_F32, T_STRING, T_INT32, read_gguf

ARCH = "deepseek2"


def export(ckpt_path, tok_path, template_path, out_path, name="seek-tiny-v3"):
    ck = torch.load(ckpt_path, map_location="cpu")
    cfg = ck["config"]
    sd = {k: v.float().numpy() for k, v in ck["model"].items()}
    tok = Tokenizer(tok_path)
    with open(template_path, "r", encoding="utf-8") as f:
        chat_template = f.read()
    L, H = cfg["n_layers"], cfg["n_heads"]
    nope, rope, vd, kvr = cfg["qk_nope_head_dim"], cfg["qk_rope_head_dim"], cfg["v_head_dim"], cfg["kv_lora_rank"]

    w = GGUFWriter()
    a = lambda k: f"{ARCH}.{k}"
    w.str("general.architecture", ARCH)
    w.str("general.type", "model")
    w.str("general.name", name)
    w.str("general.license", "mit")
    w.u32("general.alignment", 32)
    w.u32(a("block_count"), L + cfg["n_mtp"])
    w.u32(a("context_length"), cfg["max_seq_len"])
    w.u32(a("embedding_length"), cfg["dim"])
    w.u32(a("feed_forward_length"), cfg["inter_dim"])
    w.u32(a("attention.head_count"), H)
    w.u32(a("attention.head_count_kv"), 1)
    w.f32(a("rope.freq_base"), cfg["rope_theta"])
    w.f32(a("attention.layer_norm_rms_epsilon"), cfg["norm_eps"])
    w.u32(a("expert_count"), cfg["n_routed_experts"])
    w.u32(a("expert_used_count"), cfg["n_activated_experts"])
    w.u32(a("expert_group_count"), cfg["n_expert_groups"])
    w.u32(a("expert_group_used_count"), cfg["n_limited_groups"])
    w.u32(a("expert_gating_func"), 2)                       # LLAMA_EXPERT_GATING_FUNC_TYPE_SIGMOID
    w.u32(a("leading_dense_block_count"), cfg["n_dense_layers"])
    w.u32(a("vocab_size"), cfg["vocab_size"])
    w.u32(a("attention.q_lora_rank"), cfg["q_lora_rank"])
    w.u32(a("attention.kv_lora_rank"), kvr)
    w.u32(a("attention.key_length"), kvr + rope)
    w.u32(a("attention.value_length"), kvr)
    w.u32(a("attention.key_length_mla"), nope + rope)
    w.u32(a("attention.value_length_mla"), vd)
    w.u32(a("expert_feed_forward_length"), cfg["moe_inter_dim"])
    w.u32(a("expert_shared_count"), cfg["n_shared_experts"])
    w.f32(a("expert_weights_scale"), cfg["route_scale"])
    w.bool(a("expert_weights_norm"), True)
    w.u32(a("rope.dimension_count"), rope)
    w.u32(a("nextn_predict_layers"), cfg["n_mtp"])
    w.u32("general.file_type", 1)                            # LLAMA_FTYPE_MOSTLY_F16
    # tokenizer
    w.str("tokenizer.ggml.model", "gpt2")
    w.str("tokenizer.ggml.pre", "deepseek-v3")
    w.arr("tokenizer.ggml.tokens", T_STRING, tok.tokens)
    w.arr("tokenizer.ggml.token_type", T_INT32, tok.types)
    w.arr("tokenizer.ggml.merges", T_STRING, [f"{x} {y}" for x, y in tok.merges])
    w.u32("tokenizer.ggml.bos_token_id", tok.bos_id)
    w.u32("tokenizer.ggml.eos_token_id", tok.eos_id)
    w.u32("tokenizer.ggml.padding_token_id", tok.pad_id)
    w.bool("tokenizer.ggml.add_bos_token", True)
    w.bool("tokenizer.ggml.add_eos_token", False)
    w.str("tokenizer.chat_template", chat_template)

    def t(name, arr, f16=True):
        w.add_tensor(name, arr, GGML_F16 if (f16 and arr.ndim >= 2) else GGML_F32)

    t("token_embd.weight", sd["embed.weight"])
    used = {"embed.weight"}

    def block(i, p):
        g = lambda k: (used.add(p + k), sd[p + k])[1]
        b = f"blk.{i}."
        t(b + "attn_norm.weight", g("attn_norm.weight"))
        t(b + "attn_q_a.weight", g("attn.wq_a.weight"))
        t(b + "attn_q_a_norm.weight", g("attn.q_norm.weight"))
        t(b + "attn_q_b.weight", g("attn.wq_b.weight"))
        t(b + "attn_kv_a_mqa.weight", g("attn.wkv_a.weight"))
        t(b + "attn_kv_a_norm.weight", g("attn.kv_norm.weight"))
        kvb = g("attn.wkv_b.weight").reshape(H, nope + vd, kvr)
        t(b + "attn_k_b.weight", np.ascontiguousarray(kvb[:, :nope, :].transpose(0, 2, 1)))   # [H, kvr, nope]
        t(b + "attn_v_b.weight", np.ascontiguousarray(kvb[:, nope:, :]))                       # [H, v, kvr]
        t(b + "attn_output.weight", g("attn.wo.weight"))
        t(b + "ffn_norm.weight", g("ffn_norm.weight"))
        if i < cfg["n_dense_layers"]:
            t(b + "ffn_gate.weight", g("ffn.w1.weight"))
            t(b + "ffn_down.weight", g("ffn.w2.weight"))
            t(b + "ffn_up.weight", g("ffn.w3.weight"))
        else:
            t(b + "ffn_gate_inp.weight", g("ffn.gate.weight"), f16=False)
            t(b + "exp_probs_b.bias", g("ffn.gate.bias"))
            t(b + "ffn_gate_exps.weight", g("ffn.w1"))
            t(b + "ffn_down_exps.weight", g("ffn.w2"))
            t(b + "ffn_up_exps.weight", g("ffn.w3"))
            t(b + "ffn_gate_shexp.weight", g("ffn.shared.w1.weight"))
            t(b + "ffn_down_shexp.weight", g("ffn.shared.w2.weight"))
            t(b + "ffn_up_shexp.weight", g("ffn.shared.w3.weight"))

    for i in range(L):
        block(i, f"layers.{i}.")
    for j in range(cfg["n_mtp"]):
        i = L + j
        p = f"mtp.{j}."
        block(i, p + "block.")
        for k in ["eh_proj.weight", "enorm.weight", "hnorm.weight", "shared_head_norm.weight"]:
            used.add(p + k)
        t(f"blk.{i}.nextn.eh_proj.weight", sd[p + "eh_proj.weight"])
        t(f"blk.{i}.nextn.enorm.weight", sd[p + "enorm.weight"])
        t(f"blk.{i}.nextn.hnorm.weight", sd[p + "hnorm.weight"])
        t(f"blk.{i}.nextn.shared_head_norm.weight", sd[p + "shared_head_norm.weight"])
    t("output_norm.weight", sd["norm.weight"])
    t("output.weight", sd["head.weight"])
    used |= {"norm.weight", "head.weight"}
    left = [k for k in sd if k not in used]
    assert not left, f"unexported tensors: {left}"

    os.makedirs(os.path.dirname(os.path.abspath(out_path)), exist_ok=True)
    tmp = out_path + ".tmp"
    w.write(tmp)
    os.replace(tmp, out_path)
    return w


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--data", default=None)
    ap.add_argument("--ckpt", default=os.path.join(common.DEFAULT_OUT, "final.pt"))
    ap.add_argument("--tokenizer", default=os.path.join(common.DEFAULT_OUT, "tokenizer.json"))
    ap.add_argument("--out", default=os.path.join(common.REPO_ROOT, "models", "seek-tiny-v3.gguf"))
    a = ap.parse_args()
    data = common.data_dir(a.data)
    tmpl = os.path.join(data, "chat-templates", "deepseek-v3-from-lenml-tokenizer_config.jinja")
    if not os.path.isfile(tmpl):
        raise SystemExit(f"error: chat template not found: {tmpl}")
    w = export(a.ckpt, a.tokenizer, tmpl, a.out)
    size = os.path.getsize(a.out)
    n = sum(arr.size for _, arr, _ in w.tensors)
    print(json.dumps({"out": a.out, "bytes": size, "MiB": round(size / 2**20, 2), "tensors": len(w.tensors), "params": int(n)}))
    # round-trip self-check
    kv, ts = read_gguf(a.out)
    for name, arr, _ in w.tensors:
        assert ts[name].shape == arr.shape and np.array_equal(ts[name], arr), name
    assert size <= 16 * 1000 * 1000, "GGUF larger than 16 MB"


if __name__ == "__main__":
    main()
