// What every architecture's loader shares: reading checked hyper-parameters from GGUF metadata, and building
// weight views (Mat) from tensors whose presence, shape and type are checked, with one clear error per problem.
#pragma once

#include <cstdint>
#include <string>
#include <vector>

#include "core/result.h"
#include "core/tensor.h"

namespace seek {

struct GgufFile;

// Width bound for hyper-parameters: keeps every product of two of them far from overflow.
constexpr int64_t kMaxWidth = int64_t(1) << 24;

// Reads an integer key into *out (left unchanged when the key is absent and not required); the value must lie in
// [lo, hi].
Result<void> read_int(const GgufFile& f, const std::string& key, int64_t* out, bool required, int64_t lo, int64_t hi);
// Reads a finite number into *out (left unchanged when absent and not required).
Result<void> read_float(const GgufFile& f, const std::string& key, float* out, bool required);

// "f32, f16, ..." for every type the kernels compute.
std::string supported_types();

class TensorLoader {
 public:
  explicit TensorLoader(const GgufFile& f) : f_(f) {}

  // A tensor whose GGUF dims are exactly `dims` (ne0 first); missing + optional gives an empty Mat.
  Result<Mat> get(const std::string& name, std::vector<int64_t> dims, bool optional = false);
  // The n_experts matrices of (rows, cols) each stored in `name`: a GGUF tensor of dims {cols, rows, n_experts}, or
  // (Hugging Face folders) one stored tensor per expert stacked into it.
  Result<std::vector<Mat>> experts(const std::string& name, int64_t cols, int64_t rows, int64_t n_experts);
  // A 1-D tensor of n values as f32 (norm weights, biases); missing + optional gives an empty vector.
  Result<std::vector<float>> vec(const std::string& name, int64_t n, bool optional = false);
  // Rows of token_embd.weight (the vocabulary size), checking its shape is [dim, vocab] and, when the metadata
  // gave one, that vocab equals expected_vocab.
  Result<int64_t> embedding_rows(int64_t dim, int64_t expected_vocab);
  // Bytes of every tensor handed out so far.
  size_t bytes() const { return bytes_; }

 private:
  const GgufFile& f_;
  size_t bytes_ = 0;
};

}  // namespace seek

// Assigns the value of a Result expression to lhs, or returns its error.
#define SEEK_ASSIGN(lhs, expr)                 \
  do {                                         \
    auto seek_r_ = (expr);                     \
    if (!seek_r_.ok()) return seek_r_.error(); \
    lhs = std::move(seek_r_.value());          \
  } while (0)
