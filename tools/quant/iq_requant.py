#!/usr/bin/python3
"""Rewrites an F32 GGUF with some matrices quantised to the codebook types (IQ2_XXS, IQ2_XS, IQ3_XXS, IQ1_S,
IQ1_M) by llama.cpp's own ggml_quantize_chunk, from the prebuilt libggml-base in tools/oracle/node_modules. A
test-model maker: llama-quantize refuses these types without an importance matrix, and its imatrix is a C++
object; here every tensor gets an importance matrix of ones (all columns equally important).

usage: iq_requant.py IN.gguf OUT.gguf [--types iq2_xxs,iq1_s,...]
F32 tensors with two or more dims whose rows hold whole 256-element blocks (but the MoE router) are quantised, taking the listed types
in turn (in file order), so a small model carries every type; the rest are copied. Metadata is copied verbatim.
Exit codes: 0 ok, 2 bad input, 77 the library is missing.
"""
import argparse
import ctypes
import os
import struct
import sys

import numpy as np

HERE = os.path.dirname(os.path.abspath(__file__))
REPO = os.path.dirname(os.path.dirname(HERE))
sys.path.insert(0, os.path.join(REPO, "tools", "ref"))
import gguf_read  # noqa: E402

LIB = os.path.join(REPO, "tools", "oracle", "node_modules", "@node-llama-cpp", "linux-x64", "bins", "linux-x64",
                   "libggml-base.so")
# ggml type id -> (name, bytes per 256-element block)
IQ_TYPES = {"iq2_xxs": (16, 66), "iq2_xs": (17, 74), "iq3_xxs": (18, 98), "iq1_s": (19, 50), "iq1_m": (29, 56)}
QK_K = 256


def available():
    return os.path.exists(LIB)


def _ggml():
    lib = ctypes.CDLL(LIB)
    lib.ggml_quantize_chunk.argtypes = [ctypes.c_int, ctypes.c_void_p, ctypes.c_void_p, ctypes.c_int64,
                                        ctypes.c_int64, ctypes.c_int64, ctypes.c_void_p]
    lib.ggml_quantize_chunk.restype = ctypes.c_size_t
    return lib


def quantize(lib, type_id, block_bytes, x):
    """x: float32 (rows, ne0) -> the rows' blocks as bytes."""
    rows, ne0 = x.shape
    x = np.ascontiguousarray(x, dtype=np.float32)
    out = np.zeros(rows * ne0 // QK_K * block_bytes, dtype=np.uint8)
    ones = np.ones(ne0, dtype=np.float32)
    n = lib.ggml_quantize_chunk(type_id, x.ctypes.data, out.ctypes.data, 0, rows, ne0, ones.ctypes.data)
    if n != out.size:
        raise RuntimeError(f"ggml_quantize_chunk wrote {n} bytes, expected {out.size}")
    return out.tobytes()


def metadata_bytes(path, n_kv):
    """The raw metadata section (after the 24-byte header), to copy verbatim."""
    with open(path, "rb") as f:
        buf = f.read()
    c = gguf_read._Cursor(buf)
    c.pos = 24
    for _ in range(n_kv):
        c.string()
        c.value(c.u32())
    return buf[24:c.pos]


def requantize(inp, out, types):
    g = gguf_read.GGUFFile(inp)
    with open(inp, "rb") as f:
        f.seek(16)
        n_kv = struct.unpack("<Q", f.read(8))[0]
    lib = _ggml()
    tensors, k = [], 0  # (name, dims, type, bytes)
    for name in g.tensor_order:
        ti = g.tensors[name]
        if ti.nbytes is None:
            raise ValueError(f"{inp}: tensor {name} has type {ti.type}, which this tool does not copy")
        raw = bytes(g._raw(ti, 0, ti.nbytes))
        # the router stays F32, as llama-quantize keeps it
        if ti.type == gguf_read.GGML_F32 and len(ti.dims) >= 2 and ti.dims[0] % QK_K == 0 and \
                "ffn_gate_inp" not in name:
            tname = types[k % len(types)]
            k += 1
            type_id, bb = IQ_TYPES[tname]
            x = np.frombuffer(raw, dtype="<f4").reshape(-1, ti.dims[0])
            tensors.append((name, ti.dims, type_id, quantize(lib, type_id, bb, x)))
            print(f"{name:32s} {str(ti.dims):20s} -> {tname}")
        else:
            tensors.append((name, ti.dims, ti.type, raw))
    align = g.alignment
    kv = metadata_bytes(inp, n_kv)
    g.close()

    def pad(n):
        return (-n) % align

    infos, offset = b"", 0
    for name, dims, ttype, data in tensors:
        nb = name.encode()
        infos += struct.pack("<Q", len(nb)) + nb + struct.pack("<I", len(dims))
        infos += b"".join(struct.pack("<Q", d) for d in dims) + struct.pack("<IQ", ttype, offset)
        offset += len(data) + pad(len(data))
    head = b"GGUF" + struct.pack("<IQQ", 3, len(tensors), n_kv) + kv + infos
    tmp = out + ".tmp"
    with open(tmp, "wb") as f:
        f.write(head + b"\0" * pad(len(head)))
        for _, _, _, data in tensors:
            f.write(data + b"\0" * pad(len(data)))
    os.replace(tmp, out)
    return k


def main(argv=None):
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("inp")
    ap.add_argument("out")
    ap.add_argument("--types", default=",".join(IQ_TYPES))
    a = ap.parse_args(argv)
    types = a.types.lower().split(",")
    if any(t not in IQ_TYPES for t in types):
        print(f"iq_requant: --types takes {', '.join(IQ_TYPES)}", file=sys.stderr)
        return 2
    if not available():
        print(f"iq_requant: {LIB} is missing (run scripts/install-deps.sh)", file=sys.stderr)
        return 77
    try:
        n = requantize(a.inp, a.out, types)
    except (OSError, ValueError, gguf_read.GGUFError) as e:
        print(f"iq_requant: {e}", file=sys.stderr)
        return 2
    print(f"{n} tensors quantised")
    return 0


if __name__ == "__main__":
    sys.exit(main())
