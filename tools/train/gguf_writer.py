"""Minimal GGUF v3 writer/reader (own implementation; format per ggml/docs/gguf.md). Little-endian."""
import struct

import numpy as np

GGUF_MAGIC = b"GGUF"
GGUF_VERSION = 3
ALIGNMENT = 32

T_UINT8, T_INT8, T_UINT16, T_INT16, T_UINT32, T_INT32, T_FLOAT32, T_BOOL, T_STRING, T_ARRAY, T_UINT64, T_INT64, T_FLOAT64 = range(13)
GGML_F32, GGML_F16 = 0, 1
_SCALAR_FMT = {T_UINT8: "<B", T_INT8: "<b", T_UINT16: "<H", T_INT16: "<h", T_UINT32: "<I", T_INT32: "<i",
               T_FLOAT32: "<f", T_BOOL: "<?", T_UINT64: "<Q", T_INT64: "<q", T_FLOAT64: "<d"}


def _str(s):
    b = s.encode("utf-8")
    return struct.pack("<Q", len(b)) + b


class GGUFWriter:
    def __init__(self):
        self.kv = []        # (key, type, value, elem_type)
        self.tensors = []   # (name, np.ndarray (torch-order shape), ggml_type)

    def add(self, key, vtype, value, elem_type=None):
        assert all(k != key for k, *_ in self.kv), key
        self.kv.append((key, vtype, value, elem_type))

    def u32(self, k, v): self.add(k, T_UINT32, int(v))
    def i32(self, k, v): self.add(k, T_INT32, int(v))
    def f32(self, k, v): self.add(k, T_FLOAT32, float(v))
    def bool(self, k, v): self.add(k, T_BOOL, bool(v))
    def str(self, k, v): self.add(k, T_STRING, v)
    def arr(self, k, et, v): self.add(k, T_ARRAY, list(v), et)

    def add_tensor(self, name, arr, ggml_type):
        arr = np.ascontiguousarray(arr, dtype=np.float16 if ggml_type == GGML_F16 else np.float32)
        self.tensors.append((name, arr, ggml_type))

    @staticmethod
    def _val(vtype, v):
        if vtype == T_STRING:
            return _str(v)
        return struct.pack(_SCALAR_FMT[vtype], v)

    def write(self, path):
        out = bytearray()
        out += GGUF_MAGIC + struct.pack("<IQQ", GGUF_VERSION, len(self.tensors), len(self.kv))
        for k, t, v, et in self.kv:
            out += _str(k) + struct.pack("<I", t)
            if t == T_ARRAY:
                out += struct.pack("<IQ", et, len(v))
                if et == T_STRING:
                    for x in v:
                        out += _str(x)
                else:
                    out += np.asarray(v, dtype=np.dtype(_SCALAR_FMT[et])).tobytes()
            else:
                out += self._val(t, v)
        offset = 0
        offsets = []
        for name, arr, gt in self.tensors:
            ne = list(reversed(arr.shape))               # ggml ne[0] is the innermost (last torch) dim
            out += _str(name) + struct.pack("<I", len(ne)) + struct.pack(f"<{len(ne)}Q", *ne)
            out += struct.pack("<IQ", gt, offset)
            offsets.append(offset)
            offset += arr.nbytes
            offset += (-offset) % ALIGNMENT
        out += b"\0" * ((-len(out)) % ALIGNMENT)
        data_start = len(out)
        with open(path, "wb") as f:
            f.write(out)
            for (name, arr, gt), off in zip(self.tensors, offsets):
                pos = data_start + off
                cur = f.tell()
                f.write(b"\0" * (pos - cur))
                f.write(arr.tobytes())
            end = f.tell()
            f.write(b"\0" * ((-(end - data_start)) % ALIGNMENT))


def read_gguf(path):
    """Returns (kv dict, {name: np.ndarray in torch order}). Supports F32/F16 tensors."""
    with open(path, "rb") as f:
        buf = f.read()
    p = 0

    def rd(fmt):
        nonlocal p
        v = struct.unpack_from(fmt, buf, p)
        p += struct.calcsize(fmt)
        return v if len(v) > 1 else v[0]

    def rs():
        nonlocal p
        n = rd("<Q")
        s = buf[p:p + n].decode("utf-8")
        p += n
        return s

    def rv(t):
        if t == T_STRING:
            return rs()
        if t == T_ARRAY:
            et, n = rd("<IQ")
            return [rv(et) for _ in range(n)]
        return rd(_SCALAR_FMT[t])

    assert buf[:4] == GGUF_MAGIC
    p = 4
    ver, nt, nkv = rd("<IQQ")
    assert ver == 3
    kv = {}
    for _ in range(nkv):
        k = rs()
        t = rd("<I")
        kv[k] = rv(t)
    infos = []
    for _ in range(nt):
        name = rs()
        nd = rd("<I")
        ne = [rd("<Q") for _ in range(nd)]
        gt, off = rd("<IQ")
        infos.append((name, ne, gt, off))
    align = kv.get("general.alignment", ALIGNMENT)
    data_start = p + (-p) % align
    tensors = {}
    for name, ne, gt, off in infos:
        dt = np.float16 if gt == GGML_F16 else np.float32
        n = int(np.prod(ne))
        a = np.frombuffer(buf, dtype=dt, count=n, offset=data_start + off)
        tensors[name] = a.reshape(list(reversed(ne)))
    return kv, tensors
