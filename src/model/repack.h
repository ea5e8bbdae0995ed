// Q8_0 weights held as panels for the integer GEMM (llama.cpp calls this "repacking"): at load, each Q8_0 matrix
// that only matmul reads is copied once into the kernels' packed form (kernels.h: pack_q8_0_panel; the same bytes
// per row as stored), and its view switches to MatLayout::Q8Panels. Every product then runs one kernel whatever
// its tokens (decode, several sequences, prefill) with nothing packed per step, and a token's result has the same
// bits whatever other tokens share the product. Pages of the file mapping that held the copied rows are handed
// back to the kernel (they are clean: a later read would map them again).
#pragma once

#include <cstddef>
#include <cstdint>
#include <functional>
#include <memory>
#include <vector>

#include "core/tensor.h"
#include "core/thread_pool.h"

namespace seek {

// Called with bytes done of bytes total as matrices are repacked.
using RepackProgress = std::function<void(size_t done, size_t total)>;

struct PackedWeights {
  std::shared_ptr<uint8_t> data;  // the panels every repacked view points into
  size_t bytes = 0;
  int64_t matrices = 0;
  size_t declined_bytes = 0;  // the panels' bytes when they would not fit max_bytes (nothing repacked then)
};

// Whether the selected kernels multiply Q8_0 panels and the activations are quantised (the integer GEMM's
// arithmetic): otherwise repacking is skipped.
bool repack_available();

// Repacks every Q8_0 matrix of `mats` whose width is a multiple of 32 (others are left as they are; a pointer
// listed twice is repacked once). `mapping`, when given, is the file mapping [begin, begin + size) whose pages
// behind repacked rows may be released. Progress goes to `progress` (may be empty) as bytes done of bytes total.
// The panels are anonymous memory: when they would take more than max_bytes (callers pass the memory available,
// so that a model larger than RAM keeps running from its mapped, evictable file), nothing is repacked and the
// result says how many bytes were declined.
PackedWeights repack_q8_0(const std::vector<Mat*>& mats, ThreadPool& pool, const uint8_t* mapping_begin,
                          size_t mapping_size, size_t max_bytes = SIZE_MAX,
                          const RepackProgress& progress = {});

}  // namespace seek
