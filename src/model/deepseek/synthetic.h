// Deterministic random-weight DeepSeek GGUFs in llama.cpp's deepseek2 layout, for tests and benchmarks.
// Each tensor's values depend only on (seed, tensor name), so presets differ only where their shapes do.
#pragma once

#include <functional>
#include <optional>
#include <string>
#include <vector>

#include "core/result.h"
#include "model/deepseek/config.h"
#include "quant/types.h"
#include "tokenizer/vocab.h"

namespace seek {

struct SyntheticSpec {
  std::string name;
  DeepseekConfig c;          // vocab_size is set from the synthetic vocabulary
  bool split_mla = true;     // attn_k_b + attn_v_b (newer files) instead of attn_kv_b
  bool tied_output = false;  // no output.weight: the head reuses token_embd
  GgmlType type = GgmlType::F32;  // type of the matrices; norms and biases stay F32
  uint64_t seed = 1;
  int n_merges = 250;
  int64_t vocab_pad_to = 0;  // pad the vocabulary with unused placeholder tokens up to this size (a real head's cost)
  std::optional<Vocab> vocab;  // a real tokenizer instead of the synthetic one (the vocabulary then takes its size)
};

std::vector<std::string> synthetic_presets();
std::optional<SyntheticSpec> synthetic_preset(const std::string& name);

Result<void> write_synthetic_deepseek(const SyntheticSpec& spec, const std::string& path,
                                      const std::function<void(uint64_t, uint64_t)>& progress = {});

}  // namespace seek
