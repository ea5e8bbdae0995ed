// Per-tensor type choice, following llama.cpp's src/llama-quant.cpp (tensor_allows_quantization,
// llama_tensor_get_type_impl for LLAMA_FTYPE_MOSTLY_Q4_K_M, tensor_type_fallback) for the tensors of the
// DeepSeek architectures. Rules that only other architectures or other recipes reach are left out.
#include "quant/recipe.h"

#include <algorithm>
#include <cctype>
#include <cstdio>
#include <numeric>

namespace seek {

namespace {

// llama.h's llama_ftype values.
constexpr uint32_t kFtypeF16 = 1, kFtypeQ4_0 = 2, kFtypeQ8_0 = 7, kFtypeQ2_K = 10, kFtypeQ3_K_M = 12,
                   kFtypeQ4_K_M = 15, kFtypeQ5_K_M = 17, kFtypeQ6_K = 18, kFtypeIQ4_XS = 30, kFtypeBF16 = 32;

// A single type name means that type everywhere (llama-quantize --pure NAME). The file type is the one
// llama-quantize writes for NAME, where Q3_K/Q4_K/Q5_K are its aliases of the _M mixes.
const QuantRecipe kRecipes[] = {
    {"Q4_K_M", GgmlType::Q4_K, true, kFtypeQ4_K_M},  {"Q8_0", GgmlType::Q8_0, false, kFtypeQ8_0},
    {"Q4_0", GgmlType::Q4_0, false, kFtypeQ4_0},     {"Q4_K", GgmlType::Q4_K, false, kFtypeQ4_K_M},
    {"Q5_K", GgmlType::Q5_K, false, kFtypeQ5_K_M},   {"Q6_K", GgmlType::Q6_K, false, kFtypeQ6_K},
    {"Q2_K", GgmlType::Q2_K, false, kFtypeQ2_K},     {"Q3_K", GgmlType::Q3_K, false, kFtypeQ3_K_M},
    {"IQ4_XS", GgmlType::IQ4_XS, false, kFtypeIQ4_XS}, {"F16", GgmlType::F16, false, kFtypeF16},
    {"BF16", GgmlType::BF16, false, kFtypeBF16},        {"F32", GgmlType::F32, false, 0},
};

bool contains(const std::string& s, const char* part) { return s.find(part) != std::string::npos; }

bool ends_with(const std::string& s, const char* suffix) {
  const size_t n = std::char_traits<char>::length(suffix);
  return s.size() >= n && s.compare(s.size() - n, n, suffix) == 0;
}

// ggml_n_dims: trailing dimensions of 1 do not count.
int n_dims(const std::vector<int64_t>& dims) {
  int n = 1;
  for (int i = 0; i < int(dims.size()); ++i)
    if (dims[size_t(i)] > 1) n = i + 1;
  return n;
}

// tensor_allows_quantization, for the names DeepSeek files hold.
bool allows_quantization(const TensorDesc& t) {
  if (n_dims(t.dims) < 2) return false;  // norms, biases, exp_probs_b
  if (!ends_with(t.name, "weight")) return false;
  if (contains(t.name, "_norm.weight")) return false;
  if (contains(t.name, "ffn_gate_inp.weight")) return false;  // the router stays as it is
  return true;
}

int block_number(const std::string& name) {
  int il = -1;
  if (std::sscanf(name.c_str(), "blk.%d.", &il) != 1) return -1;
  return il;
}

// llama.cpp: layers near the ends and every third one in the middle get more bits.
bool use_more_bits(int64_t i, int64_t n) { return i < n / 8 || i >= 7 * n / 8 || (i - n / 8) % 3 == 2; }

bool is_attn_v_like(const std::string& name) {  // attn_v, attn_qkv, attn_kv_b: sensitive to quantisation
  return contains(name, "attn_kv_b.weight") || contains(name, "attn_v.weight") || contains(name, "attn_qkv.weight");
}

// The Q4_K_M rules (llama_tensor_get_type_impl) that DeepSeek tensors reach. `i_attn_v` counts the attn_v-like
// tensors seen so far, `n_attn_v` all of them; `tied` means there is no output.weight.
GgmlType q4_k_m_type(const TensorDesc& t, const RecipeModel& m, bool tied, int64_t& i_attn_v, int64_t n_attn_v,
                     int64_t& i_ffn_down) {
  const std::string& name = t.name;
  const bool is_output = name == "output.weight";
  const bool is_token_embd = name == "token_embd.weight" || name == "per_layer_token_embd.weight";
  if (is_output || (tied && is_token_embd)) {
    // the head: Q6_K where its rows fit 256-element blocks, else Q8_0
    return t.dims[0] % traits(GgmlType::Q4_K).block_size != 0 ? GgmlType::Q8_0 : GgmlType::Q6_K;
  }
  if (is_token_embd) return GgmlType::Q4_K;
  if (is_attn_v_like(name)) {
    const GgmlType type = use_more_bits(i_attn_v, n_attn_v) ? GgmlType::Q6_K : GgmlType::Q4_K;
    ++i_attn_v;
    return m.n_expert == 8 ? GgmlType::Q8_0 : type;
  }
  if (contains(name, "attn_k.weight")) return m.n_expert == 8 ? GgmlType::Q8_0 : GgmlType::Q4_K;
  if (contains(name, "attn_q.weight")) return GgmlType::Q4_K;
  if (contains(name, "attn_output.weight")) return m.n_expert == 8 ? GgmlType::Q5_K : GgmlType::Q4_K;
  if (contains(name, "ffn_up") || contains(name, "ffn_gate")) return GgmlType::Q4_K;
  if (contains(name, "ffn_down")) {
    // MoE models: the layer from the name (experts need not be in order); dense ones: a running count
    const int64_t i_layer = m.n_expert > 1 ? block_number(name) : i_ffn_down;
    ++i_ffn_down;
    return use_more_bits(i_layer, m.n_layer) ? GgmlType::Q6_K : GgmlType::Q4_K;
  }
  return GgmlType::Q4_K;  // everything else: attn_q_a/q_b, attn_kv_a_mqa, attn_k_b, attn_v_b, ...
}

// tensor_type_fallback: rows of ne0 values that the type's blocks cannot hold get a 32-element type, or F16.
GgmlType fallback(GgmlType t, int64_t ne0) {
  if (ne0 % traits(t).block_size == 0) return t;
  GgmlType r = t;
  switch (t) {
    case GgmlType::IQ4_XS: r = GgmlType::IQ4_NL; break;
    case GgmlType::Q2_K:
    case GgmlType::Q3_K: r = GgmlType::Q4_0; break;
    case GgmlType::Q4_K: r = GgmlType::Q5_0; break;
    case GgmlType::Q5_K: r = GgmlType::Q5_1; break;
    case GgmlType::Q6_K: r = GgmlType::Q8_0; break;
    default: break;  // already a 32-element type
  }
  return ne0 % traits(r).block_size == 0 ? r : GgmlType::F16;
}

bool is_quantised_type(GgmlType t) { return traits(t).block_size > 1; }

}  // namespace

std::optional<QuantRecipe> quant_recipe(std::string_view name) {
  std::string up(name);
  for (char& c : up) c = char(std::toupper(static_cast<unsigned char>(c)));
  for (const QuantRecipe& r : kRecipes)
    if (r.name == up) return r;
  return std::nullopt;
}

std::vector<std::string> quant_recipe_names() {
  std::vector<std::string> v;
  for (const QuantRecipe& r : kRecipes) v.push_back(r.name);
  return v;
}

bool llama_tensor_order(const std::string& a, const std::string& b) {
  const int la = block_number(a), lb = block_number(b);
  return la != lb ? la < lb : a < b;
}

std::vector<TypeChoice> choose_types(const QuantRecipe& recipe, const std::vector<TensorDesc>& tensors,
                                     const RecipeModel& model) {
  std::vector<size_t> order(tensors.size());
  std::iota(order.begin(), order.end(), 0);
  std::stable_sort(order.begin(), order.end(),
                   [&](size_t a, size_t b) { return llama_tensor_order(tensors[a].name, tensors[b].name); });
  bool tied = true;
  int64_t n_attn_v = 0;
  for (const TensorDesc& t : tensors) {
    tied &= t.name != "output.weight";
    n_attn_v += is_attn_v_like(t.name);
  }
  int64_t i_attn_v = 0, i_ffn_down = 0;
  std::vector<TypeChoice> out(tensors.size());
  for (size_t k : order) {
    const TensorDesc& t = tensors[k];
    if (!allows_quantization(t)) {
      out[k] = {t.type, false, false, t.type};
      continue;
    }
    GgmlType wanted = recipe.base;
    if (recipe.mixed) wanted = q4_k_m_type(t, model, tied, i_attn_v, n_attn_v, i_ffn_down);
    const GgmlType type = is_quantised_type(recipe.base) ? fallback(wanted, t.dims[0]) : wanted;
    out[k] = {type, true, type != wanted, wanted};
  }
  return out;
}

}  // namespace seek
