// The generated models' vocabulary as a Tokenizer, for the server's unit tests (optionally with DeepSeek's FIM
// tokens added).
#pragma once

#include <gtest/gtest.h>

#include "model/synthetic_vocab.h"
#include "tokenizer/tokenizer.h"

namespace seek::server::testing {

inline Tokenizer synthetic_tokenizer(bool add_bos, bool fim) {
  SyntheticVocab s = make_synthetic_vocab(120);
  Vocab v;
  v.model = "gpt2";
  v.pre = "deepseek-v3";
  v.tokens = s.tokens;
  v.token_types = s.token_types;
  v.merges = s.merges;
  v.bos_id = s.bos_id;
  v.eos_id = s.eos_id;
  v.add_bos = add_bos;
  if (fim) {
    for (const char* t : {"<｜fim▁begin｜>", "<｜fim▁hole｜>", "<｜fim▁end｜>"}) {
      v.tokens.push_back(t);
      v.token_types.push_back(3);
    }
  }
  auto tok = Tokenizer::create(std::move(v));
  EXPECT_TRUE(tok.ok()) << (tok.ok() ? "" : tok.error().message);
  return std::move(*tok);
}

}  // namespace seek::server::testing
