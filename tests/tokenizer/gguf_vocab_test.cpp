// The GGUF path: a tokenizer.json's vocab written as tokenizer.ggml.* metadata and read back by vocab_from_gguf gives
// the same tokenizer (the GGUF records no normalizer or ignore_merges: they follow from tokenizer.ggml.pre).
#include <algorithm>

#include "formats/gguf.h"
#include "model/synthetic_vocab.h"
#include "node_oracle.h"
#include "test_util.h"

namespace seek::test {
namespace {

class GgufVocab : public ::testing::TestWithParam<const char*> {};

TEST_P(GgufVocab, SameIdsAsTokenizerJson) {
  SEEK_REQUIRE_FILE(tokenizer_dir(GetParam()) + "/tokenizer.json");
  const Tokenizer& json_tok = hf_tokenizer(GetParam());
  Vocab v = json_tok.vocab();
  v.nfc.reset();
  v.ignore_merges.reset();
  GgufWriter w;
  vocab_to_gguf(v, w);
  const std::string path = std::string(SEEK_BINARY_DIR) + "/tokenizer-test-" + GetParam() + ".gguf";
  ASSERT_TRUE(w.write(path).ok());
  auto f = gguf_open(path);
  ASSERT_TRUE(f.ok()) << f.error().message;
  auto gv = vocab_from_gguf(*f);
  ASSERT_TRUE(gv.ok()) << gv.error().message;
  auto gguf_tok = Tokenizer::create(std::move(gv.value()));
  ASSERT_TRUE(gguf_tok.ok()) << gguf_tok.error().message;
  EXPECT_EQ(gguf_tok->nfc(), json_tok.nfc());
  EXPECT_EQ(gguf_tok->add_bos(), json_tok.add_bos());
  EXPECT_EQ(gguf_tok->bos(), json_tok.bos());
  EXPECT_EQ(gguf_tok->n_vocab(), json_tok.n_vocab());
  const std::string inp = read_all(data_dir() + "/llama.cpp-vocab/ggml-vocab-qwen2.gguf.inp");
  for (const std::string& s : {inp, std::string("<｜User｜>Hi<think>ok</think> 12345 naïve cafe\u0301 \xF0\x9F\x98")}) {
    EXPECT_EQ(gguf_tok->encode(s, true, true), json_tok.encode(s, true, true));
    EXPECT_EQ(gguf_tok->encode(s, false, false), json_tok.encode(s, false, false));
  }
  std::remove(path.c_str());
}

INSTANTIATE_TEST_SUITE_P(Tokenizers, GgufVocab, ::testing::Values("deepseek-v3", "qwen2.5", "llama3.1"),
                         [](const auto& info) {
                           std::string n = info.param;
                           for (char& c : n) if (!isalnum(uint8_t(c))) c = '_';
                           return n;
                         });

// seek gen-model --vocab: a real tokenizer padded to a model's vocabulary size (llama.cpp's [PADn], unused) encodes
// as it did and keeps its ids; without one, the synthetic tokenizer pads with DeepSeek's place-holder names.
TEST(GeneratedModelVocab, PaddedRealVocabEncodesAsBefore) {
  SEEK_REQUIRE_FILE(tokenizer_dir("deepseek-v3") + "/tokenizer.json");
  const Tokenizer& json_tok = hf_tokenizer("deepseek-v3");
  const Vocab real = json_tok.vocab();
  const int64_t n = int64_t(real.tokens.size());
  Vocab v = generated_model_vocab(&real, 0, "", n + 465);
  ASSERT_EQ(int64_t(v.tokens.size()), n + 465);
  ASSERT_EQ(v.token_types.size(), v.tokens.size());
  EXPECT_EQ(v.tokens[size_t(n)], "[PAD" + std::to_string(n) + "]");
  EXPECT_EQ(v.token_types[size_t(n + 464)], kTokenUnused);
  EXPECT_EQ(v.pre, real.pre);
  EXPECT_EQ(v.chat_template, real.chat_template);
  auto tok = Tokenizer::create(std::move(v));
  ASSERT_TRUE(tok.ok()) << tok.error().message;
  EXPECT_EQ(tok->n_vocab(), n + 465);
  EXPECT_EQ(tok->bos(), json_tok.bos());
  const std::string s = "<｜User｜>Hi<think>ok</think> 12345 naïve [PAD5] cafe\u0301";
  EXPECT_EQ(tok->encode(s, true, true), json_tok.encode(s, true, true));
  EXPECT_EQ(tok->encode(s, false, false), json_tok.encode(s, false, false));
}

TEST(GeneratedModelVocab, SyntheticPadsWithPlaceholders) {
  const Vocab v = generated_model_vocab(nullptr, 250, "deepseek-v3", 2000);
  ASSERT_EQ(v.tokens.size(), 2000u);
  const int64_t first_pad = 2000 - int64_t(std::count(v.token_types.begin(), v.token_types.end(), int32_t(kTokenUnused)));
  ASSERT_GT(first_pad, 256);
  EXPECT_EQ(v.tokens[size_t(first_pad)], "<｜place▁holder▁no▁0｜>");
  EXPECT_EQ(v.tokens.back(), "<｜place▁holder▁no▁" + std::to_string(1999 - first_pad) + "｜>");
  EXPECT_EQ(v.pre, "deepseek-v3");
  EXPECT_TRUE(v.add_bos);
  EXPECT_EQ(v.tokens[size_t(v.bos_id)], "<｜begin▁of▁sentence｜>");
}

// The R1 variants' token facts (tools/tokenizer/variants.mjs builds their tokenizer files).
TEST(R1Variants, SpecialTokenIds) {
  SEEK_REQUIRE_NODE_MODULES();
  SEEK_REQUIRE_FILE(data_dir() + "/tokenizers/deepseek-v3");
  ASSERT_EQ(ensure_oracle(data_dir()), "");
  const std::string dir = oracle_dir();
  struct Fact {
    const char* variant;
    const char* text;
    int32_t id;
  };
  for (const Fact& f : {Fact{"deepseek-r1", "<think>", 128798}, {"deepseek-r1", "</think>", 128799},
                        {"r1-distill-qwen", "<think>", 151648}, {"r1-distill-qwen", "<｜User｜>", 151644},
                        {"r1-distill-qwen", "<｜begin▁of▁sentence｜>", 151646}, {"r1-distill-llama", "<think>", 128013},
                        {"r1-distill-llama", "<｜Assistant｜>", 128012}, {"r1-distill-llama", "<｜begin▁of▁sentence｜>", 128000}}) {
    auto v = vocab_from_hf_json(dir + "/" + f.variant + "/tokenizer.json", dir + "/" + f.variant + "/tokenizer_config.json");
    ASSERT_TRUE(v.ok()) << v.error().message;
    auto tok = Tokenizer::create(std::move(v.value()));
    ASSERT_TRUE(tok.ok());
    EXPECT_EQ(tok->find(f.text), std::optional<int32_t>(f.id)) << f.variant << " " << f.text;
    EXPECT_EQ(ids_str(tok->encode(f.text, false, true)), std::to_string(f.id)) << f.variant << " " << f.text;
    if (std::string(f.text) == "<think>") {  // user-defined: matched even without parse_special
      EXPECT_EQ(ids_str(tok->encode(f.text, false, false)), std::to_string(f.id)) << f.variant;
    }
  }
}

}  // namespace
}  // namespace seek::test
