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

}  // namespace seek
