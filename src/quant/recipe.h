// Which type each tensor of a model gets when quantising, as llama.cpp's llama-quant.cpp decides it:
// which tensors are quantised at all (2-D and up, names ending in "weight", no norms, no router), the per-tensor
// rules of a mixed recipe (Q4_K_M), and the fallback for rows whose length the chosen type cannot hold.
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "quant/types.h"

namespace seek {

struct QuantRecipe {
  std::string name;    // as given on the command line, upper case: "Q4_K_M", "Q8_0"
  GgmlType base;       // the type of every quantised tensor the rules do not change
  bool mixed;          // llama.cpp's per-tensor rules (Q4_K_M); else "pure": base everywhere (llama-quantize --pure)
  uint32_t file_type;  // llama_ftype, written to general.file_type as llama-quantize writes it
};

// The recipes seek offers, by name (case-insensitive): Q4_K_M, and the single types Q8_0, Q4_0, Q4_K, Q5_K,
// Q6_K, Q2_K, Q3_K, IQ4_XS, F16, BF16, F32.
std::optional<QuantRecipe> quant_recipe(std::string_view name);
std::vector<std::string> quant_recipe_names();

// What the rules look at: a tensor's name, GGUF dims (ne0 first) and current type; the model's layer count
// ({arch}.block_count, MTP layers included) and routed expert count ({arch}.expert_count, 0 when dense).
struct TensorDesc {
  std::string name;
  std::vector<int64_t> dims;
  GgmlType type;
};

struct RecipeModel {
  int64_t n_layer = 0;
  int64_t n_expert = 0;
};

struct TypeChoice {
  GgmlType type;       // the tensor's type in the output
  bool quantised;      // false: the tensor is copied as it is (norms, biases, the router, 1-D tensors)
  bool fallback;       // the rules' type could not hold rows of ne0 values; `type` is llama.cpp's replacement
  GgmlType wanted;     // the rules' type before the fallback
};

// One choice per tensor, in the order given. Tensors are visited in llama.cpp's order (by layer, then name),
// which the counting rules (every n-th attn_kv_b gets more bits) depend on.
std::vector<TypeChoice> choose_types(const QuantRecipe& recipe, const std::vector<TensorDesc>& tensors,
                                     const RecipeModel& model);

// llama.cpp's tensor order: tensors outside blocks first, then by block number; by name within each.
bool llama_tensor_order(const std::string& a, const std::string& b);

}  // namespace seek
