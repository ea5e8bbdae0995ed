// Whole-model check of the AVX2 kernel table: generated DeepSeek models run with --kernels avx2 and --kernels ref
// give the same logits (prefill through pack_panel/gemm_panel, decode through dot or dot_q8) for each weight type
// that has AVX2 kernels: Q8_0, F16, Q5_0 and IQ4_NL (v3-tiny's fallbacks from Q4_K_M and IQ4_XS) and, in a model
// wide enough for 256-element blocks, Q4_K/Q6_K (Q4_K_M), Q5_K, IQ4_XS and Q4_0.
#include <gtest/gtest.h>
#include <stdlib.h>

#include <filesystem>
#include <map>
#include <ostream>
#include <vector>

#include "../common/model_test_util.h"
#include "kernels/kernels.h"
#include "model/deepseek/synthetic.h"
#include "quant/model_quantize.h"

namespace seek {
namespace {

namespace fs = std::filesystem;

// Model files go to a directory of this process's own, removed when the tests end (pid-named files can meet a
// stale namesake: pids repeat in containers).
std::string temp_path(const std::string& name) {
  static const struct Dir {
    std::string path;
    Dir() {
      std::string t = (fs::temp_directory_path() / "seek_avx2_model_test_XXXXXX").string();
      path = mkdtemp(t.data()) ? t : test::temp_path("seek_avx2_model_test_", "dir");
      fs::create_directories(path);
    }
    ~Dir() {
      std::error_code ec;
      fs::remove_all(path, ec);
    }
  } dir;
  return (fs::path(dir.path) / name).string();
}

// The v3-tiny shape with every matrix width a multiple of 256, so that K-quant recipes really use Q4_K and Q6_K
// (narrower rows fall back to Q5_0/Q8_0, which have no AVX2 kernels).
SyntheticSpec wide_spec() {
  SyntheticSpec s = *synthetic_preset("v3-tiny");
  s.name = "v3-wide";
  s.c.dim = 256;
  s.c.inter_dim = 512;
  s.c.moe_inter_dim = 256;
  s.c.n_routed_experts = 8;
  s.c.n_activated_experts = 3;
  s.c.q_lora_rank = 256;
  s.c.kv_lora_rank = 256;
  s.c.n_heads = 2;
  s.c.qk_nope_head_dim = 256;
  s.c.v_head_dim = 128;
  return s;
}

// A generated model of `type`; "wide" models are written in f32 and quantised with `recipe` by seek quantize.
std::string make_model(const std::string& preset, GgmlType type, const std::string& recipe = "") {
  const std::string p = temp_path(preset + "_" + (recipe.empty() ? std::string(traits(type).name) : recipe) + ".gguf");
  if (fs::exists(p)) return p;
  SyntheticSpec spec = preset == "wide" ? wide_spec() : *synthetic_preset(preset);
  spec.type = type;
  const std::string src = recipe.empty() ? p : p + ".f32.gguf";
  auto w = write_synthetic_deepseek(spec, src);
  EXPECT_TRUE(w.ok()) << (w.ok() ? "" : w.error().message);
  if (recipe.empty()) return p;
  auto q = quantize_model(src, p, *quant_recipe(recipe), 2);
  EXPECT_TRUE(q.ok()) << (q.ok() ? "" : q.error().message);
  std::map<GgmlType, int> n_of;
  if (q.ok())
    for (const auto& t : q->tensors) ++n_of[t.to];
  // the types each case is there for (on v3-tiny, whose rows are too short for 256-element blocks, the recipes
  // fall back as llama.cpp does: Q4_K -> Q5_0, IQ4_XS -> IQ4_NL)
  std::vector<GgmlType> expect;
  if (preset == "wide" && recipe == "Q4_K_M") expect = {GgmlType::Q4_K, GgmlType::Q6_K};
  if (preset != "wide" && recipe == "Q4_K_M") expect = {GgmlType::Q5_0};
  if (recipe == "Q4_0") expect = {GgmlType::Q4_0};
  if (preset != "wide" && recipe == "IQ4_XS") expect = {GgmlType::IQ4_NL};
  if (preset == "wide" && recipe == "IQ4_XS") expect = {GgmlType::IQ4_XS};
  if (recipe == "Q5_K") expect = {GgmlType::Q5_K};
  for (GgmlType t : expect) EXPECT_GT(n_of[t], 0) << p << " has no " << traits(t).name << " tensors";
  fs::remove(src);
  return p;
}

struct Case {
  std::string preset;
  GgmlType type;
  std::string recipe;  // empty: generated directly as `type`
  bool compare_q8;     // also compare with q8_0 activations (both tables have dot_q8 for the model's types)
};

void PrintTo(const Case& c, std::ostream* os) {
  *os << c.preset << " " << (c.recipe.empty() ? std::string(traits(c.type).name) : c.recipe);
}

class Avx2Model : public ::testing::TestWithParam<Case> {
 protected:
  void SetUp() override {
    if (!cpu_has_avx2() || !avx2_kernels()) GTEST_SKIP() << "CPU has no AVX2+FMA+F16C: the AVX2 table cannot run here";
  }
  void TearDown() override {
    select_kernels(KernelChoice::Auto);
    set_quantized_activations(true);
  }
};

// Prefill (all positions' logits from one batch: the packed GEMM, and the row loop for experts few tokens chose)
// and token-by-token decode (dot, or dot_q8 with q8_0 activations), with the reference and the AVX2 table.
// f32 activations: the tables differ only in summation order inside each product; the logits agree within
// test::kF32Tolerance (measured 5e-7 to 1.3e-6).
// q8_0 activations (only where both tables multiply the model's types with them): each table quantises its own
// activations, byte-identically from identical inputs, but an input that the two summation orders put on either
// side of a rounding boundary moves by one 8-bit step, which moves these random models' logits by ~1e-2 of their
// scale in the 256-wide model (as much as the whole f32 -> q8_0 change there) and never happened in the tiny
// presets (measured 7e-8 to 4e-7; bound 1e-4). So only the tiny presets compare q8_0 decode (and only decode); the AVX2 dot_q8
// kernels themselves are checked against exact values in tests/kernels/avx2_kernels_test.cpp.
TEST_P(Avx2Model, LogitsMatchReferenceKernels) {
  const Case& c = GetParam();
  auto m = load_model(make_model(c.preset, c.type, c.recipe));
  ASSERT_TRUE(m.ok()) << m.error().message;
  const auto toks = test::prompt(12, int((*m)->n_vocab()));
  for (bool q8 : {false, true}) {
    if (q8 && !c.compare_q8) continue;
    set_quantized_activations(q8);
    for (bool token_by_token : {false, true}) {
      // A batch of Q8_0 weights with q8_0 activations runs the integer GEMM where the table has one (the
      // reference, AVX-512 VNNI) and the f32 panel GEMM in the AVX2 table: different arithmetic by design.
      if (q8 && !token_by_token) continue;
      ASSERT_TRUE(select_kernels(KernelChoice::Ref));
      const auto ref = test::run(**m, toks, 2, token_by_token);
      ASSERT_STREQ(select_kernels(KernelChoice::Avx2), "avx2");
      const auto avx2 = test::run(**m, toks, 2, token_by_token);
      const double d = test::rel_diff(ref, avx2);
      EXPECT_LT(d, q8 ? 1e-4 : test::kF32Tolerance)
          << (token_by_token ? "decode" : "prefill") << (q8 ? ", q8_0 activations" : ", f32 activations")
          << ": max |avx2 - ref| / (1 + max |ref|) = " << d;
    }
  }
}

INSTANTIATE_TEST_SUITE_P(Types, Avx2Model,
                         ::testing::Values(Case{"v3-tiny", GgmlType::Q8_0, "", true},
                                           Case{"v2-lite-tiny", GgmlType::Q8_0, "", true},
                                           Case{"v3-tiny", GgmlType::F16, "", false},
                                           Case{"wide", GgmlType::F32, "Q8_0", false},
                                           Case{"wide", GgmlType::F32, "Q4_K_M", false},
                                           Case{"wide", GgmlType::F32, "Q4_0", false},
                                           Case{"wide", GgmlType::F32, "Q5_K", false},
                                           Case{"wide", GgmlType::F32, "IQ4_XS", false},
                                           Case{"v3-tiny", GgmlType::F32, "Q4_K_M", false},
                                           Case{"v3-tiny", GgmlType::F32, "IQ4_XS", false}),
                         [](const auto& info) {
                           const Case& c = info.param;
                           std::string s = c.preset + "_" + (c.recipe.empty() ? std::string(traits(c.type).name) : c.recipe);
                           for (char& ch : s) if (ch == '-') ch = '_';
                           return s;
                         });

}  // namespace
}  // namespace seek
