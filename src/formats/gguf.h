// GGUF (versions 2 and 3): a reader that validates every count, size and offset against the file before use and
// hands out tensor views into the memory-mapped data, and a writer that streams a new file to a temporary name.
#pragma once

#include <cstdint>
#include <functional>
#include <map>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "core/mapped_file.h"
#include "core/result.h"
#include "quant/types.h"

namespace seek {

enum class GgufType : uint32_t {
  U8 = 0, I8 = 1, U16 = 2, I16 = 3, U32 = 4, I32 = 5, F32 = 6, BOOL = 7, STRING = 8, ARRAY = 9,
  U64 = 10, I64 = 11, F64 = 12,
};
const char* gguf_type_name(GgufType t);

// One metadata value. Scalars are widened (integers to int64/uint64, floats to double); arrays keep the element
// type and hold their elements as values (arrays may nest).
struct GgufValue {
  GgufType type = GgufType::U8;
  GgufType elem_type = GgufType::U8;  // for arrays
  uint64_t u = 0;                     // unsigned integers and bool
  int64_t i = 0;                      // signed integers
  double f = 0;                       // floats
  std::string s;                      // strings
  std::vector<GgufValue> arr;         // arrays

  bool is_int() const;
  bool is_float() const { return type == GgufType::F32 || type == GgufType::F64; }
  // Integer value as int64 (for any integer type; unsigned values above INT64_MAX give nullopt).
  std::optional<int64_t> as_int() const;
};

struct GgufTensor {
  std::string name;
  GgmlType type = GgmlType::F32;
  std::vector<int64_t> dims;  // ne0 (contiguous) first, as ggml writes them
  uint64_t offset = 0;        // relative to the start of the data section
  uint64_t nbytes = 0;
  const uint8_t* data = nullptr;  // points into the mapping

  // Tensors of a Hugging Face folder seen through GGUF's conventions (model/hf_folder.h) may be assembled:
  // experts stored one tensor each are stacked (part p holds rows [p * part_rows, (p + 1) * part_rows), `data`
  // is then null), and FP8 (F8_E4M3) matrices carry their 128x128 block scales, f32 row-major with
  // ceil(ne0 / 128) per block row, per part. GGUF files never have either.
  std::vector<const uint8_t*> parts;
  std::vector<const float*> part_scales;
  int64_t part_rows = 0;
  const float* scales = nullptr;

  int64_t n_elements() const;
  int64_t ne(int i) const { return i < int(dims.size()) ? dims[size_t(i)] : 1; }
  int64_t n_rows() const { return ne(0) > 0 ? n_elements() / ne(0) : 0; }
  // Row r (ne0 elements) of the matrix the tensor is read as, wherever it is stored.
  const uint8_t* row_data(int64_t r) const;
  // F8_E4M3: the block scales of row r's block row.
  const float* row_scales(int64_t r) const;
};

struct GgufFile {
  std::string path;
  uint32_t version = 0;
  uint64_t alignment = 32;
  uint64_t data_offset = 0;  // file offset of the tensor data section
  std::vector<std::pair<std::string, GgufValue>> kv;  // in file order
  std::vector<GgufTensor> tensors;                    // in file order
  std::shared_ptr<MappedFile> mapping;
  std::vector<std::shared_ptr<const void>> keep_alive;  // further mappings and buffers tensors point into

  const GgufValue* find(const std::string& key) const;
  // For files assembled in memory (model/hf_folder.h): builds the key and tensor lookups from kv and tensors;
  // fails on a name given twice.
  Result<void> build_index();
  const GgufTensor* tensor(const std::string& name) const;

  // Typed getters. A missing key gives nullopt; a key of the wrong type is an error naming the key.
  Result<std::optional<int64_t>> get_int(const std::string& key) const;
  Result<std::optional<double>> get_float(const std::string& key) const;
  Result<std::optional<bool>> get_bool(const std::string& key) const;
  Result<std::optional<std::string>> get_string(const std::string& key) const;

 private:
  std::map<std::string, size_t> kv_index_, tensor_index_;
  friend Result<GgufFile> gguf_parse(std::shared_ptr<MappedFile>);
};

// Opens, maps and validates a GGUF file. Every failure names the file, the byte offset and the field.
Result<GgufFile> gguf_open(const std::string& path);
Result<GgufFile> gguf_parse(std::shared_ptr<MappedFile> mapping);

// Writes a GGUF v3 file. Tensor data is produced by callbacks while writing, so a converter never holds a whole
// model in memory. The file is written as PATH.tmp and renamed when complete.
class GgufWriter {
 public:
  using Fill = std::function<void(uint8_t* dst, size_t nbytes)>;

  void set(const std::string& key, GgufValue v);
  void set_u32(const std::string& key, uint32_t v);
  void set_i32(const std::string& key, int32_t v);
  void set_u64(const std::string& key, uint64_t v);
  void set_f32(const std::string& key, float v);
  void set_bool(const std::string& key, bool v);
  void set_str(const std::string& key, const std::string& v);
  void set_str_array(const std::string& key, const std::vector<std::string>& v);
  void set_i32_array(const std::string& key, const std::vector<int32_t>& v);
  void set_f32_array(const std::string& key, const std::vector<float>& v);

  void add_tensor(const std::string& name, GgmlType type, std::vector<int64_t> dims, Fill fill);
  void set_alignment(uint32_t a) { alignment_ = a; }
  // The metadata set so far, in order (model/hf_folder.cpp builds in-memory files with it).
  const std::vector<std::pair<std::string, GgufValue>>& metadata() const { return kv_; }

  // progress(done_bytes, total_bytes) is called as tensors are written.
  Result<void> write(const std::string& path, const std::function<void(uint64_t, uint64_t)>& progress = {}) const;

 private:
  struct Pending {
    std::string name;
    GgmlType type;
    std::vector<int64_t> dims;
    Fill fill;
  };
  std::vector<std::pair<std::string, GgufValue>> kv_;
  std::vector<Pending> tensors_;
  uint32_t alignment_ = 32;
};

// Helpers to build values.
GgufValue gguf_str(const std::string& s);
GgufValue gguf_u32(uint32_t v);

}  // namespace seek
