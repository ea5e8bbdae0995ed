// safetensors reader: checks the header length against the file, parses the JSON header with bounded depth and no
// duplicate keys, checks every tensor entry (dtype, shape, byte range, size) and that the tensors tile the data
// section exactly; then a model folder: the index's weight_map checked both ways against the shards' contents.
#include "formats/safetensors.h"

#include <algorithm>
#include <cstring>
#include <filesystem>
#include <limits>
#include <map>
#include <optional>
#include <tuple>

#include "formats/json_checked.h"

namespace seek {

namespace {

using nlohmann::json;

constexpr uint64_t kHeaderLengthBytes = 8;
constexpr const char* kIndexName = "model.safetensors.index.json";
constexpr const char* kSingleName = "model.safetensors";

struct DtypeInfo {
  const char* name;
  size_t bytes;
};
// The dtypes of the safetensors spec that take whole bytes. F8_E8M0 is the MX block-scale type.
constexpr DtypeInfo kDtypes[] = {
    {"BOOL", 1}, {"U8", 1},  {"I8", 1},  {"F8_E4M3", 1}, {"F8_E5M2", 1}, {"F8_E8M0", 1}, {"U16", 2}, {"I16", 2},
    {"F16", 2},  {"BF16", 2}, {"U32", 4}, {"I32", 4},     {"F32", 4},     {"U64", 8},     {"I64", 8}, {"F64", 8},
};

// a * b without overflow, or nullopt.
std::optional<uint64_t> mul_u64(uint64_t a, uint64_t b) {
  uint64_t r;
  if (__builtin_mul_overflow(a, b, &r)) return std::nullopt;
  return r;
}

// A JSON value as it appears in the file, cut short for an error message.
std::string shown(const json& v) {
  std::string s = v.dump(-1, ' ', false, json::error_handler_t::replace);
  return printable(s.size() > 40 ? s.substr(0, 40) + "..." : s);
}

// An error about one field of one tensor entry of the header.
Error tensor_error(const std::string& path, const std::string& name, const char* field, const std::string& what) {
  return err("%s: header: tensor \"%s\": %s: %s", path.c_str(), printable(name).c_str(), field, what.c_str());
}

// A non-negative integer that fits int64 (shapes) or uint64 (offsets, which are bounded by the file anyway).
std::optional<uint64_t> as_count(const json& v, uint64_t max) {
  if (!v.is_number_unsigned()) return std::nullopt;
  const uint64_t u = v.get<uint64_t>();
  if (u > max) return std::nullopt;
  return u;
}

// "shape": at most kMaxSafetensorsRank non-negative integers whose product fits int64. Returns that product.
Result<uint64_t> parse_shape(const std::string& path, const std::string& name, const json& shape,
                             std::vector<int64_t>& dims) {
  if (!shape.is_array()) return tensor_error(path, name, "shape", "expected an array, found " + shown(shape));
  if (shape.size() > kMaxSafetensorsRank)
    return tensor_error(path, name, "shape", "rank " + std::to_string(shape.size()) + " exceeds " +
                                                 std::to_string(kMaxSafetensorsRank));
  constexpr uint64_t kMaxCount = uint64_t(std::numeric_limits<int64_t>::max());
  uint64_t n_elements = 1;
  for (size_t k = 0; k < shape.size(); ++k) {
    auto dim = as_count(shape[k], kMaxCount);
    if (!dim)
      return tensor_error(path, name, "shape", "dimension " + std::to_string(k) + " is " + shown(shape[k]) +
                                                   ", expected a non-negative integer");
    auto prod = mul_u64(n_elements, *dim);
    if (!prod || *prod > kMaxCount)
      return tensor_error(path, name, "shape", "element count " + shown(shape) + " overflows");
    n_elements = *prod;
    dims.push_back(int64_t(*dim));
  }
  return n_elements;
}

// One entry of the header: {"dtype": ..., "shape": [...], "data_offsets": [begin, end]}. Other keys are ignored,
// as the reference implementation does.
Result<SafetensorsTensor> parse_tensor_entry(const std::string& path, const std::string& name, const json& v,
                                             uint64_t data_size) {
  SafetensorsTensor t;
  t.name = name;
  if (!v.is_object()) return tensor_error(path, name, "entry", "expected an object, found " + shown(v));

  auto dtype = v.find("dtype");
  if (dtype == v.end()) return tensor_error(path, name, "dtype", "missing");
  if (!dtype->is_string()) return tensor_error(path, name, "dtype", "expected a string, found " + shown(*dtype));
  t.dtype = dtype->get<std::string>();
  const size_t elem_bytes = safetensors_dtype_size(t.dtype);
  if (elem_bytes == 0) return tensor_error(path, name, "dtype", "unknown dtype \"" + printable(t.dtype) + "\"");

  auto shape = v.find("shape");
  if (shape == v.end()) return tensor_error(path, name, "shape", "missing");
  auto n_elements = parse_shape(path, name, *shape, t.shape);
  if (!n_elements) return n_elements.error();

  auto offsets = v.find("data_offsets");
  if (offsets == v.end()) return tensor_error(path, name, "data_offsets", "missing");
  if (!offsets->is_array() || offsets->size() != 2)
    return tensor_error(path, name, "data_offsets", "expected [begin, end], found " + shown(*offsets));
  auto begin = as_count((*offsets)[0], std::numeric_limits<uint64_t>::max());
  auto end = as_count((*offsets)[1], std::numeric_limits<uint64_t>::max());
  if (!begin || !end)
    return tensor_error(path, name, "data_offsets", "expected two non-negative integers, found " + shown(*offsets));
  if (*begin > *end || *end > data_size)
    return tensor_error(path, name, "data_offsets", "[" + std::to_string(*begin) + ", " + std::to_string(*end) +
                                                        ") is not a range within the " + std::to_string(data_size) +
                                                        "-byte data section");
  t.begin = *begin;
  t.end = *end;

  auto nbytes = mul_u64(*n_elements, elem_bytes);
  if (!nbytes || *nbytes != t.end - t.begin)
    return tensor_error(path, name, "data_offsets",
                        "range holds " + std::to_string(t.end - t.begin) + " bytes but shape " + shown(*shape) +
                            " of " + t.dtype + " needs " + (nbytes ? std::to_string(*nbytes) : "more than 2^64"));
  return t;
}

// "__metadata__": an object of strings.
Result<std::vector<std::pair<std::string, std::string>>> parse_metadata(const std::string& path, const json& v) {
  if (!v.is_object()) return err("%s: header: __metadata__: expected an object, found %s", path.c_str(), shown(v).c_str());
  std::vector<std::pair<std::string, std::string>> out;
  for (const auto& [key, value] : v.items()) {
    if (!value.is_string())
      return err("%s: header: __metadata__: key \"%s\": expected a string, found %s", path.c_str(),
                 printable(key).c_str(), shown(value).c_str());
    out.emplace_back(key, value.get<std::string>());
  }
  return out;
}

// The tensors, sorted by (begin, end), must tile [0, data_size): each begins where the one before ended.
Result<void> check_tiling(const SafetensorsFile& f, uint64_t data_size) {
  uint64_t at = 0;
  const SafetensorsTensor* prev = nullptr;
  auto prev_name = [&] { return prev ? "tensor \"" + printable(prev->name) + "\"" : std::string("the start of the data section"); };
  for (const SafetensorsTensor& t : f.tensors) {
    if (t.begin < at)
      return err("%s: offset %llu: data_offsets: tensors \"%s\" [%llu, %llu) and \"%s\" [%llu, %llu) overlap",
                 f.path.c_str(), (unsigned long long)(f.data_offset + t.begin), printable(prev->name).c_str(),
                 (unsigned long long)prev->begin, (unsigned long long)prev->end, printable(t.name).c_str(),
                 (unsigned long long)t.begin, (unsigned long long)t.end);
    if (t.begin > at)
      return err("%s: offset %llu: data_offsets: %llu unused bytes between %s and tensor \"%s\" [%llu, %llu)",
                 f.path.c_str(), (unsigned long long)(f.data_offset + at), (unsigned long long)(t.begin - at),
                 prev_name().c_str(), printable(t.name).c_str(), (unsigned long long)t.begin,
                 (unsigned long long)t.end);
    at = t.end;
    prev = &t;
  }
  if (at != data_size)
    return err("%s: offset %llu: data_offsets: %llu unused bytes after %s at the end of the data section",
               f.path.c_str(), (unsigned long long)(f.data_offset + at), (unsigned long long)(data_size - at),
               prev ? prev_name().c_str() : "the header (no tensors)");
  return {};
}

}  // namespace

size_t safetensors_dtype_size(std::string_view dtype) {
  for (const DtypeInfo& d : kDtypes)
    if (dtype == d.name) return d.bytes;
  return 0;
}

int64_t SafetensorsTensor::n_elements() const {
  int64_t n = 1;
  for (int64_t d : shape) n *= d;  // checked against overflow at parse time
  return n;
}

const SafetensorsTensor* SafetensorsFile::find(const std::string& name) const {
  auto it = index_.find(name);
  return it == index_.end() ? nullptr : &tensors[it->second];
}

Result<SafetensorsFile> safetensors_open(const std::string& path) {
  auto m = MappedFile::open(path);
  if (!m) return m.error();
  return safetensors_parse(std::make_shared<MappedFile>(std::move(*m)));
}

Result<SafetensorsFile> safetensors_parse(std::shared_ptr<MappedFile> mapping) {
  SafetensorsFile f;
  f.path = mapping->path();
  const uint64_t file_size = mapping->size();
  if (file_size < kHeaderLengthBytes)
    return err("%s: offset 0: header length: file has %llu bytes, fewer than the 8 of the length", f.path.c_str(),
               (unsigned long long)file_size);
  uint8_t le[8];
  std::memcpy(le, mapping->data(), 8);
  uint64_t n = 0;
  for (int k = 7; k >= 0; --k) n = (n << 8) | le[k];  // little-endian whatever the host
  if (n > kMaxSafetensorsHeader)
    return err("%s: offset 0: header length: %llu bytes exceeds the %llu-byte limit", f.path.c_str(),
               (unsigned long long)n, (unsigned long long)kMaxSafetensorsHeader);
  if (n > file_size - kHeaderLengthBytes)
    return err("%s: offset 0: header length: %llu bytes runs past the end of the file (%llu bytes)", f.path.c_str(),
               (unsigned long long)n, (unsigned long long)file_size);
  f.data_offset = kHeaderLengthBytes + n;
  const uint64_t data_size = file_size - f.data_offset;

  const std::string_view text(reinterpret_cast<const char*>(mapping->data()) + kHeaderLengthBytes, size_t(n));
  auto header = parse_json_checked(text, f.path, "header", kHeaderLengthBytes);
  if (!header) return header.error();
  if (!header->is_object())
    return err("%s: offset 8: header: expected a JSON object, found %s", f.path.c_str(), shown(*header).c_str());

  f.tensors.reserve(header->size());
  for (const auto& [key, value] : header->items()) {
    if (key == "__metadata__") {
      auto md = parse_metadata(f.path, value);
      if (!md) return md.error();
      f.metadata = std::move(*md);
      continue;
    }
    auto t = parse_tensor_entry(f.path, key, value, data_size);
    if (!t) return t.error();
    f.tensors.push_back(std::move(*t));
  }
  // Names are unique here: parse_json_checked rejects a key that appears twice.
  std::sort(f.tensors.begin(), f.tensors.end(), [](const SafetensorsTensor& a, const SafetensorsTensor& b) {
    return std::tie(a.begin, a.end, a.name) < std::tie(b.begin, b.end, b.name);
  });
  SEEK_TRY(check_tiling(f, data_size));

  for (size_t k = 0; k < f.tensors.size(); ++k) {
    f.tensors[k].data = mapping->data() + f.data_offset + f.tensors[k].begin;
    f.index_.emplace(f.tensors[k].name, k);
  }
  f.mapping = std::move(mapping);
  return f;
}

// ---- model folders ----

namespace {

namespace fs = std::filesystem;

// A shard name from an index must name a file directly inside the model folder.
bool plain_file_name(const std::string& s) {
  return !s.empty() && s != "." && s.find("..") == std::string::npos &&
         s.find_first_of(std::string("/\\\0", 3)) == std::string::npos;
}

// The index's "weight_map": tensor name -> shard file name, each shard name checked.
Result<json> read_weight_map(const std::string& index_path) {
  auto m = MappedFile::open(index_path);
  if (!m) return m.error();
  if (m->size() > kMaxSafetensorsHeader)
    return err("%s: offset 0: index: %zu bytes exceeds the %llu-byte limit", index_path.c_str(), m->size(),
               (unsigned long long)kMaxSafetensorsHeader);
  const std::string_view text(reinterpret_cast<const char*>(m->data()), m->size());
  auto j = parse_json_checked(text, index_path, "index");
  if (!j) return j.error();
  if (!j->is_object()) return err("%s: index: expected a JSON object, found %s", index_path.c_str(), shown(*j).c_str());
  auto wm = j->find("weight_map");
  if (wm == j->end()) return err("%s: weight_map: missing", index_path.c_str());
  if (!wm->is_object()) return err("%s: weight_map: expected an object, found %s", index_path.c_str(), shown(*wm).c_str());
  if (wm->empty()) return err("%s: weight_map: lists no tensors", index_path.c_str());
  for (const auto& [name, shard] : wm->items()) {
    if (!shard.is_string())
      return err("%s: weight_map: tensor \"%s\": expected a shard file name, found %s", index_path.c_str(),
                 printable(name).c_str(), shown(shard).c_str());
    if (!plain_file_name(shard.get_ref<const std::string&>()))
      return err("%s: weight_map: tensor \"%s\": shard name %s is not a plain file name in the model folder",
                 index_path.c_str(), printable(name).c_str(), shown(shard).c_str());
  }
  return std::move(*wm);
}

// Opens each shard the weight map names, once, and checks the map against the shards' contents both ways.
Result<void> open_indexed(const std::string& dir, const std::string& index_path,
                          std::vector<SafetensorsFile>& shards, SafetensorsSet::Index& index) {
  auto wm = read_weight_map(index_path);
  if (!wm) return wm.error();
  std::map<std::string, std::string> first_tensor;  // shard -> a tensor listed under it (sorted: file name order)
  for (const auto& [name, shard] : wm->items()) first_tensor.emplace(shard.get<std::string>(), name);

  for (const auto& [shard_name, example] : first_tensor) {
    auto shard = safetensors_open((fs::path(dir) / shard_name).string());
    if (!shard)
      return err("%s: weight_map: shard \"%s\" (of tensor \"%s\" and maybe others): %s", index_path.c_str(),
                 printable(shard_name).c_str(), printable(example).c_str(), shard.error().message.c_str());
    const uint32_t s = uint32_t(shards.size());
    for (size_t k = 0; k < shard->tensors.size(); ++k) {
      const std::string& name = shard->tensors[k].name;
      auto listed = wm->find(name);
      if (listed == wm->end())
        return err("%s: weight_map: shard \"%s\" holds tensor \"%s\", which the index does not list",
                   index_path.c_str(), printable(shard_name).c_str(), printable(name).c_str());
      if (listed->get_ref<const std::string&>() != shard_name)
        return err("%s: weight_map: shard \"%s\" holds tensor \"%s\", which the index lists under shard \"%s\"",
                   index_path.c_str(), printable(shard_name).c_str(), printable(name).c_str(),
                   printable(listed->get_ref<const std::string&>()).c_str());
      index.emplace(name, std::make_pair(s, uint32_t(k)));
    }
    shards.push_back(std::move(*shard));
  }
  for (const auto& [name, shard] : wm->items())
    if (!index.count(name))
      return err("%s: weight_map: tensor \"%s\" is listed under shard \"%s\", which does not hold it",
                 index_path.c_str(), printable(name).c_str(), shown(shard).c_str());
  return {};
}

}  // namespace

const SafetensorsTensor* SafetensorsSet::find(const std::string& name) const {
  auto it = index_.find(name);
  return it == index_.end() ? nullptr : &shards[it->second.first].tensors[it->second.second];
}

std::vector<const SafetensorsTensor*> SafetensorsSet::all() const {
  std::vector<const SafetensorsTensor*> out;
  out.reserve(index_.size());
  for (const SafetensorsFile& f : shards)
    for (const SafetensorsTensor& t : f.tensors) out.push_back(&t);
  return out;
}

Result<SafetensorsSet> safetensors_open_dir(const std::string& dir) {
  SafetensorsSet set;
  set.dir = dir;
  std::error_code ec;
  if (!fs::is_directory(dir, ec)) return err("%s: not a directory", dir.c_str());
  const std::string index_path = (fs::path(dir) / kIndexName).string();
  const std::string single_path = (fs::path(dir) / kSingleName).string();
  // An index, when present, is authoritative: it says which files hold the model.
  if (fs::exists(index_path, ec)) {
    SEEK_TRY(open_indexed(dir, index_path, set.shards, set.index_));
    return set;
  }
  if (!fs::exists(single_path, ec))
    return err("%s: no model weights: neither %s nor %s is there", dir.c_str(), kIndexName, kSingleName);
  auto f = safetensors_open(single_path);
  if (!f) return f.error();
  for (size_t k = 0; k < f->tensors.size(); ++k) set.index_.emplace(f->tensors[k].name, std::make_pair(0u, uint32_t(k)));
  set.shards.push_back(std::move(*f));
  return set;
}

}  // namespace seek
