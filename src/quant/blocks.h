// Block layouts of the quantised types, byte-compatible with ggml's block structs.
#pragma once

#include <cstdint>

namespace seek {

constexpr int kQK8_0 = 32;

// ggml block_q8_0: 32 weights = d (f16) * q (int8)
struct BlockQ8_0 {
  uint16_t d;
  int8_t qs[kQK8_0];
};
static_assert(sizeof(BlockQ8_0) == 34, "block_q8_0 is 34 bytes");

}  // namespace seek
