// Malformed vocabularies give clear errors naming what is wrong: bad JSON, missing merges, merges naming unknown
// tokens, duplicate tokens, ids out of range, unknown pre-tokenisers, non-byte-level tokens, missing byte tokens.
#include <nlohmann/json.hpp>

#include "test_util.h"
#include "tokenizer/byte_level.h"

namespace seek::test {
namespace {

using nlohmann::json;

// A minimal valid byte-level BPE tokenizer.json: the 256 byte tokens, "ab", and the merge "a b".
json tiny_tokenizer_json() {
  json vocab = json::object();
  for (int b = 0; b < 256; ++b) vocab[byte_level_encode(std::string(1, char(b)))] = b;
  vocab["ab"] = 256;
  return {
      {"added_tokens", json::array({{{"id", 257}, {"content", "<|end|>"}, {"special", true}}})},
      {"normalizer", nullptr},
      {"pre_tokenizer",
       {{"type", "Sequence"},
        {"pretokenizers",
         json::array({{{"type", "Split"},
                       {"pattern", {{"Regex", pre_tokenizer_regexes(PreTokenizerKind::kQwen2)[0]}}},
                       {"behavior", "Isolated"},
                       {"invert", false}},
                      {{"type", "ByteLevel"}, {"add_prefix_space", false}, {"use_regex", false}}})}}},
      {"decoder", {{"type", "ByteLevel"}}},
      {"model", {{"type", "BPE"}, {"vocab", vocab}, {"merges", json::array({"a b"})}}},
  };
}

std::string load_error(const json& j, const std::string& config = "") {
  auto v = vocab_from_hf_json_text(j.dump(), config, "tiny.json");
  if (!v) return v.error().message;
  auto t = Tokenizer::create(std::move(v.value()));
  return t ? "" : t.error().message;
}

#define EXPECT_ERROR_HAS(error, needle) \
  EXPECT_NE((error).find(needle), std::string::npos) << "error was: " << (error)

TEST(VocabErrors, TinyTokenizerLoadsAndEncodes) {
  auto v = vocab_from_hf_json_text(tiny_tokenizer_json().dump(), "", "tiny.json");
  ASSERT_TRUE(v.ok()) << v.error().message;
  EXPECT_EQ(v->pre, "qwen2");
  auto t = Tokenizer::create(std::move(v.value()));
  ASSERT_TRUE(t.ok()) << t.error().message;
  EXPECT_EQ(ids_str(t->encode("ab<|end|>", false, true)), "256 257");
}

TEST(VocabErrors, HfJson) {
  EXPECT_ERROR_HAS(load_error(json("not an object")), "not a valid JSON object");
  {
    auto v = vocab_from_hf_json_text("{\"model\": ", "", "broken.json");
    ASSERT_FALSE(v.ok());
    EXPECT_ERROR_HAS(v.error().message, "broken.json");
  }
  json j = tiny_tokenizer_json();
  j["model"].erase("merges");
  EXPECT_ERROR_HAS(load_error(j), "model.merges: missing");
  j = tiny_tokenizer_json();
  j["model"]["merges"] = json::array({"a z9"});
  EXPECT_ERROR_HAS(load_error(j), "merges[0] 'a z9': 'z9' is not a token");
  j = tiny_tokenizer_json();
  j["model"]["merges"] = json::array({"b a"});
  EXPECT_ERROR_HAS(load_error(j), "the merged token 'ba' is not in the vocab");
  j = tiny_tokenizer_json();
  j["model"]["merges"] = json::array({"ab"});
  EXPECT_ERROR_HAS(load_error(j), "expected 'left right'");
  j = tiny_tokenizer_json();
  j["model"]["vocab"]["x"] = -3;
  EXPECT_ERROR_HAS(load_error(j), "model.vocab['x']: expected an id");
  j = tiny_tokenizer_json();
  j["model"]["vocab"]["zz"] = 5;  // id 5 already belongs to a byte token
  EXPECT_ERROR_HAS(load_error(j), "id 5 is given to both");
  j = tiny_tokenizer_json();
  j["added_tokens"].push_back({{"id", 258}, {"content", "ab"}, {"special", false}});
  EXPECT_ERROR_HAS(load_error(j), "duplicate token 'ab' at ids 256 and 258");
  j = tiny_tokenizer_json();
  j["model"]["vocab"]["h€"] = 300;
  EXPECT_ERROR_HAS(load_error(j), "is not in byte-level BPE form");
  j = tiny_tokenizer_json();
  j["model"]["vocab"].erase(byte_level_encode("\x01"));
  EXPECT_ERROR_HAS(load_error(j), "lacks the token of byte 0x01");
  j = tiny_tokenizer_json();
  j["pre_tokenizer"]["pretokenizers"][0]["pattern"]["Regex"] = "\\w+";
  EXPECT_ERROR_HAS(load_error(j), "match none of the supported pre-tokenizers");
  j = tiny_tokenizer_json();
  j["pre_tokenizer"]["pretokenizers"][1]["use_regex"] = true;
  EXPECT_ERROR_HAS(load_error(j), "use_regex");
  j = tiny_tokenizer_json();
  j["normalizer"] = {{"type", "NFKC"}};
  EXPECT_ERROR_HAS(load_error(j), "normalizer");
  j = tiny_tokenizer_json();
  j["model"]["type"] = "Unigram";
  EXPECT_ERROR_HAS(load_error(j), "model.type must be BPE");
  j = tiny_tokenizer_json();
  j["added_tokens"][0]["lstrip"] = true;
  EXPECT_ERROR_HAS(load_error(j), "lstrip/rstrip/single_word are not supported");
  EXPECT_ERROR_HAS(load_error(tiny_tokenizer_json(), R"({"bos_token": "<missing>"})"), "bos token '<missing>' is not in the vocab");
  EXPECT_ERROR_HAS(load_error(tiny_tokenizer_json(), "[1, 2"), "not a valid JSON object");
  auto missing = vocab_from_hf_json("/nonexistent/tokenizer.json", "");
  ASSERT_FALSE(missing.ok());
  EXPECT_ERROR_HAS(missing.error().message, "/nonexistent/tokenizer.json: cannot open");
}

// Vocabularies as a GGUF would give them (Vocab filled directly).
TEST(VocabErrors, VocabFields) {
  auto base = vocab_from_hf_json_text(tiny_tokenizer_json().dump(), "", "tiny.json");
  ASSERT_TRUE(base.ok());
  const auto error_of = [&](auto&& change) {
    Vocab v = base.value();
    change(v);
    auto t = Tokenizer::create(std::move(v));
    return t ? std::string() : t.error().message;
  };
  EXPECT_ERROR_HAS(error_of([](Vocab& v) { v.pre = "gpt-4o"; }), "unknown pre-tokenizer 'gpt-4o'");
  EXPECT_ERROR_HAS(error_of([](Vocab& v) { v.pre = "default"; }), "unknown pre-tokenizer 'default'");
  EXPECT_ERROR_HAS(error_of([](Vocab& v) { v.model = "llama"; }), "only byte-level BPE");
  EXPECT_ERROR_HAS(error_of([](Vocab& v) { v.bos_id = 9999; }), "bos token id 9999 is out of range");
  EXPECT_ERROR_HAS(error_of([](Vocab& v) { v.eos_id = -7; }), "eos token id -7 is out of range");
  EXPECT_ERROR_HAS(error_of([](Vocab& v) { v.token_types.pop_back(); }), "but 257 token types");
  EXPECT_ERROR_HAS(error_of([](Vocab& v) { v.token_types[3] = 9; }), "token_type[3] = 9");
  EXPECT_ERROR_HAS(error_of([](Vocab& v) { v.tokens[10] = v.tokens[11]; }), "duplicate token");
  EXPECT_ERROR_HAS(error_of([](Vocab& v) { v.tokens.clear(); v.token_types.clear(); }), "no tokens");
  EXPECT_ERROR_HAS(error_of([](Vocab& v) { v.add_bos = true; v.bos_id = -1; }), "no BOS token");
  EXPECT_EQ(error_of([](Vocab& v) { v.merges.clear(); }), "");  // no merges: every byte is its own token
}

}  // namespace
}  // namespace seek::test
