// The tensor element types of GGUF files (ggml's numbering) with their block sizes, so any file's tensor
// sizes can be checked and reported even where seek has no kernel for the type.
#pragma once

#include <cstddef>
#include <cstdint>
#include <optional>
#include <string_view>

namespace seek {

enum class GgmlType : uint32_t {
  F32 = 0, F16 = 1, Q4_0 = 2, Q4_1 = 3, Q5_0 = 6, Q5_1 = 7, Q8_0 = 8, Q8_1 = 9,
  Q2_K = 10, Q3_K = 11, Q4_K = 12, Q5_K = 13, Q6_K = 14, Q8_K = 15,
  IQ2_XXS = 16, IQ2_XS = 17, IQ3_XXS = 18, IQ1_S = 19, IQ4_NL = 20, IQ3_S = 21, IQ2_S = 22, IQ4_XS = 23,
  I8 = 24, I16 = 25, I32 = 26, I64 = 27, F64 = 28, IQ1_M = 29, BF16 = 30, TQ1_0 = 34, TQ2_0 = 35, MXFP4 = 39,
  // Not a GGUF type: FP8 E4M3 weights as DeepSeek's official safetensors store them, one byte per value, with
  // 128x128 block scales (weight_scale_inv) kept beside the matrix (Mat::scales). GGUF files never carry it.
  F8_E4M3 = 60,
};
constexpr uint32_t kMaxTypeId = 64;  // ids are below this

struct TypeTraits {
  std::string_view name;  // ggml's name: "f32", "q8_0", "q4_K", ...
  int64_t block_size;     // elements per block
  int64_t block_bytes;    // bytes per block
};

// Traits of a known type, or nullopt for an id this build does not know.
std::optional<TypeTraits> type_traits(uint32_t type_id);
inline TypeTraits traits(GgmlType t) { return *type_traits(uint32_t(t)); }

// Bytes of one row of n elements (n must be a multiple of the block size).
inline size_t row_bytes(GgmlType t, int64_t n) {
  const TypeTraits tt = traits(t);
  return size_t(n / tt.block_size * tt.block_bytes);
}

// Parses a type name as written on the command line ("Q8_0", "f16", "bf16"); case-insensitive.
std::optional<GgmlType> type_from_name(std::string_view name);

}  // namespace seek
