// Llama / Qwen2 model: equivalences on generated models (whole-prompt prefill vs token-by-token decode, one thread
// vs two), clear load errors, and the real llama2.c stories260K model (converted by tools/convert/llama2c_to_gguf.py)
// against the greedy continuation of an independent float64 implementation.
#include <gtest/gtest.h>
#include <unistd.h>

#include <cmath>
#include <cstdlib>
#include <filesystem>
#include <fstream>

#include <nlohmann/json.hpp>

#include "../common/model_test_util.h"
#include "engine/session.h"
#include "formats/gguf.h"
#include "kernels/kernels.h"
#include "model/llama/llama.h"
#include "model/llama/synthetic.h"

namespace seek {
namespace {

namespace fs = std::filesystem;

std::string temp_path(const std::string& name) { return test::temp_path("seek_llama_test_", name); }

std::string make_model(const std::string& preset, GgmlType type = GgmlType::F32) {
  const std::string p = temp_path(preset + "_" + std::string(traits(type).name) + ".gguf");
  if (!fs::exists(p)) {
    auto spec = llama_synthetic_preset(preset);
    EXPECT_TRUE(spec.has_value());
    spec->type = type;
    auto r = write_synthetic_llama(*spec, p);
    EXPECT_TRUE(r.ok()) << (r.ok() ? "" : r.error().message);
  }
  return p;
}

using test::kF32Tolerance;
using test::last_logits;
using test::prompt;
using test::rel_diff;
using test::run;

class LlamaPresets : public ::testing::TestWithParam<std::string> {
 protected:
  void SetUp() override { select_kernels(KernelChoice::Auto); }
};

TEST_P(LlamaPresets, Loads) {
  auto m = load_model(make_model(GetParam()));
  ASSERT_TRUE(m.ok()) << m.error().message;
  EXPECT_EQ((*m)->arch(), GetParam().substr(0, GetParam().find('-')));
  EXPECT_GT((*m)->n_vocab(), 256);
  EXPECT_EQ((*m)->kv_bytes_per_token(), 2 * 2 * 2 * 16 * 4);
  EXPECT_GT((*m)->active_bytes_per_token(), size_t(0));
  EXPECT_LE((*m)->active_bytes_per_token(), (*m)->weight_bytes() + 64 * 4);
}

TEST_P(LlamaPresets, PrefillMatchesDecode) {
  auto m = load_model(make_model(GetParam()));
  ASSERT_TRUE(m.ok()) << m.error().message;
  const auto toks = prompt(40, int((*m)->n_vocab()));
  const auto a = run(**m, toks, 1, false), b = run(**m, toks, 1, true);
  EXPECT_LT(rel_diff(a, b), kF32Tolerance);
}

// A prompt in pieces (no logits for the earlier ones) ends where the whole prompt does.
TEST_P(LlamaPresets, PromptInPiecesMatchesWhole) {
  auto m = load_model(make_model(GetParam()));
  ASSERT_TRUE(m.ok()) << m.error().message;
  const auto toks = prompt(40, int((*m)->n_vocab()));
  const auto whole = last_logits(**m, toks, 512);
  EXPECT_LT(rel_diff(whole, last_logits(**m, toks, 7)), kF32Tolerance);
  EXPECT_LT(rel_diff(whole, last_logits(**m, toks, 1)), kF32Tolerance);
}

TEST_P(LlamaPresets, ThreadsAgree) {
  auto m = load_model(make_model(GetParam()));
  ASSERT_TRUE(m.ok()) << m.error().message;
  const auto toks = prompt(40, int((*m)->n_vocab()));
  EXPECT_LT(rel_diff(run(**m, toks, 1, false), run(**m, toks, 2, false)), kF32Tolerance);
}

// Quantised weights: the reference kernels and the SIMD ones compute the same thing.
TEST_P(LlamaPresets, ReferenceKernelsAgreeWithSimd) {
  for (GgmlType t : {GgmlType::F16, GgmlType::Q8_0}) {
    auto m = load_model(make_model(GetParam(), t));
    ASSERT_TRUE(m.ok()) << m.error().message;
    const auto toks = prompt(12, int((*m)->n_vocab()));
    select_kernels(KernelChoice::Ref);
    const auto ref = run(**m, toks, 2, false);
    select_kernels(KernelChoice::Auto);
    const auto simd = run(**m, toks, 2, false);
    for (float x : simd) ASSERT_TRUE(std::isfinite(x));
    EXPECT_LT(rel_diff(ref, simd), kF32Tolerance) << traits(t).name;
  }
}

// Q8_0 weights held as panels (model/repack.h) against the scalar reference on the stored rows.
TEST_P(LlamaPresets, RepackedWeightsAgreeWithReferenceRows) {
  test::check_repacked_against_reference(make_model(GetParam(), GgmlType::Q8_0), 12, 1);
}

INSTANTIATE_TEST_SUITE_P(Presets, LlamaPresets, ::testing::Values("llama-tiny", "qwen2-tiny"),
                         [](const auto& info) { return info.param == "llama-tiny" ? "llama" : "qwen2"; });

// Rewrites a generated model with one metadata key or tensor changed, for the error tests.
std::string variant(const std::string& preset, const std::string& tag,
                    const std::function<void(GgufFile&, GgufWriter&)>& edit) {
  auto src = gguf_open(make_model(preset));
  EXPECT_TRUE(src.ok());
  GgufWriter w;
  for (const auto& [k, v] : src->kv) w.set(k, v);
  edit(*src, w);
  const std::string p = temp_path(preset + "_" + tag + ".gguf");
  EXPECT_TRUE(w.write(p).ok());
  return p;
}

void copy_tensors(GgufFile& f, GgufWriter& w, const std::string& skip = "") {
  for (const auto& t : f.tensors) {
    if (t.name == skip) continue;
    const uint8_t* d = t.data;
    w.add_tensor(t.name, t.type, t.dims, [d](uint8_t* dst, size_t n) { std::memcpy(dst, d, n); });
  }
}

TEST(LlamaErrors, MissingTensorIsNamed) {
  auto p = variant("qwen2-tiny", "nobias", [](GgufFile& f, GgufWriter& w) { copy_tensors(f, w, "blk.1.attn_k.bias"); });
  auto m = load_model(p);
  ASSERT_FALSE(m.ok());
  EXPECT_NE(m.error().message.find("blk.1.attn_k.bias is missing"), std::string::npos) << m.error().message;
}

TEST(LlamaErrors, MissingKeyIsNamed) {
  auto src = gguf_open(make_model("llama-tiny"));
  ASSERT_TRUE(src.ok());
  GgufWriter w;
  for (const auto& [k, v] : src->kv)
    if (k != "llama.attention.head_count") w.set(k, v);
  copy_tensors(*src, w);
  const std::string p = temp_path("nohead.gguf");
  ASSERT_TRUE(w.write(p).ok());
  auto m = load_model(p);
  ASSERT_FALSE(m.ok());
  EXPECT_NE(m.error().message.find("llama.attention.head_count is missing"), std::string::npos) << m.error().message;
}

TEST(LlamaErrors, BadHeadRatioAndScaling) {
  auto p = variant("llama-tiny", "kv3", [](GgufFile& f, GgufWriter& w) {
    w.set_u32("llama.attention.head_count_kv", 3);
    copy_tensors(f, w);
  });
  auto m = load_model(p);
  ASSERT_FALSE(m.ok());
  EXPECT_NE(m.error().message.find("not a multiple of attention.head_count_kv"), std::string::npos) << m.error().message;
  p = variant("llama-tiny", "yarn", [](GgufFile& f, GgufWriter& w) {
    w.set_str("llama.rope.scaling.type", "yarn");
    copy_tensors(f, w);
  });
  m = load_model(p);
  ASSERT_FALSE(m.ok());
  EXPECT_NE(m.error().message.find("rope.scaling.type 'yarn' is not supported"), std::string::npos) << m.error().message;
}

TEST(LlamaErrors, WrongShape) {
  auto p = variant("llama-tiny", "shape", [](GgufFile& f, GgufWriter& w) {
    w.set_u32("llama.feed_forward_length", 96);
    copy_tensors(f, w);
  });
  auto m = load_model(p);
  ASSERT_FALSE(m.ok());
  EXPECT_NE(m.error().message.find("blk.0.ffn_gate.weight has shape [64, 128], expected [64, 96]"), std::string::npos)
      << m.error().message;
}

// stories260K (llama2.c) converted to GGUF: the greedy continuation of BOS equals the float64 reference's.
TEST(LlamaRealModel, Stories260KGreedy) {
  const fs::path dir = fs::path(SEEK_SOURCE_DIR) / ".." / "shared" / "data" / "models" / "stories260K";
  if (!fs::exists(dir / "stories260K.bin")) GTEST_SKIP() << "stories260K is not in ../shared/data";
  const std::string out = temp_path("stories260K.gguf");
  const std::string cmd = "/usr/bin/python3 " + std::string(SEEK_SOURCE_DIR) + "/tools/convert/llama2c_to_gguf.py " +
                          (dir / "stories260K.bin").string() + " " + (dir / "tok512.bin").string() + " " + out;
  ASSERT_EQ(std::system(cmd.c_str()), 0) << cmd;
  auto m = load_model(out);
  ASSERT_TRUE(m.ok()) << m.error().message;
  std::ifstream in(dir / "stories260K_greedy_reference.json");
  const auto ref = nlohmann::json::parse(in);
  for (const auto& [name, entry] : ref.items()) {
    if (!entry.is_object()) continue;
    const auto prompt_ids = entry["prompt_ids"].get<std::vector<int32_t>>();
    const auto expected = entry["tokens_after_bos"].get<std::vector<int32_t>>();
    ThreadPool pool(2);
    Session s(**m, pool, 512);
    std::vector<float> logits;
    ASSERT_TRUE(s.eval(prompt_ids, false, logits).ok());
    // tokens_after_bos lists the forced prompt tokens, then the generated ones.
    std::vector<int32_t> got(prompt_ids.begin() + 1, prompt_ids.end());
    while (got.size() < expected.size()) {
      const int32_t id = int32_t(std::max_element(logits.begin(), logits.end()) - logits.begin());
      got.push_back(id);
      if (got.size() == expected.size()) break;
      ASSERT_TRUE(s.eval({id}, false, logits).ok());
    }
    EXPECT_EQ(got, expected) << name;
  }
}

}  // namespace
}  // namespace seek
