// Per-tensor type choice, case by case against llama.cpp's llama-quant.cpp rules for DeepSeek tensors
// (tests/integration/quant_llamacpp_test.py checks whole files against llama.cpp itself).
#include <gtest/gtest.h>

#include <algorithm>
#include <map>

#include "quant/recipe.h"

namespace seek {
namespace {

TensorDesc matrix(const std::string& name, std::vector<int64_t> dims) { return {name, std::move(dims), GgmlType::F32}; }

// Chooses types and returns them by tensor name.
std::map<std::string, TypeChoice> choose(const std::string& recipe, const std::vector<TensorDesc>& tensors,
                                         RecipeModel m) {
  const auto r = quant_recipe(recipe);
  EXPECT_TRUE(r.has_value()) << recipe;
  const std::vector<TypeChoice> c = choose_types(*r, tensors, m);
  std::map<std::string, TypeChoice> out;
  for (size_t i = 0; i < tensors.size(); ++i) out.emplace(tensors[i].name, c[i]);
  return out;
}

std::string blk(int il, const std::string& rest) { return "blk." + std::to_string(il) + "." + rest; }

// use_more_bits(i, 16): i < 2, i >= 14, or (i - 2) % 3 == 2.
const std::vector<int> kMoreBits16 = {0, 1, 4, 7, 10, 13, 14, 15};
bool more_bits(int il) { return std::count(kMoreBits16.begin(), kMoreBits16.end(), il) > 0; }

TEST(Recipe, NamesAndFileTypes) {
  EXPECT_EQ(quant_recipe("q4_k_m")->file_type, 15u);  // LLAMA_FTYPE_MOSTLY_Q4_K_M
  EXPECT_TRUE(quant_recipe("Q4_K_M")->mixed);
  EXPECT_FALSE(quant_recipe("Q4_K")->mixed);
  EXPECT_EQ(quant_recipe("Q4_K")->file_type, 15u);  // llama-quantize's alias of Q4_K_M
  EXPECT_EQ(quant_recipe("Q8_0")->file_type, 7u);
  EXPECT_EQ(quant_recipe("Q6_K")->file_type, 18u);
  EXPECT_EQ(quant_recipe("IQ4_XS")->file_type, 30u);
  EXPECT_EQ(quant_recipe("bf16")->file_type, 32u);
  EXPECT_FALSE(quant_recipe("Q4_K_L").has_value());
  EXPECT_FALSE(quant_recipe("IQ2_XXS").has_value());
}

TEST(Recipe, WhatIsNeverQuantised) {
  const auto c = choose("Q4_K_M",
                        {matrix("blk.0.attn_norm.weight", {7168}), matrix("blk.0.attn_kv_a_norm.weight", {512}),
                         matrix("blk.3.exp_probs_b.bias", {256}), matrix("blk.3.ffn_gate_inp.weight", {7168, 256}),
                         matrix("blk.0.some_column.weight", {7168, 1}), matrix("blk.0.odd.bias", {7168, 16})},
                        {16, 256});
  for (const auto& [name, ch] : c) {
    EXPECT_FALSE(ch.quantised) << name;
    EXPECT_EQ(ch.type, GgmlType::F32) << name;
  }
}

TEST(Recipe, Q4_K_MHeadAndEmbeddings) {
  auto c = choose("Q4_K_M", {matrix("output.weight", {7168, 129280}), matrix("token_embd.weight", {7168, 129280})},
                  {16, 256});
  EXPECT_EQ(c["output.weight"].type, GgmlType::Q6_K);
  EXPECT_EQ(c["token_embd.weight"].type, GgmlType::Q4_K);
  // a head whose rows do not fit 256-element blocks is Q8_0 (a choice, not a fallback)
  c = choose("Q4_K_M", {matrix("output.weight", {64, 300})}, {3, 16});
  EXPECT_EQ(c["output.weight"].type, GgmlType::Q8_0);
  EXPECT_FALSE(c["output.weight"].fallback);
  // tied embeddings (no output.weight): token_embd is quantised as the head
  c = choose("Q4_K_M", {matrix("token_embd.weight", {2048, 102400})}, {27, 64});
  EXPECT_EQ(c["token_embd.weight"].type, GgmlType::Q6_K);
}

// attn_kv_b counts as an attn_v tensor: the i-th of n gets Q6_K when use_more_bits(i, n). Counting runs in
// llama.cpp's order (by block number, so blk.10 after blk.9), whatever the file's order.
TEST(Recipe, Q4_K_MAttnKvBByLayerOrder) {
  std::vector<TensorDesc> t;
  for (int il = 15; il >= 0; --il) t.push_back(matrix(blk(il, "attn_kv_b.weight"), {512, 32768}));
  std::swap(t[3], t[9]);
  auto c = choose("Q4_K_M", t, {16, 256});
  for (int il = 0; il < 16; ++il)
    EXPECT_EQ(c[blk(il, "attn_kv_b.weight")].type, more_bits(il) ? GgmlType::Q6_K : GgmlType::Q4_K) << il;
}

// ffn_down (dense, shared and routed experts alike) gets Q6_K in the use_more_bits layers, by the block number
// in its name (MoE models); ffn_up, ffn_gate and the other projections stay Q4_K.
TEST(Recipe, Q4_K_MFfnDownByLayer) {
  std::vector<TensorDesc> t;
  for (int il = 0; il < 16; ++il) {
    t.push_back(matrix(blk(il, "ffn_down_exps.weight"), {2048, 7168, 256}));
    t.push_back(matrix(blk(il, "ffn_down_shexp.weight"), {2048, 7168}));
    t.push_back(matrix(blk(il, "ffn_up_exps.weight"), {7168, 2048, 256}));
    t.push_back(matrix(blk(il, "attn_q_b.weight"), {1536, 24576}));
  }
  auto c = choose("Q4_K_M", t, {16, 256});
  for (int il = 0; il < 16; ++il) {
    const GgmlType down = more_bits(il) ? GgmlType::Q6_K : GgmlType::Q4_K;
    EXPECT_EQ(c[blk(il, "ffn_down_exps.weight")].type, down) << il;
    EXPECT_EQ(c[blk(il, "ffn_down_shexp.weight")].type, down) << il;
    EXPECT_EQ(c[blk(il, "ffn_up_exps.weight")].type, GgmlType::Q4_K) << il;
    EXPECT_EQ(c[blk(il, "attn_q_b.weight")].type, GgmlType::Q4_K) << il;
  }
}

// Rows that 256-element blocks cannot hold: Q4_K -> Q5_0, Q6_K -> Q8_0, Q5_K -> Q5_1, Q2_K/Q3_K -> Q4_0,
// IQ4_XS -> IQ4_NL; rows that 32-element blocks cannot hold either -> F16.
TEST(Recipe, FallbackForShortRows) {
  const std::vector<TensorDesc> t = {matrix("blk.0.attn_k_b.weight", {128, 512, 128}),
                                     matrix("blk.0.odd.weight", {48, 64})};
  auto c = choose("Q4_K_M", t, {16, 256});
  EXPECT_EQ(c["blk.0.attn_k_b.weight"].type, GgmlType::Q5_0);
  EXPECT_TRUE(c["blk.0.attn_k_b.weight"].fallback);
  EXPECT_EQ(c["blk.0.attn_k_b.weight"].wanted, GgmlType::Q4_K);
  EXPECT_EQ(c["blk.0.odd.weight"].type, GgmlType::F16);
  const std::map<std::string, GgmlType> want = {{"Q6_K", GgmlType::Q8_0}, {"Q5_K", GgmlType::Q5_1},
                                                {"Q2_K", GgmlType::Q4_0}, {"Q3_K", GgmlType::Q4_0},
                                                {"IQ4_XS", GgmlType::IQ4_NL}, {"Q4_0", GgmlType::Q4_0},
                                                {"Q8_0", GgmlType::Q8_0}};
  for (const auto& [recipe, type] : want) {
    c = choose(recipe, t, {16, 256});
    EXPECT_EQ(c["blk.0.attn_k_b.weight"].type, type) << recipe;
    EXPECT_EQ(c["blk.0.odd.weight"].type, GgmlType::F16) << recipe;
  }
  // F16 and BF16 are not block types: no fallback at all
  c = choose("BF16", t, {16, 256});
  EXPECT_EQ(c["blk.0.odd.weight"].type, GgmlType::BF16);
}

// A single type applies to every quantised tensor, head and kv_b included (llama-quantize --pure).
TEST(Recipe, PureTypesIgnoreTheMixRules) {
  auto c = choose("Q4_K",
                  {matrix("output.weight", {7168, 129280}), matrix("blk.0.attn_kv_b.weight", {512, 32768}),
                   matrix("blk.0.ffn_down.weight", {18432, 7168})},
                  {16, 256});
  for (const auto& [name, ch] : c) EXPECT_EQ(ch.type, GgmlType::Q4_K) << name;
}

TEST(Recipe, LlamaTensorOrder) {
  std::vector<std::string> names = {"blk.10.a.weight", "output.weight", "blk.2.b.weight", "blk.2.a.weight",
                                    "token_embd.weight", "blk.9.z.weight"};
  std::sort(names.begin(), names.end(), llama_tensor_order);
  EXPECT_EQ(names, (std::vector<std::string>{"output.weight", "token_embd.weight", "blk.2.a.weight",
                                             "blk.2.b.weight", "blk.9.z.weight", "blk.10.a.weight"}));
}

}  // namespace
}  // namespace seek
