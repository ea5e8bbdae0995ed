// Robustness: arbitrary bytes and hostile text never crash encode (run under ASan/UBSan with -DSEEK_SANITIZE=ON),
// ids stay in range, decode(encode(s)) gives back s (NFC-normalized for Qwen), and the stream decoder's output is
// always well-formed UTF-8. Corrupted tokenizer.json files give errors, never crashes.
#include <random>

#include "test_util.h"
#include "tokenizer/byte_level.h"
#include "tokenizer/nfc.h"
#include "tokenizer/unicode.h"

namespace seek::test {
namespace {

// Random bytes, or text assembled from fragments that stress the scanners and the added-token matcher.
std::string hostile(std::mt19937& rng) {
  static const std::string frags[] = {"<｜User｜>", "<｜", "｜>", "<|im_start|>", "<|", "<think>", "</think", " ", "  ",
                                      "\n", "\r\n", "\t", "'s", "'LL", "a", "Z", "é", "e\xCC\x81", "123456", "١٢٣",
                                      "漢字", "カナ", "👨‍👩‍👧", "\xEF\xB8\x8F", "\xE2\x80\x8D", "!!", "-x", "\xC3",
                                      "\xE2\x82", "\xF0\x9F", "\xFF", "\x80", "\xED\xA0\x80", std::string(300, 'a'),
                                      "\xE1\x84\x80\xE1\x85\xA1", std::string(1, '\0')};
  std::string s;
  const size_t n = rng() % 24;
  for (size_t i = 0; i < n; ++i) {
    if (rng() % 3 == 0) {
      for (size_t k = rng() % 8; k > 0; --k) s += char(rng());
    } else {
      s += frags[rng() % std::size(frags)];
    }
  }
  return s;
}

TEST(Fuzz, EncodeArbitraryBytes) {
  const int iterations = std::getenv("SEEK_FUZZ_ITERATIONS") ? std::atoi(std::getenv("SEEK_FUZZ_ITERATIONS")) : 3000;
  size_t runs = 0;
  for (const char* name : {"deepseek-v3", "qwen2.5", "llama3.1"}) {
    if (!std::filesystem::exists(tokenizer_dir(name) + "/tokenizer.json")) continue;
    const Tokenizer& tok = hf_tokenizer(name);
    std::mt19937 rng(2024);
    for (int i = 0; i < iterations; ++i, ++runs) {
      const std::string s = hostile(rng);
      const bool special = rng() % 2;
      const auto ids = tok.encode(s, rng() % 2, special);
      for (int32_t id : ids) ASSERT_TRUE(id >= 0 && id < tok.n_vocab()) << name;
      const auto body = tok.encode(s, false, special);
      ASSERT_EQ(tok.decode(body), tok.nfc() ? nfc(s) : s) << name << " '" << shown(s) << "'";
      StreamDecoder dec(tok);
      std::string streamed;
      for (int32_t id : body) {
        const std::string part = dec.push(id);
        ASSERT_TRUE(unicode::is_valid_utf8(part)) << name;
        streamed += part;
      }
      streamed += dec.flush();
      ASSERT_EQ(streamed, unicode::sanitize_utf8(tok.decode(body))) << name;
    }
  }
  if (runs == 0) GTEST_SKIP() << "no tokenizers in shared/data";
}

// The pre-tokenisers without a bundled vocabulary (deepseek-llm, deepseek-coder) on a byte-only vocab.
TEST(Fuzz, EveryPreTokenizerOnAByteVocab) {
  for (const char* pre : {"deepseek-v3", "qwen2", "llama-bpe", "deepseek-llm", "deepseek-coder"}) {
    Vocab v;
    v.model = "gpt2";
    v.pre = pre;
    for (int b = 0; b < 256; ++b) v.tokens.push_back(byte_level_encode(std::string(1, char(b))));
    v.tokens.push_back("<｜User｜>");
    v.token_types.assign(256, kTokenNormal);
    v.token_types.push_back(kTokenControl);
    auto tok = Tokenizer::create(v);
    ASSERT_TRUE(tok.ok()) << tok.error().message;
    std::mt19937 rng(7);
    for (int i = 0; i < 1000; ++i) {
      const std::string s = hostile(rng);
      ASSERT_EQ(tok->decode(tok->encode(s, false, true)), tok->nfc() ? nfc(s) : s) << pre;
    }
  }
}

TEST(Fuzz, CorruptedTokenizerJsonNeverCrashes) {
  std::string base = R"({"model":{"type":"BPE","vocab":{"a":0,"b":1,"ab":2},"merges":["a b"]},"added_tokens":[{"id":3,"content":"<x>","special":true}],"pre_tokenizer":{"type":"ByteLevel","use_regex":false},"decoder":{"type":"ByteLevel"}})";
  std::mt19937 rng(11);
  for (int i = 0; i < 3000; ++i) {
    std::string s = base;
    for (int k = 1 + int(rng() % 4); k > 0; --k) {
      const size_t at = rng() % s.size();
      switch (rng() % 3) {
        case 0: s[at] = char(rng()); break;
        case 1: s.erase(s.begin() + long(at), s.begin() + long(std::min(s.size(), at + 1 + rng() % 8))); break;
        default: s.insert(s.begin() + long(at), "{}[]\",:0-9e"[rng() % 11]); break;
      }
      if (s.empty()) s.push_back('{');
    }
    auto v = vocab_from_hf_json_text(s, rng() % 2 ? "" : s, "fuzz.json");
    if (v) {
      auto t = Tokenizer::create(std::move(v.value()));
      if (t) t->encode("ab <x> \xFF", true, true);
    }
  }
}

}  // namespace
}  // namespace seek::test
