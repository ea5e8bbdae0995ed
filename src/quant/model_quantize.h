// Quantising a whole GGUF model file: every tensor gets the type its recipe chooses (recipe.h), converted row by
// row (dequantised to f32, then quantised) in parallel, and the new file is written as llama-quantize writes it:
// all metadata copied, general.quantization_version and general.file_type set, tensors in llama.cpp's order.
#pragma once

#include <cstdint>
#include <functional>
#include <string>
#include <vector>

#include "core/result.h"
#include "quant/recipe.h"

namespace seek {

struct QuantizedTensor {
  std::string name;
  GgmlType from, to;
  bool fallback;    // `to` replaces the recipe's type, which cannot hold this tensor's rows
  GgmlType wanted;  // the recipe's type
  uint64_t bytes_in, bytes_out;
};

struct QuantizeSummary {
  std::vector<QuantizedTensor> tensors;  // in output order
  uint64_t bytes_in = 0, bytes_out = 0;
  int64_t n_elements = 0;
  int n_converted = 0, n_fallback = 0, n_requantised = 0;  // requantised: converted from a quantised type
};

// Reads `in`, writes `out` (through OUT.tmp, renamed when complete). progress(done, total) counts output bytes.
Result<QuantizeSummary> quantize_model(const std::string& in, const std::string& out, const QuantRecipe& recipe,
                                       int n_threads, const std::function<void(uint64_t, uint64_t)>& progress = {});

}  // namespace seek
