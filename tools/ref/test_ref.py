#!/usr/bin/python3
"""Self-tests of the reference tools that need neither llama.cpp nor network (about 20 s).

  1. GGUF reader round trip: v2 and v3 headers, every metadata type, arrays of strings, nested
     arrays, general.alignment 64, F32/F16/BF16/Q8_0 tensors, slice along the slowest dim.
  2. The two MLA layouts (attn_kv_b vs attn_k_b + attn_v_b) of one model give identical logits.
  3. Prefill + cached decode equals full recomputation; float32 stays close to float64.
  4. An MTP block at the end (nextn_predict_layers = 1) does not change the main forward.

usage: /usr/bin/python3 tools/ref/test_ref.py
"""
import os
import sys
import tempfile

import numpy as np
import torch

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, HERE)
import deepseek2_ref as R  # noqa: E402
import make_test_gguf as M  # noqa: E402
from gguf_read import GGUFFile  # noqa: E402


def test_reader(tmp):
    rng = np.random.default_rng(0)
    a = rng.standard_normal((3, 64)).astype(np.float32)
    e3 = rng.standard_normal((2, 5, 32)).astype(np.float32)
    for version in (2, 3):
        w = M.GGUFWriter(alignment=64, version=version)
        w.add("u8", M.U8, 200)
        w.add("i8", M.I8, -5)
        w.add("u16", M.U16, 60000)
        w.add("i16", M.I16, -30000)
        w.add("u32", M.U32, 4000000000)
        w.add("i32", M.I32, -2000000000)
        w.add("f32", M.F32V, 0.5)
        w.add("bool", M.BOOL, True)
        w.add("str", M.STR, "h\u00e9llo \u4e16\u754c")
        w.add("u64", M.U64, 2 ** 63 + 5)
        w.add("i64", M.I64, -2 ** 62)
        w.add("f64", M.F64V, 1e-300)
        w.add("arr_i32", M.ARR, [1, -2, 3], M.I32)
        w.add("arr_str", M.ARR, ["a", "", "\u0120the"], M.STR)
        w.add("arr_nested", M.ARR, [[1, 2], [3], []], (M.ARR, M.U16))
        w.add("arr_nested_str", M.ARR, [["x", "y"], ["z"]], (M.ARR, M.STR))
        w.add("arr_empty", M.ARR, [], M.F32V)
        w.add_tensor("t.f32", a, M.GGML_F32)
        w.add_tensor("t.f16", a, M.GGML_F16)
        w.add_tensor("t.bf16", a, M.GGML_BF16)
        w.add_tensor("t.q8", a, M.GGML_Q8_0)
        w.add_tensor("t.e3", e3, M.GGML_Q8_0)
        p = os.path.join(tmp, "rt%d.gguf" % version)
        w.write(p)
        g = GGUFFile(p)
        assert g.version == version and g.alignment == 64 and g.data_offset % 64 == 0
        md = g.metadata
        assert md["u8"] == 200 and md["i8"] == -5 and md["u16"] == 60000 and md["i16"] == -30000
        assert md["u32"] == 4000000000 and md["i32"] == -2000000000 and md["f32"] == 0.5
        assert md["bool"] is True and md["str"] == "h\u00e9llo \u4e16\u754c"
        assert md["u64"] == 2 ** 63 + 5 and md["i64"] == -2 ** 62 and md["f64"] == 1e-300
        assert md["arr_i32"] == [1, -2, 3] and md["arr_str"] == ["a", "", "\u0120the"]
        assert md["arr_nested"] == [[1, 2], [3], []] and md["arr_nested_str"] == [["x", "y"], ["z"]]
        assert md["arr_empty"] == []
        assert g.tensors["t.f32"].dims == [64, 3]
        assert np.array_equal(g.tensor("t.f32"), a)
        assert np.array_equal(g.tensor("t.f16"), a.astype(np.float16).astype(np.float32))
        assert np.abs(g.tensor("t.bf16") - a).max() <= np.abs(a).max() * 2 ** -8
        q = g.tensor("t.q8")
        assert q.shape == (3, 64) and np.abs(q - a).max() <= np.abs(a).max() / 127 * 0.51 + 1e-3
        assert np.array_equal(g.tensor_slice("t.e3", 1), g.tensor("t.e3")[1])
        g.close()
    print("reader round trip (v2, v3): ok")


def logits(path, tokens, dtype=torch.float64):
    m = R.load(path, dtype=dtype)
    with torch.no_grad():
        return m, m.forward(tokens)


def test_model(tmp):
    toks = [286, 72, 101, 108, 108, 111, 32, 119, 111, 114, 108, 100, 3, 250]
    for name in ("v3", "v2lite", "v2"):
        cfg = dict(M.CONFIGS[name], name=name)
        pa = os.path.join(tmp, name + "-kvb.gguf")
        pb = os.path.join(tmp, name + "-kbvb.gguf")
        M.write_model(pa, cfg, "kvb", "f32", 7)
        M.write_model(pb, cfg, "kbvb", "f32", 7)
        ma, la = logits(pa, toks)
        mb, lb = logits(pb, toks)
        assert ma.mla_layout == "kv_b" and mb.mla_layout == "k_b+v_b"
        d = float((la - lb).abs().max())
        assert d < 1e-10, d
        _, l32 = logits(pb, toks, torch.float32)
        d32 = float((l32.double() - lb).abs().max())
        assert d32 < 1e-3, d32
        with torch.no_grad():
            r = R.run(mb, toks[:6], 8)
        assert r["cache_vs_recompute_max_abs_diff"] < 1e-10
        print("%-6s layouts agree (%.1e), f32 vs f64 %.1e, cache vs recompute %.1e, margin %.2e" % (
            name, d, d32, r["cache_vs_recompute_max_abs_diff"], r["min_routing_margin"]))
    cfg = dict(M.CONFIGS["v3mtp"], name="v3mtp")
    pm = os.path.join(tmp, "v3mtp.gguf")
    M.write_model(pm, cfg, "kbvb", "f32", 7)
    mm, lm = logits(pm, toks)
    assert mm.c.n_layer == 3 and mm.c.n_layer_all == 4
    _, l3 = logits(os.path.join(tmp, "v3-kbvb.gguf"), toks)
    assert float((lm - l3).abs().max()) == 0.0
    print("MTP block ignored: ok")


def main():
    torch.set_num_threads(1)
    with tempfile.TemporaryDirectory() as tmp:
        test_reader(tmp)
        test_model(tmp)
    print("all ok")
    return 0


if __name__ == "__main__":
    sys.exit(main())
