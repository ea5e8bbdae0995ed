// The hand-written pre-tokeniser scanners against the PCRE2 reference (the tokenizer.json regexes under JavaScript
// semantics) on generated text, restricted to characters whose Unicode categories PCRE2 and our tables agree on.
#define PCRE2_CODE_UNIT_WIDTH 8
#include <pcre2.h>

#include <nlohmann/json.hpp>

#include <random>

#include "node_oracle.h"
#include "test_util.h"
#include "tokenizer/regex_split.h"
#include "tokenizer/unicode.h"

namespace seek::test {
namespace {

std::vector<std::string> pieces(std::string_view text, const std::vector<Span>& spans) {
  std::vector<std::string> out;
  for (const Span& s : spans) out.emplace_back(text.substr(s.begin, s.end - s.begin));
  return out;
}

std::vector<std::string> split_with(PreTokenizerKind kind, std::string_view text) {
  std::vector<Span> spans;
  PreTokenizer::create(kind)->split(text, spans);
  return pieces(text, spans);
}

TEST(PreTokenizer, NamesAndUnknownName) {
  for (const char* name : {"deepseek-v3", "deepseek-r1-qwen", "qwen2", "llama-bpe", "deepseek-llm", "deepseek-coder"}) {
    EXPECT_TRUE(pre_tokenizer_from_name(name).ok()) << name;
  }
  auto bad = pre_tokenizer_from_name("gpt-2");
  ASSERT_FALSE(bad.ok());
  EXPECT_NE(bad.error().message.find("unknown pre-tokenizer 'gpt-2'"), std::string::npos) << bad.error().message;
  EXPECT_FALSE(pre_tokenizer_from_name("default").ok());
  EXPECT_FALSE(pre_tokenizer_from_name("").ok());
}

TEST(PreTokenizer, ExamplesV3) {
  using V = std::vector<std::string>;
  EXPECT_EQ(split_with(PreTokenizerKind::kDeepSeekV3, "Hello world 12345!"), (V{"Hello", " world", " ", "123", "45", "!"}));
  EXPECT_EQ(split_with(PreTokenizerKind::kDeepSeekV3, "我们今天ok"), (V{"我们今天", "ok"}));
  EXPECT_EQ(split_with(PreTokenizerKind::kDeepSeekV3, "a.b-c"), (V{"a", ".b", "-c"}));
  EXPECT_EQ(split_with(PreTokenizerKind::kDeepSeekV3, "x  \n\n  y"), (V{"x", "  \n\n", " ", " y"}));
  EXPECT_EQ(split_with(PreTokenizerKind::kQwen2, "I'll 123"), (V{"I", "'ll", " ", "1", "2", "3"}));
  EXPECT_EQ(split_with(PreTokenizerKind::kLlama3, "I'LL 12345"), (V{"I", "'LL", " ", "123", "45"}));
}

// A pool of characters covering every branch of the regexes; only those PCRE2 classifies as we do.
std::vector<std::string> agreed_pool() {
  std::vector<uint32_t> cps = {' ', ' ', ' ', '\t', '\n', '\r', 0x0B, 0x0C, 0xA0, 0x3000, 0x2028, 0x2029, 0xFEFF, 0x85,
                               0x1680, 0x2003, '\'', '"', '.', ',', '!', '?', '-', '_', '(', ')', '[', ']', '\\', '/',
                               '#', '$', '%', '&', '*', '+', '<', '=', '>', '@', '^', '`', '{', '|', '}', '~', ':', ';',
                               '0', '1', '5', '9', 0x0663, 0xFF15, 0x00B2, 0x2163, 0x3007, 0x00BD, 's', 'S', 't', 'T',
                               'r', 'R', 'e', 'E', 'v', 'V', 'm', 'M', 'l', 'L', 'd', 'D', 'a', 'z', 'Q', 0x17F, 0x212A,
                               0xE9, 0x0301, 0x0308, 0x20E3, 0xFE0F, 0x200D, 0x200B, 0x4E00, 0x6F22, 0x9FA5, 0x9FA6,
                               0x3042, 0x30AB, 0x30FC, 0x309B, 0x30FB, 0x3099, 0xAC00, 0x0627, 0x064B, 0x0915, 0x093C,
                               0x0416, 0x03B1, 0x1F600, 0x1F44D, 0x1F3FD, 0x2764, 0x20AC, 0x00A7, 0x2014, 0x00AB, 0x3002,
                               0xFF01, 0x00AD, 0xE000, 0x1D400, 0x0E01, 0x0E48, 0x10FFFF - 2};
  struct Class {
    const char* pattern;
    uint8_t flag;
  };
  const Class classes[] = {{"\\p{L}", unicode::kLetter}, {"\\p{N}", unicode::kNumber}, {"\\p{M}", unicode::kMark},
                           {"\\p{P}", unicode::kPunct},  {"\\p{S}", unicode::kSymbol}};
  std::vector<std::string> pool;
  for (uint32_t cp : cps) {
    std::string s;
    unicode::append_utf8(s, cp);
    bool agree = true;
    for (const Class& c : classes) {
      int code;
      PCRE2_SIZE off;
      pcre2_code* re = pcre2_compile(reinterpret_cast<PCRE2_SPTR>(c.pattern), PCRE2_ZERO_TERMINATED, PCRE2_UTF, &code, &off, nullptr);
      pcre2_match_data* md = pcre2_match_data_create(1, nullptr);
      const bool pcre = pcre2_match(re, reinterpret_cast<PCRE2_SPTR>(s.data()), s.size(), 0, PCRE2_ANCHORED, md, nullptr) > 0;
      pcre2_match_data_free(md);
      pcre2_code_free(re);
      agree = agree && pcre == bool(unicode::flags(cp) & c.flag);
    }
    if (agree) pool.push_back(s);
  }
  return pool;
}

// Random strings from the pool, with runs (repeated characters) so that every quantifier and lookahead is exercised.
std::vector<std::string> random_texts(size_t count, uint32_t seed) {
  const std::vector<std::string> pool = agreed_pool();
  std::mt19937 rng(seed);
  std::vector<std::string> out;
  for (size_t i = 0; i < count; ++i) {
    std::string s;
    const size_t len = rng() % 40;
    for (size_t k = 0; k < len; ++k) {
      const std::string& c = pool[rng() % pool.size()];
      for (size_t r = rng() % 4 == 0 ? 1 + rng() % 5 : 1; r > 0; --r) s += c;
    }
    out.push_back(s);
  }
  return out;
}

TEST(PreTokenizer, ScannersEqualPcre2Reference) {
  const auto texts = random_texts(30000, 12345);
  for (PreTokenizerKind kind : {PreTokenizerKind::kDeepSeekV3, PreTokenizerKind::kQwen2, PreTokenizerKind::kLlama3}) {
    auto ref = RegexSplitter::create(pre_tokenizer_regexes(kind));
    ASSERT_TRUE(ref.ok()) << ref.error().message;
    size_t equal = 0, shown_failures = 0;
    for (const std::string& t : texts) {
      std::vector<Span> a, b;
      PreTokenizer::create(kind)->split(t, a);
      (*ref)->split(t, b);
      const auto pa = pieces(t, a), pb = pieces(t, b);
      if (pa == pb) {
        ++equal;
      } else if (shown_failures++ < 5) {
        std::string sa, sb;
        for (const auto& p : pa) sa.append(1, '[').append(shown(p)).append(1, ']');
        for (const auto& p : pb) sb.append(1, '[').append(shown(p)).append(1, ']');
        ADD_FAILURE() << pre_tokenizer_name(kind) << " '" << shown(t) << "'\n  scanner " << sa << "\n  pcre2   " << sb;
      }
    }
    std::printf("[ %s ] scanner == PCRE2 reference on %zu/%zu strings\n", pre_tokenizer_name(kind), equal, texts.size());
    EXPECT_EQ(equal, texts.size());
  }
}

// Code points whose \p{L}/\p{N}/\p{M}/\p{P}/\p{S} membership differs between PCRE2's Unicode and our tables.
std::vector<bool> disagreeing_code_points() {
  std::vector<bool> differ(0x110000, false);
  for (const auto& [pattern, flag] : std::vector<std::pair<const char*, uint8_t>>{
           {"\\p{L}", unicode::kLetter}, {"\\p{N}", unicode::kNumber}, {"\\p{M}", unicode::kMark},
           {"\\p{P}", unicode::kPunct}, {"\\p{S}", unicode::kSymbol}}) {
    int code;
    PCRE2_SIZE off;
    pcre2_code* re = pcre2_compile(reinterpret_cast<PCRE2_SPTR>(pattern), PCRE2_ZERO_TERMINATED, PCRE2_UTF, &code, &off, nullptr);
    pcre2_match_data* md = pcre2_match_data_create(1, nullptr);
    for (uint32_t cp = 0; cp < 0x110000; ++cp) {
      if (cp >= 0xD800 && cp <= 0xDFFF) continue;
      std::string s;
      unicode::append_utf8(s, cp);
      const bool pcre = pcre2_match(re, reinterpret_cast<PCRE2_SPTR>(s.data()), s.size(), 0, PCRE2_ANCHORED, md, nullptr) > 0;
      if (pcre != bool(unicode::flags(cp) & flag)) differ[cp] = true;
    }
    pcre2_match_data_free(md);
    pcre2_code_free(re);
  }
  return differ;
}

// The same comparison on the oracle's corpus (real text in many scripts), when the oracle tests have produced it.
TEST(PreTokenizer, ScannersEqualPcre2OnOracleCorpus) {
  SEEK_REQUIRE_NODE_MODULES();
  SEEK_REQUIRE_FILE(data_dir() + "/tokenizers/deepseek-v3");
  ASSERT_EQ(ensure_oracle(data_dir()), "");
  const std::string path = oracle_dir() + "/corpus.json";
  const auto corpus = nlohmann::json::parse(read_all(path)).get<std::vector<std::string>>();
  const std::vector<bool> differ = disagreeing_code_points();
  for (PreTokenizerKind kind : {PreTokenizerKind::kDeepSeekV3, PreTokenizerKind::kQwen2, PreTokenizerKind::kLlama3}) {
    auto ref = RegexSplitter::create(pre_tokenizer_regexes(kind));
    ASSERT_TRUE(ref.ok());
    size_t equal = 0, compared = 0;
    for (const std::string& t : corpus) {
      bool usable = true;
      const auto* p = reinterpret_cast<const unsigned char*>(t.data());
      for (const auto* end = p + t.size(); p < end && usable;) {
        const unicode::Decoded d = unicode::decode_utf8(p, end);
        usable = d.cp < 0x110000 && !differ[d.cp];
        p += d.len;
      }
      if (!usable) continue;
      ++compared;
      std::vector<Span> a, b;
      PreTokenizer::create(kind)->split(t, a);
      (*ref)->split(t, b);
      if (pieces(t, a) == pieces(t, b)) ++equal;
      else ADD_FAILURE() << pre_tokenizer_name(kind) << " differs from PCRE2 on '" << shown(t) << "'";
    }
    std::printf("[ %s ] scanner == PCRE2 on %zu/%zu corpus strings (%zu with characters PCRE2 classifies differently "
                "left out)\n", pre_tokenizer_name(kind), equal, compared, corpus.size() - compared);
    EXPECT_GT(compared, corpus.size() * 9 / 10);
  }
}

TEST(PreTokenizer, PiecesCoverTheInputForEveryKind) {
  const auto texts = random_texts(2000, 777);
  for (PreTokenizerKind kind : {PreTokenizerKind::kDeepSeekV3, PreTokenizerKind::kQwen2, PreTokenizerKind::kLlama3,
                                PreTokenizerKind::kDeepSeekLlm, PreTokenizerKind::kDeepSeekCoder}) {
    auto pre = PreTokenizer::create(kind);
    ASSERT_TRUE(pre.ok()) << pre.error().message;
    for (const std::string& t : texts) {
      std::vector<Span> spans;
      pre->split(t, spans);
      size_t at = 0;
      for (const Span& s : spans) {
        ASSERT_EQ(s.begin, at) << pre_tokenizer_name(kind) << " '" << shown(t) << "'";
        ASSERT_LT(s.begin, s.end);
        at = s.end;
      }
      ASSERT_EQ(at, t.size()) << pre_tokenizer_name(kind);
    }
  }
}

TEST(PreTokenizer, DeepSeekLlmAndCoderExamples) {
  using V = std::vector<std::string>;
  // deepseek-coder: newlines alone, letters with one optional leading space, punctuation, CJK/Hangul runs, digits.
  EXPECT_EQ(split_with(PreTokenizerKind::kDeepSeekCoder, "def f(x):\n  return 42"),
            (V{"def", " f", "(", "x", "):", "\n", " ", " return", " ", "4", "2"}));
  // deepseek-llm: \s+$ keeps trailing spaces together; digits stay one run.
  EXPECT_EQ(split_with(PreTokenizerKind::kDeepSeekLlm, "Hi 2024   "), (V{"Hi", " ", "2024", "   "}));
}

}  // namespace
}  // namespace seek::test
