// GGUF writer: serialises metadata and tensor infos, then streams each tensor's bytes from its fill callback,
// to PATH.tmp, renamed to PATH only when everything was written and flushed.
#include <cerrno>
#include <cstdio>
#include <cstring>
#include <vector>

#include "formats/gguf.h"

namespace seek {

namespace {

void put_bytes(std::vector<uint8_t>& out, const void* p, size_t n) {
  const uint8_t* b = static_cast<const uint8_t*>(p);
  out.insert(out.end(), b, b + n);
}
template <class T>
void put(std::vector<uint8_t>& out, T v) {
  put_bytes(out, &v, sizeof v);
}
void put_string(std::vector<uint8_t>& out, const std::string& s) {
  put<uint64_t>(out, s.size());
  put_bytes(out, s.data(), s.size());
}

void put_value(std::vector<uint8_t>& out, const GgufValue& v) {
  switch (v.type) {
    case GgufType::U8: put<uint8_t>(out, uint8_t(v.u)); break;
    case GgufType::I8: put<int8_t>(out, int8_t(v.i)); break;
    case GgufType::U16: put<uint16_t>(out, uint16_t(v.u)); break;
    case GgufType::I16: put<int16_t>(out, int16_t(v.i)); break;
    case GgufType::U32: put<uint32_t>(out, uint32_t(v.u)); break;
    case GgufType::I32: put<int32_t>(out, int32_t(v.i)); break;
    case GgufType::U64: put<uint64_t>(out, v.u); break;
    case GgufType::I64: put<int64_t>(out, v.i); break;
    case GgufType::F32: put<float>(out, float(v.f)); break;
    case GgufType::F64: put<double>(out, v.f); break;
    case GgufType::BOOL: put<uint8_t>(out, v.u ? 1 : 0); break;
    case GgufType::STRING: put_string(out, v.s); break;
    case GgufType::ARRAY:
      put<uint32_t>(out, uint32_t(v.elem_type));
      put<uint64_t>(out, v.arr.size());
      for (const GgufValue& e : v.arr) put_value(out, e);
      break;
  }
}

GgufValue scalar(GgufType t) {
  GgufValue v;
  v.type = t;
  return v;
}

GgufValue array_of(GgufType et, size_t n) {
  GgufValue v;
  v.type = GgufType::ARRAY;
  v.elem_type = et;
  v.arr.resize(n, scalar(et));
  return v;
}

}  // namespace

GgufValue gguf_str(const std::string& s) {
  GgufValue v = scalar(GgufType::STRING);
  v.s = s;
  return v;
}

GgufValue gguf_u32(uint32_t x) {
  GgufValue v = scalar(GgufType::U32);
  v.u = x;
  v.i = x;
  return v;
}

void GgufWriter::set(const std::string& key, GgufValue v) {
  for (auto& kv : kv_)
    if (kv.first == key) {
      kv.second = std::move(v);
      return;
    }
  kv_.emplace_back(key, std::move(v));
}

void GgufWriter::set_u32(const std::string& key, uint32_t x) { set(key, gguf_u32(x)); }
void GgufWriter::set_i32(const std::string& key, int32_t x) {
  GgufValue v = scalar(GgufType::I32);
  v.i = x;
  set(key, v);
}
void GgufWriter::set_u64(const std::string& key, uint64_t x) {
  GgufValue v = scalar(GgufType::U64);
  v.u = x;
  v.i = int64_t(x);
  set(key, v);
}
void GgufWriter::set_f32(const std::string& key, float x) {
  GgufValue v = scalar(GgufType::F32);
  v.f = x;
  set(key, v);
}
void GgufWriter::set_bool(const std::string& key, bool x) {
  GgufValue v = scalar(GgufType::BOOL);
  v.u = x;
  set(key, v);
}
void GgufWriter::set_str(const std::string& key, const std::string& x) { set(key, gguf_str(x)); }
void GgufWriter::set_str_array(const std::string& key, const std::vector<std::string>& x) {
  GgufValue v = array_of(GgufType::STRING, x.size());
  for (size_t k = 0; k < x.size(); ++k) v.arr[k].s = x[k];
  set(key, std::move(v));
}
void GgufWriter::set_i32_array(const std::string& key, const std::vector<int32_t>& x) {
  GgufValue v = array_of(GgufType::I32, x.size());
  for (size_t k = 0; k < x.size(); ++k) v.arr[k].i = x[k];
  set(key, std::move(v));
}
void GgufWriter::set_f32_array(const std::string& key, const std::vector<float>& x) {
  GgufValue v = array_of(GgufType::F32, x.size());
  for (size_t k = 0; k < x.size(); ++k) v.arr[k].f = x[k];
  set(key, std::move(v));
}

void GgufWriter::add_tensor(const std::string& name, GgmlType type, std::vector<int64_t> dims, Fill fill) {
  tensors_.push_back({name, type, std::move(dims), std::move(fill)});
}

Result<void> GgufWriter::write(const std::string& path,
                               const std::function<void(uint64_t, uint64_t)>& progress) const {
  std::vector<uint8_t> head;
  put<uint32_t>(head, 0x46554747);
  put<uint32_t>(head, 3);
  put<uint64_t>(head, tensors_.size());
  bool has_alignment = false;
  for (auto& kv : kv_) has_alignment |= kv.first == "general.alignment";
  put<uint64_t>(head, kv_.size() + (has_alignment || alignment_ == 32 ? 0 : 1));
  for (auto& [key, v] : kv_) {
    put_string(head, key);
    put<uint32_t>(head, uint32_t(v.type));
    put_value(head, v);
  }
  if (!has_alignment && alignment_ != 32) {
    put_string(head, "general.alignment");
    put<uint32_t>(head, uint32_t(GgufType::U32));
    put<uint32_t>(head, alignment_);
  }
  std::vector<uint64_t> sizes;
  uint64_t offset = 0;
  for (const Pending& t : tensors_) {
    put_string(head, t.name);
    put<uint32_t>(head, uint32_t(t.dims.size()));
    int64_t n = 1;
    for (int64_t d : t.dims) {
      put<int64_t>(head, d);
      n *= d;
    }
    put<uint32_t>(head, uint32_t(t.type));
    put<uint64_t>(head, offset);
    const TypeTraits tt = traits(t.type);
    const uint64_t nb = uint64_t(n / tt.block_size * tt.block_bytes);
    sizes.push_back(nb);
    offset += (nb + alignment_ - 1) / alignment_ * alignment_;
  }
  while (head.size() % alignment_) head.push_back(0);

  const std::string tmp = path + ".tmp";
  std::FILE* fp = std::fopen(tmp.c_str(), "wb");
  if (!fp) return err("%s: cannot create: %s", tmp.c_str(), std::strerror(errno));
  auto fail = [&](const char* what) {
    Error e = err("%s: %s: %s", tmp.c_str(), what, std::strerror(errno));
    std::fclose(fp);
    std::remove(tmp.c_str());
    return e;
  };
  if (std::fwrite(head.data(), 1, head.size(), fp) != head.size()) return fail("write failed");
  std::vector<uint8_t> buf;
  uint64_t done = 0;
  for (size_t k = 0; k < tensors_.size(); ++k) {
    const uint64_t padded = (sizes[k] + alignment_ - 1) / alignment_ * alignment_;
    buf.assign(size_t(padded), 0);
    tensors_[k].fill(buf.data(), size_t(sizes[k]));
    if (std::fwrite(buf.data(), 1, buf.size(), fp) != buf.size()) return fail("write failed");
    done += padded;
    if (progress) progress(done, offset);
  }
  if (std::fflush(fp) != 0) return fail("flush failed");
  if (std::fclose(fp) != 0) {
    std::remove(tmp.c_str());
    return err("%s: close failed: %s", tmp.c_str(), std::strerror(errno));
  }
  if (std::rename(tmp.c_str(), path.c_str()) != 0) {
    std::remove(tmp.c_str());
    return err("%s: cannot rename to %s: %s", tmp.c_str(), path.c_str(), std::strerror(errno));
  }
  return {};
}

}  // namespace seek
