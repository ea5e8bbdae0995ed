// Quantising a whole GGUF model file: every tensor gets the type its recipe chooses (recipe.h), converted row by
// row (dequantised to f32, then quantised) in parallel, and the new file is written as llama-quantize writes it:
// all metadata copied, general.quantization_version and general.file_type set, tensors in llama.cpp's order.
#pragma once

#include <cstdint>
#include <functional>
#include <string>
#include <vector>

#include "core/result.h"
#include "formats/gguf.h"
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

using ProgressFn = std::function<void(uint64_t, uint64_t)>;

// Reads `in`, writes `out` (through OUT.tmp, renamed when complete). progress(done, total) counts output bytes.
Result<QuantizeSummary> quantize_model(const std::string& in, const std::string& out, const QuantRecipe& recipe,
                                       int n_threads, const ProgressFn& progress = {});

// One tensor of a model being written: read from a tensor of an open file (through GgufTensor::row_data, so
// stacked parts and FP8 scales work), optionally with its rows reordered, or computed whole as f32.
struct SourceTensor {
  std::string name;
  std::vector<int64_t> dims;                   // GGUF dims of the output, ne0 first
  GgmlType recipe_type = GgmlType::F32;        // the type the recipe sees (and keeps for unquantised tensors)
  const GgufTensor* tensor = nullptr;          // rows come from here ...
  std::vector<int64_t> row_map;                // ... output row r being tensor row row_map[r] (empty: r)
  std::function<std::vector<float>()> compute; // or all values as f32, rows of ne0
};

// Row r of a tensor (ne0 values) as f32, wherever its rows are stored (parts, FP8 with block scales).
void dequant_tensor_row(const GgufTensor& t, int64_t r, float* out);

// Writes `sources` with the metadata `kv` (general.file_type and quantization_version set from the recipe) to
// `out`, each tensor in the recipe's type. `source_path` names the input in errors.
Result<QuantizeSummary> write_model(const std::vector<std::pair<std::string, GgufValue>>& kv, uint32_t alignment,
                                    const std::vector<SourceTensor>& sources, const std::string& source_path,
                                    const std::string& out, const QuantRecipe& recipe, int n_threads,
                                    const ProgressFn& progress = {});

}  // namespace seek
