// The register blocking of the panel GEMMs over tokens: blocks of kMax tokens, then one block of the rest, each
// block a template instance with its token count fixed at compile time.
#pragma once

#include <cstdint>
#include <utility>

namespace seek {

// Calls fn.template operator()<NT>(t) for the token blocks [t, t + NT) covering 0..n_tok: NT = kMax while whole
// blocks fit, then NT = the remainder (1..kMax-1) once if there is one.
template <int kMax, class Fn>
inline void for_token_blocks(int64_t n_tok, Fn&& fn) {
  int64_t t = 0;
  for (; t + kMax <= n_tok; t += kMax) fn.template operator()<kMax>(t);
  const int64_t rest = n_tok - t;
  [&]<int... I>(std::integer_sequence<int, I...>) {
    ((rest == I + 1 ? (fn.template operator()<I + 1>(t), 0) : 0), ...);
  }(std::make_integer_sequence<int, kMax - 1>{});
}

// As for_token_blocks, but with the fewest blocks of at most kMax tokens and sizes as even as they go (8 tokens
// run as 4 + 4, not 6 + 2): for kernels whose cost per block has a part that does not shrink with its tokens.
template <int kMax, class Fn>
inline void for_even_token_blocks(int64_t n_tok, Fn&& fn) {
  const int64_t n_blocks = (n_tok + kMax - 1) / kMax;
  int64_t t = 0;
  for (int64_t i = 0; i < n_blocks; ++i) {
    const int64_t size = (n_tok - t) / (n_blocks - i);  // the later blocks take the remainder's extra tokens
    [&]<int... I>(std::integer_sequence<int, I...>) {
      ((size == I + 1 ? (fn.template operator()<I + 1>(t), 0) : 0), ...);
    }(std::make_integer_sequence<int, kMax>{});
    t += size;
  }
}

}  // namespace seek
