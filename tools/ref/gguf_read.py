#!/usr/bin/python3
"""Minimal, independent GGUF reader (versions 2 and 3, little-endian).

Written from the GGUF format description (ggml docs/gguf.md and gguf-py constants), not from
seek's C++ code. Only what a test oracle needs:

  * all metadata value types, including arrays of strings and nested arrays;
  * general.alignment (default 32);
  * tensor infos (name, dims ne0-fastest, ggml type, offset);
  * dequantisation of F32, F16, BF16 and Q8_0 tensors to numpy.

Layout convention: GGUF dims are listed fastest-first (ne0, ne1, ...). A tensor with dims
[ne0, ne1, ne2] is returned as a C-order numpy array of shape (ne2, ne1, ne0). For a 2-D weight
this is (out_features, in_features), i.e. the same as a torch nn.Linear weight.

Usage as a script:  /usr/bin/python3 gguf_read.py FILE.gguf   (prints metadata and tensor table)
"""
import mmap
import struct
import sys

import numpy as np

# ---- metadata value types -------------------------------------------------------------------
T_UINT8, T_INT8, T_UINT16, T_INT16, T_UINT32, T_INT32, T_FLOAT32, T_BOOL, T_STRING, T_ARRAY, \
    T_UINT64, T_INT64, T_FLOAT64 = range(13)

_SCALAR = {
    T_UINT8: ("<B", 1, np.uint8), T_INT8: ("<b", 1, np.int8),
    T_UINT16: ("<H", 2, np.uint16), T_INT16: ("<h", 2, np.int16),
    T_UINT32: ("<I", 4, np.uint32), T_INT32: ("<i", 4, np.int32),
    T_FLOAT32: ("<f", 4, np.float32), T_BOOL: ("<?", 1, np.bool_),
    T_UINT64: ("<Q", 8, np.uint64), T_INT64: ("<q", 8, np.int64),
    T_FLOAT64: ("<d", 8, np.float64),
}
TYPE_NAMES = {T_UINT8: "u8", T_INT8: "i8", T_UINT16: "u16", T_INT16: "i16", T_UINT32: "u32",
              T_INT32: "i32", T_FLOAT32: "f32", T_BOOL: "bool", T_STRING: "str", T_ARRAY: "arr",
              T_UINT64: "u64", T_INT64: "i64", T_FLOAT64: "f64"}

# ---- ggml tensor types we can dequantise ------------------------------------------------------
GGML_F32, GGML_F16, GGML_Q8_0, GGML_BF16 = 0, 1, 8, 30
# type -> (block size in elements, bytes per block)
GGML_BLOCK = {GGML_F32: (1, 4), GGML_F16: (1, 2), GGML_Q8_0: (32, 34), GGML_BF16: (1, 2)}
GGML_NAMES = {GGML_F32: "F32", GGML_F16: "F16", GGML_Q8_0: "Q8_0", GGML_BF16: "BF16"}

MAX_DIMS = 4


class GGUFError(Exception):
    pass


class TensorInfo:
    __slots__ = ("name", "dims", "type", "offset", "nbytes")

    def __init__(self, name, dims, ggml_type, offset):
        self.name = name
        self.dims = list(dims)          # ne0 first (fastest varying)
        self.type = ggml_type
        self.offset = offset            # relative to the start of the data section
        self.nbytes = None

    @property
    def shape(self):
        """numpy shape: dims reversed (slowest first)."""
        return tuple(reversed(self.dims))

    @property
    def n_elements(self):
        n = 1
        for d in self.dims:
            n *= d
        return n

    def __repr__(self):
        return "TensorInfo(%s, dims=%s, type=%s, offset=%d)" % (
            self.name, self.dims, GGML_NAMES.get(self.type, str(self.type)), self.offset)


class _Cursor:
    def __init__(self, buf):
        self.buf = buf
        self.pos = 0
        self.size = len(buf)

    def need(self, n):
        if n < 0 or self.pos + n > self.size:
            raise GGUFError("truncated file: need %d bytes at offset %d (size %d)" % (n, self.pos, self.size))

    def unpack(self, fmt, n):
        self.need(n)
        v = struct.unpack_from(fmt, self.buf, self.pos)[0]
        self.pos += n
        return v

    def u32(self):
        return self.unpack("<I", 4)

    def u64(self):
        return self.unpack("<Q", 8)

    def string(self):
        n = self.u64()
        self.need(n)
        b = bytes(self.buf[self.pos:self.pos + n])
        self.pos += n
        return b.decode("utf-8", errors="replace")

    def value(self, vtype, depth=0):
        if vtype in _SCALAR:
            fmt, n, _ = _SCALAR[vtype]
            return self.unpack(fmt, n)
        if vtype == T_STRING:
            return self.string()
        if vtype == T_ARRAY:
            if depth > 8:
                raise GGUFError("arrays nested too deeply")
            etype = self.u32()
            count = self.u64()
            if etype in _SCALAR:
                _, n, npt = _SCALAR[etype]
                self.need(count * n)
                arr = np.frombuffer(self.buf, dtype=np.dtype(npt).newbyteorder("<"), count=count,
                                    offset=self.pos).copy()
                self.pos += count * n
                return arr.tolist()
            if etype == T_STRING or etype == T_ARRAY:
                if count > self.size:  # every element takes at least one byte
                    raise GGUFError("array count %d larger than file" % count)
                return [self.value(etype, depth + 1) for _ in range(count)]
            raise GGUFError("unknown array element type %d" % etype)
        raise GGUFError("unknown metadata value type %d" % vtype)


class GGUFFile:
    """Parses header, metadata and tensor infos; tensor data is read lazily from a memory map."""

    def __init__(self, path):
        self.path = path
        self._f = open(path, "rb")
        self._mm = mmap.mmap(self._f.fileno(), 0, access=mmap.ACCESS_READ)
        c = _Cursor(self._mm)
        magic = bytes(self._mm[0:4]) if len(self._mm) >= 4 else b""
        if magic != b"GGUF":
            raise GGUFError("not a GGUF file (magic %r)" % magic)
        c.pos = 4
        self.version = c.u32()
        if self.version not in (2, 3):
            if self.version & 0xFFFF == 0 and self.version != 0:
                raise GGUFError("big-endian GGUF files are not supported")
            raise GGUFError("unsupported GGUF version %d" % self.version)
        n_tensors = c.u64()
        n_kv = c.u64()
        if n_tensors > c.size or n_kv > c.size:
            raise GGUFError("implausible tensor/kv counts")
        self.metadata = {}
        self.metadata_types = {}
        for _ in range(n_kv):
            key = c.string()
            vtype = c.u32()
            val = c.value(vtype)
            if key in self.metadata:
                raise GGUFError("duplicate key %s" % key)
            self.metadata[key] = val
            self.metadata_types[key] = vtype
        self.alignment = 32
        if "general.alignment" in self.metadata:
            a = self.metadata["general.alignment"]
            if not isinstance(a, int) or a <= 0 or (a & (a - 1)) != 0:
                raise GGUFError("general.alignment must be a power of two, got %r" % (a,))
            self.alignment = a
        self.tensors = {}
        self.tensor_order = []
        for _ in range(n_tensors):
            name = c.string()
            nd = c.u32()
            if nd < 1 or nd > MAX_DIMS:
                raise GGUFError("tensor %s: bad n_dims %d" % (name, nd))
            dims = [c.u64() for _ in range(nd)]
            ttype = c.u32()
            off = c.u64()
            if name in self.tensors:
                raise GGUFError("duplicate tensor %s" % name)
            ti = TensorInfo(name, dims, ttype, off)
            if ttype in GGML_BLOCK:
                bs, bb = GGML_BLOCK[ttype]
                if dims[0] % bs != 0:
                    raise GGUFError("tensor %s: ne0=%d not a multiple of block %d" % (name, dims[0], bs))
                ti.nbytes = ti.n_elements // bs * bb
            self.tensors[name] = ti
            self.tensor_order.append(name)
        pad = (-c.pos) % self.alignment
        self.data_offset = c.pos + pad
        for ti in self.tensors.values():
            if ti.nbytes is not None and self.data_offset + ti.offset + ti.nbytes > c.size:
                raise GGUFError("tensor %s data out of file bounds" % ti.name)

    # ---- metadata helpers ---------------------------------------------------------------------
    def get(self, key, default=None):
        return self.metadata.get(key, default)

    def __contains__(self, name):
        return name in self.tensors

    # ---- tensor data --------------------------------------------------------------------------
    def _raw(self, ti, start_byte, nbytes):
        base = self.data_offset + ti.offset + start_byte
        if base + nbytes > len(self._mm):
            raise GGUFError("tensor %s read past end of file" % ti.name)
        return np.frombuffer(self._mm, dtype=np.uint8, count=nbytes, offset=base)

    def tensor(self, name, dtype=np.float32):
        """Dequantise the whole tensor; shape = reversed GGUF dims."""
        ti = self.tensors[name]
        if ti.type not in GGML_BLOCK:
            raise GGUFError("tensor %s: ggml type %d not supported by this reader" % (name, ti.type))
        raw = self._raw(ti, 0, ti.nbytes)
        return dequantize(raw, ti.type, ti.n_elements).reshape(ti.shape).astype(dtype, copy=False)

    def tensor_slice(self, name, index, dtype=np.float32):
        """One slice along the slowest (last GGUF) dim, e.g. expert `index` of a 3-D expert tensor."""
        ti = self.tensors[name]
        if ti.type not in GGML_BLOCK:
            raise GGUFError("tensor %s: ggml type %d not supported by this reader" % (name, ti.type))
        outer = ti.dims[-1]
        if not 0 <= index < outer:
            raise IndexError(index)
        per = ti.nbytes // outer
        n_el = ti.n_elements // outer
        raw = self._raw(ti, per * index, per)
        return dequantize(raw, ti.type, n_el).reshape(ti.shape[1:]).astype(dtype, copy=False)

    def close(self):
        try:
            self._mm.close()
        finally:
            self._f.close()


def dequantize(raw, ggml_type, n_elements):
    """raw: uint8 array holding n_elements values of ggml_type. Returns float32 (float64 not needed:
    every supported type is exactly representable in float32)."""
    if ggml_type == GGML_F32:
        return raw.view("<f4").astype(np.float32)
    if ggml_type == GGML_F16:
        return raw.view("<f2").astype(np.float32)
    if ggml_type == GGML_BF16:
        u = raw.view("<u2").astype(np.uint32) << 16
        return u.view(np.float32)
    if ggml_type == GGML_Q8_0:
        nb = n_elements // 32
        blk = raw.reshape(nb, 34)
        d = blk[:, 0:2].copy().view("<f2").astype(np.float32)        # (nb, 1)
        q = blk[:, 2:34].copy().view(np.int8).astype(np.float32)       # (nb, 32)
        return (d * q).reshape(-1)
    raise GGUFError("unsupported ggml type %d" % ggml_type)


def _short(v, limit=8):
    if isinstance(v, list):
        if len(v) > limit:
            return "[%s, ... (%d items)]" % (", ".join(repr(x) for x in v[:limit]), len(v))
        return repr(v)
    return repr(v)


def main(argv):
    if len(argv) != 2:
        print("usage: gguf_read.py FILE.gguf", file=sys.stderr)
        return 2
    g = GGUFFile(argv[1])
    print("GGUF v%d, %d kv, %d tensors, alignment %d, data at %d" % (
        g.version, len(g.metadata), len(g.tensors), g.alignment, g.data_offset))
    for k, v in g.metadata.items():
        print("  %-50s %-4s %s" % (k, TYPE_NAMES[g.metadata_types[k]], _short(v)))
    for n in g.tensor_order:
        ti = g.tensors[n]
        print("  %-40s %-5s %s" % (n, GGML_NAMES.get(ti.type, str(ti.type)), ti.dims))
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv))
