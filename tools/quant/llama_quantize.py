#!/usr/bin/python3
"""Quantises a GGUF file with llama.cpp's own llama_model_quantize (the function behind llama-quantize), from the
prebuilt llama.cpp v0.4.0 libraries that npm node-llama-cpp ships in tools/oracle/node_modules. Used by the
integration tests as the reference for `seek quantize`: same recipe, same bytes.

usage: llama_quantize.py IN.gguf OUT.gguf FTYPE [--pure] [--threads N]
FTYPE is a llama_ftype name as llama-quantize spells it (Q4_K_M, Q8_0, ...) or its number.
Exit codes: 0 ok, 1 llama.cpp failed, 2 bad arguments, 77 the library is missing.
"""
import argparse
import ctypes
import os
import sys

REPO = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
LIB_DIR = os.path.join(REPO, "tools", "oracle", "node_modules", "@node-llama-cpp", "linux-x64", "bins", "linux-x64")

# llama.h: enum llama_ftype (the values written to general.file_type)
FTYPES = {"F32": 0, "F16": 1, "Q4_0": 2, "Q4_1": 3, "Q8_0": 7, "Q5_0": 8, "Q5_1": 9, "Q2_K": 10, "Q3_K_S": 11,
          "Q3_K_M": 12, "Q3_K_L": 13, "Q4_K_S": 14, "Q4_K_M": 15, "Q5_K_S": 16, "Q5_K_M": 17, "Q6_K": 18,
          "IQ4_NL": 25, "IQ4_XS": 30, "BF16": 32,
          # llama-quantize's aliases
          "Q3_K": 12, "Q4_K": 15, "Q5_K": 17}


class QuantizeParams(ctypes.Structure):
    """llama.h: struct llama_model_quantize_params (v0.4.0)."""
    _fields_ = [("nthread", ctypes.c_int32), ("ftype", ctypes.c_int), ("output_tensor_type", ctypes.c_int),
                ("token_embedding_type", ctypes.c_int), ("allow_requantize", ctypes.c_bool),
                ("quantize_output_tensor", ctypes.c_bool), ("only_copy", ctypes.c_bool), ("pure", ctypes.c_bool),
                ("keep_split", ctypes.c_bool), ("dry_run", ctypes.c_bool), ("imatrix", ctypes.c_void_p),
                ("kv_overrides", ctypes.c_void_p), ("tt_overrides", ctypes.c_void_p),
                ("prune_layers", ctypes.c_void_p), ("max_buf_size", ctypes.c_size_t)]


def library_path():
    return os.path.join(LIB_DIR, "libllama.v0.4.0.so")


def available():
    return os.path.exists(library_path())


def quantize(inp, out, ftype, pure=False, threads=1):
    """Runs llama_model_quantize; returns its status (0 = ok)."""
    lib = ctypes.CDLL(library_path())
    lib.llama_model_quantize_default_params.restype = QuantizeParams
    lib.llama_model_quantize.argtypes = [ctypes.c_char_p, ctypes.c_char_p, ctypes.POINTER(QuantizeParams)]
    lib.llama_model_quantize.restype = ctypes.c_uint32
    lib.llama_backend_init()
    p = lib.llama_model_quantize_default_params()
    p.ftype = FTYPES[ftype] if isinstance(ftype, str) else int(ftype)
    p.pure = pure
    p.nthread = threads
    p.allow_requantize = True
    return lib.llama_model_quantize(inp.encode(), out.encode(), ctypes.byref(p))


def main(argv=None):
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("inp")
    ap.add_argument("out")
    ap.add_argument("ftype")
    ap.add_argument("--pure", action="store_true")
    ap.add_argument("--threads", type=int, default=1)
    a = ap.parse_args(argv)
    if not available():
        print(f"llama_quantize.py: {library_path()} is missing (run: npm ci --prefix tools/oracle)", file=sys.stderr)
        return 77
    ftype = a.ftype.upper()
    if ftype not in FTYPES and not ftype.isdigit():
        print(f"llama_quantize.py: unknown FTYPE '{a.ftype}'", file=sys.stderr)
        return 2
    rc = quantize(a.inp, a.out, ftype if ftype in FTYPES else int(ftype), a.pure, a.threads)
    return 0 if rc == 0 else 1


if __name__ == "__main__":
    sys.exit(main())
