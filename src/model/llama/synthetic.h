// Deterministic random-weight Llama / Qwen2 GGUFs in llama.cpp's layout, for tests (presets llama-tiny, qwen2-tiny).
#pragma once

#include <functional>
#include <optional>
#include <string>
#include <vector>

#include "core/result.h"
#include "model/llama/llama.h"
#include "quant/types.h"
#include "tokenizer/vocab.h"

namespace seek {

struct LlamaSyntheticSpec {
  std::string name;
  LlamaConfig c;              // vocab_size is set from the synthetic vocabulary
  bool tied_output = false;   // no output.weight
  bool rope_freqs = false;    // write a Llama-3 style rope_freqs.weight (factor 8, low 1, high 4, original ctx 64)
  std::string pre;            // tokenizer.ggml.pre
  GgmlType type = GgmlType::F32;
  uint64_t seed = 1;
  int n_merges = 250;
  std::optional<Vocab> vocab;  // a real tokenizer instead of the synthetic one (the vocabulary then takes its size)
};

std::vector<std::string> llama_synthetic_presets();
std::optional<LlamaSyntheticSpec> llama_synthetic_preset(const std::string& name);
Result<void> write_synthetic_llama(const LlamaSyntheticSpec& spec, const std::string& path,
                                   const std::function<void(uint64_t, uint64_t)>& progress = {});

}  // namespace seek
