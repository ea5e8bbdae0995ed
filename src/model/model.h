// The engine's view of a language model: a forward pass over a batch of tokens that extends a per-sequence
// state (the KV cache). Architectures implement it in src/model/<family>/.
#pragma once

#include <cstdint>
#include <memory>
#include <string>

#include "core/result.h"
#include "core/thread_pool.h"
#include "model/repack.h"

namespace seek {

struct GgufFile;

// Per-sequence state: the cache of one conversation.
struct ModelState {
  virtual ~ModelState() = default;
  int64_t capacity = 0;  // tokens the cache can hold
};

enum class MlaMode { Absorbed, Naive };

// One sequence's share of a multi-sequence step (continuous batching): tokens at positions n_past.. appended to
// `state`; logits as in Model::forward (null: none for this sequence).
struct SeqChunk {
  ModelState* state = nullptr;
  const int32_t* tokens = nullptr;
  int64_t n = 0;
  int64_t n_past = 0;
  bool all_logits = false;
  float* logits = nullptr;
};

// How absorbed MLA attends over a prefill chunk: Auto takes the expanded (MHA) form, keys and values expanded from
// the cached latents per head, where it costs fewer multiply-adds (a chunk that is most of its context), else the
// absorbed form over the latents; Never and Always force one.
enum class ExpandedPrefill { Auto, Never, Always };

struct ForwardOptions {
  MlaMode mla = MlaMode::Absorbed;
  ExpandedPrefill expand = ExpandedPrefill::Auto;
};

class Model {
 public:
  virtual ~Model() = default;
  virtual std::string arch() const = 0;
  virtual int64_t n_vocab() const = 0;
  virtual int64_t n_ctx_train() const = 0;
  virtual int64_t kv_bytes_per_token() const = 0;
  virtual size_t weight_bytes() const = 0;          // bytes of the tensors the forward pass reads
  virtual size_t active_bytes_per_token() const = 0;  // bytes one decoded token reads

  virtual std::unique_ptr<ModelState> new_state(int64_t n_ctx) const = 0;

  // Runs tokens[0..n) at positions n_past.. and appends them to `state`. Writes logits (n_vocab floats per row)
  // for every token when all_logits, else for the last token only; none when `logits` is null (a piece of a prompt
  // whose end is still to come: the head is not computed). Preconditions (checked by the caller): ids in range,
  // n_past + n <= state.capacity.
  virtual void forward(ModelState& state, ThreadPool& pool, const int32_t* tokens, int64_t n, int64_t n_past,
                       bool all_logits, float* logits) const = 0;

  // Several sequences in one step. Implementations may share weight reads across the sequences (one read of a
  // routed expert serves every token routed to it); the default runs them one after another.
  virtual void forward_multi(ThreadPool& pool, const SeqChunk* chunks, size_t n_chunks) const {
    for (size_t i = 0; i < n_chunks; ++i) {
      const SeqChunk& c = chunks[i];
      forward(*c.state, pool, c.tokens, c.n, c.n_past, c.all_logits, c.logits);
    }
  }

  // Holds the Q8_0 weights that only matmul reads as integer-GEMM panels (model/repack.h), when the selected
  // kernels have that GEMM; returns the bytes repacked. Call once, after choosing the kernels and `options`, before
  // any forward (which matrices qualify can depend on options.mla).
  // Repacking is declined (nothing changes) when the panels would take more than max_bytes.
  struct RepackReport {
    size_t repacked_bytes = 0;
    size_t declined_bytes = 0;
  };
  virtual RepackReport repack_weights(ThreadPool&, size_t max_bytes = SIZE_MAX, const RepackProgress& progress = {}) {
    (void)max_bytes, (void)progress;
    return {};
  }

  ForwardOptions options;
};

// A model path as a GGUF file: a .gguf file, or a Hugging Face folder seen through GGUF's conventions.
Result<GgufFile> open_model_file(const std::string& path);

// Opens a model file (or folder) and builds the model for its architecture.
Result<std::unique_ptr<Model>> load_model(const std::string& path);
Result<std::unique_ptr<Model>> load_model_from_gguf(std::shared_ptr<GgufFile> file);

}  // namespace seek
