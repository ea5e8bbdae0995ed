// Helpers shared by the model families' tests: temporary paths, deterministic prompts, running a model whole or
// token by token, a scale-aware difference of two logit arrays, and repacked weights against the reference.
#pragma once

#include <gtest/gtest.h>
#include <unistd.h>

#include <algorithm>
#include <cmath>
#include <cstdlib>
#include <filesystem>
#include <string>
#include <vector>

#include "engine/session.h"
#include "kernels/kernels.h"
#include "model/model.h"

namespace seek::test {

// This process's scratch folder (removed when the process exits), so test files never pile up in /tmp.
inline std::filesystem::path test_dir() {
  return std::filesystem::temp_directory_path() / ("seek_test_" + std::to_string(getpid()));
}

inline std::string temp_path(const std::string& prefix, const std::string& name) {
  static const bool made = [] {
    std::filesystem::create_directories(test_dir());
    std::atexit([] {
      std::error_code ec;
      std::filesystem::remove_all(test_dir(), ec);
    });
    return true;
  }();
  (void)made;
  return (test_dir() / (prefix + name)).string();
}

// BOS (0) and n - 1 ids spread over the vocabulary, avoiding the special tokens at its ends.
inline std::vector<int32_t> prompt(int n, int vocab) {
  std::vector<int32_t> t{0};
  for (int i = 1; i < n; ++i) t.push_back(int32_t((i * 37 + 11) % (vocab - 10) + 2));
  return t;
}

// The last position's logits of a prompt evaluated in one batch, or in pieces of `batch` tokens (the pieces before
// the last compute no logits: Model::forward with null logits).
inline std::vector<float> last_logits(const Model& m, const std::vector<int32_t>& toks, int64_t batch) {
  ThreadPool pool(2);
  Session s(m, pool, 256);
  std::vector<float> logits;
  EXPECT_TRUE(s.eval(toks, false, logits, batch).ok());
  return logits;
}

// Logits of every position: the whole prompt in one batch, or one token at a time.
inline std::vector<float> run(const Model& m, const std::vector<int32_t>& toks, int threads, bool token_by_token) {
  ThreadPool pool(threads);
  Session s(m, pool, 256);
  std::vector<float> all, logits;
  if (!token_by_token) {
    EXPECT_TRUE(s.eval(toks, true, all).ok());
    return all;
  }
  for (int32_t t : toks) {
    EXPECT_TRUE(s.eval({t}, false, logits).ok());
    all.insert(all.end(), logits.begin(), logits.end());
  }
  return all;
}

// max |a - b| / (1 + max |a|).
inline double rel_diff(const std::vector<float>& a, const std::vector<float>& b) {
  EXPECT_EQ(a.size(), b.size());
  double mx = 0, scale = 0;
  for (size_t i = 0; i < a.size() && i < b.size(); ++i) {
    mx = std::max(mx, double(std::fabs(a[i] - b[i])));
    scale = std::max(scale, double(std::fabs(a[i])));
  }
  return mx / (1.0 + scale);
}

// f32 throughout: two computations that differ only in summation order over a few hundred terms per dot product
// through a few blocks agree to ~1e-6 of the logit scale; 2e-5 leaves a margin of ~10x.
constexpr double kF32Tolerance = 2e-5;

// A Q8_0 model (at `path`) with its weights repacked (model/repack.h) against the scalar reference on the stored
// rows of a second copy: logits of an n_prompt-token prompt in one batch (2 threads) and token by token
// (decode_threads), each within kF32Tolerance of the reference computed the same way (a batch and single tokens
// may take different attention forms, whose q8_0 activations round at different points). The repacked model is
// left in *repacked for further checks.
inline void check_repacked_against_reference(const std::string& path, int n_prompt, int decode_threads,
                                             std::unique_ptr<Model>* repacked = nullptr) {
  auto ref_model = load_model(path);
  auto m = load_model(path);
  ASSERT_TRUE(ref_model.ok() && m.ok());
  const auto toks = prompt(n_prompt, int((*m)->n_vocab()));
  select_kernels(KernelChoice::Ref);
  const auto ref = run(**ref_model, toks, 2, false);
  const auto ref_tokens = run(**ref_model, toks, 2, true);
  select_kernels(KernelChoice::Auto);
  ThreadPool pool(2);
  ASSERT_GT((*m)->repack_weights(pool).repacked_bytes, 0u) << "no Q8_0 matrix was repacked";
  EXPECT_LT(rel_diff(ref, run(**m, toks, 2, false)), kF32Tolerance);
  EXPECT_LT(rel_diff(ref_tokens, run(**m, toks, decode_threads, true)), kF32Tolerance);
  if (repacked) *repacked = std::move(*m);
}

}  // namespace seek::test
