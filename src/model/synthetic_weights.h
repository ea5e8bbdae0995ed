// Deterministic random tensors for the generated test models: each tensor's values depend only on (seed, name),
// drawn row by row as centre + spread * uniform[-1, 1) and stored in F32, F16, BF16 or Q8_0.
#pragma once

#include <cstdint>
#include <string>
#include <vector>

#include "quant/types.h"

namespace seek {

class GgufWriter;

// Adds a tensor with GGUF dims `dims` (ne0 first) whose bytes are produced when the writer streams it.
void add_random_tensor(GgufWriter& w, uint64_t seed, const std::string& name, GgmlType type, std::vector<int64_t> dims,
                       float centre, float spread);

}  // namespace seek
