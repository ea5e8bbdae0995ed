// seek convert: a Hugging Face folder (or a GGUF file) written as a GGUF in llama.cpp's current conventions
// (deepseek2 with attn_k_b/attn_v_b, Llama q/k rows permuted for interleaved rotary, experts stacked), each
// weight in the recipe's type. FP8 weights are dequantised with their block scales on the way.
#pragma once

#include <string>

#include "core/result.h"
#include "quant/model_quantize.h"

namespace seek {

Result<QuantizeSummary> convert_model(const std::string& in, const std::string& out, const QuantRecipe& recipe,
                                      int n_threads, const ProgressFn& progress = {});

}  // namespace seek
