// safetensors (Hugging Face): a reader that validates the JSON header of untrusted files before use and hands out
// tensor views into the memory-mapped data, and a model folder (one file, or an index plus its shards).
//
// Layout of a file: an 8-byte little-endian header length N, N bytes of JSON, then the data section.
//   {"__metadata__": {"format": "pt"},                                     optional, string -> string
//    "model.embed_tokens.weight": {"dtype": "BF16", "shape": [151936, 1536], "data_offsets": [0, 466747392]},
//    ...}
// data_offsets are a half-open byte range [begin, end) within the data section; the tensors tile that section
// exactly. Shapes are row-major, outermost first (the reverse of GGUF's dims order).
//
// Tensor data is NOT aligned: the data section starts at 8 + N, which the format does not pad, and tensors are
// packed back to back. Read elements with memcpy or unaligned loads (_mm256_loadu_ps), never through a cast
// pointer such as reinterpret_cast<const float*>(t.data).
#pragma once

#include <cstdint>
#include <memory>
#include <string>
#include <string_view>
#include <unordered_map>
#include <utility>
#include <vector>

#include "core/mapped_file.h"
#include "core/result.h"

namespace seek {

// Header lengths above this are refused (real headers are well under 10 MiB).
constexpr uint64_t kMaxSafetensorsHeader = uint64_t(100) << 20;
// Tensors of higher rank are refused.
constexpr size_t kMaxSafetensorsRank = 8;

// Bytes per element of a dtype as spelled in headers ("BF16", "F8_E4M3", ...); 0 for a dtype seek does not know
// (including the sub-byte types F4, F6_E2M3 and F6_E3M2).
size_t safetensors_dtype_size(std::string_view dtype);

struct SafetensorsTensor {
  std::string name;
  std::string dtype;            // "F8_E4M3", "BF16", "F16", "F32", "F64", "I64", "I32", "I16", "I8", "U8", "BOOL", ...
  std::vector<int64_t> shape;   // as in the file: outermost first (row-major); empty for a scalar
  uint64_t begin = 0, end = 0;  // byte range [begin, end) within the data section
  const uint8_t* data = nullptr;  // into the mapping; unaligned (see above)

  int64_t n_elements() const;  // 1 for a scalar; checked against overflow when the file was parsed
  uint64_t nbytes() const { return end - begin; }
};

struct SafetensorsFile {
  std::string path;
  std::shared_ptr<MappedFile> mapping;  // keeps every tensor's data alive, also in copies of this struct
  uint64_t data_offset = 0;             // file offset of the data section: 8 + header length
  std::vector<SafetensorsTensor> tensors;                     // in data (offset) order
  std::vector<std::pair<std::string, std::string>> metadata;  // "__metadata__", sorted by key

  const SafetensorsTensor* find(const std::string& name) const;

 private:
  std::unordered_map<std::string, size_t> index_;  // name -> position in tensors
  friend Result<SafetensorsFile> safetensors_parse(std::shared_ptr<MappedFile>);
};

// Opens, maps and validates a file. Every failure names the file and the byte offset or tensor, and the field.
Result<SafetensorsFile> safetensors_open(const std::string& path);
Result<SafetensorsFile> safetensors_parse(std::shared_ptr<MappedFile> mapping);

// A Hugging Face model folder: its tensors, which may be spread over several shards.
struct SafetensorsSet {
  using Index = std::unordered_map<std::string, std::pair<uint32_t, uint32_t>>;  // name -> (shard, tensor)

  std::string dir;
  std::vector<SafetensorsFile> shards;  // one per file; with an index, in file name order

  const SafetensorsTensor* find(const std::string& name) const;  // hash lookup over all shards
  std::vector<const SafetensorsTensor*> all() const;              // shard by shard, each in offset order
  size_t size() const { return index_.size(); }

 private:
  Index index_;
  friend Result<SafetensorsSet> safetensors_open_dir(const std::string& dir);
};

// Opens DIR/model.safetensors.index.json and the shards its "weight_map" names; without an index, the single
// DIR/model.safetensors. Shard names must be plain file names inside DIR. Every tensor must be in the shard the
// index names, and every tensor of every shard must be in the index, under that shard.
Result<SafetensorsSet> safetensors_open_dir(const std::string& dir);

}  // namespace seek
