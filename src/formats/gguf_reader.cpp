// GGUF reader: parses the header, metadata and tensor infos with a bounds-checked cursor. Nothing is allocated
// in proportion to a count read from the file before the file has been shown to hold that many bytes.
#include <cstring>
#include <limits>

#include "formats/gguf.h"

namespace seek {

namespace {

constexpr uint32_t kMagic = 0x46554747;  // "GGUF" little-endian
constexpr int kMaxArrayDepth = 8;
constexpr uint64_t kMaxStringBytes = uint64_t(1) << 30;
constexpr uint32_t kMaxDims = 4;

// Smallest encoded size of one value of a type: bounds how many array elements the remaining bytes can hold.
uint64_t min_encoded_size(GgufType t) {
  switch (t) {
    case GgufType::U8: case GgufType::I8: case GgufType::BOOL: return 1;
    case GgufType::U16: case GgufType::I16: return 2;
    case GgufType::U32: case GgufType::I32: case GgufType::F32: return 4;
    case GgufType::U64: case GgufType::I64: case GgufType::F64: return 8;
    case GgufType::STRING: return 8;
    case GgufType::ARRAY: return 12;
  }
  return 1;
}

bool valid_value_type(uint32_t t) { return t <= uint32_t(GgufType::F64); }

class Cursor {
 public:
  Cursor(const uint8_t* data, uint64_t size, const std::string& path) : p_(data), size_(size), path_(path) {}

  uint64_t offset() const { return off_; }
  // Offset where the field read last began: what error messages report.
  uint64_t field_offset() const { return last_; }
  uint64_t remaining() const { return size_ - off_; }

  Error fail(const char* field, const std::string& what) const {
    return err("%s: offset %llu: %s: %s", path_.c_str(), (unsigned long long)last_, field, what.c_str());
  }

  template <class T>
  Result<T> read(const char* field) {
    last_ = off_;
    if (remaining() < sizeof(T))
      return fail(field, "file ends (need " + std::to_string(sizeof(T)) + " bytes, " +
                             std::to_string(remaining()) + " left)");
    T v;
    std::memcpy(&v, p_ + off_, sizeof(T));
    off_ += sizeof(T);
    return v;
  }

  Result<std::string> read_string(const char* field) {
    auto n = read<uint64_t>(field);
    if (!n) return n.error();
    if (*n > remaining() || *n > kMaxStringBytes)
      return fail(field, "string length " + std::to_string(*n) + " exceeds the " + std::to_string(remaining()) +
                             " bytes left in the file");
    std::string s(reinterpret_cast<const char*>(p_ + off_), size_t(*n));
    off_ += *n;
    return s;
  }

  Result<GgufValue> read_value(GgufType type, const char* field, int depth) {
    GgufValue v;
    v.type = type;
    switch (type) {
      case GgufType::U8: { auto r = read<uint8_t>(field); if (!r) return r.error(); v.u = *r; v.i = *r; break; }
      case GgufType::I8: { auto r = read<int8_t>(field); if (!r) return r.error(); v.i = *r; break; }
      case GgufType::U16: { auto r = read<uint16_t>(field); if (!r) return r.error(); v.u = *r; v.i = *r; break; }
      case GgufType::I16: { auto r = read<int16_t>(field); if (!r) return r.error(); v.i = *r; break; }
      case GgufType::U32: { auto r = read<uint32_t>(field); if (!r) return r.error(); v.u = *r; v.i = *r; break; }
      case GgufType::I32: { auto r = read<int32_t>(field); if (!r) return r.error(); v.i = *r; break; }
      case GgufType::U64: { auto r = read<uint64_t>(field); if (!r) return r.error(); v.u = *r; v.i = int64_t(*r); break; }
      case GgufType::I64: { auto r = read<int64_t>(field); if (!r) return r.error(); v.i = *r; break; }
      case GgufType::F32: { auto r = read<float>(field); if (!r) return r.error(); v.f = *r; break; }
      case GgufType::F64: { auto r = read<double>(field); if (!r) return r.error(); v.f = *r; break; }
      case GgufType::BOOL: {
        auto r = read<uint8_t>(field);
        if (!r) return r.error();
        if (*r > 1) return fail(field, "bool value " + std::to_string(*r) + " is neither 0 nor 1");
        v.u = *r;
        break;
      }
      case GgufType::STRING: { auto r = read_string(field); if (!r) return r.error(); v.s = std::move(*r); break; }
      case GgufType::ARRAY: {
        if (depth >= kMaxArrayDepth) return fail(field, "arrays nested deeper than " + std::to_string(kMaxArrayDepth));
        auto et = read<uint32_t>(field);
        if (!et) return et.error();
        if (!valid_value_type(*et)) return fail(field, "unknown array element type " + std::to_string(*et));
        v.elem_type = GgufType(*et);
        auto n = read<uint64_t>(field);
        if (!n) return n.error();
        if (*n > remaining() / min_encoded_size(v.elem_type))
          return fail(field, "array of " + std::to_string(*n) + " elements cannot fit in the " +
                                 std::to_string(remaining()) + " bytes left");
        v.arr.reserve(size_t(*n));
        for (uint64_t k = 0; k < *n; ++k) {
          auto e = read_value(v.elem_type, field, depth + 1);
          if (!e) return e.error();
          v.arr.push_back(std::move(*e));
        }
        break;
      }
    }
    return v;
  }

  void seek_to(uint64_t off) { off_ = last_ = off; }

 private:
  const uint8_t* p_;
  uint64_t size_;
  uint64_t off_ = 0;
  uint64_t last_ = 0;
  const std::string& path_;
};

// a * b without overflow, or nullopt.
std::optional<uint64_t> mul_u64(uint64_t a, uint64_t b) {
  uint64_t r;
  if (__builtin_mul_overflow(a, b, &r)) return std::nullopt;
  return r;
}

}  // namespace

const char* gguf_type_name(GgufType t) {
  static const char* names[] = {"u8", "i8", "u16", "i16", "u32", "i32", "f32", "bool", "string", "array",
                                "u64", "i64", "f64"};
  return uint32_t(t) <= 12 ? names[uint32_t(t)] : "?";
}

bool GgufValue::is_int() const {
  switch (type) {
    case GgufType::U8: case GgufType::I8: case GgufType::U16: case GgufType::I16: case GgufType::U32:
    case GgufType::I32: case GgufType::U64: case GgufType::I64: return true;
    default: return false;
  }
}

std::optional<int64_t> GgufValue::as_int() const {
  if (!is_int()) return std::nullopt;
  if (type == GgufType::U64 && u > uint64_t(std::numeric_limits<int64_t>::max())) return std::nullopt;
  return i;
}

int64_t GgufTensor::n_elements() const {
  int64_t n = 1;
  for (int64_t d : dims) n *= d;  // validated against overflow at parse time
  return n;
}

const uint8_t* GgufTensor::row_data(int64_t r) const {
  const size_t stride = row_bytes(type, ne(0));
  if (parts.empty()) return data + size_t(r) * stride;
  return parts[size_t(r / part_rows)] + size_t(r % part_rows) * stride;
}

const float* GgufTensor::row_scales(int64_t r) const {
  const int64_t scale_cols = (ne(0) + 127) / 128;
  if (parts.empty()) return scales + (r / 128) * scale_cols;
  return part_scales[size_t(r / part_rows)] + ((r % part_rows) / 128) * scale_cols;
}

Result<void> GgufFile::build_index() {
  kv_index_.clear();
  tensor_index_.clear();
  for (size_t i = 0; i < kv.size(); ++i)
    if (!kv_index_.emplace(kv[i].first, i).second) return err("%s: metadata key %s given twice", path.c_str(), kv[i].first.c_str());
  for (size_t i = 0; i < tensors.size(); ++i)
    if (!tensor_index_.emplace(tensors[i].name, i).second)
      return err("%s: tensor %s given twice", path.c_str(), tensors[i].name.c_str());
  return {};
}

const GgufValue* GgufFile::find(const std::string& key) const {
  auto it = kv_index_.find(key);
  return it == kv_index_.end() ? nullptr : &kv[it->second].second;
}

const GgufTensor* GgufFile::tensor(const std::string& name) const {
  auto it = tensor_index_.find(name);
  return it == tensor_index_.end() ? nullptr : &tensors[it->second];
}

Result<std::optional<int64_t>> GgufFile::get_int(const std::string& key) const {
  const GgufValue* v = find(key);
  if (!v) return std::optional<int64_t>{};
  auto i = v->as_int();
  if (!i) return err("%s: metadata key %s: expected an integer, found %s", path.c_str(), key.c_str(),
                     gguf_type_name(v->type));
  return std::optional<int64_t>{*i};
}

Result<std::optional<double>> GgufFile::get_float(const std::string& key) const {
  const GgufValue* v = find(key);
  if (!v) return std::optional<double>{};
  if (v->is_float()) return std::optional<double>{v->f};
  if (auto i = v->as_int()) return std::optional<double>{double(*i)};
  return err("%s: metadata key %s: expected a number, found %s", path.c_str(), key.c_str(), gguf_type_name(v->type));
}

Result<std::optional<bool>> GgufFile::get_bool(const std::string& key) const {
  const GgufValue* v = find(key);
  if (!v) return std::optional<bool>{};
  if (v->type == GgufType::BOOL) return std::optional<bool>{v->u != 0};
  if (auto i = v->as_int()) return std::optional<bool>{*i != 0};
  return err("%s: metadata key %s: expected a bool, found %s", path.c_str(), key.c_str(), gguf_type_name(v->type));
}

Result<std::optional<std::string>> GgufFile::get_string(const std::string& key) const {
  const GgufValue* v = find(key);
  if (!v) return std::optional<std::string>{};
  if (v->type != GgufType::STRING)
    return err("%s: metadata key %s: expected a string, found %s", path.c_str(), key.c_str(), gguf_type_name(v->type));
  return std::optional<std::string>{v->s};
}

Result<GgufFile> gguf_open(const std::string& path) {
  auto m = MappedFile::open(path);
  if (!m) return m.error();
  return gguf_parse(std::make_shared<MappedFile>(std::move(*m)));
}

Result<GgufFile> gguf_parse(std::shared_ptr<MappedFile> mapping) {
  GgufFile f;
  f.path = mapping->path();
  Cursor c(mapping->data(), mapping->size(), f.path);

  auto magic = c.read<uint32_t>("magic");
  if (!magic) return magic.error();
  if (*magic != kMagic) {
    c.seek_to(0);
    return c.fail("magic", "not a GGUF file (expected the bytes \"GGUF\")");
  }
  auto version = c.read<uint32_t>("version");
  if (!version) return version.error();
  if (*version != 2 && *version != 3) return c.fail("version", "unsupported GGUF version " + std::to_string(*version));
  f.version = *version;

  auto n_tensors = c.read<uint64_t>("tensor_count");
  if (!n_tensors) return n_tensors.error();
  // Each tensor info takes at least 8+4+8+4+8 bytes; each key-value at least 8 (key length) + 4 (type) + 1.
  if (*n_tensors > c.remaining() / 32) return c.fail("tensor_count", std::to_string(*n_tensors) + " tensors cannot fit in the file");
  auto n_kv = c.read<uint64_t>("metadata_kv_count");
  if (!n_kv) return n_kv.error();
  if (*n_kv > c.remaining() / 13) return c.fail("metadata_kv_count", std::to_string(*n_kv) + " entries cannot fit in the file");

  for (uint64_t k = 0; k < *n_kv; ++k) {
    const uint64_t at = c.offset();
    auto key = c.read_string("metadata key");
    if (!key) return key.error();
    auto t = c.read<uint32_t>(key->c_str());
    if (!t) return t.error();
    if (!valid_value_type(*t)) return c.fail(key->c_str(), "unknown value type " + std::to_string(*t));
    auto v = c.read_value(GgufType(*t), key->c_str(), 0);
    if (!v) return v.error();
    if (f.kv_index_.count(*key))
      return err("%s: offset %llu: metadata key %s appears twice", f.path.c_str(), (unsigned long long)at, key->c_str());
    f.kv_index_[*key] = f.kv.size();
    f.kv.emplace_back(std::move(*key), std::move(*v));
  }

  if (const GgufValue* a = f.find("general.alignment")) {
    if (a->type != GgufType::U32 || a->u == 0 || (a->u & (a->u - 1)) != 0)
      return err("%s: metadata key general.alignment: must be a u32 power of two, found %s %llu", f.path.c_str(),
                 gguf_type_name(a->type), (unsigned long long)a->u);
    f.alignment = a->u;
  }

  f.tensors.reserve(size_t(*n_tensors));
  for (uint64_t k = 0; k < *n_tensors; ++k) {
    GgufTensor t;
    auto name = c.read_string("tensor name");
    if (!name) return name.error();
    t.name = std::move(*name);
    const std::string field = "tensor " + t.name;
    auto nd = c.read<uint32_t>(field.c_str());
    if (!nd) return nd.error();
    if (*nd == 0 || *nd > kMaxDims) return c.fail(field.c_str(), "has " + std::to_string(*nd) + " dimensions (1 to 4 allowed)");
    uint64_t n_el = 1;
    for (uint32_t d = 0; d < *nd; ++d) {
      auto ne = c.read<int64_t>(field.c_str());
      if (!ne) return ne.error();
      if (*ne < 0) return c.fail(field.c_str(), "negative dimension " + std::to_string(*ne));
      auto prod = mul_u64(n_el, uint64_t(*ne));
      if (!prod || *prod > uint64_t(std::numeric_limits<int64_t>::max()))
        return c.fail(field.c_str(), "element count overflows");
      n_el = *prod;
      t.dims.push_back(*ne);
    }
    auto type = c.read<uint32_t>(field.c_str());
    if (!type) return type.error();
    auto tt = type_traits(*type);
    if (!tt || GgmlType(*type) == GgmlType::F8_E4M3)
      return c.fail(field.c_str(), "unknown tensor type " + std::to_string(*type));
    t.type = GgmlType(*type);
    if (t.dims[0] % tt->block_size != 0)
      return c.fail(field.c_str(), "row length " + std::to_string(t.dims[0]) + " is not a multiple of the " +
                                       std::string(tt->name) + " block size " + std::to_string(tt->block_size));
    auto off = c.read<uint64_t>(field.c_str());
    if (!off) return off.error();
    if (*off % f.alignment != 0)
      return c.fail(field.c_str(), "data offset " + std::to_string(*off) + " is not aligned to " + std::to_string(f.alignment));
    t.offset = *off;
    auto nb = mul_u64(n_el / uint64_t(tt->block_size), uint64_t(tt->block_bytes));
    if (!nb) return c.fail(field.c_str(), "byte size overflows");
    t.nbytes = *nb;
    if (f.tensor_index_.count(t.name)) return c.fail(field.c_str(), "tensor name appears twice");
    f.tensor_index_[t.name] = f.tensors.size();
    f.tensors.push_back(std::move(t));
  }

  // The data section starts at the next multiple of the alignment.
  const uint64_t end_of_infos = c.offset();
  const uint64_t pad = (f.alignment - end_of_infos % f.alignment) % f.alignment;
  f.data_offset = end_of_infos + pad;
  const uint64_t file_size = mapping->size();
  if (f.data_offset > file_size && !f.tensors.empty())
    return err("%s: offset %llu: tensor data: file ends before the data section", f.path.c_str(),
               (unsigned long long)end_of_infos);
  const uint64_t data_size = f.data_offset <= file_size ? file_size - f.data_offset : 0;
  for (GgufTensor& t : f.tensors) {
    if (t.offset > data_size || t.nbytes > data_size - t.offset)
      return err("%s: offset %llu: tensor %s: data [%llu, +%llu) runs past the end of the file (%llu data bytes)",
                 f.path.c_str(), (unsigned long long)(f.data_offset + t.offset), t.name.c_str(),
                 (unsigned long long)t.offset, (unsigned long long)t.nbytes, (unsigned long long)data_size);
    t.data = mapping->data() + f.data_offset + t.offset;
  }
  f.mapping = std::move(mapping);
  return f;
}

}  // namespace seek
