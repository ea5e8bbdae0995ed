// DeepSeek model equivalences on generated models: absorbed vs naive MLA, whole-prompt prefill vs token-by-token
// decode, one thread vs two, and the two GGUF layouts of the MLA up-projection holding the same weights. Plus the
// gate on hand-worked cases and clear errors for malformed models.
#include <gtest/gtest.h>
#include <unistd.h>

#include <cmath>
#include <cstring>
#include <filesystem>

#include "../common/model_test_util.h"
#include "engine/session.h"
#include "formats/gguf.h"
#include "kernels/kernels.h"
#include "model/deepseek/deepseek.h"
#include "model/deepseek/synthetic.h"

namespace seek {
namespace {

namespace fs = std::filesystem;

std::string temp_path(const std::string& name) { return test::temp_path("seek_model_test_", name); }

std::string make_model(const std::string& preset, GgmlType type = GgmlType::F32) {
  const std::string p = temp_path(preset + "_" + std::string(traits(type).name) + ".gguf");
  if (!fs::exists(p)) {
    auto spec = synthetic_preset(preset);
    EXPECT_TRUE(spec.has_value());
    spec->type = type;
    auto r = write_synthetic_deepseek(*spec, p);
    EXPECT_TRUE(r.ok()) << (r.ok() ? "" : r.error().message);
  }
  return p;
}

using test::check_repacked_against_reference;
using test::kF32Tolerance;
using test::last_logits;
using test::prompt;
using test::rel_diff;
using test::run;

class DeepseekPresets : public ::testing::TestWithParam<std::string> {
 protected:
  void SetUp() override { select_kernels(KernelChoice::Auto); }
};

TEST_P(DeepseekPresets, AbsorbedMatchesNaiveMla) {
  auto m = load_model(make_model(GetParam()));
  ASSERT_TRUE(m.ok()) << m.error().message;
  const auto toks = prompt(24, int((*m)->n_vocab()));
  (*m)->options.mla = MlaMode::Naive;
  const auto naive = run(**m, toks, 2, false);
  (*m)->options.mla = MlaMode::Absorbed;
  const auto absorbed = run(**m, toks, 2, false);
  EXPECT_LT(rel_diff(naive, absorbed), kF32Tolerance);
}

// Logits of every position with the prompt given in two chunks (the second continues the first's cache).
std::vector<float> run_two_chunks(const Model& m, const std::vector<int32_t>& toks, size_t first) {
  ThreadPool pool(2);
  Session s(m, pool, 256);
  std::vector<float> a, b;
  EXPECT_TRUE(s.eval({toks.begin(), toks.begin() + long(first)}, true, a).ok());
  EXPECT_TRUE(s.eval({toks.begin() + long(first), toks.end()}, true, b).ok());
  a.insert(a.end(), b.begin(), b.end());
  return a;
}

// A prefill chunk in the expanded (MHA) form and in the absorbed form gives the naive reference's logits, for a
// first chunk and for one that continues a cache (positions 0..23, then 24..43).
TEST_P(DeepseekPresets, ExpandedAndAbsorbedPrefillMatchNaiveMla) {
  auto m = load_model(make_model(GetParam()));
  ASSERT_TRUE(m.ok()) << m.error().message;
  const auto toks = prompt(44, int((*m)->n_vocab()));
  (*m)->options.mla = MlaMode::Naive;
  const auto naive = run_two_chunks(**m, toks, 24);
  (*m)->options.mla = MlaMode::Absorbed;
  for (ExpandedPrefill e : {ExpandedPrefill::Always, ExpandedPrefill::Never, ExpandedPrefill::Auto}) {
    (*m)->options.expand = e;
    EXPECT_LT(rel_diff(naive, run_two_chunks(**m, toks, 24)), kF32Tolerance) << "prefill form " << int(e);
  }
}

TEST_P(DeepseekPresets, PrefillMatchesTokenByTokenDecode) {
  auto m = load_model(make_model(GetParam()));
  ASSERT_TRUE(m.ok()) << m.error().message;
  const auto toks = prompt(24, int((*m)->n_vocab()));
  EXPECT_LT(rel_diff(run(**m, toks, 2, false), run(**m, toks, 2, true)), kF32Tolerance);
}

// Long batches take the GEMM form of absorbed attention (several 32-token chunks, a cache already holding earlier
// tokens); it must agree with one token at a time.
TEST_P(DeepseekPresets, BatchedAttentionAcrossChunksMatchesDecode) {
  auto m = load_model(make_model(GetParam()));
  ASSERT_TRUE(m.ok()) << m.error().message;
  const auto toks = prompt(110, int((*m)->n_vocab()));
  const std::vector<int32_t> first(toks.begin(), toks.begin() + 41), second(toks.begin() + 41, toks.end());
  ThreadPool pool(2);
  Session s(**m, pool, 256);
  std::vector<float> batched, part, logits;
  ASSERT_TRUE(s.eval(first, true, batched).ok());
  ASSERT_TRUE(s.eval(second, true, part).ok());  // 69 tokens after 41 cached: chunks of 32, 32 and 5
  batched.insert(batched.end(), part.begin(), part.end());
  EXPECT_LT(rel_diff(batched, run(**m, toks, 2, true)), kF32Tolerance);
}

TEST_P(DeepseekPresets, ThreadCountDoesNotChangeResults) {
  auto m = load_model(make_model(GetParam()));
  ASSERT_TRUE(m.ok()) << m.error().message;
  const auto toks = prompt(12, int((*m)->n_vocab()));
  EXPECT_EQ(run(**m, toks, 1, false), run(**m, toks, 2, false));
}

TEST_P(DeepseekPresets, ReferenceKernelsAgreeWithSimd) {
  auto m = load_model(make_model(GetParam(), GgmlType::Q8_0));
  ASSERT_TRUE(m.ok()) << m.error().message;
  const auto toks = prompt(12, int((*m)->n_vocab()));
  select_kernels(KernelChoice::Ref);
  const auto ref = run(**m, toks, 2, false);
  select_kernels(KernelChoice::Auto);
  EXPECT_LT(rel_diff(ref, run(**m, toks, 2, false)), kF32Tolerance);
}

// Q8_0 weights held as panels (model/repack.h) against the scalar reference on the stored rows.
TEST_P(DeepseekPresets, RepackedWeightsAgreeWithReferenceRows) {
  check_repacked_against_reference(make_model(GetParam(), GgmlType::Q8_0), 12, 1);
}

// With kv_lora_rank and v_head_dim whole 32-row panels (as in V3), absorbed attention's per-head slices of
// attn_k_b and attn_v_b are repacked too: prefill (batched attention) and decode against the reference rows.
TEST(DeepseekRepack, LatentUpProjectionSlicesAsPanels) {
  const std::string path = temp_path("v3_tiny_r64_q8_0.gguf");
  auto spec = synthetic_preset("v3-tiny");
  ASSERT_TRUE(spec.has_value());
  spec->c.kv_lora_rank = 64;
  spec->c.v_head_dim = 32;
  spec->type = GgmlType::Q8_0;
  ASSERT_TRUE(write_synthetic_deepseek(*spec, path).ok());
  std::unique_ptr<Model> m;
  ASSERT_NO_FATAL_FAILURE(check_repacked_against_reference(path, 20, 2, &m));
  const auto& attn = static_cast<const DeepseekModel&>(*m).weights.blocks[0].attn;
  ASSERT_TRUE(attn.wk_b.panels() && attn.wv_b.panels());
  // Each prefill form against the same form on the stored rows (same kernels: an ulp of difference in a softmax
  // can move a q8_0 rounding of the context): the expanded one reads W_uk back from the panels and multiplies
  // W_uv's panels with the cached latents quantised once. (Across forms, q8_0 activations are rounded at
  // different points; the forms' agreement is checked in f32 above.)
  auto stored = load_model(path);
  ASSERT_TRUE(stored.ok());
  const auto toks = prompt(44, int(m->n_vocab()));
  for (ExpandedPrefill e : {ExpandedPrefill::Always, ExpandedPrefill::Never}) {
    m->options.expand = (*stored)->options.expand = e;
    const auto ref = run_two_chunks(**stored, toks, 24);
    EXPECT_LT(rel_diff(ref, run_two_chunks(*m, toks, 24)), kF32Tolerance) << "prefill form " << int(e);
  }
  std::filesystem::remove(path);
}

INSTANTIATE_TEST_SUITE_P(Presets, DeepseekPresets, ::testing::Values("v3-tiny", "v3-tiny-kvb", "v2-lite-tiny"),
                         [](const auto& info) {
                           std::string s = info.param;
                           for (char& c : s) if (c == '-') c = '_';
                           return s;
                         });

// Rewrites a file that has attn_kv_b into the split layout exactly as llama.cpp's converter does
// (k_b = per-head k part transposed, v_b = per-head v part), with the matching metadata.
std::string split_copy(const std::string& src) {
  auto f = gguf_open(src);
  EXPECT_TRUE(f.ok());
  auto c = deepseek_config_from_gguf(*f);
  EXPECT_TRUE(c.ok());
  GgufWriter w;
  for (auto& [k, v] : f->kv) w.set(k, v);
  w.set_u32("deepseek2.attention.key_length", uint32_t(c->kv_lora_rank + c->qk_rope_head_dim));
  w.set_u32("deepseek2.attention.value_length", uint32_t(c->kv_lora_rank));
  w.set_u32("deepseek2.attention.key_length_mla", uint32_t(c->qk_head_dim()));
  w.set_u32("deepseek2.attention.value_length_mla", uint32_t(c->v_head_dim));
  const int64_t H = c->n_heads, nope = c->qk_nope_head_dim, V = c->v_head_dim, R = c->kv_lora_rank;
  for (const GgufTensor& t : f->tensors) {
    if (t.name.find("attn_kv_b") == std::string::npos) {
      w.add_tensor(t.name, t.type, t.dims, [&t](uint8_t* d, size_t n) { std::memcpy(d, t.data, n); });
      continue;
    }
    EXPECT_EQ(t.type, GgmlType::F32);
    const float* kv = reinterpret_cast<const float*>(t.data);  // (H * (nope + V), R)
    const std::string base = t.name.substr(0, t.name.find("attn_kv_b"));
    w.add_tensor(base + "attn_k_b.weight", GgmlType::F32, {nope, R, H}, [=](uint8_t* d, size_t) {
      float* o = reinterpret_cast<float*>(d);
      for (int64_t h = 0; h < H; ++h)
        for (int64_t r = 0; r < R; ++r)
          for (int64_t j = 0; j < nope; ++j) o[(h * R + r) * nope + j] = kv[(h * (nope + V) + j) * R + r];
    });
    w.add_tensor(base + "attn_v_b.weight", GgmlType::F32, {R, V, H}, [=](uint8_t* d, size_t) {
      float* o = reinterpret_cast<float*>(d);
      for (int64_t h = 0; h < H; ++h)
        for (int64_t j = 0; j < V; ++j)
          for (int64_t r = 0; r < R; ++r) o[(h * V + j) * R + r] = kv[(h * (nope + V) + nope + j) * R + r];
    });
  }
  const std::string out = src + ".split.gguf";
  EXPECT_TRUE(w.write(out).ok());
  return out;
}

TEST(DeepseekLayouts, SplitAndCombinedMlaLayoutsGiveTheSameLogits) {
  const std::string kvb = make_model("v3-tiny-kvb");
  const std::string split = split_copy(kvb);
  auto a = load_model(kvb), b = load_model(split);
  ASSERT_TRUE(a.ok() && b.ok());
  const auto toks = prompt(16, int((*a)->n_vocab()));
  for (MlaMode mode : {MlaMode::Absorbed, MlaMode::Naive}) {
    (*a)->options.mla = (*b)->options.mla = mode;
    EXPECT_LT(rel_diff(run(**a, toks, 2, false), run(**b, toks, 2, false)), kF32Tolerance);
  }
}

TEST(DeepseekGate, SigmoidWithBiasGroupsAndNormalisation) {
  DeepseekConfig c;
  c.n_routed_experts = 8;
  c.n_activated_experts = 2;
  c.n_expert_groups = 4;
  c.n_limited_groups = 2;
  c.score_func = ScoreFunc::Sigmoid;
  c.norm_topk_prob = true;
  c.route_scale = 2.5f;
  // logits chosen so sigmoid scores are easy: s = sigmoid(l).
  const float logits[8] = {-3.0f, 3.5f, 1.0f, 1.0f, 2.0f, 3.0f, 0.5f, 0.5f};
  std::vector<float> bias = {0, 0, 0, 0, 0, 0, 5.0f, 0};  // expert 6 is selected only through its bias
  auto sg = [](float x) { return 1.0f / (1.0f + std::exp(-x)); };
  // Group scores (top-2 sums of biased scores): g0 = 0.05+0.97 = 1.02, g1 = 0.73+0.73 = 1.46,
  // g2 = 0.88+0.95 = 1.83, g3 = (0.62+5)+0.62 = 6.24 -> keep g3 and g2.
  Routing r;
  route(c, logits, bias, r);
  ASSERT_EQ(r.experts.size(), 2u);
  EXPECT_EQ(r.experts[0], 6);  // biased 5.62
  EXPECT_EQ(r.experts[1], 5);  // 0.95; expert 1 scores higher (0.97) but its group was dropped
  const float s6 = sg(0.5f), s5 = sg(3.0f);
  EXPECT_NEAR(r.weights[0], 2.5f * s6 / (s6 + s5), 1e-6);
  EXPECT_NEAR(r.weights[1], 2.5f * s5 / (s6 + s5), 1e-6);
}

TEST(DeepseekGate, SoftmaxWithoutNormalisation) {
  DeepseekConfig c;
  c.n_routed_experts = 4;
  c.n_activated_experts = 2;
  c.score_func = ScoreFunc::Softmax;
  const float logits[4] = {1.0f, 3.0f, 2.0f, 0.0f};
  Routing r;
  route(c, logits, {}, r);
  const double z = std::exp(1.0) + std::exp(3.0) + std::exp(2.0) + 1.0;
  ASSERT_EQ(r.experts, (std::vector<int32_t>{1, 2}));
  EXPECT_NEAR(r.weights[0], std::exp(3.0) / z, 1e-6);
  EXPECT_NEAR(r.weights[1], std::exp(2.0) / z, 1e-6);
}

// Copies a model with one tensor changed (or removed), to check the loader's errors.
std::string damaged_copy(const std::string& src, const std::string& tensor, bool remove, std::vector<int64_t> dims,
                         const std::string& arch = "deepseek2") {
  auto f = gguf_open(src);
  EXPECT_TRUE(f.ok());
  GgufWriter w;
  for (auto& [k, v] : f->kv) w.set(k, v);
  w.set_str("general.architecture", arch);
  for (const GgufTensor& t : f->tensors) {
    if (t.name == tensor && remove) continue;
    auto d = t.name == tensor && !dims.empty() ? dims : t.dims;
    const size_t nb = t.nbytes;
    w.add_tensor(t.name, t.type, d, [&t, nb](uint8_t* out, size_t n) { std::memcpy(out, t.data, std::min(n, nb)); });
  }
  const std::string out = src + ".damaged.gguf";
  EXPECT_TRUE(w.write(out).ok());
  return out;
}

TEST(DeepseekLoad, MissingMisshapenOrForeignModelsAreClearErrors) {
  const std::string src = make_model("v3-tiny");
  auto missing = load_model(damaged_copy(src, "blk.1.attn_kv_a_mqa.weight", true, {}));
  ASSERT_FALSE(missing.ok());
  EXPECT_NE(missing.error().message.find("blk.1.attn_kv_a_mqa.weight is missing"), std::string::npos)
      << missing.error().message;
  auto shape = load_model(damaged_copy(src, "blk.2.ffn_norm.weight", false, {32}));
  ASSERT_FALSE(shape.ok());
  EXPECT_NE(shape.error().message.find("blk.2.ffn_norm.weight has shape [32], expected [64]"), std::string::npos)
      << shape.error().message;
  auto arch = load_model(damaged_copy(src, "", false, {}, "mamba"));
  ASSERT_FALSE(arch.ok());
  EXPECT_NE(arch.error().message.find("'mamba' is not supported"), std::string::npos) << arch.error().message;
}

TEST(DeepseekLoad, CacheHoldsOnlyTheLatentAndRopeKey) {
  auto m = load_model(make_model("v3-tiny"));
  ASSERT_TRUE(m.ok());
  // 3 layers x (kv_lora_rank 32 + qk_rope_head_dim 16) f32 values per token.
  EXPECT_EQ((*m)->kv_bytes_per_token(), 3 * (32 + 16) * 4);
}

}  // namespace
}  // namespace seek

namespace seek {
namespace {

// The metadata of DeepSeek-V3 671B as llama.cpp's converter writes it (with the MTP block and the split MLA
// layout): the configuration, the softmax scale and the cache width follow from it without any weights.
TEST(DeepseekConfig, FullSizeV3Metadata) {
  GgufWriter w;
  const std::string p = "deepseek2.";
  w.set_str("general.architecture", "deepseek2");
  w.set_u32(p + "block_count", 62);
  w.set_u32(p + "nextn_predict_layers", 1);
  w.set_u32(p + "context_length", 163840);
  w.set_u32(p + "embedding_length", 7168);
  w.set_u32(p + "feed_forward_length", 18432);
  w.set_u32(p + "attention.head_count", 128);
  w.set_u32(p + "attention.head_count_kv", 1);
  w.set_f32(p + "rope.freq_base", 10000.0f);
  w.set_f32(p + "attention.layer_norm_rms_epsilon", 1e-6f);
  w.set_u32(p + "expert_used_count", 8);
  w.set_u32(p + "leading_dense_block_count", 3);
  w.set_u32(p + "vocab_size", 129280);
  w.set_u32(p + "attention.q_lora_rank", 1536);
  w.set_u32(p + "attention.kv_lora_rank", 512);
  w.set_u32(p + "attention.key_length", 576);
  w.set_u32(p + "attention.value_length", 512);
  w.set_u32(p + "attention.key_length_mla", 192);
  w.set_u32(p + "attention.value_length_mla", 128);
  w.set_u32(p + "expert_feed_forward_length", 2048);
  w.set_u32(p + "expert_count", 256);
  w.set_u32(p + "expert_shared_count", 1);
  w.set_f32(p + "expert_weights_scale", 2.5f);
  w.set_bool(p + "expert_weights_norm", true);
  w.set_u32(p + "expert_gating_func", 2);
  w.set_u32(p + "expert_group_count", 8);
  w.set_u32(p + "expert_group_used_count", 4);
  w.set_u32(p + "rope.dimension_count", 64);
  w.set_str(p + "rope.scaling.type", "yarn");
  w.set_f32(p + "rope.scaling.factor", 40.0f);
  w.set_u32(p + "rope.scaling.original_context_length", 4096);
  w.set_f32(p + "rope.scaling.yarn_log_multiplier", 0.1f);
  const std::string path = temp_path("v3_671b_header.gguf");
  ASSERT_TRUE(w.write(path).ok());
  auto f = gguf_open(path);
  ASSERT_TRUE(f.ok());
  auto c = deepseek_config_from_gguf(*f);
  ASSERT_TRUE(c.ok()) << c.error().message;
  EXPECT_EQ(c->n_layers, 61);
  EXPECT_EQ(c->n_mtp_layers, 1);
  EXPECT_EQ(c->qk_nope_head_dim, 128);
  EXPECT_EQ(c->v_head_dim, 128);
  EXPECT_EQ(c->cache_width(), 512 + 64);  // per layer per token: c_kv and k_rope only
  EXPECT_EQ(c->score_func, ScoreFunc::Sigmoid);
  EXPECT_TRUE(c->norm_topk_prob);
  const double mscale = 0.1 * std::log(40.0) + 1.0;
  EXPECT_NEAR(c->softmax_scale(), mscale * mscale / std::sqrt(192.0), 1e-6);
  std::remove(path.c_str());
}

}  // namespace
}  // namespace seek

namespace seek {
namespace {

// Continuous batching: one forward_multi step over three sequences (a prompt, a decode step after a prefix, and
// another prompt) gives each sequence the logits it gets alone.
TEST(DeepseekBatching, ForwardMultiMatchesSeparateSequences) {
  for (const char* preset : {"v3-tiny", "v2-lite-tiny"}) {
    auto m = load_model(make_model(preset));
    ASSERT_TRUE(m.ok()) << m.error().message;
    const Model& model = **m;
    const int64_t V = model.n_vocab();
    ThreadPool pool(2);
    const auto a = prompt(9, int(V)), b = prompt(14, int(V)), c = prompt(5, int(V));
    // Alone: a (all logits), b's prefix then its last token, c (last logits).
    std::vector<float> a_alone(static_cast<size_t>(9 * V)), b_alone(static_cast<size_t>(V)),
        c_alone(static_cast<size_t>(V));
    auto sa = model.new_state(64), sb = model.new_state(64), sc = model.new_state(64);
    model.forward(*sa, pool, a.data(), 9, 0, true, a_alone.data());
    std::vector<float> scratch(static_cast<size_t>(V));
    model.forward(*sb, pool, b.data(), 13, 0, false, scratch.data());
    model.forward(*sb, pool, b.data() + 13, 1, 13, false, b_alone.data());
    model.forward(*sc, pool, c.data(), 5, 0, false, c_alone.data());
    // Together, with fresh caches (b's prefix evaluated alone first).
    auto ta = model.new_state(64), tb = model.new_state(64), tc = model.new_state(64);
    model.forward(*tb, pool, b.data(), 13, 0, false, scratch.data());
    std::vector<float> a_multi(a_alone.size()), b_multi(b_alone.size()), c_multi(c_alone.size());
    const SeqChunk chunks[3] = {{ta.get(), a.data(), 9, 0, true, a_multi.data()},
                                {tb.get(), b.data() + 13, 1, 13, false, b_multi.data()},
                                {tc.get(), c.data(), 5, 0, false, c_multi.data()}};
    model.forward_multi(pool, chunks, 3);
    EXPECT_LT(rel_diff(a_alone, a_multi), kF32Tolerance) << preset;
    EXPECT_LT(rel_diff(b_alone, b_multi), kF32Tolerance) << preset;
    EXPECT_LT(rel_diff(c_alone, c_multi), kF32Tolerance) << preset;
    // The same step with the logits in one buffer, row after row (the server's layout: the head writes in place),
    // b's prefix evaluated without logits, and a fourth sequence's first piece (no logits) in the middle of the step.
    auto ua = model.new_state(64), ub = model.new_state(64), uc = model.new_state(64), ud = model.new_state(64);
    model.forward(*ub, pool, b.data(), 13, 0, false, nullptr);
    const auto d = prompt(7, int(V));
    std::vector<float> all(static_cast<size_t>(11 * V), std::nanf(""));
    const SeqChunk packed[4] = {{ua.get(), a.data(), 9, 0, true, all.data()},
                                {ud.get(), d.data(), 3, 0, false, nullptr},
                                {ub.get(), b.data() + 13, 1, 13, false, all.data() + 9 * V},
                                {uc.get(), c.data(), 5, 0, false, all.data() + 10 * V}};
    model.forward_multi(pool, packed, 4);
    // (Within the tolerance, not bit for bit: f32 products take another path with more tokens in the batch.)
    EXPECT_LT(rel_diff(a_alone, std::vector<float>(all.begin(), all.begin() + 9 * V)), kF32Tolerance) << preset;
    EXPECT_LT(rel_diff(b_alone, std::vector<float>(all.begin() + 9 * V, all.begin() + 10 * V)), kF32Tolerance) << preset;
    EXPECT_LT(rel_diff(c_alone, std::vector<float>(all.begin() + 10 * V, all.end())), kF32Tolerance) << preset;
    // d's piece is in its cache: the rest of d ends where d alone does.
    std::vector<float> d_alone(static_cast<size_t>(V)), d_rest(static_cast<size_t>(V));
    auto sd = model.new_state(64);
    model.forward(*sd, pool, d.data(), 7, 0, false, d_alone.data());
    model.forward(*ud, pool, d.data() + 3, 4, 3, false, d_rest.data());
    EXPECT_LT(rel_diff(d_alone, d_rest), kF32Tolerance) << preset;
    // Session::eval's earlier pieces take no logits.
    EXPECT_LT(rel_diff(d_alone, last_logits(model, d, 2)), kF32Tolerance) << preset;
  }
}

}  // namespace
}  // namespace seek
