// The shared tokenizer test vectors: llama.cpp's qwen2 / llama-bpe cases, DeepSeek-V3 cases whose ids came from
// Hugging Face `tokenizers` 0.22.1 (via splintr) and from the lenml (transformers.js) tokenizer.
#include <nlohmann/json.hpp>

#include "test_util.h"

namespace seek::test {
namespace {

struct Case {
  std::string text;
  std::vector<int32_t> ids;
};

// llama.cpp's test-tokenizer-0 format: .inp holds the texts, each followed by "\n__ggml_vocab_test__\n"; .out holds
// one line of space-separated ids per text.
std::vector<Case> read_inp_out(const std::string& base) {
  const std::string inp = read_all(base + ".inp"), out = read_all(base + ".out");
  const std::string sep = "\n__ggml_vocab_test__\n";
  std::vector<Case> cases;
  for (size_t pos = 0; pos < inp.size();) {
    const size_t end = inp.find(sep, pos);
    if (end == std::string::npos) break;
    cases.push_back({inp.substr(pos, end - pos), {}});
    pos = end + sep.size();
  }
  std::istringstream lines(out);
  std::string line;
  for (Case& c : cases) {
    std::getline(lines, line);
    std::istringstream ids(line);
    for (int32_t id; ids >> id;) c.ids.push_back(id);
  }
  return cases;
}

void expect_cases(const Tokenizer& tok, const std::vector<Case>& cases, const std::string& what) {
  ASSERT_FALSE(cases.empty()) << what;
  int failed = 0;
  for (const Case& c : cases) {
    const std::vector<int32_t> got = tok.encode(c.text, /*add_bos=*/false, /*parse_special=*/true);
    if (got != c.ids) {
      ++failed;
      ADD_FAILURE() << what << ": '" << shown(c.text) << "'\n  expected " << ids_str(c.ids) << "\n  got      "
                    << ids_str(got);
    }
    EXPECT_EQ(tok.decode(got), c.text) << what << ": decode(encode(s)) != s for '" << shown(c.text) << "'";
  }
  std::printf("[ %s ] %zu/%zu cases equal\n", what.c_str(), cases.size() - failed, cases.size());
}

TEST(TokenizerVectors, LlamaCppQwen2) {
  const std::string base = data_dir() + "/llama.cpp-vocab/ggml-vocab-qwen2.gguf";
  SEEK_REQUIRE_FILE(base + ".inp");
  expect_cases(hf_tokenizer("qwen2.5"), read_inp_out(base), "llama.cpp qwen2 on Qwen2.5 tokenizer.json");
}

TEST(TokenizerVectors, LlamaCppLlamaBpe) {
  const std::string base = data_dir() + "/llama.cpp-vocab/ggml-vocab-llama-bpe.gguf";
  SEEK_REQUIRE_FILE(base + ".inp");
  expect_cases(hf_tokenizer("llama3.1"), read_inp_out(base), "llama.cpp llama-bpe on Llama-3.1 tokenizer.json");
}

TEST(TokenizerVectors, DeepSeekV3Lenml) {
  const std::string base = data_dir() + "/tokenizer-vectors/deepseek-v3";
  SEEK_REQUIRE_FILE(base + ".inp");
  expect_cases(hf_tokenizer("deepseek-v3"), read_inp_out(base), "deepseek-v3 (lenml)");
}

TEST(TokenizerVectors, DeepSeekV3HfTokenizers) {
  const std::string path = data_dir() + "/tokenizer-vectors/deepseek-v3.hf-tokenizers-0.22.1.from-splintr.json";
  SEEK_REQUIRE_FILE(path);
  std::vector<Case> cases;
  for (const auto& c : nlohmann::json::parse(read_all(path))) {
    cases.push_back({c["input"].get<std::string>(), c["expected"].get<std::vector<int32_t>>()});
  }
  EXPECT_EQ(cases.size(), 74u);
  expect_cases(hf_tokenizer("deepseek-v3"), cases, "deepseek-v3 (HF tokenizers 0.22.1)");
}

// PROVENANCE.md's chat example: BOS, system prompt, turns and role tokens, encoded with parse_special.
TEST(TokenizerVectors, DeepSeekV3ChatPromptWithBos) {
  SEEK_REQUIRE_FILE(tokenizer_dir("deepseek-v3") + "/tokenizer.json");
  const Tokenizer& tok = hf_tokenizer("deepseek-v3");
  const std::string prompt =
      "You are a helpful assistant.<｜User｜>Hello<｜Assistant｜>Hi!<｜end▁of▁sentence｜><｜User｜>What is 1+1?<｜Assistant｜>";
  EXPECT_EQ(ids_str(tok.encode(prompt, tok.add_bos(), true)),
            "0 3476 477 260 11502 22896 16 128803 19923 128804 23166 3 1 128803 3085 344 223 19 13 19 33 128804");
}

}  // namespace
}  // namespace seek::test
